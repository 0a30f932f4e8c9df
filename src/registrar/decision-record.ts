/**
 * Turns a core decision (integers) into text: violations with messages, the applied-invariant
 * list, the human message and the attestation body. Pure functions over a core's key tables.
 */
import type { JsonObject } from '../attestation/canonical-json.js';
import type { AttestationBody, Violation } from '../attestation/record.js';
import {
  DOMAIN_INVARIANTS,
  NO_ID,
  REASON_CODES,
  STREAM_STATES,
  TRANSITION_ACTIONS,
  type CoreDecision,
  type DecisionCore,
} from './core.js';
import { DOMAIN_INVARIANT_IDS, PREEMPTION_RULE_ID, TRANSITION_CHECKED_INVARIANTS } from './invariants.js';
import type { Actor } from './request-schema.js';
import { REGISTRAR_SCHEMA_VERSION } from './version.js';
import { wallClockIso } from './wall-clock.js';

/** Context the messages of a decision are written with. */
export interface DecisionContext {
  actor: Actor | null;
  action: string | null;
  /** The stream concerned. */
  target: string | null;
  /** What messages call the target when it is not a stream (an override's `scope:scopeId`). */
  subject?: string;
}

const RULE_TEXT: Record<string, (context: DecisionContext, owner: string | null) => string> = {
  'audio.actor.registered': (c) => `actor ${describe(c.actor)} is not registered`,
  'audio.ownership.single_owner': (c, owner) => `stream ${c.target ?? '?'} is already owned by ${owner ?? 'someone'}`,
  'audio.ownership.required_for_control': (c, owner) =>
    c.action === 'enable_override'
      ? notEntitled(c)
      : `${describe(c.actor)} does not own stream ${c.target ?? '?'} (owner: ${owner ?? 'none'}) and may not ${c.action ?? '?'} it`,
  'audio.accessibility.supremacy': (c) =>
    c.subject !== undefined
      ? `${describe(c.actor)} may not ${c.action ?? '?'} ${c.subject}: only a user enables an override, only its owner changes or ends it`
      : `an accessibility override forbids ${describe(c.actor)} to ${c.action ?? '?'} ${c.target ?? 'it'} (only the owner of an override covering it may)`,
  'audio.accessibility.auditable': () => 'override change not marked accessibility: true',
  'audio.lifecycle.no_dead_interrupt': (c) => `cannot interrupt ${c.target ?? 'a missing stream'}: it is stopped, failed or unknown`,
  'audio.lifecycle.commit_boundary': (c) => `cannot ${c.action ?? '?'} ${c.target ?? '?'}: its graph is committed`,
  'audio.lifecycle.valid_transition': (c) =>
    c.subject !== undefined
      ? `${c.action ?? '?'}: there is no ${c.subject}`
      : c.action === 'transfer'
      ? `transfer of ${c.target ?? '?'} is not valid: the stream is failed or missing, or the new owner is not registered`
      : `${c.action ?? '?'} is not a valid transition for ${c.target ?? 'this target'} in its current state`,
  'audio.plugin.immutability': (c) => `plugin ${describe(c.actor)} may not ${c.action ?? '?'}: plugins never change lifecycle state and touch the graph only before commit`,
};

/** Why a user may not enable the override a context names (§3.1): not their user scope, or not their session. */
function notEntitled(c: DecisionContext): string {
  const [, scope, scopeId] = /^override (session|user):(.*)$/.exec(c.subject ?? '') ?? [];
  const who = describe(c.actor);
  if (scope === 'user') return `${who} may enable a user-scoped override only for themselves (scopeId ${c.actor?.id ?? '?'}), not for user ${scopeId ?? '?'}`;
  return `${who} is not a member of session ${scopeId ?? '?'}: a user enables a session override only in a session the host declared them in or one of whose streams was created with their userId`;
}

/** The HALT: a registered user who may enable there would replace another user's override. */
function bypassText(c: DecisionContext): string {
  return `${describe(c.actor)} may not ${c.action ?? '?'} ${c.subject ?? '?'}: another user's override holds it, and replacing it without disable_override is an accessibility bypass (HALT)`;
}

function describe(actor: Actor | null): string {
  return actor ? `${actor.kind}:${actor.id}` : '(unknown actor)';
}

/** The state name for a core state index, or null. */
export function stateName(index: number): string | null {
  return STREAM_STATES[index] ?? null;
}

/** The violations of a decision, in §4 order. HALT replaces REJECT on the halting invariant. */
export function violationsOf(decision: CoreDecision, context: DecisionContext, ownerBefore: string | null): Violation[] {
  const violations: Violation[] = [];
  if (decision.violations === 0) return violations;
  for (let index = 0; index < DOMAIN_INVARIANTS.length; index += 1) {
    if ((decision.violations & (1 << index)) === 0) continue;
    const entry = DOMAIN_INVARIANTS[index] as (typeof DOMAIN_INVARIANTS)[number];
    const halting = entry.id === 'audio.accessibility.supremacy' && decision.halted;
    const message = halting ? bypassText(context) : (RULE_TEXT[entry.id]?.(context, ownerBefore) ?? entry.id);
    violations.push({ invariant: entry.id, level: halting ? 'HALT' : entry.level, message });
  }
  return violations;
}

