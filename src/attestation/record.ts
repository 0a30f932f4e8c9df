/**
 * The attestation record (spec/registrar.md §5): its frozen field list, its zod schema (used for
 * every record read from disk, so an unknown or missing field is caught), and sealing: linking a
 * record to its predecessor with a SHA-256 hash over its canonical JSON.
 */
import { z } from 'zod';
import { canonicalJson, deepFreeze, sha256Hex, type JsonObject } from './canonical-json.js';
import { hiddenKeyPath, isAttestationShape, MAX_RECORD_NESTING, tooDeepPath } from './record-check.js';
import { recordText, type ExtensionTexts, type RecordText } from './record-text.js';

/** The attestation schema version written into every record. */
export const ATTESTATION_VERSION = '2.9.0';

/** The `prevHash` of the first record of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** The attestation fields in their frozen order; a test pins the list. */
export const ATTESTATION_FIELDS = [
  'v',
  'seq',
  'id',
  'timestamp',
  'actor',
  'action',
  'target',
  'decision',
  'reason',
  'message',
  'invariants',
  'violations',
  'accessibility',
  'parent',
  'stateBefore',
  'stateAfter',
  'version',
  'parameters',
  'metadata',
  'prevHash',
  'hash',
] as const;

/** Levels an invariant violation can carry. */
export type ViolationLevel = 'REJECT' | 'HALT' | 'WARN';

/** One violated invariant in a decision. */
export interface Violation {
  readonly invariant: string;
  readonly level: ViolationLevel;
  readonly message: string;
}

/** Wall-clock time (ISO 8601, ms) and monotonic time (ns, as a decimal string) of a decision. */
export interface AttestationTimestamp {
  readonly wall: string;
  readonly monotonicNs: string;
}

/** An actor as recorded: `{ id, kind }`; null on a request too malformed to name one, or one whose actor field proved nothing (a name or a copy given to `request()`). */
export interface AttestedActor {
  readonly id: string;
  readonly kind: string;
}

/** An immutable attestation record (deep-frozen). */
export interface Attestation {
  readonly v: string;
  readonly seq: number;
  readonly id: string;
  readonly timestamp: AttestationTimestamp;
  readonly actor: AttestedActor | null;
  /** One of the 17 actions; null only on a malformed request (reason invalid_request). */
  readonly action: string | null;
  readonly target: string | null;
  readonly decision: 'allowed' | 'denied';
  readonly reason: string | null;
  readonly message: string;
  readonly invariants: readonly string[];
  readonly violations: readonly Violation[];
  readonly accessibility: boolean;
  readonly parent: string | null;
  readonly stateBefore: string | null;
  readonly stateAfter: string | null;
  readonly version: number;
  readonly parameters: JsonObject;
  readonly metadata: JsonObject;
  readonly prevHash: string;
  readonly hash: string;
}

/** A record before it is linked into a chain. */
export type AttestationBody = Omit<Attestation, 'prevHash' | 'hash'>;

const jsonValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]),
);
/** The schema of `timestamp.wall` (ISO 8601 with ms), shared with record-check.ts. */
export const wallTimeSchema = z.iso.datetime({ precision: 3 });
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');

/** zod schema of a stored record: strict, so unknown fields are rejected. */
export const attestationSchema = z.strictObject({
  v: z.string(),
  seq: z.number().int().positive(),
  id: z.string().min(1),
  timestamp: z.strictObject({ wall: wallTimeSchema, monotonicNs: z.string().regex(/^\d+$/) }),
  actor: z.strictObject({ id: z.string(), kind: z.string() }).nullable(),
  action: z.string().nullable(),
  target: z.string().nullable(),
  decision: z.enum(['allowed', 'denied']),
  reason: z.string().nullable(),
  message: z.string(),
  invariants: z.array(z.string()),
  violations: z.array(z.strictObject({ invariant: z.string(), level: z.enum(['REJECT', 'HALT', 'WARN']), message: z.string() })),
  accessibility: z.boolean(),
  parent: z.string().nullable(),
  stateBefore: z.string().nullable(),
  stateAfter: z.string().nullable(),
  version: z.number().int().nonnegative(),
  parameters: z.record(z.string(), jsonValue),
  metadata: z.record(z.string(), jsonValue),
  prevHash: hex64,
  hash: hex64,
});

