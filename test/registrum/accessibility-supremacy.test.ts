// 4.8.4 Accessibility supremacy: an override outranks agents and plugins, and only its owner ends it.
import { describe, expect, it } from 'vitest';
import { AccessibilityBypassError, RegistrarHaltedError } from '../../src/registrar/errors.js';
import type { HaltInfo, RegistrarResult } from '../../src/registrar/types.js';
import { coresUnderTest, expectAllowed, registrarWith, streamIn } from './cores.js';

describe.each(coresUnderTest())('accessibility supremacy ($name core)', (core) => {
  const session = { scope: 'session', scopeId: 'living-room' } as const;

  it('a session override blocks agent interrupt/stop/mutate/transfer with accessibility_override; removal restores agent authority', () => {
    const r = registrarWith(core);
    const playing = streamIn(r, 'playing', 'agent:claude-1', { sessionId: 'living-room' });
    const compiling = streamIn(r, 'compiling', 'agent:claude-1', { sessionId: 'living-room' });
    const enabled = expectAllowed(r.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { ...session, speechRate: 0.7, forcedCaptions: true } }));
    expect(enabled.accessibilityDriven).toBe(true);
    expect(enabled.message).toBe('user:alice enable_override override session:living-room');
    expect(enabled.attestation.accessibility).toBe(true);
    const blocked: RegistrarResult[] = [
      r.requestAsHost({ action: 'interrupt', actor: 'agent:claude-1', target: playing }),
      r.requestAsHost({ action: 'stop', actor: 'agent:claude-1', target: playing }),
      r.requestAsHost({ action: 'mutate_graph', actor: 'agent:claude-1', target: compiling }),
      r.requestAsHost({ action: 'transfer', actor: 'agent:claude-1', target: playing, metadata: { newOwner: 'agent:other' } }),
    ];
    for (const result of blocked) {
      expect(result.reason).toBe('accessibility_override');
      expect(result.accessibilityDriven).toBe(true);
      expect(result.attestation.accessibility).toBe(true);
      expect(result.violations[0]).toMatchObject({ invariant: 'audio.accessibility.supremacy', level: 'REJECT' });
    }
    expect(r.getState(playing)?.state).toBe('playing');
    expect(r.overrideFor(playing)).toEqual({ owner: 'user:alice', scope: 'session', scopeId: 'living-room', speechRate: 0.7, forcedCaptions: true });
    // Actions outside the guarded set stay with the owner.
    expectAllowed(r.requestAsHost({ action: 'synthesize', actor: 'agent:claude-1', target: compiling }));
    expectAllowed(r.requestAsHost({ action: 'disable_override', actor: 'user:alice', metadata: session }));
    expect(r.listOverrides()).toEqual([]);
    expectAllowed(r.requestAsHost({ action: 'interrupt', actor: 'agent:claude-1', target: playing }));
  });

  it("the override's owner may interrupt and stop a covered stream it does not own", () => {
    const r = registrarWith(core);
    const playing = streamIn(r, 'playing', 'agent:claude-1', { sessionId: 'living-room' });
    expect(r.requestAsHost({ action: 'interrupt', actor: 'user:alice', target: playing }).reason).toBe('not_owner');
    expectAllowed(r.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: session }));
    const interrupted = expectAllowed(r.requestAsHost({ action: 'interrupt', actor: 'user:alice', target: playing }));
    expect(interrupted.accessibilityDriven).toBe(true);
    expectAllowed(r.requestAsHost({ action: 'stop', actor: 'user:alice', target: playing }));
    // Another user is neither the owner nor the override's owner.
    const second = streamIn(r, 'playing', 'agent:claude-1', { sessionId: 'living-room' });
    expect(r.requestAsHost({ action: 'interrupt', actor: 'user:bob', target: second }).reason).toBe('not_owner');
  });

  it('a user-scoped override covers every stream of that user in any session, and nothing else', () => {
    const r = registrarWith(core);
    const alicesA = streamIn(r, 'playing', 'agent:claude-1', { sessionId: 'a', userId: 'alice' });
    const alicesB = streamIn(r, 'playing', 'agent:claude-1', { sessionId: 'b', userId: 'alice' });
    const bobs = streamIn(r, 'playing', 'agent:claude-1', { sessionId: 'a', userId: 'bob' });
    expectAllowed(r.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'user', scopeId: 'alice', pauseAmplification: 2 } }));
    expect(r.requestAsHost({ action: 'interrupt', actor: 'agent:claude-1', target: alicesA }).reason).toBe('accessibility_override');
    expect(r.requestAsHost({ action: 'interrupt', actor: 'agent:claude-1', target: alicesB }).reason).toBe('accessibility_override');
    const free = expectAllowed(r.requestAsHost({ action: 'interrupt', actor: 'agent:claude-1', target: bobs }));
    expect(free.accessibilityDriven).toBe(false);
    expect(r.overrideFor(alicesB)?.pauseAmplification).toBe(2);
    expectAllowed(r.requestAsHost({ action: 'disable_override', actor: 'user:alice', metadata: { scope: 'user', scopeId: 'alice' } }));
    expectAllowed(r.requestAsHost({ action: 'interrupt', actor: 'agent:claude-1', target: alicesA }));
  });

  it('plugins are blocked too, and a system preemption yields to the override', () => {
    const r = registrarWith(core);
    const covered = streamIn(r, 'compiling', 'agent:claude-1', { sessionId: 'living-room', allowPlugins: ['plugin:reverb'] });
    const low = streamIn(r, 'playing', 'agent:claude-1', { sessionId: 'living-room', priority: 'background' });
    const urgent = streamIn(r, 'compiling', 'agent:other', { priority: 'system' });
    expectAllowed(r.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: session }));
    expect(r.requestAsHost({ action: 'mutate_graph', actor: 'plugin:reverb', target: covered }).reason).toBe('accessibility_override');
    const preempt = r.requestAsHost({ action: 'interrupt', actor: 'system:runtime', target: low, metadata: { preemptFor: urgent } });
    expect(preempt.reason).toBe('accessibility_override');
    // Without preemption a system interrupt is simply not the system's to make (not_owner), and
    // the natural end of playback (system stop) still goes through under the override.
    const plain = r.requestAsHost({ action: 'interrupt', actor: 'system:runtime', target: low });
    expect(plain.violations.map((v) => v.invariant)).toEqual(['audio.ownership.required_for_control']);
    expectAllowed(r.requestAsHost({ action: 'stop', actor: 'system:runtime', target: low }));
  });

  it('only the override owner updates or disables it; others are denied accessibility_override; agents cannot enable one', () => {
    const r = registrarWith(core);
    expect(r.requestAsHost({ action: 'enable_override', actor: 'agent:claude-1', metadata: session }).reason).toBe('accessibility_override');
    expectAllowed(r.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { ...session, speechRate: 0.8 } }));
    const foreign = r.requestAsHost({ action: 'update_override', actor: 'user:bob', metadata: { ...session, speechRate: 2 } });
    expect(foreign.reason).toBe('accessibility_override');
    expect(foreign.message).toBe('user:bob may not update_override override session:living-room: only a user enables an override, only its owner changes or ends it');
    expect(r.requestAsHost({ action: 'disable_override', actor: 'agent:claude-1', metadata: session }).reason).toBe('accessibility_override');
    const updated = expectAllowed(r.requestAsHost({ action: 'update_override', actor: 'user:alice', metadata: { ...session, speechRate: 0.6 } }));
    expect(updated.attestation.accessibility).toBe(true);
    expect(r.listOverrides()).toEqual([{ owner: 'user:alice', scope: 'session', scopeId: 'living-room', speechRate: 0.6 }]);
    const again = r.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: session });
    expect(again.reason).toBe('accessibility_override');
    expect(again.violations).toEqual([expect.objectContaining({ invariant: 'audio.accessibility.supremacy', level: 'REJECT' })]);
    expect(r.halted).toBe(false);
    expectAllowed(r.requestAsHost({ action: 'disable_override', actor: 'user:alice', metadata: session }));
    const missing = r.requestAsHost({ action: 'disable_override', actor: 'user:alice', metadata: session });
    expect(missing.reason).toBe('invalid_transition');
    expect(missing.message).toBe('disable_override: there is no override session:living-room');
    expect(r.requestAsHost({ action: 'update_override', actor: 'user:alice', metadata: session }).reason).toBe('invalid_transition');
  });

  it('several overrides cover one stream: each owner has the override owner\'s power; overrideFor applies the user\'s own values, then the session\'s', () => {
    const r = registrarWith(core);
    const carol = r.registerActor('user:carol');
    const first = streamIn(r, 'playing', 'agent:claude-1', { sessionId: 'living-room', userId: 'carol' });
    const second = streamIn(r, 'playing', 'agent:claude-1', { sessionId: 'living-room', userId: 'carol' });
    const third = streamIn(r, 'compiling', 'agent:claude-1', { sessionId: 'living-room', userId: 'carol' });
    expectAllowed(r.request({ action: 'enable_override', actor: carol, metadata: { scope: 'user', scopeId: 'carol', speechRate: 0.5 } }));
    expectAllowed(r.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { ...session, speechRate: 0.8, forcedCaptions: true } }));
    // Both overrides cover carol's streams; her own (user-scoped) applies its values: it is the more
    // specific. A stream of the session without a user gets the session's.
    expect(r.overrideFor(first)).toEqual({ owner: 'user:carol', scope: 'user', scopeId: 'carol', speechRate: 0.5 });
    const nobodys = streamIn(r, 'compiling', 'agent:claude-1', { sessionId: 'living-room' });
    expect(r.overrideFor(nobodys)).toEqual({ owner: 'user:alice', scope: 'session', scopeId: 'living-room', speechRate: 0.8, forcedCaptions: true });
    // Each owner may act on what the overrides guard, though neither owns the streams.
    expect(expectAllowed(r.request({ action: 'interrupt', actor: carol, target: first })).accessibilityDriven).toBe(true);
    expectAllowed(r.requestAsHost({ action: 'stop', actor: 'user:alice', target: first }));
    expectAllowed(r.request({ action: 'fail', actor: carol, target: second }));
    expectAllowed(r.requestAsHost({ action: 'mutate_graph', actor: 'user:alice', target: third }));
    expectAllowed(r.request({ action: 'transfer', actor: carol, target: third, metadata: { newOwner: 'agent:other' } }));
    // A user owning neither override is still not the owner.
    expect(r.requestAsHost({ action: 'fail', actor: 'user:bob', target: third }).reason).toBe('not_owner');
    // With carol's gone, alice's still covers: it applies its values and keeps the agent out.
    expectAllowed(r.request({ action: 'disable_override', actor: carol, metadata: { scope: 'user', scopeId: 'carol' } }));
    expect(r.overrideFor(third)).toEqual({ owner: 'user:alice', scope: 'session', scopeId: 'living-room', speechRate: 0.8, forcedCaptions: true });
    expect(r.requestAsHost({ action: 'fail', actor: 'agent:other', target: third }).reason).toBe('accessibility_override');
    expectAllowed(r.requestAsHost({ action: 'disable_override', actor: 'user:alice', metadata: session }));
    expect(r.overrideFor(third)).toBeNull();
    expectAllowed(r.requestAsHost({ action: 'fail', actor: 'agent:other', target: third }));
  });

  it('under an override no agent or plugin ends a covered stream by fail; the system may fail it (a runtime error) and stop it (natural end)', () => {
    const r = registrarWith(core);
    const byAgent = streamIn(r, 'playing', 'agent:claude-1', { sessionId: 'living-room' });
    const byRuntime = streamIn(r, 'synthesizing', 'agent:claude-1', { sessionId: 'living-room' });
    const ended = streamIn(r, 'playing', 'agent:claude-1', { sessionId: 'living-room' });
    expectAllowed(r.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: session }));
    const agentFail = r.requestAsHost({ action: 'fail', actor: 'agent:claude-1', target: byAgent, reason: 'giving up' });
    expect(agentFail.reason).toBe('accessibility_override');
    expect(agentFail.violations).toEqual([expect.objectContaining({ invariant: 'audio.accessibility.supremacy', level: 'REJECT' })]);
    const pluginFail = r.requestAsHost({ action: 'fail', actor: 'plugin:reverb', target: byAgent });
    expect(pluginFail.violations.map((v) => v.invariant)).toEqual(['audio.ownership.required_for_control', 'audio.accessibility.supremacy', 'audio.plugin.immutability']);
    expect(r.getState(byAgent)?.state).toBe('playing');
    const runtimeFail = expectAllowed(r.requestAsHost({ action: 'fail', actor: 'system:runtime', target: byRuntime, reason: 'backend crashed' }));
    // Attested as a runtime error: the statement, and the reason the runtime gave.
    expect(runtimeFail.attestation).toMatchObject({ accessibility: true, actor: { kind: 'system', id: 'runtime' }, stateAfter: 'failed', parameters: { reason: 'backend crashed' }, metadata: { runtimeError: true } });
    const stopped = expectAllowed(r.requestAsHost({ action: 'stop', actor: 'system:runtime', target: ended }));
    expect(stopped.attestation.metadata).not.toHaveProperty('runtimeError'); // a natural end, not an error
    // Removing the override gives the owner back its fail; a system fail of an uncovered stream states nothing.
    expectAllowed(r.requestAsHost({ action: 'disable_override', actor: 'user:alice', metadata: session }));
    expect(expectAllowed(r.requestAsHost({ action: 'fail', actor: 'agent:claude-1', target: byAgent })).attestation.metadata).not.toHaveProperty('runtimeError');
    const uncovered = streamIn(r, 'playing', 'agent:claude-1', { sessionId: 'den' });
    expect(expectAllowed(r.requestAsHost({ action: 'fail', actor: 'system:runtime', target: uncovered, reason: 'device lost' })).attestation.metadata).not.toHaveProperty('runtimeError');
  });

  it("ending someone else's override without disable_override HALTs the registrar (fail-closed)", () => {
    const r = registrarWith(core);
    const playing = streamIn(r, 'playing', 'agent:claude-1', { sessionId: 'living-room' });
    expectAllowed(r.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: session }));
    const halts: HaltInfo[] = [];
    r.onHalt((halt) => halts.push(halt));
    const bypass = r.requestAsHost({ action: 'enable_override', actor: 'user:bob', metadata: session });
    expect(bypass.allowed).toBe(false);
    expect(bypass.reason).toBe('accessibility_override');
    expect(bypass.violations[0]).toMatchObject({ invariant: 'audio.accessibility.supremacy', level: 'HALT' });
    expect(bypass.attestation.metadata).toMatchObject({ halt: true, haltCause: 'accessibility_bypass' });
    expect(halts).toEqual([{ cause: 'accessibility_bypass', message: bypass.message, seq: bypass.attestation.seq, attestationId: bypass.attestation.id }]);
    expect(r.haltCause).toEqual(halts[0]);
    expect(r.halted).toBe(true);
    expect(() => r.require(bypass)).toThrow(AccessibilityBypassError);
    const after = r.requestAsHost({ action: 'stop', actor: 'agent:claude-1', target: playing });
    expect(after.reason).toBe('registrar_halted');
    expect(after.appliedInvariants).toEqual([]);
    expect(() => r.require(after)).toThrow(RegistrarHaltedError);
    expect(r.listOverrides()).toHaveLength(1);
  });
});
