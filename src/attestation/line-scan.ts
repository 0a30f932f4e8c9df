/**
 * A scanner for log lines in the exact form the writer writes them (canonical JSON of a record,
 * record-text.ts), so that checking a line for verification (line-check.ts) need not JSON.parse it
 * into a record object and then check the object's shape: one pass over the line's bytes, keys in
 * their canonical order, that notes where the fields verify reads lie (offsets into the buffer, so
 * the caller copies their bytes and builds no string) and reads the few values it needs.
 *
 * Contract: conservative, and canonical. A line it accepts is one JSON.parse reads into a value the
 * record check (record-check.ts) accepts, with the very field values it reports, and is exactly
 * that value's canonical JSON (canonicalJson, with the hash member where the writer puts it), so
 * a hash over the line less its hash member is the spec's hash over the canonical JSON
 * (line-hash.ts relies on it): every string it accepts is printable ASCII without a quote or
 * backslash (so its JSON value is its bytes, as JSON.stringify writes it), every top-level number
 * an integer of at most 15 digits without a leading zero, hashes 64 lowercase hex digits, the wall
 * time is checked with the record schema's own date rule, and `metadata`/`parameters` are `{}` or
 * an object nested at most three deep with such strings, finite numbers in the form JSON.stringify
 * writes them, and keys in strictly increasing order (sorted, no duplicates); of `metadata` it
 * reads `observed` and `compaction`. For anything else (another key order or spacing, a duplicate
 * key, `-0` or `1e2`, an escape, a non-ASCII or control byte, an extension object nested
 * deeper, a `__proto__` key...) it answers null, and the caller reads the line the general way (JSON.parse, the
 * record check, zod, the hash over the canonical JSON), which has the final word and the message.
 * A test holds the two paths to the same answers on real lines and on mutations of them.
 *
 * The scanner keeps its state in this module (one line at a time, synchronous): the field offsets
 * of an answer are one array, refilled by each scan.
 */
import type { JsonValue } from './canonical-json.js';
import { wallTimeSchema } from './record.js';
import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COLON, COMMA, OPEN_BRACE, OPEN_BRACKET, QUOTE } from './json-codes.js';

/** Where the fields verify reads lie in a line the scanner accepted, and the values it read. */
export interface ScannedLine {
  readonly accessibility: boolean;
  readonly allowed: boolean;
  readonly seq: number;
  readonly version: number;
  /** Offset of the record's hash (64 hex digits) in the buffer, and of its `prevHash`. */
  readonly hashAt: number;
  readonly prevHashAt: number;
  /** Offset of the `,"hash":"` member (line-hash.ts cuts it out). */
  readonly hashMemberAt: number;
  /**
   * Start and end offsets of the contents of id, target, action, parent, stateBefore and
   * stateAfter, in that order (SCANNED_FIELDS); a start of -1 for null. One array, refilled by
   * the next scan: read it before scanning again.
   */
  readonly fields: Int32Array;
  /** `metadata.observed === true`. */
  readonly observed: boolean;
  /** `metadata.compaction` as JSON.parse reads it, or undefined when there is none. */
  readonly compaction: JsonValue | undefined;
}

/** The text fields of `ScannedLine.fields`, in order. */
export const SCANNED_FIELDS = ['id', 'target', 'action', 'parent', 'stateBefore', 'stateAfter'] as const;

const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
/** 1 at the bytes a string may hold unescaped here: printable ASCII but `"` and `\`. */
const PLAIN = new Uint8Array(256);
for (let code = 0x20; code <= 0x7e; code += 1) PLAIN[code] = code === QUOTE || code === BACKSLASH ? 0 : 1;
/** 1 at lowercase hex digits. */
const HEX = new Uint8Array(256);
for (const digit of '0123456789abcdef') HEX[digit.charCodeAt(0)] = 1;
/** How deep the values of `metadata` and `parameters` may nest (containers inside the object). */
const EXTENSION_DEPTH = 2;
/** Digits of an integer that is written as JSON.stringify writes it whenever it has no leading zero (below 10^15: exact, no exponent). */
const PLAIN_INTEGER_DIGITS_MAX = 15;

