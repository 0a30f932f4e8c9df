/** Helpers of the registrar facade: per-transition structural checks and journal request text. */
import { canonicalJson, type JsonObject } from '../attestation/canonical-json.js';
import type { Attestation, AttestationBody, Violation } from '../attestation/record.js';
import type { LastTransition } from './facade-state.js';
import { NO_ID, OVERRIDE_SCOPES, STREAM_STATES, type CoreDecision, type CoreRequest, type DecisionCore } from './core.js';

/** What replay.ts and snapshot code reach inside a registrar for. @internal */
export interface ReplayHooks {
  core: DecisionCore;
  replayRecord(record: Attestation): void;
  stateImage(): JsonObject;
  loadFacadeState(state: FacadeState, actors: readonly string[]): void;
}

/** Registrar state kept beside the core: the last attestation ids of a snapshot's streams (its
 *  grants and override values are loaded into the core's image). */
export interface FacadeState {
  lastAttestation: [string, LastTransition][];
}

/**
 * The structural invariants one accepted transition must keep: it has the next global seq
 * (ordering.monotonic, ordering.gap_free), names its stream (state.identity.explicit), moves the
 * stream's version by exactly one from its parent record's (state.lineage.continuous) and names a parent unless it created
 * the stream (state.lineage.explicit, state.lineage.parent_exists). A failure is a core bug: the
 * registrar halts.
 */
export function checkTransition(decision: CoreDecision, lastAttestedSeq: number, parent: { version: number | null; stateAfter: string | null } | null): Violation[] {
  const problems: Violation[] = [];
  if (decision.seq !== lastAttestedSeq + 1) {
    problems.push(halt(decision.seq <= lastAttestedSeq ? 'ordering.monotonic' : 'ordering.gap_free', `decision seq ${decision.seq} does not follow ${lastAttestedSeq}`));
  }
  if (decision.stateAfter < 0) return problems; // override actions have no stream
  if (decision.stream === NO_ID) problems.push(halt('state.identity.explicit', `accepted transition at seq ${decision.seq} names no stream`));
  const created = decision.stateBefore < 0;
  // The previous version is the parent record's (0 for a created stream); unknown when the parent is not held.
  const previousVersion = created ? 0 : (parent?.version ?? null);
  const stateBefore = STREAM_STATES[decision.stateBefore] ?? null;
  if (!created && parent && parent.stateAfter !== stateBefore) problems.push(halt('state.lineage.continuous', `state before seq ${decision.seq} is ${stateBefore}, its parent left ${parent.stateAfter}`));
  if (decision.version < 1 || (previousVersion !== null && decision.version !== previousVersion + 1)) problems.push(halt('state.lineage.continuous', `stream version ${decision.version} at seq ${decision.seq} is not previous + 1`));
  if (!created && decision.parentSeq <= 0) problems.push(halt('state.lineage.explicit', `accepted transition at seq ${decision.seq} names no parent`));
  if (!created && decision.parentSeq >= decision.seq) problems.push(halt('state.lineage.parent_exists', `parent seq ${decision.parentSeq} is not before seq ${decision.seq}`));
  return problems;
}

function halt(invariant: string, message: string): Violation {
  return { invariant, level: 'HALT', message };
}

/** The request metadata a journal entry carries, as text (for attestations of other threads' decisions). */
export function foreignRequestMetadata(core: DecisionCore, action: string, request: CoreRequest): JsonObject {
  const metadata: Record<string, string | number | boolean | null> = {};
  if (action === 'start' || action === 'claim') {
    metadata.sessionId = core.scopeKey(0, request.session);
    if (request.user !== NO_ID) metadata.userId = core.scopeKey(1, request.user);
    metadata.priority = request.priority;
  }
  if (action === 'transfer' && request.newOwner !== NO_ID) metadata.newOwner = core.actorKey(request.newOwner);
  if (action === 'interrupt' && request.preemptFor !== NO_ID) metadata.preemptFor = core.streamKey(request.preemptFor);
  if (action.endsWith('_override')) {
    const scope = OVERRIDE_SCOPES[request.overrideScope] ?? 'session';
    metadata.scope = scope;
    metadata.scopeId = core.scopeKey(scope === 'user' ? 1 : 0, request.overrideScopeId);
  }
  return metadata;
}

