/**
 * `verify(log)` (spec §6): checks a log's hash chain and the structural invariants without
 * rebuilding state; with `{ replay: true }` it also re-decides the log (ordering.deterministic).
 * It never throws on a bad log: it reports every problem, each naming a seq and an invariant.
 */
import { GENESIS_HASH, parseRecord, recordHash, type Attestation } from '../attestation/record.js';
import type { ChainHead } from '../attestation/store.js';
import { compactionPointOf, DEFAULT_COMPACTION, samePolicy, type CompactionPolicy } from './compaction.js';
import { RegistrarReplayError } from './errors.js';
import { ReferenceCore } from './reference-core.js';
import { replayLog, restoreFromSnapshot } from './replay.js';

/** One problem found by verify. */
export interface VerifyProblem {
  readonly seq: number;
  /** The invariant (or `attestation.schema` / `attestation.hash`) the problem breaks. */
  readonly invariant: string;
  readonly message: string;
}

/** What verify found. */
export interface VerifyReport {
  /** No errors (warnings allowed). */
  readonly ok: boolean;
  readonly records: number;
  readonly errors: readonly VerifyProblem[];
  /** WARN-level findings, e.g. audio.accessibility.auditable. */
  readonly warnings: readonly VerifyProblem[];
}

/** Options of verify. */
export interface VerifyOptions {
  /** Where the chain starts (a snapshot's head); default genesis. Parents from before the
   *  snapshot cannot be checked (state.lineage.parent_exists / continuous skip them). */
  start?: ChainHead;
  /** Also replay the log and report a different decision as ordering.deterministic. */
  replay?: boolean;
  /** The snapshot the log continues (needed with `replay` when `start` is not genesis). */
  snapshot?: unknown;
  /** The compaction policy the log was written under (default DEFAULT_COMPACTION; null: none).
   *  A stream id may be created again once its stream was compacted (state.identity.unique), and
   *  `replay` re-decides with this policy. */
  compaction?: CompactionPolicy | null;
}

const OVERRIDE_ACTIONS = new Set(['enable_override', 'update_override', 'disable_override']);

