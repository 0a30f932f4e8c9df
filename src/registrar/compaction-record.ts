/**
 * Compaction in the log: how a log states the compaction policy it was written under, so replay,
 * restore, `openLog`, `recover()` and `verify()` follow the log instead of a default.
 *
 * - The attestation of **seq 1** carries `metadata.compaction = { periodSeqs, retainSeqs }` when
 *   the writing core compacts. A log whose seq 1 states nothing (written with `compaction: false`,
 *   or before compaction existed) is a log without compaction.
 * - The attestation of every **compaction point** (a seq that is a multiple of `periodSeqs`)
 *   restates the policy and adds `removed`: how many streams the sweep after that seq removed
 *   (`{ periodSeqs, retainSeqs, removed }`). It is part of the decision: replay re-computes it and
 *   a different count (or a statement where the re-decided log has none) is
 *   REGISTRAR_REPLAY_MISMATCH at that seq; `verify()` recounts it from the log.
 * - A snapshot records the policy (`compaction`, null for none).
 *
 * The policy is fixed for a log: replay reads it from seq 1 (or the snapshot) before deciding
 * anything and builds its core with it. A core handed in by the caller must have that policy, or
 * replay refuses it with REGISTRAR_REPLAY_POLICY naming both. The frozen attestation fields are
 * unchanged: `metadata` is the extension point.
 */
import { z } from 'zod';
import type { JsonObject } from '../attestation/canonical-json.js';
import type { AttestationBody } from '../attestation/record.js';
import { samePolicy, type CompactionPolicy } from './compaction.js';
import type { DecisionCore } from './core.js';
import { createDefaultCore } from './default-core.js';
import { RegistrarReplayError } from './errors.js';

/** Largest seq count a stated policy may carry (the native core keeps seqs in 40 bits). */
const MAX_SEQS = 2 ** 40;

/** zod schema of a policy as a log or snapshot states it (both fields required, no defaults). */
export const statedPolicySchema = z.strictObject({
  periodSeqs: z.number().int().min(1).max(MAX_SEQS),
  retainSeqs: z.number().int().min(0).max(MAX_SEQS),
});

/** zod schema of an attestation's `metadata.compaction` (seq 1: the policy; a point: also `removed`). */
export const compactionStatementSchema = z.strictObject({
  periodSeqs: statedPolicySchema.shape.periodSeqs,
  retainSeqs: statedPolicySchema.shape.retainSeqs,
  /** Streams removed by the point's sweep; null when the writer's core no longer knew it. */
  removed: z.number().int().min(0).nullable().optional(),
});

/** An attestation's `metadata.compaction`. */
export type CompactionStatement = z.output<typeof compactionStatementSchema>;

/** The policy as text, for messages: `period 64, retain 32` or `none`. */
export function describePolicy(policy: CompactionPolicy | null): string {
  return policy === null ? 'none (compaction off)' : `period ${policy.periodSeqs}, retain ${policy.retainSeqs}`;
}

/** Whether `seq` carries a compaction statement under `policy` (seq 1, and every point). */
export function statesCompaction(seq: number, policy: CompactionPolicy | null): boolean {
  return policy !== null && (seq === 1 || seq % policy.periodSeqs === 0);
}

/**
 * Writes a core's compaction statements into attestation bodies: built once per registrar (the
 * policy of a core never changes), applied to every body before it is sealed or compared.
 */
export class CompactionStamp {
  /** The policy of the core (null: it never compacts). */
  readonly policy: CompactionPolicy | null;
  readonly #core: DecisionCore;

  constructor(core: DecisionCore) {
    this.#core = core;
    const policy = core.compactionPolicy?.() ?? null;
    this.policy = policy === null ? null : Object.freeze({ periodSeqs: policy.periodSeqs, retainSeqs: policy.retainSeqs });
  }

  /**
   * `body` with the statement its seq must carry, and without one it must not (a body copied from
   * a replayed record keeps nothing of the record's statement: replay compares what this core says).
   */
  apply(body: AttestationBody): AttestationBody {
    const policy = this.policy;
    const due = statesCompaction(body.seq, policy);
    if (!due && !('compaction' in body.metadata)) return body;
    const { compaction: _stated, ...rest } = body.metadata;
    void _stated;
    return { ...body, metadata: due && policy ? { ...rest, compaction: this.#statement(body.seq, policy) } : rest };
  }

  #statement(seq: number, policy: CompactionPolicy): JsonObject {
    const statement: Record<string, number | null> = { periodSeqs: policy.periodSeqs, retainSeqs: policy.retainSeqs };
    if (seq % policy.periodSeqs === 0) statement.removed = this.#core.compactedAt?.(seq) ?? null;
    return statement;
  }
}

/**
 * The policy a log's first record states: null when it states none (or is not seq 1: replay then
 * reports the gap). Throws REGISTRAR_REPLAY_SCHEMA for a malformed statement.
 */
export function policyStatedBy(firstRecord: unknown): CompactionPolicy | null {
  if (typeof firstRecord !== 'object' || firstRecord === null) return null;
  const { seq, metadata } = firstRecord as { seq?: unknown; metadata?: unknown };
  if (seq !== 1 || typeof metadata !== 'object' || metadata === null || !('compaction' in metadata)) return null;
  return parseStatement((metadata as { compaction: unknown }).compaction, 1);
}

/** A `metadata.compaction` value as a policy; throws REGISTRAR_REPLAY_SCHEMA naming the seq. */
export function parseStatement(value: unknown, seq: number): CompactionPolicy {
  const parsed = compactionStatementSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = ['metadata', 'compaction', ...(issue?.path.map(String) ?? [])].join('.');
    throw new RegistrarReplayError('REGISTRAR_REPLAY_SCHEMA', `seq ${seq}: ${where}: ${issue?.message ?? 'invalid'}`, seq);
  }
  return Object.freeze({ periodSeqs: parsed.data.periodSeqs, retainSeqs: parsed.data.retainSeqs });
}

/**
 * The core to rebuild a log (or snapshot) written under `policy` into: `given` when its policy is
 * the same, else REGISTRAR_REPLAY_POLICY naming both; without `given`, a new default core with
 * that policy. `source` says where the policy was read (for the message).
 */
export function coreForPolicy(given: DecisionCore | undefined, policy: CompactionPolicy | null, source: string, seq: number): DecisionCore {
  if (given === undefined) return createDefaultCore({ compaction: policy ?? false });
  const own = given.compactionPolicy?.() ?? null;
  if (!samePolicy(own, policy)) {
    throw new RegistrarReplayError(
      'REGISTRAR_REPLAY_POLICY',
      `the given core's compaction policy (${describePolicy(own)}) is not the one ${source} was written under (${describePolicy(policy)}); ` +
        'pass no core (replay builds one with the recorded policy) or a core made with that policy',
      seq,
    );
  }
  return given;
}
