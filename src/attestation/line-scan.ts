/**
 * A scanner for log lines in the exact form the writer writes them (canonical JSON of a record,
 * record-text.ts), so that checking a line for verification (line-check.ts) need not JSON.parse it
 * into a record object and then check the object's shape: one anchored regular expression (which
 * V8 compiles to native code) matches the whole line, keys in their canonical order, and captures
 * the fields verify reads.
 *
 * Contract: conservative. A line it accepts is one JSON.parse reads into a value the record check
 * (record-check.ts) accepts, with the very field values it captured: every string it matches is
 * printable ASCII without a quote or backslash (so its JSON value is its text), every number an
 * integer of at most 15 digits, hashes 64 lowercase hex digits, the wall time is checked with the
 * record schema's own date rule, and `metadata`/`parameters` are `{}` or an object nested at most three deep that
 * JSON.parse reads and the record check's JSON rule accepts (finite numbers). For anything else
 * (another key order or spacing, an escape, a non-ASCII or control character, an extension
 * object nested deeper...) it answers null, and the caller reads the line the general way (JSON.parse, the record
 * check, zod), which has the final word and the message. A test holds the two paths to the same
 * answers on real lines and on random mutations of them.
 */
import { isJsonObjectValue } from './record-check.js';
import { wallTimeSchema } from './record.js';

/** The fields verify reads from a line the scanner accepted. */
export interface ScannedLine {
  readonly accessibility: boolean;
  readonly action: string | null;
  readonly allowed: boolean;
  readonly hash: string;
  readonly id: string;
  /** `metadata` parsed, or null when it is `{}`. */
  readonly metadata: Readonly<Record<string, unknown>> | null;
  readonly parent: string | null;
  readonly prevHash: string;
  readonly seq: number;
  readonly stateAfter: string | null;
  readonly stateBefore: string | null;
  readonly target: string | null;
  readonly version: number;
}

/** A JSON string without escapes: printable ASCII but `"` and `\`. */
const STRING = '"[ !#-\\[\\]-~]*"';
const CAPTURED_STRING = '"([ !#-\\[\\]-~]*)"';
/** null, or a captured string (group: the content; undefined for null). */
const STRING_OR_NULL = `(?:null|${CAPTURED_STRING})`;
const NUMBER = '-?(?:0|[1-9]\\d*)(?:\\.\\d+)?(?:[eE][+-]?\\d+)?';
const SCALAR = `(?:${STRING}|true|false|null|${NUMBER})`;
/** A JSON value nested at most `depth` containers deep (the expression cannot recurse: each level spelled out). */
function nested(depth: number): string {
  if (depth === 0) return SCALAR;
  const inner = nested(depth - 1);
  return `(?:${SCALAR}|\\{(?:${STRING}:${inner}(?:,${STRING}:${inner})*)?\\}|\\[(?:${inner}(?:,${inner})*)?\\])`;
}
/** `{}`, or an object whose values nest at most two containers deep (request metadata in `parameters`, compaction and issue lists in `metadata`). */
const FLAT_OBJECT = `\\{(?:${STRING}:${nested(2)}(?:,${STRING}:${nested(2)})*)?\\}`;
const HEX64 = '"([0-9a-f]{64})"';
const VIOLATION = `\\{"invariant":${STRING},"level":"(?:REJECT|HALT|WARN)","message":${STRING}\\}`;

/** The whole canonical line; groups numbered in the comments below. */
const LINE = new RegExp(
  [
    '^\\{"accessibility":(true|false)', // 1
    `,"action":${STRING_OR_NULL}`, // 2
    `,"actor":(?:null|\\{"id":${STRING},"kind":${STRING}\\})`,
    ',"decision":"(allowed|denied)"', // 3
    `,"hash":${HEX64}`, // 4
    ',"id":"([ !#-\\[\\]-~]+)"', // 5
    `,"invariants":\\[(?:${STRING}(?:,${STRING})*)?\\]`,
    `,"message":${STRING}`,
    `,"metadata":(${FLAT_OBJECT})`, // 6
    `,"parameters":(${FLAT_OBJECT})`, // 7
    `,"parent":${STRING_OR_NULL}`, // 8
    `,"prevHash":${HEX64}`, // 9
    `,"reason":(?:null|${STRING})`,
    ',"seq":([1-9]\\d{0,14})', // 10
    `,"stateAfter":${STRING_OR_NULL}`, // 11
    `,"stateBefore":${STRING_OR_NULL}`, // 12
    `,"target":${STRING_OR_NULL}`, // 13
    ',"timestamp":\\{"monotonicNs":"\\d+","wall":"([ !#-\\[\\]-~]{24})"\\}', // 14
    `,"v":${STRING}`,
    ',"version":(0|[1-9]\\d{0,14})', // 15
    `,"violations":\\[(?:${VIOLATION}(?:,${VIOLATION})*)?\\]`,
    '\\}$',
  ].join(''),
);

/** The last wall time the record schema's rule accepted (consecutive records often share one). */
let lastWall = '';

/** `{}` as null, else the object parsed (undefined when the record check's JSON rule refuses it: a number JSON.parse makes infinite). */
function flatObject(text: string): Record<string, unknown> | null | undefined {
  if (text === '{}') return null;
  const value: unknown = JSON.parse(text); // cannot throw: the expression matched JSON
  return isJsonObjectValue(value) ? (value as Record<string, unknown>) : undefined;
}

/** The fields of `line` (a log line without its newline) when it is a record in the writer's form (see the file comment), else null. */
export function scanCanonicalLine(line: string): ScannedLine | null {
  const match = LINE.exec(line);
  if (match === null) return null;
  const wall = match[14] as string;
  if (wall !== lastWall) {
    if (!wallTimeSchema.safeParse(wall).success) return null;
    lastWall = wall;
  }
  const metadata = flatObject(match[6] as string);
  if (metadata === undefined || flatObject(match[7] as string) === undefined) return null;
  return {
    accessibility: match[1] === 'true',
    action: match[2] ?? null,
    allowed: match[3] === 'allowed',
    hash: match[4] as string,
    id: match[5] as string,
    metadata,
    parent: match[8] ?? null,
    prevHash: match[9] as string,
    seq: Number(match[10]),
    stateAfter: match[11] ?? null,
    stateBefore: match[12] ?? null,
    target: match[13] ?? null,
    version: Number(match[15]),
  };
}