/** The four invariant lists a decision can have, frozen once and shared by every record (index: transition bit | preemption bit). */
const APPLIED_INVARIANTS: readonly (readonly string[])[] = [0, 1, 2, 3].map((combination) =>
  Object.freeze([
    ...DOMAIN_INVARIANT_IDS,
    ...((combination & 1) !== 0 ? TRANSITION_CHECKED_INVARIANTS : []),
    ...((combination & 2) !== 0 ? [PREEMPTION_RULE_ID] : []),
  ]),
);
const NO_INVARIANTS: readonly string[] = Object.freeze([]);

/** The invariant ids a decision evaluated (a shared frozen list). */
export function appliedInvariantsOf(decision: CoreDecision, reason: string | null): readonly string[] {
  if (reason === 'registrar_halted' || reason === 'invalid_request' || reason === 'capacity_exhausted') return NO_INVARIANTS;
  const transition = decision.allowed && decision.stream !== NO_ID ? 1 : 0;
  return APPLIED_INVARIANTS[transition | (decision.preemption ? 2 : 0)] as readonly string[];
}

/** The reason code of a decision, or null. */
export function reasonOf(decision: CoreDecision): string | null {
  return decision.reason >= 0 ? (REASON_CODES[decision.reason] ?? null) : null;
}

/** The human message of a decision. */
export function messageOf(decision: CoreDecision, context: DecisionContext, violations: readonly Violation[], reason: string | null): string {
  const who = describe(context.actor);
  if (reason === 'registrar_halted') return `registrar is halted (fail-closed): ${context.action ?? 'request'} by ${who} denied; recover() rebuilds it from the log`;
  if (reason === 'capacity_exhausted') {
    return `registrar capacity exhausted: no id left for a stream, session or user of this ${context.action ?? 'request'} by ${who}; compaction frees the ids of ended streams`;
  }
  if (!decision.allowed) {
    let text = '';
    for (const violation of violations) if (violation.level !== 'WARN') text += text === '' ? violation.message : `; ${violation.message}`;
    return text || `denied: ${reason ?? 'unknown'}`;
  }
  const before = stateName(decision.stateBefore) ?? 'new';
  const after = stateName(decision.stateAfter);
  if (after === null) return `${who} ${context.action ?? '?'} ${context.subject ?? context.target ?? ''}`.trim();
  return `${who} ${context.action ?? '?'} ${context.target ?? ''}: ${before} -> ${after}`;
}

/** Everything needed to write one attestation body. */
export interface BodyInput {
  seq: number;
  /** The record's id (record-ids.ts: derived from the log's prefix and the seq). */
  id: string;
  actor: Actor | null;
  action: string | null;
  target: string | null;
  decision: CoreDecision | null;
  reason: string | null;
  message: string;
  invariants: readonly string[];
  violations: readonly Violation[];
  accessibility: boolean;
  parent: string | null;
  parameters: JsonObject;
  metadata: JsonObject;
  monotonicNs?: bigint;
}

/**
 * A fresh attestation body (not yet sealed into the chain). The store's sealRecord makes the
 * frozen record from it: fresh frozen copies of actor, timestamp and violations, shared frozen
 * invariant lists, and `parameters`/`metadata` deep-frozen in place. Every object in `input` must
 * therefore be fresh and JSON-only (the facade builds them, and `parameters` holds zod's parsed
 * copy of the request, checked by jsonProblem).
 */
export function attestationBody(input: BodyInput): AttestationBody {
  const decision = input.decision;
  return {
    v: REGISTRAR_SCHEMA_VERSION,
    seq: input.seq,
    id: input.id,
    timestamp: { wall: wallClockIso(), monotonicNs: (input.monotonicNs ?? process.hrtime.bigint()).toString() },
    actor: input.actor,
    action: input.action,
    target: input.target,
    decision: decision?.allowed ? 'allowed' : 'denied',
    reason: input.reason,
    message: input.message,
    invariants: input.invariants,
    violations: input.violations,
    accessibility: input.accessibility,
    parent: input.parent,
    stateBefore: decision ? stateName(decision.stateBefore) : null,
    stateAfter: decision ? stateName(decision.stateAfter) : null,
    version: decision?.version ?? 0,
    parameters: input.parameters,
    metadata: input.metadata,
  };
}

/** The key of an interned id or null for NO_ID. */
export function keyOrNull(lookup: (id: number) => string, id: number): string | null {
  return id === NO_ID ? null : lookup(id);
}

/** The action name of a core action index. */
export function actionName(index: number): string | null {
  return TRANSITION_ACTIONS[index] ?? null;
}

/** The owner key before a decision. */
export function ownerKey(core: DecisionCore, id: number): string | null {
  return id === NO_ID ? null : core.actorKey(id);
}
