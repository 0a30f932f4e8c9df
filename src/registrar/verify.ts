/**
 * `verify(log)` (spec §6): checks a log's hash chain and the structural invariants without
 * rebuilding state; with `{ replay: true }` it also re-decides the log (ordering.deterministic).
 * It never throws on a bad log: it reports every problem, each naming a seq and an invariant.
 *
 * Compaction follows the log (compaction-record.ts): the policy is the one seq 1 states (or the
 * snapshot records; from another start, the first point's statement), and every point's
 * statement is checked against it and its `removed` count recounted from the log
 * (ordering.deterministic), where the log starts at seq 1 or at the given snapshot.
 */
import { GENESIS_HASH, parseRecord, recordHash, type Attestation } from '../attestation/record.js';
import type { ChainHead } from '../attestation/store.js';
import { CompactionCheck, type CompactionStart } from './compaction-check.js';
import { RegistrarReplayError } from './errors.js';
import { replayLog, restoreFromSnapshot } from './replay.js';
import { parseSnapshot } from './snapshot.js';

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
  /** The snapshot the log continues (needed with `replay` when `start` is not genesis); its
   *  compaction policy and streams are where the compaction checks start. */
  snapshot?: unknown;
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
  const compaction = new CompactionCheck(compactionStart(records, start.seq, options.snapshot));
  const accepted = new Map<string, Attestation>();
  const childOf = new Map<string, number>();
  /** The structural checks of one accepted transition. */
  function checkTransition(record: Attestation): void {
    const { seq } = record;
    if (record.target === null) {
      fail(seq, 'state.identity.explicit', `seq ${seq}: accepted transition names no stream`);
      return;
    }
    if (record.stateBefore === null) {
      if (created.has(record.target) && !compaction.compactedBefore(record.target, seq)) {
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
    compaction.transition(record.target, record.stateAfter, seq);
  }

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
    if (transition) checkTransition(record);
    compaction.record(record, fail);
  }

  if (options.replay === true && errors.length === 0) {
    try {
      // The rebuilt core takes the policy the log (or the snapshot) records.
      if (options.snapshot !== undefined) restoreFromSnapshot(options.snapshot, records);
      else replayLog(records);
    } catch (error) {
      const seq = error instanceof RegistrarReplayError ? error.seq : 0;
      fail(seq, 'ordering.deterministic', (error as Error).message);
    }
  }
  return Object.freeze({ ok: errors.length === 0, records: log.length, errors: Object.freeze(errors), warnings: Object.freeze(warnings) });
}

/** Where the compaction checks start: a snapshot's policy and streams, seq 1's statement, or (from another start) the log's first statement. */
function compactionStart(records: readonly Attestation[], startSeq: number, snapshotValue: unknown): CompactionStart {
  if (snapshotValue !== undefined) {
    try {
      const snapshot = parseSnapshot(snapshotValue);
      return { policy: snapshot.compaction ?? null, countable: true, streams: snapshot.streams };
    } catch {
      return { policy: undefined, countable: false }; // an invalid snapshot is replay's to report
    }
  }
  if (startSeq === 0 && records[0]?.seq === 1) return { policy: CompactionCheck.policyOfFirst(records[0]), countable: true };
  return { policy: undefined, countable: false };
}