const text = (value: string): Uint8Array => Buffer.from(value, 'latin1');
const ACCESSIBILITY = text('{"accessibility":');
const ACTION = text(',"action":');
const ACTOR = text(',"actor":');
const ACTOR_ID = text('{"id":');
const ACTOR_KIND = text(',"kind":');
const DECISION = text(',"decision":');
const ALLOWED = text('"allowed"');
const DENIED = text('"denied"');
const HASH = text(',"hash":"');
const ID = text(',"id":');
const INVARIANTS = text(',"invariants":');
const MESSAGE = text(',"message":');
const METADATA = text(',"metadata":');
const PARAMETERS = text(',"parameters":');
const PARENT = text(',"parent":');
const PREV_HASH = text(',"prevHash":"');
const REASON = text(',"reason":');
const SEQ = text(',"seq":');
const STATE_AFTER = text(',"stateAfter":');
const STATE_BEFORE = text(',"stateBefore":');
const TARGET = text(',"target":');
const TIMESTAMP = text(',"timestamp":{"monotonicNs":"');
const WALL = text(',"wall":"');
const V = text('"},"v":');
const VERSION = text(',"version":');
const VIOLATIONS = text(',"violations":[');
const VIOLATION_INVARIANT = text('{"invariant":');
const VIOLATION_LEVEL = text(',"level":');
const VIOLATION_MESSAGE = text(',"message":');
const LEVELS = [text('"REJECT"'), text('"HALT"'), text('"WARN"')];
const TRUE = text('true');
const FALSE = text('false');
const NULL = text('null');
const OBSERVED_KEY = text('observed');
const COMPACTION_KEY = text('compaction');
const PROTO_KEY = text('__proto__');
const WALL_BYTES = 24;

/**
 * The line being scanned and where it ends. A peek at one byte may look at `bytes[limit]` (past the
 * line): whatever is there, a scan that steps past `limit` cannot end exactly at it, which is the
 * last check, so such a line is declined, never misread.
 */
let bytes: Buffer = Buffer.alloc(0);
let limit = 0;
/** The content of the last string `string` read: [stringStart, position before its closing quote). */
let stringStart = 0;
/** The last wall time the record schema's rule accepted (consecutive records often share one), as bytes. */
const lastWall = Buffer.alloc(WALL_BYTES);
let lastWallValid = false;
/** The field offsets of the line being scanned (`ScannedLine.fields`), and what its metadata says. */
const fields = new Int32Array(2 * SCANNED_FIELDS.length);
let observed = false;
let compaction: JsonValue | undefined;

/** Past `literal` at `at`, or -1. */
function literal(at: number, expected: Uint8Array): number {
  const line = bytes;
  const length = expected.length;
  if (at < 0 || at + length > limit) return -1;
  for (let index = 0; index < length; index += 1) if (line[at + index] !== expected[index]) return -1;
  return at + length;
}

/** Past a string of plain bytes starting at `at` (its opening quote), or -1; its content starts at `stringStart`. */
function string(at: number): number {
  const line = bytes;
  const end = limit;
  if (at < 0 || line[at] !== QUOTE) return -1;
  stringStart = at + 1;
  // The hottest loop of a scan (most of a line is strings): locals only, no table.
  for (let index = at + 1; index < end; index += 1) {
    const code = line[index] as number;
    if (code === QUOTE) return index + 1;
    if (code < 0x20 || code > 0x7e || code === BACKSLASH) return -1;
  }
  return -1;
}

/** Past `null` or a string at `at` (or -1); notes the string's content in `fields` at `slot` (start -1 for null). */
function stringOrNull(at: number, slot: number): number {
  if (at >= 0 && bytes[at] === NULL[0]) {
    fields[slot] = -1;
    fields[slot + 1] = -1;
    return literal(at, NULL);
  }
  const past = string(at);
  fields[slot] = stringStart;
  fields[slot + 1] = past - 1;
  return past;
}

/** Past `64 hex digits"` at `at`, or -1. */
function hex64(at: number): number {
  if (at < 0 || at + 65 > limit) return -1;
  for (let index = at; index < at + 64; index += 1) if (HEX[bytes[index] as number] === 0) return -1;
  return bytes[at + 64] === QUOTE ? at + 65 : -1;
}

