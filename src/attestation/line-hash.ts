/**
 * Checking a record's hash on the bytes of its log line, without re-serialising the record.
 *
 * The writer writes a record as `head,"hash":"<64 hex>"tail` where `head + tail` is the
 * canonical JSON the hash covers (record-text.ts). So for a line in that exact form the hashed
 * text is the line with its `,"hash":"…"` member cut out, and SHA-256 of those bytes (two slices
 * of the buffer the log was read into: no string, no JSON) is the spec's hash over the canonical
 * JSON. The canonical-line scanner (line-scan.ts) vouches for the form: it accepts only a line that
 * is the canonical JSON of the value JSON.parse reads from it, and finds the hash member's place.
 *
 * A line in any other form (another key order, spacing, an escape, a duplicate key, `1e2` for
 * 100) is never judged on its bytes: its hash is recomputed over the record's canonical JSON
 * (`recordHashHolds`). A hash over such bytes is not the spec's hash and does not hold: an
 * auditor recomputing the spec's hash must reach the same verdict as this reader.
 */
import { hash } from 'node:crypto';
import { scanLine } from './line-scan.js';
import { validRecordHash, type Attestation } from './record.js';
import { QUOTE } from './json-codes.js';

/** How a log read checks a record's hash: on its line's bytes first (`line`, the default), or only over its canonical JSON (`canonical`: the slower path, kept as a baseline). */
export type LineHashing = 'line' | 'canonical';

/** `,"hash":"`: the bytes before a hash's 64 hex digits in a line. */
const HASH_MEMBER = Buffer.from(',"hash":"');
/** `,"hash":"` + 64 hex digits + `"`. */
const HASH_MEMBER_BYTES = HASH_MEMBER.length + 64 + 1;

/** Room for one line less its hash member; grown for a longer line. */
let scratch = Buffer.allocUnsafe(1 << 16);

/**
 * The hex SHA-256 of the line `bytes[start, end)` (no newline) less its first `,"hash":"…"`
 * member, or null when it has none. Not a verdict by itself (the line may not be canonical: see
 * `canonicalLineDigest`); tests use it to forge a hash over a line's bytes.
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

/**
 * The SHA-256 of the line `bytes[start, end)` less its hash member when the line is in the
 * writer's canonical form (line-scan.ts), else null (the line must then be judged the general way).
 */
export function canonicalLineDigest(bytes: Buffer, start: number, end: number): string | null {
  const line = scanLine(bytes, start, end);
  return line === null ? null : lineDigestAt(bytes, start, line.hashMemberAt, end);
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