/**
 * The hash a record must carry: SHA-256 over the canonical JSON of everything but `hash`. A value
 * with exactly the attestation fields is serialised by the record's own writer (record-text.ts,
 * byte-identical to canonicalJson and several times faster); anything else by canonicalJson.
 */
export function recordHash(record: AttestationBody & { readonly prevHash: string }): string {
  if (isAttestationShape(record)) return validRecordHash(record as Attestation);
  const { hash: _ignored, ...rest } = record as Attestation;
  void _ignored;
  return sha256Hex(canonicalJson(rest));
}

/** `recordHash` of a value known to pass the record schema (from parseRecord, a log reader or a store): no shape check. */
export function validRecordHash(record: Attestation): string {
  const { head, tail } = recordText(record, record.prevHash);
  return sha256Hex(head + tail);
}

/** A sealed record and its log line (canonical JSON, no newline). */
export interface SealedRecord {
  readonly record: Attestation;
  readonly line: string;
}

const NO_VIOLATIONS: readonly Violation[] = Object.freeze([]);
const EMPTY_OBJECT: JsonObject = Object.freeze({});

/** Frozen actors shared by the records of one actor (records are retained: ~100 bytes each saved). */
const sharedActors = new Map<string, Map<string, AttestedActor>>();
/** Cap on cached actors: denied requests may name any number of unknown actors. */
const SHARED_ACTORS_MAX = 4096;
let sharedActorCount = 0;

function frozenActor(actor: AttestedActor | null): AttestedActor | null {
  if (actor === null) return null;
  const { id, kind } = actor;
  const byId = sharedActors.get(kind);
  const cached = byId?.get(id);
  if (cached !== undefined) return cached;
  const fresh = Object.freeze({ id, kind });
  if (sharedActorCount < SHARED_ACTORS_MAX && typeof id === 'string' && typeof kind === 'string') {
    if (byId) byId.set(id, fresh);
    else sharedActors.set(kind, new Map([[id, fresh]]));
    sharedActorCount += 1;
  }
  return fresh;
}

/** `value` deep-frozen, or a shared frozen `{}` when it has no own enumerable key (same canonical text). */
function frozenJson(value: JsonObject): JsonObject {
  for (const key in value) if (Object.hasOwn(value, key)) return deepFreeze(value);
  return EMPTY_OBJECT;
}

/**
 * Links a body after `prevHash`: one serialisation (record-text.ts) gives the hashed text and the
 * log line. The record is a new frozen object holding exactly the attestation fields; its
 * `timestamp` and violations are fresh frozen copies of exactly their fields, `actor` a frozen
 * `{ id, kind }` shared by the records of that actor, a frozen `invariants` array is shared (it
 * cannot change) and any other is copied, and `parameters` and `metadata` are deep-frozen in
 * place (the facade hands over fresh objects), or a shared frozen `{}` when empty. Records are
 * kept for the registrar's life, so sharing immutable parts keeps the heap (and GC) smaller.
 */
export function sealRecordWithLine(body: AttestationBody, prevHash: string, text: RecordText = recordText(body, prevHash)): SealedRecord {
  const { head, tail } = text;
  const hash = sha256Hex(head + tail);
  const record = Object.freeze(recordObject(body, prevHash, hash));
  return { record, line: `${head},"hash":"${hash}"${tail}` }; // hash is 64 hex digits: nothing to escape
}

/**
 * The frozen record of `body` linked after `prevHash`, given the `hash` of its text
 * (`recordText(body, prevHash)`) computed elsewhere: by the log's one-call append, which hashes
 * and writes the line in native code (durable-log.ts `appendSealed`). Same object as sealRecordWithLine's.
 */
export function sealedRecord(body: AttestationBody, prevHash: string, hash: string): Attestation {
  return Object.freeze(recordObject(body, prevHash, hash));
}