/** Past an integer of 1 to 15 digits without a leading zero (or `0` when `zero`) at `at`, or -1; its value in `integerValue`. */
let integerValue = 0;
function integer(at: number, zero: boolean): number {
  if (at < 0) return -1;
  const first = bytes[at] ?? 0;
  if (first === ZERO && zero) {
    integerValue = 0;
    return at + 1;
  }
  if (first <= ZERO || first > NINE) return -1;
  let value = 0;
  let index = at;
  for (; index < limit && index < at + 15; index += 1) {
    const code = bytes[index] as number;
    if (code < ZERO || code > NINE) break;
    value = value * 10 + (code - ZERO);
  }
  integerValue = value;
  return index;
}

/** Past digits at `at` (at least one), or -1. */
function digits(at: number): number {
  let index = at;
  while (index < limit && (bytes[index] as number) >= ZERO && (bytes[index] as number) <= NINE) index += 1;
  return index > at ? index : -1;
}

/**
 * Past a JSON number at `at` (as JSON grammar has it) that is finite and written as JSON.stringify
 * writes its value (canonical: not `-0`, `1.0`, `1e2` or 2^53 + 1), or -1.
 */
function number(at: number): number {
  let index = at;
  const negative = bytes[index] === MINUS;
  if (negative) index += 1;
  const first = index;
  if (bytes[index] === ZERO) index += 1;
  else index = digits(index);
  if (index < 0) return -1;
  let plain = index - first <= PLAIN_INTEGER_DIGITS_MAX && !(negative && bytes[first] === ZERO);
  if (bytes[index] === DOT) {
    plain = false;
    index = digits(index + 1);
  }
  if (index >= 0 && (bytes[index] === 0x65 || bytes[index] === 0x45)) {
    plain = false;
    index += 1;
    if (bytes[index] === 0x2b || bytes[index] === MINUS) index += 1;
    index = digits(index);
  }
  if (index < 0) return -1;
  if (plain) return index; // `0` or a short integer without a leading zero: its own canonical form
  // Anything else is canonical only when it is what JSON.stringify writes for its value (which also refuses what JSON.parse makes infinite: `null`).
  const written = bytes.toString('latin1', at, index);
  return JSON.stringify(Number(written)) === written ? index : -1;
}

/** Past a JSON value at `at` with containers nested at most `depth` deep, or -1. */
function value(at: number, depth: number): number {
  if (at < 0 || at >= limit) return -1;
  const first = bytes[at] as number;
  if (first === QUOTE) return string(at);
  if (first === OPEN_BRACE) return depth === 0 ? -1 : object(at, depth - 1, false);
  if (first === OPEN_BRACKET) {
    if (depth === 0) return -1;
    let index = at + 1;
    if (bytes[index] === CLOSE_BRACKET) return index + 1;
    for (;;) {
      index = value(index, depth - 1);
      if (index < 0) return -1;
      const next = bytes[index];
      if (next === CLOSE_BRACKET) return index + 1;
      if (next !== COMMA) return -1;
      index += 1;
    }
  }
  if (first === TRUE[0]) return literal(at, TRUE);
  if (first === FALSE[0]) return literal(at, FALSE);
  if (first === NULL[0]) return literal(at, NULL);
  return number(at);
}

/** Whether the string content [start, end) sorts strictly after [previousStart, previousEnd) (bytes, as plain ASCII sorts in UTF-16 code units: canonicalJson's order). */
function sortsAfter(previousStart: number, previousEnd: number, start: number, end: number): boolean {
  const shorter = Math.min(previousEnd - previousStart, end - start);
  for (let index = 0; index < shorter; index += 1) {
    const difference = (bytes[start + index] as number) - (bytes[previousStart + index] as number);
    if (difference !== 0) return difference > 0;
  }
  return end - start > previousEnd - previousStart;
}

/** Whether the string content [start, end) is `key`. */
function isKey(start: number, end: number, key: Uint8Array): boolean {
  if (end - start !== key.length) return false;
  for (let index = 0; index < key.length; index += 1) if (bytes[start + index] !== key[index]) return false;
  return true;
}

