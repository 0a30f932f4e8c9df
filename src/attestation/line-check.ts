/**
 * Checking the lines of a log for verification, without keeping records: each line is parsed,
 * checked against the record schema (record-check.ts, zod for the message) and its hash checked
 * (line-hash.ts), and what `verify` and `verifyLog` read of it is kept, packed in a `LinesChecked`
 * (a typed array of numbers and a buffer of text, so a worker thread hands it over cheaply:
 * line-check-pool.ts). The checks that follow the log in order (the chain, seqs, lineage) stay with
 * the reader's caller, which reads each record as a `RecordView`.
 *
 * A view says the same as the record it was read from: a line is checked exactly as the log
 * reader checks it (same verdicts, same messages), and the view's fields are the record's. Only
 * what varies is kept: flags for the booleans and nulls, a record's `prevHash` only where it is not
 * the previous line's hash, `metadata.compaction` only where there is one.
 */
import type { JsonValue } from './canonical-json.js';
import { lineDigest, type LineHashing } from './line-hash.js';
import { scanCanonicalLine } from './line-scan.js';
import { isAttestationShape } from './record-check.js';
import { parseRecord, validRecordHash, type Attestation } from './record.js';

/** What verify's checks read of a record: the record's own fields, its hash verdict and its line's length. */
export interface RecordView {
  readonly seq: number;
  readonly id: string;
  readonly target: string | null;
  readonly action: string | null;
  readonly decision: 'allowed' | 'denied';
  readonly accessibility: boolean;
  readonly parent: string | null;
  readonly stateBefore: string | null;
  readonly stateAfter: string | null;
  readonly version: number;
  /** Only the metadata verify reads: `observed` (when it is true) and `compaction`. */
  readonly metadata: { readonly observed?: true; readonly compaction?: JsonValue };
  readonly prevHash: string;
  readonly hash: string;
  /** The record's hash holds: over its line's bytes, or else over its canonical JSON. */
  readonly hashHolds: boolean;
  /** Bytes of its line, newline included. */
  readonly lengthBytes: number;
}

const ALLOWED = 1;
const ACCESSIBILITY = 2;
const OBSERVED = 4;
const HASH_HOLDS = 8;
/** Set when the field is null (its text is then empty). */
const NULL_TARGET = 16;
const NULL_ACTION = 32;
const NULL_PARENT = 64;
const NULL_STATE_BEFORE = 128;
const NULL_STATE_AFTER = 256;
/** The record's text fields are in UTF-16 (one of them is not ASCII). */
const WIDE = 512;

/** Numbers kept per record: seq, version, flags, line length, and the lengths of id, target, action, parent, stateBefore, stateAfter. */
const NUMBERS_PER_RECORD = 10;

/**
 * The views of a run of lines (up to the first line that is not a record), packed so a worker can
 * hand them over cheaply: numbers in one typed array and the text fields in one buffer (both
 * transferred, not copied), and the rare fields by index.
 */
export interface LinesChecked {
  /** How many records. */
  readonly count: number;
  /** NUMBERS_PER_RECORD numbers per record (see there). */
  readonly numbers: Float64Array;
  /**
   * The text fields, encoded, record after record: the hash (64 bytes), then id, target, action,
   * parent, stateBefore, stateAfter (byte lengths in `numbers`): in latin1 when every character of
   * the record's fields is ASCII, else (flag WIDE) in UTF-16, which carries any string exactly. Each
   * field is decoded on its own (`RecordViews`), so keeping one (verify keeps ids and stream ids)
   * keeps only that string alive, never the batch, and the worker builds no strings for them.
   */
  readonly text: Uint8Array;
  /** `prevHash` by index, where it is not the previous line's hash (always for the first). */
  readonly prevHash: Record<string, string>;
  /** `metadata.compaction` by index, where there is one. */
  readonly compaction: Record<string, JsonValue>;
  /** What is wrong with the line after the last view (as the log reader words it), or null. */
  readonly failure: string | null;
}

/**
 * Checks the whole lines of `region` (each ending in a newline), stopping at the first line that
 * is not a valid record (its problem is `failure`). A line in the writer's own form whose hash
 * covers its bytes is read by the scanner (line-scan.ts: one regular expression, no JSON.parse,
 * no record object); any other line the general way, with the same verdicts.
 * `options.scan: false` reads every line the general way (tests compare the two).
 */
