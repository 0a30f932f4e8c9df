/**
 * The runtime-error statement (spec §3.1): while an override covers a stream, agents and plugins
 * may not end it by `fail`, but the `system` runtime still may "for a real runtime error, attested as
 * such". Both decision cores allow such a fail; the facade marks its attestation
 * `metadata.runtimeError: true` (the request's `reason`, when given, is in `parameters.reason`).
 *
 * Why a statement rather than a refusal: refusing a covered system `fail` that gives no reason would
 * need the facade to read coverage before the core decides, and on a shared core another thread may
 * enable or disable an override in between, so replay (sequential) could re-decide differently.
 * The statement is read off the decision itself (`accessibility`: an override covered the target),
 * so it is exact on every thread, and replay re-derives it from the record's own decided fields.
 */
import type { Attestation } from '../attestation/record.js';
import type { CoreDecision } from './core.js';

/** Whether a decision is an allowed `fail` by a `system` actor of a stream an override covers. */
export function isRuntimeErrorFail(decision: Pick<CoreDecision, 'allowed' | 'accessibility'>, actor: { readonly kind: string } | null, action: string | null): boolean {
  return decision.allowed && decision.accessibility && action === 'fail' && actor?.kind === 'system';
}

/**
 * Replay: why a record's `metadata.runtimeError` is not the one the registrar writes (it must be
 * `true` exactly on an allowed system `fail` of a covered stream, and absent elsewhere), or null.
 * The fields it is derived from (decision, accessibility, action, actor) are themselves compared with
 * the re-decision. `legacyRules`: a log written before the statement existed may lack it.
 */
export function replayRuntimeError(record: Attestation, legacyRules: boolean): string | null {
  const stated: unknown = record.metadata.runtimeError;
  const expected = isRuntimeErrorFail({ allowed: record.decision === 'allowed', accessibility: record.accessibility }, record.actor, record.action);
  if (stated === undefined && (!expected || legacyRules)) return null;
  if (stated === true && expected) return null;
  if (!expected) return `seq ${record.seq}: metadata.runtimeError is ${JSON.stringify(stated)}, but the registrar states it only on an allowed system fail of a stream an override covers`;
  return `seq ${record.seq}: metadata.runtimeError is ${stated === undefined ? 'missing' : JSON.stringify(stated)} on an allowed system fail of a stream an override covers (the registrar states true; a log written before the statement replays with { legacyRules: true })`;
}