/**
 * Past an object at `at` whose keys are in strictly increasing order (canonical: sorted, no
 * duplicates) and whose values nest at most `depth` deep, or -1. With `readMetadata`, its
 * `observed` and `compaction` members are read.
 */
function object(at: number, depth: number, readMetadata: boolean): number {
  if (at < 0 || bytes[at] !== OPEN_BRACE) return -1;
  let index = at + 1;
  if (bytes[index] === CLOSE_BRACE) return index + 1;
  let compactionStart = -1;
  let compactionEnd = -1;
  let previousKeyStart = -1;
  let previousKeyEnd = -1;
  for (;;) {
    index = string(index);
    if (index < 0 || bytes[index] !== COLON) return -1;
    const keyStart = stringStart;
    const keyEnd = index - 1;
    if (previousKeyStart >= 0 && !sortsAfter(previousKeyStart, previousKeyEnd, keyStart, keyEnd)) return -1;
    if (isKey(keyStart, keyEnd, PROTO_KEY)) return -1; // no record holds one (record-check.ts hiddenKeyPath): the general path refuses it
    previousKeyStart = keyStart;
    previousKeyEnd = keyEnd;
    const valueStart = index + 1;
    index = value(valueStart, depth);
    if (index < 0) return -1;
    if (readMetadata) {
      if (isKey(keyStart, keyEnd, OBSERVED_KEY)) observed = index - valueStart === 4 && bytes[valueStart] === TRUE[0];
      else if (isKey(keyStart, keyEnd, COMPACTION_KEY)) {
        compactionStart = valueStart;
        compactionEnd = index;
      }
    }
    const next = bytes[index];
    if (next === CLOSE_BRACE) break;
    if (next !== COMMA) return -1;
    index += 1;
  }
  if (compactionStart !== -1) compaction = JSON.parse(bytes.toString('latin1', compactionStart, compactionEnd)) as JsonValue; // cannot throw: scanned as JSON
  return index + 1;
}

/** Past `[]` or `[` + strings + `]` after the opening bracket at `at`, or -1. */
function stringsThenBracket(at: number): number {
  let index = at;
  if (bytes[index] === CLOSE_BRACKET) return index + 1;
  for (;;) {
    index = string(index);
    if (index < 0) return -1;
    if (bytes[index] === CLOSE_BRACKET) return index + 1;
    if (bytes[index] !== COMMA) return -1;
    index += 1;
  }
}

/**
 * Invariants arrays (`[` to `]`) accepted before, a few: records of one kind list the same
 * invariants, and an array byte-equal to one accepted is accepted without reading its bytes one
 * by one (one native comparison where the array is half the line).
 */
const knownInvariants: Buffer[] = [];
const KNOWN_INVARIANTS_MAX = 16;
const KNOWN_INVARIANTS_BYTES_MAX = 4096;

/** Past the invariants array at `at` (its opening bracket), or -1. */
function invariants(at: number): number {
  if (at < 0 || bytes[at] !== OPEN_BRACKET) return -1;
  // Where the first `]` is: the array's end unless a string holds one; a known array equal to the bytes up to it is the whole array either way (an array ends where it ends).
  const close = bytes.indexOf(CLOSE_BRACKET, at);
  if (close !== -1 && close < limit) {
    const length = close + 1 - at;
    for (const known of knownInvariants) if (known.length === length && bytes.compare(known, 0, length, at, close + 1) === 0) return close + 1;
  }
  const past = stringsThenBracket(at + 1);
  if (past >= 0 && past - at <= KNOWN_INVARIANTS_BYTES_MAX) {
    if (knownInvariants.length === KNOWN_INVARIANTS_MAX) knownInvariants.shift();
    knownInvariants.push(Buffer.from(bytes.subarray(at, past)));
  }
  return past;
}

/** Past a violation object at `at`, or -1. */
function violation(at: number): number {
  let index = string(literal(at, VIOLATION_INVARIANT));
  index = literal(index, VIOLATION_LEVEL);
  if (index < 0) return -1;
  let level = -1;
  for (const candidate of LEVELS) if ((level = literal(index, candidate)) >= 0) break;
  index = string(literal(level, VIOLATION_MESSAGE));
  return index >= 0 && bytes[index] === CLOSE_BRACE ? index + 1 : -1;
}