export function checkLines(region: Buffer, hashing: LineHashing, options: { scan?: boolean } = {}): LinesChecked {
  const scan = hashing === 'line' && options.scan !== false;
  let numbers = new Float64Array(NUMBERS_PER_RECORD * 1024);
  let count = 0;
  let text = Buffer.allocUnsafeSlow(Math.max(4096, region.length >> 2)); // its own ArrayBuffer (not the pool): the worker transfers it
  let used = 0;
  const prevHash: Record<string, string> = {};
  const compactions: Record<string, JsonValue> = {};
  let failure: string | null = null;
  let previousHash: string | null = null;
  for (let from = 0, newline = region.indexOf(0x0a); newline !== -1; from = newline + 1, newline = region.indexOf(0x0a, from)) {
    if (numbers.length < NUMBERS_PER_RECORD * (count + 1)) {
      const grown = new Float64Array(numbers.length * 2);
      grown.set(numbers);
      numbers = grown;
    }
    if (scan) {
      const line = scanCanonicalLine(region.toString('latin1', from, newline));
      // Null (not the writer's form) or a hash that does not cover the line's bytes: the general path decides.
      if (line !== null && lineDigest(region, from, newline) === line.hash) {
        const { id, target, action, parent, stateBefore, stateAfter } = line;
        const at = NUMBERS_PER_RECORD * count;
        const observed = line.metadata?.observed;
        const compaction = line.metadata?.compaction as JsonValue | undefined;
        numbers[at] = line.seq;
        numbers[at + 1] = line.version;
        numbers[at + 2] = flagsOf(line.allowed, line.accessibility, observed === true, true, line);
        numbers[at + 3] = newline + 1 - from;
        // Printable ASCII only (the scanner vouches for it): a byte a character, written in one go.
        const packed = line.hash + id + (target ?? '') + (action ?? '') + (parent ?? '') + (stateBefore ?? '') + (stateAfter ?? '');
        if (text.length < used + packed.length) {
          const grown = Buffer.allocUnsafeSlow(2 * (used + packed.length));
          text.copy(grown, 0, 0, used);
          text = grown;
        }
        used += text.write(packed, used, 'latin1');
        numbers[at + 4] = id.length;
        numbers[at + 5] = target?.length ?? 0;
        numbers[at + 6] = action?.length ?? 0;
        numbers[at + 7] = parent?.length ?? 0;
        numbers[at + 8] = stateBefore?.length ?? 0;
        numbers[at + 9] = stateAfter?.length ?? 0;
        if (line.prevHash !== previousHash) prevHash[count] = line.prevHash;
        if (compaction !== undefined) compactions[count] = compaction;
        previousHash = line.hash;
        count += 1;
        continue;
      }
    }
    let value: unknown;
    try {
      value = JSON.parse(region.toString('utf8', from, newline));
    } catch {
      failure = 'is not JSON';
      break;
    }
    let record: Attestation;
    if (isAttestationShape(value)) {
      record = value as Attestation; // only read here, never handed out: no need to freeze it
    } else {
      const parsed = parseRecord(value);
      if ('problem' in parsed) {
        failure = `is not a valid record: ${parsed.problem}`;
        break;
      }
      record = parsed.record;
    }
    const holds = (hashing === 'line' && lineDigest(region, from, newline) === record.hash) || validRecordHash(record) === record.hash;
    const { observed, compaction } = record.metadata;
    const { id, target, action, parent, stateBefore, stateAfter } = record;
    const at = NUMBERS_PER_RECORD * count;
    numbers[at] = record.seq;
    numbers[at + 1] = record.version;
    numbers[at + 2] = flagsOf(record.decision === 'allowed', record.accessibility, observed === true, holds, record);
    numbers[at + 3] = newline + 1 - from;
    const fields = [id, target ?? '', action ?? '', parent ?? '', stateBefore ?? '', stateAfter ?? ''];
    let characters = 64;
    for (const field of fields) characters += field.length;
    // Room for the fields in UTF-8 (at most 3 bytes a character), so a write is never cut short.
    if (text.length < used + 3 * characters) {
      const grown = Buffer.allocUnsafeSlow(2 * (used + 3 * characters));
      text.copy(grown, 0, 0, used);
      text = grown;
    }
    // ASCII fields take a byte a character; a record with any other character is written in UTF-16.
    const start = used;
    let ascii = true;
    used += text.write(record.hash, used, 'latin1');
    for (let index = 0; index < fields.length && ascii; index += 1) {
      const field = fields[index] as string;
      const written = text.write(field, used, 'utf8');
      ascii = written === field.length;
      numbers[at + 4 + index] = written;
      used += written;
    }
    if (!ascii) {
      used = start + 64;
      for (let index = 0; index < fields.length; index += 1) {
        const written = text.write(fields[index] as string, used, 'utf16le');
        numbers[at + 4 + index] = written;
        used += written;
      }
      numbers[at + 2] = (numbers[at + 2] as number) | WIDE;
    }
    if (record.prevHash !== previousHash) prevHash[count] = record.prevHash;
    if (compaction !== undefined) compactions[count] = compaction;
    previousHash = record.hash;
    count += 1;
  }
  return { count, numbers: numbers.subarray(0, NUMBERS_PER_RECORD * count), text: text.subarray(0, used), prevHash, compaction: compactions, failure };
}

