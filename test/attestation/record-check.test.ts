// The precompiled record check (record-check.ts) lets the log reader and verify skip zod's copy: it
// must never accept what the zod schema rejects (checked on random records and random mutations of
// real ones), must accept the records the registrar writes (or it saves nothing), and recordHash
// must give the same hash whichever serialiser it takes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../src/attestation/canonical-json.js';
import { isAttestationShape } from '../../src/attestation/record-check.js';
import { ATTESTATION_FIELDS, attestationSchema, parseOwnedRecord, parseRecord, recordHash, type Attestation } from '../../src/attestation/record.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';

/** Records a registrar really writes: allowed and denied, overrides, a malformed request. */
function realRecords(): Attestation[] {
  const registrar = new AudioRegistrar({ core: new ReferenceCore() });
  for (const actor of ['agent:a', 'user:alice', 'system:runtime']) registrar.registerActor(actor);
  const stream = registrar.requestAsHost({ action: 'start', actor: 'agent:a', metadata: { sessionId: 'den', priority: 'background' } }).streamId;
  registrar.requestAsHost({ action: 'synthesize', actor: 'system:runtime', target: stream });
  registrar.requestAsHost({ action: 'play', actor: 'system:runtime', target: stream });
  registrar.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'den', speechRate: 0.8 } });
  registrar.requestAsHost({ action: 'interrupt', actor: 'agent:a', target: stream, reason: 'because "quoted" \n' });
  registrar.requestAsHost({ action: 'explode', actor: 'agent:a' });
  return JSON.parse(JSON.stringify(registrar.attestationStore.all())) as Attestation[];
}

const records = realRecords();
const PATHS: (readonly string[])[] = [
  ...ATTESTATION_FIELDS.map((field) => [field]),
  ['timestamp', 'wall'], ['timestamp', 'monotonicNs'], ['timestamp', 'extra'], ['actor', 'id'], ['actor', 'kind'], ['actor', 'extra'],
  ['invariants', '0'], ['violations', '0'], ['violations', '0', 'level'], ['violations', '0', 'extra'], ['parameters', 'metadata'], ['metadata', 'x'], ['extra'],
];
const anyValue = fc.oneof(
  fc.anything({ withNullPrototype: true, withBigInt: true, withDate: true, withMap: true, withTypedArray: true, withSparseArray: true, withBoxedValues: true }),
  fc.constantFrom(undefined, Number.NaN, Number.POSITIVE_INFINITY, -0, 1.5, 2 ** 60, '', '2026-13-01T00:00:00.000Z', '2026-02-30T00:00:00.000Z', '2026-01-01T00:00:00Z', 'f'.repeat(64), 'F'.repeat(64), '12a', 'REJECT', 'halt'),
);

/** A deep copy of `record` with the value at `path` replaced (or deleted). */
function mutated(record: Attestation, path: readonly string[], value: unknown, remove: boolean): unknown {
  const copy = JSON.parse(JSON.stringify(record)) as Record<string, unknown>;
  let target: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    const next = target[key];
    if (typeof next !== 'object' || next === null) return copy;
    target = next as Record<string, unknown>;
  }
  const last = path.at(-1) as string;
  if (remove) delete target[last];
  else target[last] = value;
  return copy;
}

describe('precompiled record check', () => {
  it('accepts every record the registrar writes, so reading a log takes the fast path', () => {
    for (const record of records) {
      expect(isAttestationShape(record)).toBe(true);
      expect(attestationSchema.safeParse(record).success).toBe(true);
    }
  });

  it('never accepts what zod rejects: random mutations of real records (fast-check)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...records), fc.constantFrom(...PATHS), anyValue, fc.boolean(), (record, path, value, remove) => {
        const candidate = mutated(record, path, value, remove);
        if (isAttestationShape(candidate)) expect(attestationSchema.safeParse(candidate).success).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('rejects (so zod decides, naming the field) the mutations that break the schema', () => {
    const base = records[0]!;
    for (const [path, value] of [[['timestamp', 'wall'], '2026-13-01T00:00:00.000Z'], [['seq'], 0], [['seq'], 1.5], [['hash'], 'F'.repeat(64)], [['extra'], 1], [['parameters', 'x'], Number.NaN], [['violations'], [{ invariant: 'i', level: 'halt', message: '' }]]] as const) {
      const candidate = mutated(base, path, value, false);
      expect(isAttestationShape(candidate)).toBe(false);
      expect(parseRecord(candidate)).toEqual({ problem: expect.stringContaining(path[0]) });
      expect(parseOwnedRecord(candidate)).toEqual(parseRecord(candidate));
    }
  });

  it('recordHash is the SHA-256 of the canonical JSON whichever way it serialises', () => {
    for (const record of records) {
      const { hash: _hash, ...rest } = record;
      void _hash;
      expect(recordHash(record)).toBe(sha256Hex(canonicalJson(rest)));
      expect(recordHash(record)).toBe(record.hash);
      // A value with an extra field is not a record: the generic serialiser hashes all of it.
      const extra = { ...record, extra: 1 } as unknown as Attestation;
      expect(recordHash(extra)).toBe(sha256Hex(canonicalJson({ ...rest, extra: 1 })));
    }
  });

  it('parseOwnedRecord freezes the value it is handed; parseRecord copies and leaves the caller its object', () => {
    const owned = JSON.parse(JSON.stringify(records[1])) as Attestation;
    const given = JSON.parse(JSON.stringify(records[1])) as Attestation;
    const fromOwned = parseOwnedRecord(owned);
    const fromGiven = parseRecord(given);
    expect(fromOwned).toEqual({ record: owned });
    expect(Object.isFrozen(owned) && Object.isFrozen(owned.timestamp) && Object.isFrozen(owned.invariants)).toBe(true);
    expect(Object.isFrozen(given)).toBe(false);
    expect('record' in fromGiven && fromGiven.record).toEqual(given);
    expect('record' in fromGiven && parseRecord(fromGiven.record)).toEqual({ record: 'record' in fromGiven ? fromGiven.record : null });
  });
});
