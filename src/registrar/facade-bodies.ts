/**
 * Attestation bodies the facade writes without a core decision: malformed requests
 * (`invalid_request`), requests while the facade is halted (`registrar_halted`), seqs another
 * thread reserved for such denials, and the record of a core halt (`haltBody`).
 */
import { z } from 'zod';
import type { AttestationBody } from '../attestation/record.js';
import { TRANSITION_ACTIONS, type JournalEntry } from './core.js';
import { attestationBody, reasonOf, type DecisionContext } from './decision-record.js';
import { actorRefSchema, streamIdSchema, toActor } from './request-schema.js';

/** One problem with a request. */
export interface RequestIssue {
  path: string;
  message: string;
}

/** Reads a field of untrusted input without letting a throwing getter escape. */
function readField(input: unknown, name: string): unknown {
  try {
    return typeof input === 'object' && input !== null ? (input as Record<string, unknown>)[name] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The record of a malformed request: whatever could be read, and the first issues. `actorProven`
 * false (a request() whose actor was no handle of this registrar): the record names no actor, as
 * the name or copy it gave is not who asked (the issue says what it gave).
 */
export function invalidRequestBody(seq: number, id: string, input: unknown, allIssues: readonly RequestIssue[], actorProven = true): AttestationBody {
  const actor = actorProven ? actorRefSchema.safeParse(readField(input, 'actor')) : { success: false as const };
  const action = z.enum(TRANSITION_ACTIONS).safeParse(readField(input, 'action'));
  const target = streamIdSchema.safeParse(readField(input, 'target'));
  const issues = allIssues.slice(0, 5).map((issue) => ({ ...issue }));
  const first = issues[0];
  return attestationBody({
    seq,
    id,
    actor: actor.success ? toActor(actor.data) : null,
    action: action.success ? action.data : null,
    target: target.success ? target.data : null,
    decision: null,
    reason: 'invalid_request',
    message: `invalid request: ${first ? `${first.path}: ${first.message}` : 'malformed'}`,
    invariants: [],
    violations: [],
    accessibility: false,
    parent: null,
    parameters: {},
    metadata: { issues },
  });
}

/** The record of a request refused because the facade halted (log failure, journal overrun, broken core). */
export function facadeHaltedBody(seq: number, id: string, context: DecisionContext, cause: string, observed: boolean): AttestationBody {
  const who = context.actor ? `${context.actor.kind}:${context.actor.id}` : '(unknown actor)';
  return attestationBody({
    seq,
    id,
    actor: context.actor,
    action: context.action,
    target: context.target,
    decision: null,
    reason: 'registrar_halted',
    message: `registrar is halted (fail-closed, ${cause}): ${context.action ?? 'request'} by ${who} denied; recover() rebuilds it from the log`,
    invariants: [],
    violations: [],
    accessibility: false,
    parent: null,
    parameters: {},
    metadata: { haltCause: cause, ...(observed ? { observed: true } : {}) },
  });
}

/** The record of a seq another thread's registrar reserved for a denial of its own. */
export function foreignReservedBody(entry: JournalEntry, id: string): AttestationBody {
  return attestationBody({
    seq: entry.seq,
    id,
    actor: null,
    action: null,
    target: null,
    decision: null,
    reason: reasonOf(entry),
    monotonicNs: entry.monotonicNs,
    message: 'request denied by the registrar of another thread before reaching the core',
    invariants: [],
    violations: [],
    accessibility: false,
    parent: null,
    parameters: {},
    metadata: { origin: 'journal' },
  });
}

/**
 * The record of a core halt (a journal entry of kind 3: a failed log write, a structural
 * violation, a journal overrun): it consumed its seq, and every later request is denied
 * registrar_halted by the core.
 */
export function haltBody(seq: number, id: string, cause: string, detail: string, monotonicNs?: bigint): AttestationBody {
  return attestationBody({
    seq,
    id,
    actor: null,
    action: null,
    target: null,
    decision: null,
    reason: 'registrar_halted',
    message: `registrar halted (fail-closed, ${cause}): ${detail}; recover() rebuilds it from the log`,
    invariants: [],
    violations: [],
    accessibility: false,
    parent: null,
    parameters: {},
    metadata: { halt: true, haltCause: cause },
    ...(monotonicNs !== undefined ? { monotonicNs } : {}),
  });
}
