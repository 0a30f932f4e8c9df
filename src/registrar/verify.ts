/**
 * `verify(log)` (spec §6): checks a log's hash chain and the structural invariants without
 * rebuilding state; with `{ replay: true }` it also re-decides the log (ordering.deterministic).
 * It never throws on a bad log: it reports every problem, each naming a seq and an invariant.
 * A log reader (`iterateAttestationLog`) without `replay` is read as views of its records
 * (line-check.ts): its lines are parsed and hash-checked on worker threads for a long log, and the
 * checks here follow the views in order; any other iterable, or with `replay`, is read record by
 * record. Both ways report the same problems.
 *
 * Compaction follows the log (compaction-record.ts): the policy is the one seq 1 states (or the
 * snapshot records; from another start, the first point's statement), and every point's
 * statement is checked against it and its `removed` count recounted from the log
 * (ordering.deterministic), where the log starts at seq 1 or at the given snapshot.
 */
import { isAttestationShape } from '../attestation/record-check.js';
import type { RecordView } from '../attestation/line-check.js';
import { AttestationLogReader } from '../attestation/log-reader.js';
import { recordHashHolds } from '../attestation/line-hash.js';
import { GENESIS_HASH, parseRecord, type Attestation } from '../attestation/record.js';
import { AttestationStore, type ChainHead } from '../attestation/store.js';
import { CompactionCheck, type CompactionStart } from './compaction-check.js';
import { ProblemList } from '../attestation/problem-list.js';
import { RegistrarReplayError } from './errors.js';
import { LogReplayer } from './replay.js';
import { parseSnapshot } from './snapshot.js';

/** What verify's checks read of a record: the record itself, or its view (line-check.ts). */
type StructuralRecord = Omit<RecordView, 'hashHolds' | 'lengthBytes'>;

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

/** Whether `action` changes an override (compared directly: a Set lookup would hash each record's fresh action string). */
function isOverrideAction(action: string): boolean {
  return action === 'enable_override' || action === 'update_override' || action === 'disable_override';
}

/** How many of the latest records verify keeps by attestation id, beyond each stream's latest transition (see `verify`). */
export const VERIFY_RECENT_RECORDS = 16_384;

/** What verify keeps of an accepted transition. */
interface Transition {
  readonly id: string;
  readonly seq: number;
  readonly target: string;
  readonly version: number;
  readonly stateAfter: string | null;
  /** The id's entry when the transition was made (see IdEntry). */
  readonly entry: IdEntry;
  /** Seq of the first transition naming this one as parent, or null. */
  child: number | null;
}

/**
 * What verify keeps of an attestation id, in one map (one lookup where two maps took two): its
 * place among the recent records (with its transition, or null) and/or as the id of its stream's
 * latest transition. An entry with neither role leaves the map (`live` false); a holder of a dead
 * entry looks the id up again.
 */
interface IdEntry {
  readonly id: string;
  /** Among the last VERIFY_RECENT_RECORDS records (or a duplicate's transition), with this value. */
  recent: boolean;
  recentValue: Transition | null;
  /** The latest transition of a live stream, under this id, or null. */
  latest: Transition | null;
  live: boolean;
}

/** A stream's entry in `latestOf`: its last accepted transition, replaced in place (one map lookup a transition, no insertion). */
interface StreamSlot {
  latest: Transition;
}

/** The seqs seen so far, as sorted disjoint ranges (one for a gap-free log). */
class SeqRanges {
  readonly #ranges: [number, number][] = [];

  /** Adds `seq`; returns whether it was seen before. */
  add(seq: number): boolean {
    const ranges = this.#ranges;
    const last = ranges.at(-1);
    if (last && seq === last[1] + 1) {
      last[1] = seq; // the common case: the next seq
      return false;
    }
    let low = 0;
    let high = ranges.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((ranges[middle] as [number, number])[1] < seq) low = middle + 1;
      else high = middle;
    }
    const at = ranges[low];
    if (at && at[0] <= seq) return true;
    const before = ranges[low - 1];
    if (before && before[1] + 1 === seq) {
      before[1] = seq;
      if (at && at[0] === seq + 1) ranges.splice(low - 1, 2, [before[0], at[1]]);
    } else if (at && at[0] === seq + 1) {
      at[0] = seq;
    } else {
      ranges.splice(low, 0, [seq, seq]);
    }
    return false;
  }
}

