/**
 * The log writer's check of an attestation body another thread posted for a seq it decided
 * (shared-core.ts): the body must be a well-formed attestation body whose decision is the one the
 * core journaled for that seq (same decision, reason, states, version, action, target, actor,
 * accessibility, parent and derived id). A body that is not is refused and the writer writes the
 * record from the journal instead, so a posting thread can fill in the text of its own decision
 * (message, parameters, metadata, timestamp) but never change what was decided.
 */
import type { AttestationBody } from '../attestation/record.js';
import { ACTOR_KINDS, NO_ID, type DecisionCore, type JournalEntry } from './core.js';
import { actionName, reasonOf, stateName } from './decision-record.js';

/** What the writer expects besides the journal entry: the seq's id and its parent's id. */
export interface PostedBodyExpectation {
  id: string;
  parent: string | null;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === 'string');

/** The body posted for `entry`, or null when it is malformed or states another decision. */
export function postedBody(core: DecisionCore, entry: JournalEntry, text: string, expect: PostedBodyExpectation): AttestationBody | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isWellFormed(body) || body.seq !== entry.seq || body.id !== expect.id) return null;
  if (entry.kind === 2) {
    // A facade denial (malformed request, facade halted): its text is the poster's; it decided nothing.
    const facadeDenial = body.reason === 'invalid_request' || body.reason === 'registrar_halted';
    return facadeDenial && body.decision === 'denied' && body.stateAfter === null && body.version === 0 ? body : null;
  }
  if (entry.kind !== 0 && entry.kind !== 1) return null;
  const stream = entry.stream !== NO_ID ? entry.stream : entry.target;
  const matches =
    body.decision === (entry.allowed ? 'allowed' : 'denied') &&
    body.reason === reasonOf(entry) &&
    body.action === actionName(entry.action) &&
    body.stateBefore === stateName(entry.stateBefore) &&
    body.stateAfter === stateName(entry.stateAfter) &&
    body.version === entry.version &&
    body.accessibility === entry.accessibility &&
    body.parent === expect.parent &&
    (stream < 0 || body.target === core.streamKey(stream)) &&
    (body.metadata.observed === true) === (entry.kind === 1) &&
    sameActor(core, entry, body.actor);
  return matches ? body : null;
}

function sameActor(core: DecisionCore, entry: JournalEntry, actor: AttestationBody['actor']): boolean {
  if (actor === null) return false;
  if (entry.actor !== NO_ID) return `${actor.kind}:${actor.id}` === core.actorKey(entry.actor);
  return actor.kind === ACTOR_KINDS[entry.actorKind]; // an unregistered actor: the core knows only its kind
}

function isWellFormed(value: unknown): value is AttestationBody {
  if (!isPlainObject(value)) return false;
  const timestamp = value.timestamp;
  const actor = value.actor;
  return (
    typeof value.v === 'string' &&
    typeof value.seq === 'number' &&
    typeof value.id === 'string' &&
    isPlainObject(timestamp) && typeof timestamp.wall === 'string' && typeof timestamp.monotonicNs === 'string' &&
    (actor === null || (isPlainObject(actor) && typeof actor.id === 'string' && typeof actor.kind === 'string')) &&
    (value.action === null || typeof value.action === 'string') &&
    (value.target === null || typeof value.target === 'string') &&
    (value.decision === 'allowed' || value.decision === 'denied') &&
    (value.reason === null || typeof value.reason === 'string') &&
    typeof value.message === 'string' &&
    isStringArray(value.invariants) &&
    Array.isArray(value.violations) &&
    value.violations.every((v: unknown) => isPlainObject(v) && typeof v.invariant === 'string' && (v.level === 'REJECT' || v.level === 'HALT' || v.level === 'WARN') && typeof v.message === 'string') &&
    typeof value.accessibility === 'boolean' &&
    (value.parent === null || typeof value.parent === 'string') &&
    (value.stateBefore === null || typeof value.stateBefore === 'string') &&
    (value.stateAfter === null || typeof value.stateAfter === 'string') &&
    typeof value.version === 'number' &&
    isPlainObject(value.parameters) &&
    isPlainObject(value.metadata)
  );
}