/** The record object of `body` (see sealRecordWithLine), every part frozen but the object itself. */
function recordObject(body: AttestationBody, prevHash: string, hash: string): Attestation {
  return {
    v: body.v,
    seq: body.seq,
    id: body.id,
    timestamp: Object.freeze({ wall: body.timestamp.wall, monotonicNs: body.timestamp.monotonicNs }),
    actor: frozenActor(body.actor),
    action: body.action,
    target: body.target,
    decision: body.decision,
    reason: body.reason,
    message: body.message,
    invariants: Object.isFrozen(body.invariants) ? body.invariants : Object.freeze([...body.invariants]),
    violations:
      body.violations.length === 0
        ? NO_VIOLATIONS
        : Object.freeze(body.violations.map((v) => Object.freeze({ invariant: v.invariant, level: v.level, message: v.message }))),
    accessibility: body.accessibility,
    parent: body.parent,
    stateBefore: body.stateBefore,
    stateAfter: body.stateAfter,
    version: body.version,
    parameters: frozenJson(body.parameters),
    metadata: frozenJson(body.metadata),
    prevHash,
    hash,
  };
}

/**
 * A record staged to be sealed later (a memory store seals off the request path, store.ts): the
 * object the sealed record will be, its parts already frozen, with `prevHash` and `hash` empty and
 * the object itself not frozen yet. Only its store may hand it out, after `sealStaged`. The
 * caller writes the texts of `metadata` and `parameters` first (`extensionTexts`, which throws a
 * TypeError for a value canonicalJson refuses); a record with any other field that would not
 * serialise (not a string, null, boolean or finite number where the record type has one) is not
 * staged: null, and the caller seals the body at once (throwing as sealing does). So sealing a
 * staged record cannot throw.
 */
export function stageRecord(body: AttestationBody): Attestation | null {
  const record = recordObject(body, '', '');
  return serialisable(record) ? record : null;
}

/** A field canonicalJson writes without recursing and without throwing. */
function plain(value: unknown): boolean {
  return typeof value === 'string' || value === null || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

/** Whether every field of a record object but its extension points is `plain` (see stageRecord). */
function serialisable(record: Attestation): boolean {
  const { actor, timestamp } = record;
  if (
    !(plain(record.v) && plain(record.seq) && plain(record.id) && plain(record.action) && plain(record.target) && plain(record.decision) && plain(record.reason)) ||
    !(plain(record.message) && plain(record.accessibility) && plain(record.parent) && plain(record.stateBefore) && plain(record.stateAfter) && plain(record.version)) ||
    !(plain(timestamp.wall) && plain(timestamp.monotonicNs) && (actor === null || (plain(actor.id) && plain(actor.kind))))
  ) {
    return false;
  }
  const { invariants, violations } = record;
  if (!Array.isArray(invariants) || !Array.isArray(violations)) return false;
  for (let index = 0; index < invariants.length; index += 1) if (!plain(invariants[index])) return false;
  for (const violation of violations) if (!(plain(violation.invariant) && plain(violation.level) && plain(violation.message))) return false;
  return true;
}

/** Seals a staged record after `prevHash` in place (fills `prevHash` and `hash`, freezes it); returns its log line. */
export function sealStaged(staged: Attestation, prevHash: string, extension: ExtensionTexts): string {
  const { head, tail } = recordText(staged, prevHash, extension);
  const hash = sha256Hex(head + tail);
  const writable = staged as { prevHash: string; hash: string };
  writable.prevHash = prevHash;
  writable.hash = hash;
  Object.freeze(staged);
  return `${head},"hash":"${hash}"${tail}`;
}

/** Links a body after `prevHash` and returns the deep-frozen record. */
export function sealRecord(body: AttestationBody, prevHash: string): Attestation {
  return sealRecordWithLine(body, prevHash).record;
}

/** Where a chain breaks, or null. `startHash` is the prevHash the first record must carry. */
export function findChainBreak(
  records: readonly Attestation[],
  startHash: string = GENESIS_HASH,
): { seq: number; message: string } | null {
  let expected = startHash;
  for (const record of records) {
    if (record.prevHash !== expected) return { seq: record.seq, message: `seq ${record.seq}: prevHash does not link to the previous record (reordered, removed or inserted records)` };
    if (recordHash(record) !== record.hash) return { seq: record.seq, message: `seq ${record.seq}: hash does not match the record's content (tampered)` };
    expected = record.hash;
  }
  return null;
}

/** Invariant lists read from logs, shared by content, by length (a few dozen distinct lists; capped whatever comes). */
const internedInvariants = new Map<number, (readonly string[])[]>();
let internedCount = 0;
const INTERNED_INVARIANTS_MAX = 256;

/**
 * The frozen list equal to `list`: a shared one when it was seen before (so records read from a
 * log share their invariant lists as sealed ones do, and record-text.ts serialises each list once),
 * else `list` itself, frozen.
 */
function internInvariants(list: string[]): readonly string[] {
  const candidates = internedInvariants.get(list.length);
  if (candidates) {
    for (const known of candidates) {
      let same = true;
      for (let index = list.length - 1; index >= 0 && same; index -= 1) same = known[index] === list[index];
      if (same) return known;
    }
  }
  Object.freeze(list);
  if (internedCount < INTERNED_INVARIANTS_MAX) {
    if (candidates) candidates.push(list);
    else internedInvariants.set(list.length, [list]);
    internedCount += 1;
  }
  return list;
}

/** Freezes a record that passed the schema, in place (its invariant list shared when seen before). */
function freezeValidated(record: Attestation): Attestation {
  Object.freeze(record.timestamp);
  if (record.actor !== null) Object.freeze(record.actor);
  (record as { invariants: readonly string[] }).invariants = internInvariants(record.invariants as string[]);
  for (const violation of record.violations) Object.freeze(violation);
  Object.freeze(record.violations);
  deepFreeze(record.parameters);
  deepFreeze(record.metadata);
  return Object.freeze(record);
}

/** Whether a value that passed the record check is immutable all the way down (then it needs no copy). */
function isFrozenRecord(record: Attestation): boolean {
  return (
    Object.isFrozen(record) &&
    Object.isFrozen(record.timestamp) &&
    (record.actor === null || Object.isFrozen(record.actor)) &&
    Object.isFrozen(record.invariants) &&
    Object.isFrozen(record.violations) &&
    record.violations.every((violation) => Object.isFrozen(violation)) &&
    isDeepFrozen(record.parameters) &&
    isDeepFrozen(record.metadata)
  );
}

function isDeepFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (!Object.isFrozen(value)) return false;
  for (const key of Object.keys(value)) if (!isDeepFrozen((value as Record<string, unknown>)[key])) return false;
  return true;
}

