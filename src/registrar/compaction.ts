/**
 * Compaction of terminal streams: the rule both decision cores apply so that a long-running
 * registrar holds a bounded number of streams and interned ids.
 *
 * The rule is a pure function of the global sequence, so the live registrar, a full replay of its
 * log and `restore(snapshot, tail)` all compact at the same seqs and reach the same decisions and
 * the same state hash:
 *
 * - A **compaction point** is every seq that is a multiple of `periodSeqs`.
 * - At a point `c`, once seq `c` is applied and before seq `c + 1` is decided, every stream that is
 *   `stopped` or `failed` and whose last accepted transition is at least `retainSeqs` old
 *   (`lastSeq <= c - retainSeqs`) is **compacted**: it no longer exists for decisions, views,
 *   snapshots or the state hash. Its history stays in the attestation log.
 * - Ids that were interned but never got a stream (a request naming an unknown target) and have not
 *   been used for `retainSeqs` seqs are dropped at the same points; they have no state, so this
 *   changes no decision.
 * - A compacted stream's interned id is freed and reused for other keys, but only after the
 *   core's journal can no longer hold an entry that names it (a quarantine of one journal length),
 *   so a registrar attesting another thread's decisions never reads a reused id.
 *
 * What a request naming a compacted stream gets (the same live and in replay): the stream is
 * unknown, so `interrupt` is denied `terminal_state` (as for a stopped stream), `stop`, `fail`,
 * `restart`, `release`, `transfer` and graph actions are denied `invalid_transition` (a compacted
 * stream cannot be restarted), and `start`/`claim` naming it create a **new** stream with that id
 * (version 1, no parent). Re-creating a compacted id is therefore a new lifecycle, not a second
 * creation of a live stream: `verify()` applies this same rule and accepts it under
 * `state.identity.unique` only when the earlier stream was terminal and compacted before the
 * re-creation.
 *
 * The log states the policy it was written under (seq 1) and each sweep (every point), and a
 * snapshot records it; replay and restore build their core with that policy, never a default
 * (compaction-record.ts).
 */
import { z } from 'zod';

/** When terminal streams are compacted (see the file comment). */
export interface CompactionPolicy {
  /** Compaction points are the seqs that are multiples of this. */
  readonly periodSeqs: number;
  /** A terminal stream is compacted at the first point at least this many seqs after its last transition. */
  readonly retainSeqs: number;
}

/** The policy of every core unless configured otherwise. */
export const DEFAULT_COMPACTION: CompactionPolicy = Object.freeze({ periodSeqs: 16_384, retainSeqs: 16_384 });

/** Largest seq count the policy accepts (the native core keeps seqs in 40 bits). */
const MAX_SEQS = 2 ** 40;

/** zod schema of a policy as callers write it: fields default to DEFAULT_COMPACTION's. */
export const compactionPolicySchema = z.strictObject({
  periodSeqs: z.number().int().min(1).max(MAX_SEQS).default(DEFAULT_COMPACTION.periodSeqs),
  retainSeqs: z.number().int().min(0).max(MAX_SEQS).default(DEFAULT_COMPACTION.retainSeqs),
});

/** The `compaction` option of a core: a policy (fields default), or false to never compact. */
export const compactionOptionSchema = z.union([z.literal(false), compactionPolicySchema]).optional();

/** A core's `compaction` option as callers write it. */
export type CompactionOption = z.input<typeof compactionOptionSchema>;

/** The policy a validated `compaction` option stands for (undefined: the default; false: none). */
export function policyOf(option: z.output<typeof compactionOptionSchema>): CompactionPolicy | null {
  if (option === false) return null;
  return Object.freeze({ ...(option ?? DEFAULT_COMPACTION) });
}

/** Whether `seq` is a compaction point of `policy`. */
export function isCompactionPoint(seq: number, policy: CompactionPolicy | null): boolean {
  return policy !== null && seq > 0 && seq % policy.periodSeqs === 0;
}

/**
 * The compaction point at which a stream that became (and stayed) terminal with its last accepted
 * transition at `lastSeq` is compacted: the first multiple of `periodSeqs` that is at least
 * `lastSeq + retainSeqs` (and at least one period).
 */
export function compactionPointOf(lastSeq: number, policy: CompactionPolicy): number {
  const earliest = Math.max(1, lastSeq + policy.retainSeqs);
  return Math.ceil(earliest / policy.periodSeqs) * policy.periodSeqs;
}

/** Whether two policies are the same rule. */
export function samePolicy(a: CompactionPolicy | null, b: CompactionPolicy | null): boolean {
  if (a === null || b === null) return a === b;
  return a.periodSeqs === b.periodSeqs && a.retainSeqs === b.retainSeqs;
}
