/**
 * `verify()`'s side of compaction (compaction.ts, compaction-record.ts): follows a log's stated
 * policy and recounts every sweep from the log's own transitions, without a core.
 *
 * Each stream's last accepted transition is kept; a stream that is stopped or failed is due at
 * the point `compactionPointOf(lastSeq)` unless it moves again first. At a point, the streams
 * due there are the sweep: the point's `metadata.compaction.removed` must be their count. The
 * count can be checked only where every stream is known: a log from seq 1, or one that continues
 * a given snapshot (its streams seed the ledger). Swept streams are forgotten, so what is kept
 * follows the streams a registrar would hold, not the length of the log.
 */
import type { Attestation } from '../attestation/record.js';
import { compactionPointOf, samePolicy, type CompactionPolicy } from './compaction.js';
import { compactionStatementSchema, describePolicy, statesCompaction, type CompactionStatement } from './compaction-record.js';

/** What the checks read of a record (a record, or verify's view of one). */
export type CompactionFields = Pick<Attestation, 'seq'> & { readonly metadata: { readonly compaction?: unknown } };

/** Reports one problem (verify's `fail`). */
export type ReportProblem = (seq: number, invariant: string, message: string) => void;

/** Where a log's compaction checks start. */
export interface CompactionStart {
  /** The log's policy, or undefined when it is to be read from the first statement in the log. */
  policy: CompactionPolicy | null | undefined;
  /** Every stream at the start is known (a log from seq 1, or a snapshot's streams below). */
  countable: boolean;
  /** The streams at the start (a snapshot's). */
  streams?: readonly { streamId: string; state: string; lastSeq: number }[];
}

interface LastTransition {
  state: string | null;
  seq: number;
}

/** Whether a state ends a stream (compared directly: a Set lookup would hash each record's fresh state string). */
function isTerminal(state: string | null): state is string {
  return state === 'stopped' || state === 'failed';
}

/** Follows one log's compaction (see the file comment). */
export class CompactionCheck {
  #policy: CompactionPolicy | null | undefined;
  readonly #countable: boolean;
  /** Each stream's last accepted transition. */
  readonly #lastOf = new Map<string, LastTransition>();
  /** Terminal streams by the point that will sweep them. */
  readonly #dueAt = new Map<number, Set<string>>();

  constructor(start: CompactionStart) {
    this.#policy = start.policy;
    this.#countable = start.countable && start.policy !== undefined;
    for (const stream of start.streams ?? []) this.transition(stream.streamId, stream.state, stream.lastSeq);
  }

  /** The policy a log from seq 1 states in its first record (null: none, or not seq 1). */
  static policyOfFirst(first: CompactionFields | undefined): CompactionPolicy | null {
    const parsed = first?.seq === 1 ? compactionStatementSchema.safeParse(first.metadata.compaction) : undefined;
    return parsed?.success === true ? policyOf(parsed.data) : null;
  }

  /** An accepted transition of `target` to `state` at `seq`. */
  transition(target: string, state: string | null, seq: number): void {
    const policy = this.#policy;
    const previous = this.#lastOf.get(target);
    if (policy && previous && isTerminal(previous.state)) {
      this.#dueAt.get(compactionPointOf(previous.seq, policy))?.delete(target);
    }
    if (previous) {
      previous.state = state; // the entry is this check's own: updated in place, no new object per transition
      previous.seq = seq;
    } else {
      this.#lastOf.set(target, { state, seq });
    }
    if (policy && isTerminal(state)) {
      const point = compactionPointOf(seq, policy);
      let due = this.#dueAt.get(point);
      if (!due) this.#dueAt.set(point, (due = new Set()));
      due.add(target);
    }
  }

  /** Whether `target`'s earlier stream was stopped or failed and compacted before `seq` (so it may be created again). */
  compactedBefore(target: string, seq: number): boolean {
    const last = this.#lastOf.get(target);
    const policy = this.#policy;
    if (!last || !policy || !isTerminal(last.state)) return false;
    return compactionPointOf(last.seq, policy) < seq;
  }

  /**
   * Checks a record's compaction statement (after its transition, if any, was given). Returns the
   * streams a compaction point's sweep removes (forgotten here, so memory follows the live streams),
   * or null.
   */
  record(record: CompactionFields, fail: ReportProblem): ReadonlySet<string> | null {
    const { seq } = record;
    let statement: CompactionStatement | undefined;
    if (record.metadata.compaction !== undefined) {
      const parsed = compactionStatementSchema.safeParse(record.metadata.compaction);
      if (!parsed.success) {
        fail(seq, 'attestation.schema', `seq ${seq}: metadata.compaction: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
        return null;
      }
      statement = parsed.data;
    }
    if (this.#policy === undefined) {
      if (!statement) return null;
      this.#policy = policyOf(statement); // from another start: the first statement names the policy
    }
    const policy = this.#policy;
    const isPoint = policy !== null && seq % policy.periodSeqs === 0;
    if (!statement) {
      if (statesCompaction(seq, policy)) fail(seq, 'ordering.deterministic', `seq ${seq}: the log's compaction policy (${describePolicy(policy)}) makes this seq state compaction, it states none`);
    } else if (!statesCompaction(seq, policy) || !samePolicy(policyOf(statement), policy)) {
      fail(seq, 'ordering.deterministic', `seq ${seq}: states compaction (${describePolicy(policyOf(statement))}) where the log's policy is ${describePolicy(policy)}`);
    } else if (!isPoint && statement.removed !== undefined) {
      fail(seq, 'ordering.deterministic', `seq ${seq}: states a sweep (removed ${statement.removed ?? 'null'}) but is not a compaction point`);
    }
    if (!isPoint) return null;
    const due = this.#dueAt.get(seq);
    this.#dueAt.delete(seq);
    const expected = due?.size ?? 0;
    if (this.#countable && statement && statement.removed !== expected) {
      fail(seq, 'ordering.deterministic', `seq ${seq}: the sweep is recorded as removing ${statement.removed ?? 'an unknown number of'} streams; the log's transitions make it ${expected}`);
    }
    for (const target of due ?? []) this.#lastOf.delete(target);
    return due ?? null;
  }
}

function policyOf(statement: CompactionStatement): CompactionPolicy {
  return { periodSeqs: statement.periodSeqs, retainSeqs: statement.retainSeqs };
}
