// 4.8.10 Priority preemption, shadow mode (observe) and version negotiation.
import { describe, expect, it } from 'vitest';
import { negotiateVersion, REGISTRAR_SCHEMA_VERSION } from '../../src/registrar/version.js';
import { coresUnderTest, expectAllowed, registrarWith, streamIn } from './cores.js';

describe.each(coresUnderTest())('priority preemption ($name core)', (core) => {
  it('system preempts a strictly lower-priority stream when preemptFor names a higher one, attested as audio.priority.preemption', () => {
    const r = registrarWith(core);
    const background = streamIn(r, 'playing', 'agent:claude-1', { priority: 'background' });
    const urgent = streamIn(r, 'compiling', 'agent:other', { priority: 'system' });
    const preempted = expectAllowed(r.requestAsHost({ action: 'interrupt', actor: 'system:runtime', target: background, metadata: { preemptFor: urgent } }));
    expect(preempted.attestation.metadata).toMatchObject({ preemption: 'audio.priority.preemption', preemptFor: urgent });
    expect(preempted.appliedInvariants).toContain('audio.priority.preemption');
    expect(r.getState(background)?.state).toBe('interrupting');
  });

  it('no preemption for equal or lower priority, a missing preemptFor stream, or a non-system actor', () => {
    const r = registrarWith(core);
    const a = streamIn(r, 'playing', 'agent:claude-1', { priority: 5 });
    const same = streamIn(r, 'compiling', 'agent:other', { priority: 5 });
    const lower = streamIn(r, 'compiling', 'agent:other', { priority: 'background' });
    expect(r.requestAsHost({ action: 'interrupt', actor: 'system:runtime', target: a, metadata: { preemptFor: same } }).reason).toBe('not_owner');
    expect(r.requestAsHost({ action: 'interrupt', actor: 'system:runtime', target: a, metadata: { preemptFor: lower } }).reason).toBe('not_owner');
    expect(r.requestAsHost({ action: 'interrupt', actor: 'system:runtime', target: a, metadata: { preemptFor: 'nowhere' } }).reason).toBe('not_owner');
    const high = streamIn(r, 'compiling', 'agent:other', { priority: 'system' });
    expect(r.requestAsHost({ action: 'interrupt', actor: 'agent:other', target: a, metadata: { preemptFor: high } }).reason).toBe('not_owner');
    const own = expectAllowed(r.requestAsHost({ action: 'interrupt', actor: 'agent:claude-1', target: a, metadata: { preemptFor: high } }));
    expect(own.attestation.metadata.preemption).toBeUndefined();
  });
});

describe.each(coresUnderTest())('shadow mode ($name core)', (core) => {
  it('observe returns the decision it would make, attests it as observed and changes nothing', () => {
    const r = registrarWith(core);
    const target = streamIn(r, 'playing');
    const hashBefore = r.listStates();
    const wouldAllow = r.observeAsHost({ action: 'interrupt', actor: 'agent:claude-1', target });
    expect(wouldAllow).toMatchObject({ allowed: true, observed: true });
    expect(wouldAllow.attestation.metadata.observed).toBe(true);
    expect(wouldAllow.attestation.stateAfter).toBe('interrupting');
    const wouldDeny = r.observeAsHost({ action: 'interrupt', actor: 'agent:other', target });
    expect(wouldDeny.reason).toBe('not_owner');
    const creating = r.observeAsHost({ action: 'start', actor: 'agent:claude-1' });
    expect(creating.allowed).toBe(true);
    expect(r.getState(creating.streamId ?? '')).toBeNull();
    expect(r.listStates()).toEqual(hashBefore);
    expect(r.attestationStore.all().slice(-3).map((record) => record.metadata.observed)).toEqual([true, true, true]);
  });

  it('an observed HALT does not halt', () => {
    const r = registrarWith(core);
    expectAllowed(r.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'x' } }));
    const observed = r.observeAsHost({ action: 'enable_override', actor: 'user:bob', metadata: { scope: 'session', scopeId: 'x' } });
    expect(observed.violations[0]?.level).toBe('HALT');
    expect(observed.attestation.metadata.halt).toBeUndefined();
    expect(r.halted).toBe(false);
    expect(r.requestAsHost({ action: 'update_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'x', speechRate: 2 } }).allowed).toBe(true);
  });
});

describe('version negotiation', () => {
  it('answers the best supported version as major.minor and 2.9 for anything unknown or malformed', () => {
    expect(REGISTRAR_SCHEMA_VERSION).toBe('2.9.0');
    expect(negotiateVersion('2.9')).toBe('2.9');
    expect(negotiateVersion('2.9.0')).toBe('2.9');
    expect(negotiateVersion('2.8')).toBe('2.8');
    expect(negotiateVersion('2.7')).toBe('2.7');
    expect(negotiateVersion('2.7.3')).toBe('2.7');
    expect(negotiateVersion('2.6')).toBe('2.6');
    expect(negotiateVersion('2.6.12')).toBe('2.6');
    expect(negotiateVersion('2.5')).toBe('2.9');
    expect(negotiateVersion('3.0')).toBe('2.9');
    expect(negotiateVersion('2.10')).toBe('2.9');
    expect(negotiateVersion('2')).toBe('2.9');
    expect(negotiateVersion('2.7.')).toBe('2.9');
    expect(negotiateVersion('2.7.3.1')).toBe('2.9');
    expect(negotiateVersion('v2.7')).toBe('2.9');
    expect(negotiateVersion('')).toBe('2.9');
    expect(negotiateVersion('banana')).toBe('2.9');
    expect(negotiateVersion(2.7)).toBe('2.9');
    expect(negotiateVersion(undefined)).toBe('2.9');
  });
});