/** Metadata keys that are part of a decision (compared on replay); provenance keys like origin are not. */
const DECISION_METADATA_KEYS = ['observed', 'created', 'transferredFrom', 'preemption', 'preemptFor', 'halt', 'haltCause', 'compaction'] as const;

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index += 1) if (a[index] !== b[index]) return false;
  return true;
}

/**
 * The comparison of assertSameDecision without serialising both sides (replay runs it for every
 * record): true only when their canonical projections are equal; false sends it to the full
 * comparison, which has the final word and the message.
 */
function sameDecisionFast(body: AttestationBody, record: Attestation): boolean {
  const a = body.actor;
  const b = record.actor;
  if (body.seq !== record.seq || body.action !== record.action || body.target !== record.target || body.decision !== record.decision || body.reason !== record.reason) return false;
  if (body.accessibility !== record.accessibility || body.parent !== record.parent || body.stateBefore !== record.stateBefore || body.stateAfter !== record.stateAfter || body.version !== record.version) return false;
  if (a === null || b === null ? a !== b : a.id !== b.id || a.kind !== b.kind) return false;
  if (!sameStrings(body.invariants, record.invariants) || body.violations.length !== record.violations.length) return false;
  for (let index = 0; index < body.violations.length; index += 1) {
    const x = body.violations[index] as Violation;
    const y = record.violations[index] as Violation;
    if (x.invariant !== y.invariant || x.level !== y.level) return false;
  }
  for (const key of DECISION_METADATA_KEYS) {
    const x = body.metadata[key] ?? null;
    const y = record.metadata[key] ?? null;
    if (x === y) continue;
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null || canonicalJson(x) !== canonicalJson(y)) return false;
  }
  return true;
}

/** Throws (an Error the replayer turns into REGISTRAR_REPLAY_MISMATCH) when a re-decided body differs from the record. */
export function assertSameDecision(body: AttestationBody, record: Attestation): void {
  if (sameDecisionFast(body, record)) return;
  const project = (r: AttestationBody) => ({
    seq: r.seq, actor: r.actor, action: r.action, target: r.target, decision: r.decision, reason: r.reason,
    invariants: r.invariants, violations: r.violations.map((v) => [v.invariant, v.level]), accessibility: r.accessibility,
    parent: r.parent, stateBefore: r.stateBefore, stateAfter: r.stateAfter, version: r.version,
    metadata: DECISION_METADATA_KEYS.map((k) => r.metadata[k] ?? null),
  });
  if (canonicalJson(project(body)) !== canonicalJson(project(record))) {
    const withoutCompaction = (r: AttestationBody) => canonicalJson(project({ ...r, metadata: { ...r.metadata, compaction: null } }));
    if (withoutCompaction(body) === withoutCompaction(record)) {
      // Only the compaction statement (compaction-record.ts) differs: the sweep, or the policy, is not the recorded one.
      const [ours, theirs] = [canonicalJson(body.metadata.compaction ?? null), canonicalJson(record.metadata.compaction ?? null)];
      throw new Error(`seq ${record.seq}: replay's compaction statement is ${ours}, the log records ${theirs}`);
    }
    throw new Error(
      `seq ${record.seq}: replay decided ${body.decision} (${body.reason ?? 'no reason'}, ${body.stateBefore ?? '-'} -> ${body.stateAfter ?? '-'}), ` +
        `the log records ${record.decision} (${record.reason ?? 'no reason'}, ${record.stateBefore ?? '-'} -> ${record.stateAfter ?? '-'})`,
    );
  }
}