/**
 * Verifies a log (see the file comment) in one pass over any iterable of records (an array, a
 * store's `records()`, `iterateAttestationLog(path)`), holding what a registrar would hold rather
 * than the log: each live stream's last accepted transition, the last `VERIFY_RECENT_RECORDS`
 * records by id, the seqs as ranges; with `replay`, the rebuilt registrar, fed as the
 * records go by. So a parent (or a duplicated attestation id) is looked up among the live streams'
 * latest transitions and the recent ones: a parent older than that which is not its stream's
 * latest is reported as `state.lineage.parent_exists` (it could not be a valid parent anyway), and
 * an attestation id reused from further back than that is not seen (replay and signed checkpoints
 * are what catch a re-sealed log).
 */
export function verify(log: Iterable<unknown>, options: VerifyOptions = {}): VerifyReport {
  // Bounded lists: a log damaged throughout is reported in bounded memory (problem-list.ts).
  const errors = new ProblemList();
  const warnings = new ProblemList();
  const fail = (seq: number, invariant: string, message: string) => errors.add(seq, invariant, message);
  const start = options.start ?? { seq: 0, hash: GENESIS_HASH };

  const seenSeqs = new SeqRanges();
  /** Each stream's last accepted transition (compacted streams are dropped), and the same by id. */
  const latestOf = new Map<string, StreamSlot>();
  /**
   * By attestation id: the last records (their transition, or null), bounded by a ring, and each
   * live stream's latest transition; for parents and state.identity.unique.
   */
  const byId = new Map<string, IdEntry>();
  const ring: (IdEntry | undefined)[] = new Array<IdEntry | undefined>(VERIFY_RECENT_RECORDS);
  let ringAt = 0;
  /** The entry of the record being checked's id (when it had one before it), and its ring slot (-1: a duplicate takes none). */
  let own: IdEntry | undefined;
  let ownSlot = -1;
  let compaction: CompactionCheck | null = null;
  let replayer: LogReplayer | null = null;
  let replayError: unknown = null;
  if (options.replay === true) {
    try {
      replayer = options.snapshot !== undefined ? LogReplayer.ofSnapshot(options.snapshot, { store: checkOnlyStore(options.snapshot) }) : LogReplayer.ofLog({ store: checkOnlyStore() });
    } catch (error) {
      replayError = error;
    }
  }

  /** A recent record's transition under `id`, else the live stream's latest transition under it. */
  const find = (id: string): Transition | null => {
    const entry = byId.get(id);
    return entry === undefined ? null : ((entry.recent ? entry.recentValue : null) ?? entry.latest);
  };
  /** The map's entry for `entry`'s id now: `entry` while live, else a lookup. */
  const current = (entry: IdEntry): IdEntry | undefined => (entry.live ? entry : byId.get(entry.id));
  /** Removes an entry that has no role left. */
  const dropIfIdle = (entry: IdEntry): void => {
    if (entry.recent || entry.latest !== null) return;
    entry.live = false;
    byId.delete(entry.id);
  };
  /** The record being checked's entry, made (and entered) when there is none. */
  const ownEntry = (id: string): IdEntry => {
    let entry = own === undefined ? byId.get(id) : current(own);
    if (entry === undefined) {
      entry = { id, recent: false, recentValue: null, latest: null, live: true };
      byId.set(id, entry);
    }
    own = entry;
    return entry;
  };
  /** Takes the ring's next slot for a new id, forgetting the oldest record beyond it. */
  const makeRoom = (): void => {
    const oldest = ring[ringAt];
    const entry = oldest === undefined ? undefined : current(oldest);
    if (entry !== undefined) {
      entry.recent = false;
      entry.recentValue = null;
      dropIfIdle(entry);
    }
    ring[ringAt] = undefined;
    ownSlot = ringAt;
    ringAt = (ringAt + 1) % ring.length;
  };
  /** A transition is no longer its stream's latest. */
  const retire = (transition: Transition): void => {
    const entry = current(transition.entry);
    if (entry === undefined) return;
    entry.latest = null;
    dropIfIdle(entry);
  };

  /** The structural checks of one accepted transition; its entry (for `recent`), or null when it names no stream. */
  function checkTransition(record: StructuralRecord, checks: CompactionCheck): Transition | null {
    const { seq } = record;
    if (record.target === null) {
      fail(seq, 'state.identity.explicit', `seq ${seq}: accepted transition names no stream`);
      return null;
    }
    const slot = latestOf.get(record.target); // nothing below changes latestOf before the slot is updated
    if (record.stateBefore === null) {
      if (slot !== undefined && !checks.compactedBefore(record.target, seq)) {
        fail(seq, 'state.identity.unique', `seq ${seq}: stream ${record.target} is created a second time`);
      }
      if (record.parent !== null) fail(seq, 'state.lineage.explicit', `seq ${seq}: a creating transition names parent ${record.parent}`);
      if (record.version !== 1) fail(seq, 'state.lineage.continuous', `seq ${seq}: a created stream has version ${record.version}, not 1`);
    } else if (record.parent === null) {
      fail(seq, 'state.lineage.explicit', `seq ${seq}: accepted transition of ${record.target} names no parent`);
    } else {
      const parent = find(record.parent);
      if (!parent) {
        if (start.seq === 0) fail(seq, 'state.lineage.parent_exists', `seq ${seq}: parent ${record.parent} is not an earlier accepted transition`);
      } else {
        if (parent.target !== record.target) fail(seq, 'state.identity.immutable', `seq ${seq}: parent belongs to stream ${parent.target}, not ${record.target}`);
        if (record.version !== parent.version + 1 || record.stateBefore !== parent.stateAfter) {
          fail(seq, 'state.lineage.continuous', `seq ${seq}: version ${record.version} / state ${record.stateBefore} does not continue ${parent.version} / ${parent.stateAfter ?? '-'}`);
        }
        if (parent.child !== null) fail(seq, 'state.lineage.single_parent', `seq ${seq}: parent ${record.parent} already has child seq ${parent.child}`);
        parent.child ??= seq;
      }
    }
    if (slot !== undefined) retire(slot.latest);
    const entry = ownEntry(record.id);
    const transition: Transition = { id: record.id, seq, target: record.target, version: record.version, stateAfter: record.stateAfter, entry, child: null };
    if (slot !== undefined) slot.latest = transition;
    else latestOf.set(record.target, { latest: transition });
    entry.latest = transition;
    checks.transition(record.target, record.stateAfter, seq);
    return transition;
  }

  let count = 0;
  let previousSeq = start.seq;
  let previousHash = start.hash;
  /** The checks of one valid record (or view of one), in log order. */
  const check = (record: StructuralRecord, hashHolds: boolean): void => {
    const { seq } = record;
    compaction ??= new CompactionCheck(compactionStart(record, start.seq, options.snapshot));
    if (seenSeqs.add(seq)) fail(seq, 'ordering.total', `seq ${seq} appears more than once`);
    if (seq <= previousSeq) fail(seq, 'ordering.monotonic', `seq ${seq} after seq ${previousSeq}`);
    else if (seq !== previousSeq + 1) fail(seq, 'ordering.gap_free', `seq ${seq} after seq ${previousSeq}: ${seq - previousSeq - 1} missing`);
    if (record.prevHash !== previousHash) fail(seq, 'ordering.total', `seq ${seq}: prevHash does not link to the record before it`);
    if (!hashHolds) fail(seq, 'attestation.hash', `seq ${seq}: hash does not match the record's content (tampered)`);
    previousSeq = Math.max(previousSeq, seq);
    previousHash = record.hash;
    own = byId.get(record.id);
    ownSlot = -1;
    const duplicate = own !== undefined;
    if (duplicate) fail(seq, 'state.identity.unique', `attestation id ${record.id} is used twice`);
    else makeRoom(); // a duplicate keeps the first record's place
    if (record.action !== null && isOverrideAction(record.action) && !record.accessibility) {
      warnings.add(seq, 'audio.accessibility.auditable', `seq ${seq}: ${record.action} is not marked accessibility: true`);
    }
    const isTransition = record.decision === 'allowed' && record.stateAfter !== null && record.metadata.observed !== true;
    const transition = isTransition ? checkTransition(record, compaction) : null;
    // One entry per id: a new id with its transition (or null); a duplicate's transition replaces the first record's entry.
    if (!duplicate || transition !== null) {
      const entry = ownEntry(record.id);
      entry.recent = true;
      entry.recentValue = transition;
      if (ownSlot !== -1) ring[ownSlot] = entry;
    }
    const swept = compaction.record(record, fail);
    if (swept !== null) {
      for (const target of swept) {
        const last = latestOf.get(target);
        latestOf.delete(target);
        if (last) retire(last.latest);
      }
    }
  };

  if (log instanceof AttestationLogReader && options.replay !== true) {
    // Nothing needs the records themselves: the reader checks lines (on worker threads for a long log) and hands out views.
    log.scanViews((view) => {
      count += 1;
      check(view, view.hashHolds);
    });
  } else {
    // A log reader hands out records it validated; anything else is checked here.
    const validated = log instanceof AttestationLogReader;
    for (const value of log) {
      count += 1;
      const seqHint = typeof (value as { seq?: unknown } | null)?.seq === 'number' ? (value as { seq: number }).seq : start.seq + count;
      let record: Attestation;
      if (validated || isAttestationShape(value)) {
        record = value as Attestation;
      } else {
        const parsed = parseRecord(value);
        if ('problem' in parsed) {
          fail(seqHint, 'attestation.schema', `seq ${seqHint}: ${parsed.problem}`);
          continue;
        }
        record = parsed.record;
      }
      check(record, recordHashHolds(record));
      // Replay runs alongside while the log is clean (after a problem its verdict would not be reported).
      if (replayer && replayError === null && errors.count === 0) {
        try {
          replayer.push(record);
        } catch (error) {
          replayError = error;
        }
      }
    }
  }

  if (options.replay === true && errors.count === 0) {
    try {
      if (replayError !== null) throw replayError;
      void replayer?.finish().close();
    } catch (error) {
      const seq = error instanceof RegistrarReplayError ? error.seq : 0;
      fail(seq, 'ordering.deterministic', (error as Error).message);
    }
  }
  return Object.freeze({ ok: errors.count === 0, records: count, errors: errors.list(), warnings: warnings.list() });
}

/** The store of the registrar `verify({ replay })` rebuilds only to check it: a window, not the log. */
function checkOnlyStore(snapshotValue?: unknown): AttestationStore {
  const snapshot = snapshotValue === undefined ? undefined : parseSnapshot(snapshotValue);
  return new AttestationStore({ retain: 'window', memoryRecords: 1024, ...(snapshot ? { head: { seq: snapshot.lastSeq, hash: snapshot.lastHash } } : {}) });
}

/** Where the compaction checks start: a snapshot's policy and streams, seq 1's statement, or (from another start) the log's first statement. */
function compactionStart(first: StructuralRecord, startSeq: number, snapshotValue: unknown): CompactionStart {
  if (snapshotValue !== undefined) {
    try {
      const snapshot = parseSnapshot(snapshotValue);
      return { policy: snapshot.compaction ?? null, countable: true, streams: snapshot.streams };
    } catch {
      return { policy: undefined, countable: false }; // an invalid snapshot is replay's to report
    }
  }
  if (startSeq === 0 && first.seq === 1) return { policy: CompactionCheck.policyOfFirst(first), countable: true };
  return { policy: undefined, countable: false };
}
