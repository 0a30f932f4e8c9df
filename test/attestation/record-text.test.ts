// The specialised record serialiser (record-text.ts) must write exactly what the generic
// canonicalJson writes for every record, and sealing must yield a record whose hash is the
// SHA-256 of that text, frozen all the way down, independent of the body it came from.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex, type JsonObject, type JsonValue } from '../../src/attestation/canonical-json.js';
import { recordText } from '../../src/attestation/record-text.js';
import { GENESIS_HASH, recordHash, sealRecordWithLine, type AttestationBody } from '../../src/attestation/record.js';

const text = fc.string({ unit: 'binary', maxLength: 12 });
const nullableText = fc.option(text, { nil: null });
const json: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(text, tie('value'), { maxKeys: 3 }),
  ),
})).value;
const jsonObject = fc.dictionary(text, json, { maxKeys: 4 }) as fc.Arbitrary<JsonObject>;
const invariants = fc.array(text, { maxLength: 4 }).chain((list) => fc.constantFrom(list, Object.freeze([...list])));

const body: fc.Arbitrary<AttestationBody> = fc.record({
  v: text,
  seq: fc.integer({ min: 1 }),
  id: text,
  timestamp: fc.record({ wall: text, monotonicNs: text }),
  actor: fc.option(fc.record({ id: text, kind: text }), { nil: null }),
  action: nullableText,
  target: nullableText,
  decision: fc.constantFrom('allowed' as const, 'denied' as const),
  reason: nullableText,
  message: text,
  invariants,
  violations: fc.array(fc.record({ invariant: text, level: fc.constantFrom('REJECT' as const, 'HALT' as const, 'WARN' as const), message: text }), { maxLength: 3 }),
  accessibility: fc.boolean(),
  parent: nullableText,
  stateBefore: nullableText,
  stateAfter: nullableText,
  version: fc.integer({ min: 0 }),
  parameters: jsonObject,
  metadata: jsonObject,
});

describe('record text', () => {
  it('equals canonicalJson of the linked record for any body (fast-check)', () => {
    fc.assert(
      fc.property(body, fc.stringMatching(/^[0-9a-f]{64}$/), (value, prevHash) => {
        const generic = canonicalJson({ ...value, prevHash });
        const { head, tail } = recordText(value, prevHash);
        expect(head + tail).toBe(generic);
        // A frozen invariant list is cached by identity: a second call must give the same text.
        expect(recordText(value, prevHash)).toEqual({ head, tail });
      }),
      { numRuns: 500 },
    );
  });

  it('sealing gives the record, its hash and its log line in one pass (fast-check)', () => {
    fc.assert(
      fc.property(body, (value) => {
        const { record, line } = sealRecordWithLine(value, GENESIS_HASH);
        expect(line).toBe(canonicalJson(record));
        expect(record.hash).toBe(sha256Hex(canonicalJson({ ...value, prevHash: GENESIS_HASH })));
        expect(record.hash).toBe(recordHash(record));
        expect(JSON.parse(line)).toEqual(JSON.parse(JSON.stringify(record)));
      }),
      { numRuns: 300 },
    );
  });

  it('a sealed record is frozen all the way down and shares no mutable object with its body', () => {
    const value: AttestationBody = {
      v: '2.9.0', seq: 1, id: 'a', timestamp: { wall: 'w', monotonicNs: '1' }, actor: { id: 'x', kind: 'agent' }, action: 'start',
      target: 's', decision: 'denied', reason: 'not_owner', message: 'm', invariants: ['i'], violations: [{ invariant: 'i', level: 'REJECT', message: 'm' }],
      accessibility: false, parent: null, stateBefore: null, stateAfter: null, version: 0, parameters: { metadata: { list: [{ a: 1 }] } }, metadata: {},
    };
    const { record } = sealRecordWithLine(value, GENESIS_HASH);
    const frozenAll = (item: unknown): boolean =>
      item === null || typeof item !== 'object' || (Object.isFrozen(item) && Object.values(item).every(frozenAll));
    expect(frozenAll(record)).toBe(true);
    (value.actor as { id: string }).id = 'changed';
    (value.timestamp as { wall: string }).wall = 'changed';
    (value.invariants as string[]).push('more');
    (value.violations as unknown as { message: string }[])[0]!.message = 'changed';
    expect(record.actor?.id).toBe('x');
    expect(record.timestamp.wall).toBe('w');
    expect(record.invariants).toEqual(['i']);
    expect(record.violations[0]?.message).toBe('m');
    expect(recordHash(record)).toBe(record.hash);
  });

  it('refuses what canonicalJson refuses instead of writing different text', () => {
    const valid = sealRecordWithLine(
      { v: '2.9.0', seq: 1, id: 'a', timestamp: { wall: 'w', monotonicNs: '1' }, actor: null, action: null, target: null, decision: 'denied', reason: null,
        message: '', invariants: [], violations: [], accessibility: false, parent: null, stateBefore: null, stateAfter: null, version: 0, parameters: {}, metadata: {} },
      GENESIS_HASH,
    ).record;
    expect(() => recordText({ ...valid, version: Number.POSITIVE_INFINITY }, GENESIS_HASH)).toThrowError(/non-finite number Infinity/);
    expect(() => canonicalJson({ ...valid, version: Number.POSITIVE_INFINITY })).toThrowError(/non-finite number Infinity/);
    expect(() => recordText({ ...valid, parent: undefined as unknown as null }, GENESIS_HASH)).toThrowError(/cannot serialise a undefined/);
  });

  it('records share immutable parts: one frozen actor per actor, one frozen {} for empty parameters/metadata', () => {
    const base: AttestationBody = {
      v: '2.9.0', seq: 1, id: 'a', timestamp: { wall: 'w', monotonicNs: '1' }, actor: { id: 'shared-actor', kind: 'agent' }, action: null, target: null,
      decision: 'denied', reason: null, message: '', invariants: [], violations: [], accessibility: false, parent: null, stateBefore: null, stateAfter: null,
      version: 0, parameters: {}, metadata: {},
    };
    const first = sealRecordWithLine(base, GENESIS_HASH).record;
    const second = sealRecordWithLine({ ...base, seq: 2, actor: { id: 'shared-actor', kind: 'agent' }, parameters: {}, metadata: { a: 1 } }, first.hash).record;
    expect(second.actor).toBe(first.actor);
    expect(Object.isFrozen(first.actor)).toBe(true);
    expect(second.parameters).toBe(first.parameters);
    expect(first.metadata).toBe(first.parameters);
    expect(Object.isFrozen(first.parameters)).toBe(true);
    expect(second.metadata).toEqual({ a: 1 });
    // Past the cache's cap (denied requests may name unbounded unknown actors) actors are still exact, just not shared.
    for (let index = 0; index < 5000; index += 1) {
      const { record, line } = sealRecordWithLine({ ...base, actor: { id: `unknown-${index}`, kind: 'agent' } }, GENESIS_HASH);
      expect(record.actor).toEqual({ id: `unknown-${index}`, kind: 'agent' });
      expect(line).toBe(canonicalJson(record));
    }
  });
});
