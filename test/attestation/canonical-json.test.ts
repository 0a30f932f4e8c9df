// Canonical JSON and the record hash: the basis of the attestation chain.
import { describe, expect, it } from 'vitest';
import { canonicalJson, deepFreeze, sha256Hex } from '../../src/attestation/canonical-json.js';
import { GENESIS_HASH, findChainBreak, parseRecord, sealRecord, type AttestationBody } from '../../src/attestation/record.js';

const body: AttestationBody = {
  v: '2.9.0', seq: 1, id: 'a1', timestamp: { wall: '2026-11-20T23:00:00.000Z', monotonicNs: '12' }, actor: { id: 'x', kind: 'agent' },
  action: 'start', target: 's1', decision: 'allowed', reason: null, message: 'm', invariants: [], violations: [], accessibility: false,
  parent: null, stateBefore: null, stateAfter: 'compiling', version: 1, parameters: {}, metadata: {},
};

describe('canonical JSON', () => {
  it('sorts keys at every level, drops undefined, keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
    expect(canonicalJson('quote " and \n')).toBe(JSON.stringify('quote " and \n'));
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson({})).toBe('{}');
  });

  it('refuses values JSON cannot carry', () => {
    expect(() => canonicalJson(Number.NaN)).toThrowError(/non-finite number NaN/);
    expect(() => canonicalJson({ f: () => 1 })).toThrowError(/cannot serialise a function/);
    expect(() => canonicalJson(1n)).toThrowError(/cannot serialise a bigint/);
  });

  it('sha256Hex is the SHA-256 of the UTF-8 text', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('deepFreeze freezes nested values', () => {
    const frozen = deepFreeze({ a: { b: [1, { c: 2 }] } });
    expect(Object.isFrozen(frozen.a.b[1])).toBe(true);
  });
});

describe('sealed records', () => {
  it('link by prevHash, and any change is a chain break at its seq', () => {
    const first = sealRecord(body, GENESIS_HASH);
    const second = sealRecord({ ...body, seq: 2, id: 'a2' }, first.hash);
    expect(findChainBreak([first, second])).toBeNull();
    expect(findChainBreak([second, first])).toMatchObject({ seq: 2 });
    expect(findChainBreak([first, { ...second, message: 'edited' }])).toEqual({ seq: 2, message: "seq 2: hash does not match the record's content (tampered)" });
  });

  it('parseRecord rejects unknown and missing fields with their path', () => {
    const sealed = sealRecord(body, GENESIS_HASH);
    expect('record' in parseRecord(JSON.parse(JSON.stringify(sealed)))).toBe(true);
    expect(parseRecord({ ...sealed, extra: 1 })).toEqual({ problem: expect.stringMatching(/Unrecognized key/) });
    const { hash: _hash, ...missing } = sealed;
    void _hash;
    expect(parseRecord(missing)).toEqual({ problem: expect.stringMatching(/^hash: /) });
    expect(parseRecord({ ...sealed, timestamp: { wall: 'yesterday', monotonicNs: '1' } })).toEqual({ problem: expect.stringMatching(/^timestamp\.wall: /) });
  });
});
