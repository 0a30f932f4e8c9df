/**
 * A precompiled check of the attestation record shape that agrees with the zod schema
 * (`attestationSchema` in record.ts) without building a copy: reading a long log validates every
 * line, and zod's strict object parse costs several times the JSON.parse of the line. The check is
 * conservative: when it answers true, zod accepts the value too (a test holds it to that on random
 * records and mutations); when it answers false, the caller asks zod, which has the final word and
 * the message naming the field. Values must be plain objects and arrays (as JSON.parse makes them).
 */
import { isPlainRecord } from '../validation.js';
import { ATTESTATION_FIELDS, wallTimeSchema } from './record.js';

/** The record's field names (built on first use: record.ts imports this module, so nothing of it is read at load time). */
let fields: ReadonlySet<string> | undefined;
/** The field names in the orders records come in: canonical (sorted, as the log writer writes them) and declared (as a record object holds them). */
let fieldOrders: readonly (readonly string[])[] | undefined;
/** 1 at the char codes of lowercase hex digits. */
const HEX_DIGIT = new Uint8Array(128);
for (const digit of '0123456789abcdef') HEX_DIGIT[digit.charCodeAt(0)] = 1;
const DIGITS = /^\d+$/;

/** Exactly `count` own enumerable keys, every one in `allowed` (a strict zod object's key rule). */
function hasExactKeys(value: Record<string, unknown>, count: number, allowed: (key: string) => boolean): boolean {
  let seen = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key) || !allowed(key)) return false;
    seen += 1;
  }
  return seen === count;
}

/** `/^[0-9a-f]{64}$/.test(value)`, by a table: some 2.5 times faster, and every record has two. */
function isHex64(value: unknown): boolean {
  if (typeof value !== 'string' || value.length !== 64) return false;
  for (let index = 0; index < 64; index += 1) {
    const code = value.charCodeAt(index);
    if (code > 127 || HEX_DIGIT[code] === 0) return false;
  }
  return true;
}

function isStringOrNull(value: unknown): boolean {
  return value === null || typeof value === 'string';
}

function isStringArray(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (let index = 0; index < value.length; index += 1) if (typeof value[index] !== 'string') return false;
  return true;
}

/** A JSON value as the record schema's `jsonValue` accepts it (finite numbers, plain containers). */
function isJsonValue(value: unknown, depth: number): boolean {
  if (depth > 64) return false; // zod decides on pathological nesting
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      if (value === null) return true;
      if (Array.isArray(value)) {
        for (let index = 0; index < value.length; index += 1) if (!isJsonValue(value[index], depth + 1)) return false;
        return true;
      }
      return isJsonObject(value, depth + 1);
    default:
      return false;
  }
}

/** The one key JSON.parse keeps as an own member that a copy made by assignment (zod's `z.record`) silently drops. */
const PROTO_KEY = '__proto__';

function isJsonObject(value: unknown, depth: number): boolean {
  if (!isPlainRecord(value)) return false;
  for (const key in value) {
    if (!Object.hasOwn(value, key) || !isJsonValue(value[key], depth)) return false;
  }
  // An own `__proto__` (JSON.parse makes an enumerable one; one defined otherwise need not be): zod
  // decides, and refuses it (hiddenKeyPath).
  return !Object.hasOwn(value, PROTO_KEY);
}

/**
 * Containers a record's `parameters` or `metadata` may nest (a request's metadata nests at most 32
 * deep, request-schema.ts): a deeper value is no record, and the checks after this one (zod, the
 * `__proto__` walk, freezing, hashing) recurse.
 */
export const MAX_RECORD_NESTING = 64;

/**
 * Where `value` (a JSON value, as JSON.parse made it) nests containers deeper than
 * MAX_RECORD_NESTING: the path of the first too deep (`metadata.a.0`), or null. Walks with its own
 * stack, so a line nested 10^6 deep is answered, not a RangeError.
 */
export function tooDeepPath(value: unknown, path: string): string | null {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path, depth: 0 }];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    if (typeof top.value !== 'object' || top.value === null) continue;
    if (top.depth >= MAX_RECORD_NESTING) return top.path;
    const container = top.value as Record<string, unknown>;
    for (const key of Object.keys(container)) stack.push({ value: container[key], path: `${top.path}.${key}`, depth: top.depth + 1 });
  }
  return null;
}

