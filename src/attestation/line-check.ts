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
import { parseLogLine } from './duplicate-keys.js';
import { lineDigestAt, type LineHashing } from './line-hash.js';
import { SCANNED_FIELDS, scanLine } from './line-scan.js';
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
 * is not a valid record (its problem is `failure`). A line in the writer's own form (canonical
 * JSON) whose hash covers its bytes is read by the scanner (line-scan.ts: one pass over its bytes,
 * no JSON.parse, no record object, no string: the fields' bytes are copied); any other line the
 * general way, its hash recomputed over its canonical JSON, with the same verdicts.
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
  /** The previous record's hash: as text, or (-1 when not) where its 64 bytes lie in `region` (a scanned line: no string made). */
  let previousHash: string | null = null;
  let previousHashAt = -1;
  for (let from = 0, newline = region.indexOf(0x0a); newline !== -1; from = newline + 1, newline = region.indexOf(0x0a, from)) {
    if (numbers.length < NUMBERS_PER_RECORD * (count + 1)) {
      const grown = new Float64Array(numbers.length * 2);
      grown.set(numbers);
      numbers = grown;
    }
    if (scan) {
      const line = scanLine(region, from, newline);
      // Null (not the writer's form) or a hash that does not cover the line's bytes: the general path decides.
      if (line !== null && bytesHold(region, line.hashAt, line.hashAt + 64, lineDigestAt(region, from, line.hashMemberAt, newline))) {
        const { fields, prevHashAt } = line;
        const at = NUMBERS_PER_RECORD * count;
        numbers[at] = line.seq;
        numbers[at + 1] = line.version;
        numbers[at + 2] = flagsOf(line.allowed, line.accessibility, line.observed, true) | scannedNullFlags(fields);
        numbers[at + 3] = newline + 1 - from;
        // The hash and the fields' bytes, copied as they are (the scanner vouches they are printable ASCII): no string made.
        if (text.length < used + (newline - from)) text = grownText(text, used, newline - from);
        used = copyBytes(region, line.hashAt, line.hashAt + 64, text, used);
        for (let field = 0; field < SCANNED_FIELDS.length; field += 1) {
          const fieldStart = fields[2 * field] as number;
          const fieldEnd = fields[2 * field + 1] as number;
          numbers[at + 4 + field] = fieldStart < 0 ? 0 : fieldEnd - fieldStart;
          if (fieldStart >= 0) used = copyBytes(region, fieldStart, fieldEnd, text, used);
        }
        const links = previousHashAt >= 0 ? sameBytes(region, previousHashAt, prevHashAt, 64) : bytesHold(region, prevHashAt, prevHashAt + 64, previousHash);
        if (!links) prevHash[count] = region.toString('latin1', prevHashAt, prevHashAt + 64);
        if (line.compaction !== undefined) compactions[count] = line.compaction;
        previousHash = null;
        previousHashAt = line.hashAt;
        count += 1;
        continue;
      }
    }
    if (previousHashAt >= 0) {
      previousHash = region.toString('latin1', previousHashAt, previousHashAt + 64);
      previousHashAt = -1;
    }
    const line = parseLogLine(region.toString('utf8', from, newline)); // the scanner declined the line: it may hold a duplicate key
    if ('failure' in line) {
      failure = line.failure;
      break;
    }
    const { value } = line;
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
    // Not in the writer's form: only the hash over the canonical JSON counts (a hash over these bytes would not be the spec's).
    const holds = validRecordHash(record) === record.hash;
    const { observed, compaction } = record.metadata;
    const { id, target, action, parent, stateBefore, stateAfter } = record;
    const at = NUMBERS_PER_RECORD * count;
    numbers[at] = record.seq;
    numbers[at + 1] = record.version;
    numbers[at + 2] = flagsOf(record.decision === 'allowed', record.accessibility, observed === true, holds) | nullFlags(record);
    numbers[at + 3] = newline + 1 - from;
    const fields = [id, target ?? '', action ?? '', parent ?? '', stateBefore ?? '', stateAfter ?? ''];
    let characters = 64;
    for (const field of fields) characters += field.length;
    // Room for the fields in UTF-8 (at most 3 bytes a character), so a write is never cut short.
    if (text.length < used + 3 * characters) text = grownText(text, used, 3 * characters);
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

/** `Buffer#latin1Slice`: what `toString('latin1', start, end)` calls, without its encoding dispatch (a tenth of a view's cost); toString where it is missing. */
type Latin1Slicing = Buffer & { latin1Slice?: (start: number, end: number) => string };
const latin1 = (text: Latin1Slicing, start: number, end: number): string => (text.latin1Slice !== undefined ? text.latin1Slice(start, end) : text.toString('latin1', start, end));

/** Whether the latin1 text `text[start, end)` holds the characters of `known` (a string of UTF-16 code units: one above 255 matches no byte). */
function bytesHold(text: Buffer, start: number, end: number, known: string | null): known is string {
  if (known === null || known.length !== end - start) return false;
  for (let index = 0; index < known.length; index += 1) if (known.charCodeAt(index) !== text[start + index]) return false;
  return true;
}

/** Distinct short values (actions, states) kept to be handed out again: a handful in any log, and a bound for any other. */
const KNOWN_VALUES_MAX = 32;
/** Only values this short are looked up among the known ones (actions and state names are). */
const KNOWN_VALUE_BYTES_MAX = 24;

/** Reads the records of a `LinesChecked` as views, in order (`next`). */
export class RecordViews {
  readonly #checked: LinesChecked;
  /** The next record's index, and where its text starts. */
  #index = 0;
  #textAt = 0;
  #previousHash = '';
  readonly #text: Buffer;
  /** The previous two records' ids and the previous target (a parent or target is usually one of them). */
  #previousId: string | null = null;
  #olderId: string | null = null;
  #previousTarget: string | null = null;
  /** Actions and states seen (see `#known`). */
  readonly #knownValues: string[] = [];

  constructor(checked: LinesChecked) {
    this.#checked = checked;
    this.#text = Buffer.from(checked.text.buffer, checked.text.byteOffset, checked.text.byteLength);
  }

  /** How many records there are. */
  get count(): number {
    return this.#checked.count;
  }

  /**
   * The latin1 text `[start, end)`: a string already made when one holds the same characters
   * (`first`, `second`, or a known short value), else a new one. Handing out the same string
   * again saves making it and lets verify's map lookups find the key by identity, its hash already computed.
   */
  #string(start: number, end: number, first: string | null, second: string | null, known: boolean): string {
    const text = this.#text;
    if (bytesHold(text, start, end, first)) return first;
    if (bytesHold(text, start, end, second)) return second;
    if (known && end - start <= KNOWN_VALUE_BYTES_MAX) {
      const values = this.#knownValues;
      for (const value of values) if (bytesHold(text, start, end, value)) return value;
      const value = latin1(text, start, end);
      if (values.length < KNOWN_VALUES_MAX) values.push(value);
      return value;
    }
    return latin1(text, start, end);
  }

  /** The view of the next record (call at most `count` times). */
  next(): RecordView {
    const { numbers, prevHash, compaction: compactions } = this.#checked;
    const text = this.#text;
    const index = this.#index;
    const at = NUMBERS_PER_RECORD * index;
    const flags = numbers[at + 2] as number;
    // Each field is a flat string of its own: verify keeps ids and stream ids as map keys, where a
    // slice of a larger string costs about twice as much a lookup and keeps that string alive.
    const textStart = this.#textAt + 64;
    const hash = latin1(text, this.#textAt, textStart);
    let start = textStart;
    let id: string;
    let target: string | null;
    let action: string | null;
    let parent: string | null;
    let stateBefore: string | null;
    let stateAfter: string | null;
    if ((flags & WIDE) !== 0) {
      id = text.toString('utf16le', start, (start += numbers[at + 4] as number));
      target = (flags & NULL_TARGET) !== 0 ? null : text.toString('utf16le', start, (start += numbers[at + 5] as number));
      action = (flags & NULL_ACTION) !== 0 ? null : text.toString('utf16le', start, (start += numbers[at + 6] as number));
      parent = (flags & NULL_PARENT) !== 0 ? null : text.toString('utf16le', start, (start += numbers[at + 7] as number));
      stateBefore = (flags & NULL_STATE_BEFORE) !== 0 ? null : text.toString('utf16le', start, (start += numbers[at + 8] as number));
      stateAfter = (flags & NULL_STATE_AFTER) !== 0 ? null : text.toString('utf16le', start, (start += numbers[at + 9] as number));
    } else {
      // A parent is mostly the previous (or the one before) record's id, a target the previous target, actions and states a handful of words.
      id = latin1(text, start, (start += numbers[at + 4] as number));
      target = (flags & NULL_TARGET) !== 0 ? null : this.#string(start, (start += numbers[at + 5] as number), this.#previousTarget, null, false);
      action = (flags & NULL_ACTION) !== 0 ? null : this.#string(start, (start += numbers[at + 6] as number), null, null, true);
      parent = (flags & NULL_PARENT) !== 0 ? null : this.#string(start, (start += numbers[at + 7] as number), this.#previousId, this.#olderId, false);
      stateBefore = (flags & NULL_STATE_BEFORE) !== 0 ? null : this.#string(start, (start += numbers[at + 8] as number), null, null, true);
      stateAfter = (flags & NULL_STATE_AFTER) !== 0 ? null : this.#string(start, (start += numbers[at + 9] as number), null, null, true);
    }
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
    this.#olderId = this.#previousId;
    this.#previousId = id;
    if (target !== null) this.#previousTarget = target;
    return view;
  }
}

/** The nullable fields of a record, whose nulls the flags word records. */
interface NullableFields {
  readonly target: string | null;
  readonly action: string | null;
  readonly parent: string | null;
  readonly stateBefore: string | null;
  readonly stateAfter: string | null;
}

/** The flags word of one record (numbers[at + 2]) less its null flags: one definition for the scanned and the parsed path. */
function flagsOf(allowed: boolean, accessibility: boolean, observed: boolean, holds: boolean): number {
  return (allowed ? ALLOWED : 0) | (accessibility ? ACCESSIBILITY : 0) | (observed ? OBSERVED : 0) | (holds ? HASH_HOLDS : 0);
}

/** The null flags of a parsed record. */
function nullFlags(fields: NullableFields): number {
  return (
    (fields.target === null ? NULL_TARGET : 0) |
    (fields.action === null ? NULL_ACTION : 0) |
    (fields.parent === null ? NULL_PARENT : 0) |
    (fields.stateBefore === null ? NULL_STATE_BEFORE : 0) |
    (fields.stateAfter === null ? NULL_STATE_AFTER : 0)
  );
}

/** The null flags of a scanned line (its `fields`: target, action, parent, stateBefore, stateAfter after id, in the flags' order). */
function scannedNullFlags(fields: Int32Array): number {
  let flags = 0;
  for (let field = 1; field < SCANNED_FIELDS.length; field += 1) if ((fields[2 * field] as number) < 0) flags |= NULL_TARGET << (field - 1);
  return flags;
}

/** Whether `bytes` holds the same `length` bytes at `first` and at `second`. */
function sameBytes(bytes: Buffer, first: number, second: number, length: number): boolean {
  for (let index = 0; index < length; index += 1) if (bytes[first + index] !== bytes[second + index]) return false;
  return true;
}

/** Longest run `copyBytes` moves byte by byte (a longer one: Buffer#copy). */
const COPY_LOOP_MAX = 16;

/** Copies `source[start, end)` into `target` at `at` (room checked by the caller); returns the end. A loop: fields are short, and a Buffer copy call costs more than it moves. */
function copyBytes(source: Buffer, start: number, end: number, target: Buffer, at: number): number {
  if (end - start > COPY_LOOP_MAX) return at + source.copy(target, at, start, end);
  let to = at;
  for (let index = start; index < end; index += 1) target[to++] = source[index] as number;
  return to;
}

/** `text` grown to hold `more` bytes after its first `used` (its own ArrayBuffer, as the worker transfers it). */
function grownText(text: Buffer, used: number, more: number): Buffer<ArrayBuffer> {
  const grown = Buffer.allocUnsafeSlow(2 * (used + more));
  text.copy(grown, 0, 0, used);
  return grown;
}