const NO_METADATA: RecordView['metadata'] = Object.freeze({});
const OBSERVED_METADATA: RecordView['metadata'] = Object.freeze({ observed: true });

/** Reads the records of a `LinesChecked` as views, in order (`next`). */
export class RecordViews {
  readonly #checked: LinesChecked;
  /** The next record's index, and where its text starts. */
  #index = 0;
  #textAt = 0;
  #previousHash = '';
  readonly #text: Buffer;

  constructor(checked: LinesChecked) {
    this.#checked = checked;
    this.#text = Buffer.from(checked.text.buffer, checked.text.byteOffset, checked.text.byteLength);
  }

  /** How many records there are. */
  get count(): number {
    return this.#checked.count;
  }

  /** The view of the next record (call at most `count` times). */
  next(): RecordView {
    const { numbers, prevHash, compaction: compactions } = this.#checked;
    const text = this.#text;
    const index = this.#index;
    const at = NUMBERS_PER_RECORD * index;
    const flags = numbers[at + 2] as number;
    // Each field decoded on its own, as a flat string: verify keeps ids and stream ids as map keys,
    // where a slice of a larger string costs about twice as much a lookup and keeps that string alive.
    const encoding = (flags & WIDE) !== 0 ? 'utf16le' : 'latin1';
    const textStart = this.#textAt + 64;
    const hash = text.toString('latin1', this.#textAt, textStart);
    let start = textStart;
    const id = text.toString(encoding, start, (start += numbers[at + 4] as number));
    const target = (flags & NULL_TARGET) !== 0 ? null : text.toString(encoding, start, (start += numbers[at + 5] as number));
    const action = (flags & NULL_ACTION) !== 0 ? null : text.toString(encoding, start, (start += numbers[at + 6] as number));
    const parent = (flags & NULL_PARENT) !== 0 ? null : text.toString(encoding, start, (start += numbers[at + 7] as number));
    const stateBefore = (flags & NULL_STATE_BEFORE) !== 0 ? null : text.toString(encoding, start, (start += numbers[at + 8] as number));
    const stateAfter = (flags & NULL_STATE_AFTER) !== 0 ? null : text.toString(encoding, start, (start += numbers[at + 9] as number));
    const compaction = compactions[index];
    const view: RecordView = {
      seq: numbers[at] as number,
      id,
      target,
      action,
      decision: (flags & ALLOWED) !== 0 ? 'allowed' : 'denied',
      accessibility: (flags & ACCESSIBILITY) !== 0,
      parent,
      stateBefore,
      stateAfter,
      version: numbers[at + 1] as number,
      metadata: compaction !== undefined ? { ...((flags & OBSERVED) !== 0 ? { observed: true } : {}), compaction } : (flags & OBSERVED) !== 0 ? OBSERVED_METADATA : NO_METADATA,
      prevHash: prevHash[index] ?? this.#previousHash, // else the previous line's hash
      hash,
      hashHolds: (flags & HASH_HOLDS) !== 0,
      lengthBytes: numbers[at + 3] as number,
    };
    this.#index = index + 1;
    this.#textAt = start;
    this.#previousHash = hash;
    return view;
  }
}

/** The nullable fields of a record or a scanned line, whose nulls the flags word records. */
interface NullableFields {
  readonly target: string | null;
  readonly action: string | null;
  readonly parent: string | null;
  readonly stateBefore: string | null;
  readonly stateAfter: string | null;
}

/** The flags word of one record (numbers[at + 2]): one definition for the scanned and the parsed path. */
function flagsOf(allowed: boolean, accessibility: boolean, observed: boolean, holds: boolean, fields: NullableFields): number {
  return (
    (allowed ? ALLOWED : 0) |
    (accessibility ? ACCESSIBILITY : 0) |
    (observed ? OBSERVED : 0) |
    (holds ? HASH_HOLDS : 0) |
    (fields.target === null ? NULL_TARGET : 0) |
    (fields.action === null ? NULL_ACTION : 0) |
    (fields.parent === null ? NULL_PARENT : 0) |
    (fields.stateBefore === null ? NULL_STATE_BEFORE : 0) |
    (fields.stateAfter === null ? NULL_STATE_AFTER : 0)
  );
}