/** Verifies a log (see the file comment). */
export function verify(log: readonly unknown[], options: VerifyOptions = {}): VerifyReport {
  const errors: VerifyProblem[] = [];
  const warnings: VerifyProblem[] = [];
  const fail = (seq: number, invariant: string, message: string) => errors.push(Object.freeze({ seq, invariant, message }));
  const start = options.start ?? { seq: 0, hash: GENESIS_HASH };
  const records: Attestation[] = [];
  log.forEach((value, index) => {
    const parsed = parseRecord(value);
    const seq = typeof (value as { seq?: unknown } | null)?.seq === 'number' ? (value as { seq: number }).seq : start.seq + index + 1;
    if ('problem' in parsed) fail(seq, 'attestation.schema', `seq ${seq}: ${parsed.problem}`);
    else records.push(parsed.record);
  });

  const seenSeqs = new Set<number>();
  const seenIds = new Set<string>();
  const created = new Set<string>();
  const policy = options.compaction === undefined ? DEFAULT_COMPACTION : options.compaction;
  /** Each stream's last accepted transition: its state after and its seq (for compaction). */
  const lastOf = new Map<string, { state: string | null; seq: number }>();
  const accepted = new Map<string, Attestation>();
  const childOf = new Map<string, number>();
  let previousSeq = start.seq;
  let previousHash = start.hash;
  for (const record of records) {
    const { seq } = record;
    if (seenSeqs.has(seq)) fail(seq, 'ordering.total', `seq ${seq} appears more than once`);
    seenSeqs.add(seq);
    if (seq <= previousSeq) fail(seq, 'ordering.monotonic', `seq ${seq} after seq ${previousSeq}`);
    else if (seq !== previousSeq + 1) fail(seq, 'ordering.gap_free', `seq ${seq} after seq ${previousSeq}: ${seq - previousSeq - 1} missing`);
    if (record.prevHash !== previousHash) fail(seq, 'ordering.total', `seq ${seq}: prevHash does not link to the record before it`);
    if (recordHash(record) !== record.hash) fail(seq, 'attestation.hash', `seq ${seq}: hash does not match the record's content (tampered)`);
    previousSeq = Math.max(previousSeq, seq);
    previousHash = record.hash;
    if (seenIds.has(record.id)) fail(seq, 'state.identity.unique', `attestation id ${record.id} is used twice`);
    seenIds.add(record.id);
    if (record.action !== null && OVERRIDE_ACTIONS.has(record.action) && !record.accessibility) {
      warnings.push(Object.freeze({ seq, invariant: 'audio.accessibility.auditable', message: `seq ${seq}: ${record.action} is not marked accessibility: true` }));
    }
    const transition = record.decision === 'allowed' && record.stateAfter !== null && record.metadata.observed !== true;
    if (!transition) continue;
    if (record.target === null) {
      fail(seq, 'state.identity.explicit', `seq ${seq}: accepted transition names no stream`);
      continue;
    }
    if (record.stateBefore === null) {
      if (created.has(record.target) && !compactedBefore(lastOf.get(record.target), seq, policy)) {
        fail(seq, 'state.identity.unique', `seq ${seq}: stream ${record.target} is created a second time`);
      }
      created.add(record.target);
      if (record.parent !== null) fail(seq, 'state.lineage.explicit', `seq ${seq}: a creating transition names parent ${record.parent}`);
      if (record.version !== 1) fail(seq, 'state.lineage.continuous', `seq ${seq}: a created stream has version ${record.version}, not 1`);
    } else if (record.parent === null) {
      fail(seq, 'state.lineage.explicit', `seq ${seq}: accepted transition of ${record.target} names no parent`);
    } else {
      const parent = accepted.get(record.parent);
      if (!parent) {
        if (start.seq === 0) fail(seq, 'state.lineage.parent_exists', `seq ${seq}: parent ${record.parent} is not an earlier accepted transition`);
      } else {
        if (parent.target !== record.target) fail(seq, 'state.identity.immutable', `seq ${seq}: parent belongs to stream ${parent.target ?? '?'}, not ${record.target}`);
        if (record.version !== parent.version + 1 || record.stateBefore !== parent.stateAfter) {
          fail(seq, 'state.lineage.continuous', `seq ${seq}: version ${record.version} / state ${record.stateBefore} does not continue ${parent.version} / ${parent.stateAfter ?? '-'}`);
        }
      }
      const sibling = childOf.get(record.parent);
      if (sibling !== undefined) fail(seq, 'state.lineage.single_parent', `seq ${seq}: parent ${record.parent} already has child seq ${sibling}`);
      childOf.set(record.parent, seq);
    }
    accepted.set(record.id, record);
    lastOf.set(record.target, { state: record.stateAfter, seq });
  }

  if (options.replay === true && errors.length === 0) {
    try {
      const core = samePolicy(policy, DEFAULT_COMPACTION) ? {} : { core: new ReferenceCore({ compaction: policy ?? false }) };
      if (options.snapshot !== undefined) restoreFromSnapshot(options.snapshot, records, core);
      else replayLog(records, core);
    } catch (error) {
      const seq = error instanceof RegistrarReplayError ? error.seq : 0;
      fail(seq, 'ordering.deterministic', (error as Error).message);
    }
  }
  return Object.freeze({ ok: errors.length === 0, records: log.length, errors: Object.freeze(errors), warnings: Object.freeze(warnings) });
}

/** Whether a stream whose last accepted transition was `last` was compacted before seq `seq`. */
function compactedBefore(last: { state: string | null; seq: number } | undefined, seq: number, policy: CompactionPolicy | null): boolean {
  if (!last || policy === null || (last.state !== 'stopped' && last.state !== 'failed')) return false;
  return compactionPointOf(last.seq, policy) < seq;
}
