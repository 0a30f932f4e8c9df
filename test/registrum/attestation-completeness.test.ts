// 4.8.5 Attestation completeness: exactly one attestation per request, denials and malformed
// requests included, with every field of spec §5.
import { describe, expect, it } from 'vitest';
import { ATTESTATION_FIELDS, recordHash } from '../../src/attestation/record.js';
import { coresUnderTest, expectAllowed, registrarWith, streamIn } from './cores.js';

describe.each(coresUnderTest())('attestation completeness ($name core)', (core) => {
  it('writes exactly one record per request, allowed, denied, malformed, halted or observed', () => {
    const r = registrarWith(core);
    const target = streamIn(r, 'playing');
    const before = r.attestationStore.size;
    const inputs: unknown[] = [
      { action: 'interrupt', actor: 'agent:claude-1', target },
      { action: 'interrupt', actor: 'agent:claude-1', target },
      { action: 'play', actor: 'agent:stranger', target },
      { action: 'explode', actor: 'agent:claude-1' },
      null,
      'interrupt',
      { action: 'start', actor: 'agent:claude-1', extra: true },
      { action: 'transfer', actor: 'agent:claude-1', target },
      { action: 'start', actor: 'robot:x' },
    ];
    const results = inputs.map((input) => r.requestAsHost(input));
    results.push(r.observeAsHost({ action: 'stop', actor: 'agent:claude-1', target }));
    expect(r.attestationStore.size - before).toBe(results.length);
    const seqs = results.map((result) => result.attestation.seq);
    expect(seqs).toEqual(Array.from({ length: results.length }, (_, index) => before + index + 1));
    expect(results.map((result) => result.reason)).toEqual([
      null, 'invalid_transition', 'unknown_actor', 'invalid_request', 'invalid_request', 'invalid_request', 'invalid_request', 'invalid_request', 'invalid_request', null,
    ]);
  });

  it('a malformed request is denied invalid_request and attested with what could be read, never thrown', () => {
    const r = registrarWith(core);
    const result = r.requestAsHost({ action: 'transfer', actor: 'agent:claude-1', target: 's1' });
    expect(result).toMatchObject({ allowed: false, decision: 'denied', reason: 'invalid_request', streamId: 's1', violations: [], appliedInvariants: [] });
    expect(result.message).toBe('invalid request: metadata.newOwner: transfer needs metadata.newOwner');
    expect(result.attestation.actor).toEqual({ id: 'claude-1', kind: 'agent' });
    expect(result.attestation.action).toBe('transfer');
    expect(result.attestation.metadata.issues).toEqual([{ path: 'metadata.newOwner', message: 'transfer needs metadata.newOwner' }]);
    const garbage = r.requestAsHost(Symbol('x'));
    expect(garbage.attestation).toMatchObject({ actor: null, action: null, target: null, reason: 'invalid_request' });
    const bad = r.requestAsHost({ action: 'start', actor: 'agent:claude-1', metadata: { priority: 11 } });
    expect(bad.message).toMatch(/^invalid request: metadata\.priority/);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(r.requestAsHost({ action: 'start', actor: 'agent:claude-1', metadata: { note: cycle } }).message).toBe('invalid request: metadata.note.self: circular reference');
    expect(r.requestAsHost({ action: 'start', actor: 'agent:claude-1', metadata: { big: 10n } }).reason).toBe('invalid_request');
    const hostile = Object.defineProperty({}, 'action', { enumerable: true, get: () => { throw new Error('boom'); } });
    expect(r.requestAsHost(hostile).message).toBe('invalid request: (request): unreadable: boom');
  });

  it('every record has exactly the frozen fields, deep-frozen, hash-chained, with ISO ms and monotonic ns timestamps', () => {
    const r = registrarWith(core);
    const target = streamIn(r, 'compiling');
    const result = expectAllowed(r.requestAsHost({ action: 'compile', actor: 'agent:claude-1', target, reason: 'user asked', metadata: { graphHash: 'abc', nested: { list: [1, 2] } } }));
    const record = result.attestation;
    expect(Object.keys(record).sort()).toEqual([...ATTESTATION_FIELDS].sort());
    expect(record.v).toBe('2.9.0');
    expect(record.timestamp.wall).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(BigInt(record.timestamp.monotonicNs)).toBeGreaterThan(0n);
    expect(record.parameters).toEqual({ reason: 'user asked', metadata: { graphHash: 'abc', nested: { list: [1, 2] } } });
    expect(Object.isFrozen(record)).toBe(true);
    expect(Object.isFrozen(record.parameters)).toBe(true);
    expect(Object.isFrozen((record.parameters.metadata as { nested: { list: number[] } }).nested.list)).toBe(true);
    expect(() => ((record as { decision: string }).decision = 'denied')).toThrow(TypeError);
    expect(record.hash).toBe(recordHash(record));
    const all = r.attestationStore.all();
    for (let index = 1; index < all.length; index += 1) expect(all[index]?.prevHash).toBe(all[index - 1]?.hash);
    expect(record.parent).toBe(all[all.length - 2]?.id);
    expect(new Set(all.map((entry) => entry.id)).size).toBe(all.length);
  });

  it('parameters are copied: changing the caller object afterwards does not change the record', () => {
    const r = registrarWith(core);
    const metadata = { sessionId: 'k', note: { text: 'hello' } };
    const result = r.requestAsHost({ action: 'start', actor: 'agent:claude-1', metadata });
    metadata.note.text = 'changed';
    expect((result.attestation.parameters.metadata as { note: { text: string } }).note.text).toBe('hello');
  });

  it('accessibility is marked on override actions and on decisions about covered streams', () => {
    const r = registrarWith(core);
    const covered = streamIn(r, 'playing', 'agent:claude-1', { sessionId: 'den' });
    const uncovered = streamIn(r, 'playing');
    const enable = r.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'den' } });
    expect(enable.attestation.accessibility).toBe(true);
    expect(enable.attestation.target).toBeNull();
    expect(r.requestAsHost({ action: 'stop', actor: 'agent:claude-1', target: uncovered }).attestation.accessibility).toBe(false);
    expect(r.requestAsHost({ action: 'stop', actor: 'agent:claude-1', target: covered }).attestation.accessibility).toBe(true);
  });

  it('query filters by actor, action, target, decision and time; export is JSON Lines', () => {
    const r = registrarWith(core);
    const startedAt = new Date(Date.now() - 1);
    const target = streamIn(r, 'playing');
    r.requestAsHost({ action: 'interrupt', actor: 'agent:other', target });
    const store = r.attestationStore;
    expect(store.query({ actor: 'agent:other' }).map((entry) => entry.reason)).toEqual(['not_owner']);
    expect(store.query({ actor: 'claude-1', decision: 'allowed' })).toHaveLength(3);
    expect(store.query({ action: 'play', target })).toHaveLength(1);
    expect(store.query({ decision: 'denied' })).toHaveLength(1);
    expect(store.query({ since: startedAt.toISOString() })).toHaveLength(4);
    expect(store.query({ until: startedAt })).toHaveLength(0);
    expect(() => store.query({ decision: 'maybe' as 'allowed' })).toThrowError(/query\.decision/);
    const lines = store.export().trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(JSON.parse(lines[3] ?? '{}')).toEqual(JSON.parse(JSON.stringify(store.all()[3])));
  });
});
