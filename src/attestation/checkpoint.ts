/**
 * Signed checkpoints: the format of the sidecar file `<log>.checkpoints` (JSON Lines, one signed
 * checkpoint a line, in seq order) and of anchor files, signing and checking one checkpoint, and
 * reading such a file line by line in constant memory.
 *
 * A checkpoint says "the log held `count` records up to `seq`, the last one hashing to
 * `headHash`", signed with Ed25519 (signing.ts) over the canonical JSON of every other field:
 *
 * ```
 * kind      "checkpoint"
 * v         1
 * seq       the last record covered          count    records from the chain start to seq
 * fromSeq   the first record this checkpoint's digests cover (the previous checkpoint's seq + 1)
 * headHash  the hash of record seq
 * digests   base64 of the first 4 bytes of the hash of each record fromSeq..seq, in order: a
 *           verifier names the first record that differs from what was signed (the signed
 *           headHash is what makes forgery detectable; digests only say where)
 * time      ISO 8601 (ms) when it was signed     keyId    SHA-256 of the signer's public key (DER SPKI)
 * signature base64 Ed25519 signature
 * ```
 */
import { z } from 'zod';
import { signatureValid, signPayload, type SigningKey, type VerifyingKey } from './signing.js';

/** The `kind` of a checkpoint. */
export const CHECKPOINT_KIND = 'checkpoint';
/** The checkpoint format version. */
export const CHECKPOINT_VERSION = 1;
/** Bytes of each record's hash kept in `digests`. */
export const DIGEST_BYTES = 4;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');

/** zod schema of a checkpoint line (strict: an unknown field is a problem). */
export const checkpointSchema = z
  .strictObject({
    kind: z.literal(CHECKPOINT_KIND),
    v: z.literal(CHECKPOINT_VERSION),
    seq: z.number().int().positive(),
    fromSeq: z.number().int().positive(),
    count: z.number().int().positive(),
    headHash: hex64,
    digests: base64,
    time: z.iso.datetime({ precision: 3 }),
    keyId: hex64,
    signature: base64,
  })
  .refine((checkpoint) => checkpoint.fromSeq <= checkpoint.seq && checkpoint.count >= checkpoint.seq - checkpoint.fromSeq + 1, {
    message: 'fromSeq, seq and count do not agree',
  })
  .refine((checkpoint) => Buffer.from(checkpoint.digests, 'base64').length === DIGEST_BYTES * (checkpoint.seq - checkpoint.fromSeq + 1), {
    path: ['digests'],
    message: 'expected one digest per record from fromSeq to seq',
  });

/** A signed checkpoint (see the file comment). */
export type Checkpoint = Readonly<z.output<typeof checkpointSchema>>;

/** What a checkpoint covers, before it is signed. */
export interface CheckpointFields {
  seq: number;
  fromSeq: number;
  count: number;
  headHash: string;
  /** DIGEST_BYTES per record, fromSeq..seq. */
  digests: Buffer;
  time: string;
}

/** The sidecar file of a log: `<log path>.checkpoints`. */
export function checkpointPath(logPath: string): string {
  return `${logPath}.checkpoints`;
}

/** The digest of one record's hash (its first DIGEST_BYTES bytes, as an unsigned integer). */
export function digestOf(hash: string): number {
  return Number.parseInt(hash.slice(0, 2 * DIGEST_BYTES), 16);
}

/** Signs checkpoint fields; returns the frozen checkpoint. */
export function signCheckpoint(key: SigningKey, fields: CheckpointFields): Checkpoint {
  const unsigned = {
    kind: CHECKPOINT_KIND,
    v: CHECKPOINT_VERSION,
    seq: fields.seq,
    fromSeq: fields.fromSeq,
    count: fields.count,
    headHash: fields.headHash,
    digests: fields.digests.toString('base64'),
    time: fields.time,
    keyId: key.keyId,
  } as const;
  return Object.freeze({ ...unsigned, signature: signPayload(key, unsigned) });
}

/** Whether a checkpoint is signed by `key` and its signature holds over every other field. */
export function checkpointSignatureValid(key: VerifyingKey, checkpoint: Checkpoint): boolean {
  const { signature, ...unsigned } = checkpoint;
  return checkpoint.keyId === key.keyId && signatureValid(key, unsigned, signature);
}

/** Parses one checkpoint line; the checkpoint or the first problem. */
export function parseCheckpoint(line: string): { checkpoint: Checkpoint } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { problem: 'not JSON' };
  }
  const parsed = checkpointSchema.safeParse(value);
  if (parsed.success) return { checkpoint: Object.freeze(parsed.data) };
  const issue = parsed.error.issues[0];
  return { problem: `${issue && issue.path.length > 0 ? issue.path.join('.') : '(checkpoint)'}: ${issue?.message ?? 'invalid'}` };
}