/**
 * Where `value` (a JSON value, as JSON.parse made it) holds an own `__proto__` key: its path
 * (`metadata.a.__proto__`), or null. No record of a registrar holds one (its bodies are built
 * from parsed requests, which drop it); in a line it is bytes a check over a parsed copy would not
 * cover, so a record holding one is refused (`parseRecord`).
 */
export function hiddenKeyPath(value: unknown, path: string): string | null {
  if (typeof value !== 'object' || value === null) return null;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index += 1) {
      const found = hiddenKeyPath(value[index], `${path}.${index}`);
      if (found !== null) return found;
    }
    return null;
  }
  if (Object.hasOwn(value, PROTO_KEY)) return `${path}.${PROTO_KEY}`;
  for (const key of Object.keys(value)) {
    const found = hiddenKeyPath((value as Record<string, unknown>)[key], `${path}.${key}`);
    if (found !== null) return found;
  }
  return null;
}

function isViolations(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (let index = 0; index < value.length; index += 1) {
    const violation: unknown = value[index];
    if (!isPlainRecord(violation) || !hasExactKeys(violation, 3, (key) => key === 'invariant' || key === 'level' || key === 'message')) return false;
    const level = violation.level;
    if (typeof violation.invariant !== 'string' || typeof violation.message !== 'string' || (level !== 'REJECT' && level !== 'HALT' && level !== 'WARN')) return false;
  }
  return true;
}

/**
 * Whether `value`'s own enumerable keys are exactly the record's fields. The keys usually come in
 * one of two known orders, compared key by key (property names are internalised, so each test is
 * a pointer comparison); any other order is checked against the set of fields.
 */
function hasRecordFields(value: Record<string, unknown>): boolean {
  const known = (fields ??= new Set(ATTESTATION_FIELDS));
  const orders = (fieldOrders ??= [[...ATTESTATION_FIELDS].sort(), ATTESTATION_FIELDS]);
  const keys = Object.keys(value);
  if (keys.length !== known.size) return false;
  for (const order of orders) {
    let index = 0;
    while (index < keys.length && keys[index] === order[index]) index += 1;
    if (index === keys.length) return true;
  }
  return hasExactKeys(value, known.size, (key) => known.has(key));
}

/** Whether `value` is a JSON object as the record schema's `parameters` and `metadata` accept it (plain, finite numbers). */
export function isJsonObjectValue(value: unknown): boolean {
  return isJsonObject(value, 0);
}

/** True when `value` certainly passes the attestation schema (see the file comment); false means "ask zod". */
export function isAttestationShape(value: unknown): boolean {
  if (!isPlainRecord(value) || !hasRecordFields(value)) return false;
  const { seq, version, timestamp, actor, decision } = value;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return false;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) return false;
  if (typeof value.v !== 'string' || typeof value.id !== 'string' || value.id.length === 0 || typeof value.message !== 'string') return false;
  if (decision !== 'allowed' && decision !== 'denied') return false;
  if (typeof value.accessibility !== 'boolean') return false;
  if (!isStringOrNull(value.action) || !isStringOrNull(value.target) || !isStringOrNull(value.reason) || !isStringOrNull(value.parent)) return false;
  if (!isStringOrNull(value.stateBefore) || !isStringOrNull(value.stateAfter)) return false;
  if (!isHex64(value.prevHash) || !isHex64(value.hash)) return false;
  if (!isPlainRecord(timestamp) || !hasExactKeys(timestamp, 2, (key) => key === 'wall' || key === 'monotonicNs')) return false;
  if (typeof timestamp.monotonicNs !== 'string' || !DIGITS.test(timestamp.monotonicNs) || !wallTimeSchema.safeParse(timestamp.wall).success /* the record schema's own date rule */) return false;
  if (actor !== null) {
    if (!isPlainRecord(actor) || !hasExactKeys(actor, 2, (key) => key === 'id' || key === 'kind')) return false;
    if (typeof actor.id !== 'string' || typeof actor.kind !== 'string') return false;
  }
  if (!isStringArray(value.invariants) || !isViolations(value.violations)) return false;
  return isJsonObject(value.parameters, 0) && isJsonObject(value.metadata, 0);
}
