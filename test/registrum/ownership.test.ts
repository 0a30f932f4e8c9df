// 4.8.3 Ownership: only the owner controls a stream; ownership moves only by an allowed transfer.
// (Racing requests are the native helper's racing.test.ts.)
import { describe, expect, it } from 'vitest';
import { coresUnderTest, expectAllowed, registrarWith, streamIn } from './cores.js';

describe.each(coresUnderTest())('ownership ($name core)', (core) => {
  it('a creating start makes the requester the owner', () => {
    const r = registrarWith(core);
    const target = streamIn(r, 'compiling');
    expect(r.getState(target)?.owner).toBe('agent:claude-1');
  });

  it('a non-owner agent is denied not_owner for every control action; the owner is allowed', () => {
    const r = registrarWith(core);
    const target = streamIn(r, 'playing');
    for (const action of ['interrupt', 'stop', 'fail']) {
      const denied = r.requestAsHost({ action, actor: 'agent:other', target });
      expect(denied.reason, action).toBe('not_owner');
      expect(denied.violations[0]?.message).toContain('does not own stream');
    }
    expectAllowed(r.requestAsHost({ action: 'interrupt', actor: 'agent:claude-1', target }));
  });

  it('a system actor may synthesize, play, stop and fail a stream it does not own, but not interrupt it', () => {
    const r = registrarWith(core);
    const target = streamIn(r, 'compiling');
    expectAllowed(r.requestAsHost({ action: 'synthesize', actor: 'system:runtime', target }));
    expectAllowed(r.requestAsHost({ action: 'play', actor: 'system:runtime', target }));
    expect(r.requestAsHost({ action: 'interrupt', actor: 'system:runtime', target }).reason).toBe('not_owner');
    expectAllowed(r.requestAsHost({ action: 'stop', actor: 'system:runtime', target }));
    expect(r.requestAsHost({ action: 'restart', actor: 'system:runtime', target }).reason).toBe('not_owner');
    const other = streamIn(r, 'compiling');
    expectAllowed(r.requestAsHost({ action: 'fail', actor: 'system:runtime', target: other }));
  });

  it('transfer moves ownership to a registered actor, attested with transferredFrom', () => {
    const r = registrarWith(core);
    const target = streamIn(r, 'playing');
    const moved = expectAllowed(r.requestAsHost({ action: 'transfer', actor: 'agent:claude-1', target, metadata: { newOwner: 'agent:other' } }));
    expect(moved.attestation.metadata.transferredFrom).toBe('agent:claude-1');
    expect(r.getState(target)?.owner).toBe('agent:other');
    expect(r.getState(target)?.state).toBe('playing');
    expect(r.requestAsHost({ action: 'interrupt', actor: 'agent:claude-1', target }).reason).toBe('not_owner');
    expectAllowed(r.requestAsHost({ action: 'interrupt', actor: 'agent:other', target }));
  });

  it('only the owner transfers; a transfer to an unregistered actor is invalid_transition; failed streams are not transferred', () => {
    const r = registrarWith(core);
    const target = streamIn(r, 'playing');
    expect(r.requestAsHost({ action: 'transfer', actor: 'agent:other', target, metadata: { newOwner: 'agent:other' } }).reason).toBe('not_owner');
    expect(r.requestAsHost({ action: 'transfer', actor: 'agent:claude-1', target, metadata: { newOwner: 'agent:nobody' } }).reason).toBe('invalid_transition');
    const failed = streamIn(r, 'failed');
    expect(r.requestAsHost({ action: 'transfer', actor: 'agent:claude-1', target: failed, metadata: { newOwner: 'agent:other' } }).reason).toBe('invalid_transition');
    expect(r.getState(target)?.owner).toBe('agent:claude-1');
  });

  it('release leaves the stream unowned; only claim takes it; claim never takes an owned stream', () => {
    const r = registrarWith(core);
    const target = streamIn(r, 'stopped');
    expect(r.requestAsHost({ action: 'claim', actor: 'agent:other', target }).reason).toBe('already_owned');
    expect(r.requestAsHost({ action: 'claim', actor: 'agent:claude-1', target }).reason).toBe('already_owned');
    expectAllowed(r.requestAsHost({ action: 'release', actor: 'agent:claude-1', target }));
    expect(r.getState(target)?.owner).toBeNull();
    expect(r.requestAsHost({ action: 'restart', actor: 'agent:claude-1', target }).reason).toBe('not_owner');
    const claimed = expectAllowed(r.requestAsHost({ action: 'claim', actor: 'agent:other', target }));
    expect(claimed.attestation.stateAfter).toBe('stopped');
    expect(r.getState(target)?.owner).toBe('agent:other');
    expectAllowed(r.requestAsHost({ action: 'restart', actor: 'agent:other', target }));
  });

  it('claim without a target creates an idle stream owned by the requester', () => {
    const r = registrarWith(core);
    const claimed = expectAllowed(r.requestAsHost({ action: 'claim', actor: 'user:alice', metadata: { sessionId: 'kitchen', userId: 'alice', priority: 'background' } }));
    expect(r.getState(claimed.streamId ?? '')).toMatchObject({ state: 'idle', owner: 'user:alice', sessionId: 'kitchen', userId: 'alice', priority: 1, version: 1 });
    expect(claimed.attestation.metadata.created).toBe(true);
  });

  it('an unknown actor is denied unknown_actor, even for creating requests', () => {
    const r = registrarWith(core);
    const denied = r.requestAsHost({ action: 'start', actor: 'agent:stranger' });
    expect(denied.reason).toBe('unknown_actor');
    expect(r.getState(denied.streamId ?? '')).toBeNull();
    r.registerActor({ id: 'stranger', kind: 'agent' });
    expectAllowed(r.requestAsHost({ action: 'start', actor: { id: 'stranger', kind: 'agent' } }));
  });
});