/** The first schema problem of a value zod rejects, as `path: message`. */
function schemaProblem(error: z.ZodError): { problem: string } {
  const issue = error.issues[0];
  const path = issue && issue.path.length > 0 ? issue.path.join('.') : '(record)';
  return { problem: `${path}: ${issue?.message ?? 'invalid record'}` };
}

/**
 * Parses one stored record; returns the frozen record (a copy: the value given is left as it is)
 * or the first schema problem. A valid record that is already frozen all the way down (one read
 * from a log, or sealed) is returned as it is: nothing could change it.
 */
export function parseRecord(value: unknown): { record: Attestation } | { problem: string } {
  if (isAttestationShape(value) && isFrozenRecord(value as Attestation)) return { record: value as Attestation };
  // zod's copy would drop an own `__proto__` key, so the hash would be checked over less than the line holds.
  for (const field of ['parameters', 'metadata'] as const) {
    const deep = typeof value === 'object' && value !== null ? tooDeepPath((value as Record<string, unknown>)[field], field) : null;
    if (deep !== null) return { problem: `${deep}: nested deeper than ${MAX_RECORD_NESTING} levels (no record is)` };
    const hidden = typeof value === 'object' && value !== null ? hiddenKeyPath((value as Record<string, unknown>)[field], field) : null;
    if (hidden !== null) return { problem: `${hidden}: a "__proto__" key (no record holds one; a parsed copy would drop it)` };
  }
  const result = attestationSchema.safeParse(value);
  if (!result.success) return schemaProblem(result.error);
  return { record: freezeValidated(result.data as Attestation) };
}

/**
 * `parseRecord` for a value the caller owns and hands over, such as the fresh result of
 * JSON.parse of a log line: when the precompiled check (record-check.ts) accepts it, it is frozen
 * in place instead of copied by zod, which costs several times more.
 */
export function parseOwnedRecord(value: unknown): { record: Attestation } | { problem: string } {
  if (isAttestationShape(value)) return { record: freezeValidated(value as Attestation) };
  return parseRecord(value);
}
