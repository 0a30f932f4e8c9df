/**
 * Checking a record's hash on the bytes of its log line, without re-serialising the record.
 *
 * The writer writes a record as `head,"hash":"<64 hex>"tail` where `head + tail` is the
 * canonical JSON the hash covers (record-text.ts). So the hashed text of a line is the line with
 * its first `,"hash":"…"` member cut out, and SHA-256 of those bytes (two slices of the buffer
 * the log was read into: no string, no JSON) is compared with the parsed record's `hash`.
 *
 * What a match proves: the record's hash covers exactly the bytes it was read from, less its own
 * hash member. (If the cut member were not the record's top-level `hash`, the hashed bytes would
 * still contain that `hash`, and SHA-256 would have to be its own input's digest.) For a line the
 * writer wrote, that is the spec's hash over the canonical JSON. A mismatch is not a verdict: the
 * hash is then recomputed over the record's canonical JSON (`recordHashHolds`), as before, so a
 * line written in another but equivalent form (other key order, spaces) still verifies, and a line
 * whose hash covers different bytes than its content fails both ways. What the line check accepts
 * beyond the canonical check is only a line whose hash someone computed over a non-canonical form
 * of it: nothing the writer writes, and nothing a forger gains (the hash has no secret: one who can
 * recompute it can as well write the canonical form; signed checkpoints bind the writer's bytes).
 */
import { hash } from 'node:crypto';
import { validRecordHash, type Attestation } from './record.js';

/** How a log read checks a record's hash: on its line's bytes first (`line`, the default), or only over its canonical JSON (`canonical`: the slower path, kept as a baseline). */
export type LineHashing = 'line' | 'canonical';

/** `,"hash":"`: the bytes before a hash's 64 hex digits in a line. */
const HASH_MEMBER = Buffer.from(',"hash":"');
/** `,"hash":"` + 64 hex digits + `"`. */
const HASH_MEMBER_BYTES = HASH_MEMBER.length + 64 + 1;
const QUOTE = 0x22;

/** Room for one line less its hash member; grown for a longer line. */
let scratch = Buffer.allocUnsafe(1 << 16);

/**
 * The hex SHA-256 of the line `bytes[start, end)` (no newline) less its first `,"hash":"…"`
 * member, or null when it has none.
 */
export function lineDigest(bytes: Buffer, start: number, end: number): string | null {
  const cut = bytes.indexOf(HASH_MEMBER, start);
  if (cut === -1 || cut + HASH_MEMBER_BYTES > end || bytes[cut + HASH_MEMBER_BYTES - 1] !== QUOTE) return null;
  return lineDigestAt(bytes, start, cut, end);
}

/**
 * `lineDigest` of a line whose first `,"hash":"…"` member is known to start at `cut` (the
 * canonical-line scanner found it): the hex SHA-256 of the line less that member.
 */
export function lineDigestAt(bytes: Buffer, start: number, cut: number, end: number): string {
  const length = end - start - HASH_MEMBER_BYTES;
  if (scratch.length < length) scratch = Buffer.allocUnsafe(2 * length);
  bytes.copy(scratch, 0, start, cut);
  bytes.copy(scratch, cut - start, cut + HASH_MEMBER_BYTES, end);
  return hash('sha256', scratch.subarray(0, length), 'hex');
}

/** Records whose hash was found to cover the bytes of their line (set by the log reader). */
const hashedFromLine = new WeakSet<Attestation>();

/** Notes that `record`'s hash covers the bytes of the line it was read from (the log reader calls it). */
export function markHashedFromLine(record: Attestation): void {
  hashedFromLine.add(record);
}

/** Whether a record read from a log was found to carry the hash of its line's bytes. */
export function isHashedFromLine(record: Attestation): boolean {
  return hashedFromLine.has(record);
}

/** Frozen records whose hash was recomputed over their canonical JSON and held (a store reading a line back). */
const hashRecomputed = new WeakSet<Attestation>();

/** Notes that a frozen record's hash was recomputed and holds, so that no later check of it repeats the SHA-256. */
export function noteHashHolds(record: Attestation): void {
  hashRecomputed.add(record);
}

/**
 * Whether a valid record's hash holds: it covers the bytes of the log line the record was read
 * from (noted by the reader), it was recomputed and held before (noted), or else the record's
 * canonical JSON (recomputed here). Records are frozen: a hash that held once holds.
 */
export function recordHashHolds(record: Attestation): boolean {
  return hashedFromLine.has(record) || hashRecomputed.has(record) || validRecordHash(record) === record.hash;
}