/** Whether the 24 bytes at `at` are a wall time the record schema accepts. */
function validWall(at: number): boolean {
  if (lastWallValid) {
    let same = true;
    for (let index = 0; index < WALL_BYTES && same; index += 1) same = bytes[at + index] === lastWall[index];
    if (same) return true;
  }
  for (let index = at; index < at + WALL_BYTES; index += 1) if (PLAIN[bytes[index] as number] === 0) return false;
  if (!wallTimeSchema.safeParse(bytes.toString('latin1', at, at + WALL_BYTES)).success) return false;
  bytes.copy(lastWall, 0, at, at + WALL_BYTES);
  lastWallValid = true;
  return true;
}

/**
 * Scans the line `bytes[start, end)` (no newline): the line's fields (see `ScannedLine`: its
 * `fields` are refilled by the next scan) when it is a record in the writer's form (see the file
 * comment), else null.
 */
export function scanLine(lineBytes: Buffer, start: number, end: number): ScannedLine | null {
  bytes = lineBytes;
  limit = end;
  observed = false;
  compaction = undefined;
  let at = literal(start, ACCESSIBILITY);
  if (at < 0) return null;
  const accessibility = bytes[at] === TRUE[0];
  at = literal(at, accessibility ? TRUE : FALSE);
  at = stringOrNull(literal(at, ACTION), 4);
  at = literal(at, ACTOR);
  if (at >= 0 && bytes[at] === NULL[0]) at = literal(at, NULL);
  else {
    at = string(literal(string(literal(at, ACTOR_ID)), ACTOR_KIND));
    at = at >= 0 && bytes[at] === CLOSE_BRACE ? at + 1 : -1;
  }
  at = literal(at, DECISION);
  if (at < 0) return null;
  const allowed = bytes[at + 1] === ALLOWED[1];
  at = literal(at, allowed ? ALLOWED : DENIED);
  const hashMemberAt = at;
  at = literal(at, HASH);
  const hashAt = at;
  at = hex64(at);
  at = stringOrNull(literal(at, ID), 0);
  if (at < 0 || fields[0] === -1 || fields[0] === fields[1]) return null; // a non-empty string
  at = invariants(literal(at, INVARIANTS));
  at = string(literal(at, MESSAGE));
  at = object(literal(at, METADATA), EXTENSION_DEPTH, true);
  at = object(literal(at, PARAMETERS), EXTENSION_DEPTH, false);
  at = stringOrNull(literal(at, PARENT), 6);
  at = literal(at, PREV_HASH);
  const prevHashAt = at;
  at = hex64(at);
  at = literal(at, REASON);
  if (at >= 0 && bytes[at] === NULL[0]) at = literal(at, NULL);
  else at = string(at);
  at = integer(literal(at, SEQ), false);
  const seq = integerValue;
  at = stringOrNull(literal(at, STATE_AFTER), 10);
  at = stringOrNull(literal(at, STATE_BEFORE), 8);
  at = stringOrNull(literal(at, TARGET), 2);
  at = literal(at, TIMESTAMP);
  at = at < 0 ? -1 : digits(at);
  if (at < 0 || bytes[at] !== QUOTE) return null;
  at = literal(at + 1, WALL);
  if (at < 0 || at + WALL_BYTES > limit || !validWall(at)) return null;
  at = string(literal(at + WALL_BYTES, V));
  at = integer(literal(at, VERSION), true);
  const version = integerValue;
  at = literal(at, VIOLATIONS);
  if (at < 0) return null;
  if (bytes[at] !== CLOSE_BRACKET) {
    for (;;) {
      at = violation(at);
      if (at < 0) return null;
      if (bytes[at] === CLOSE_BRACKET) break;
      if (bytes[at] !== COMMA) return null;
      at += 1;
    }
  }
  // The array's bracket, then the record's closing brace, and nothing after it.
  if (at < 0 || at + 2 !== end || bytes[at] !== CLOSE_BRACKET || bytes[at + 1] !== CLOSE_BRACE) return null;
  return { accessibility, allowed, seq, version, hashAt, prevHashAt, hashMemberAt, fields, observed, compaction };
}
