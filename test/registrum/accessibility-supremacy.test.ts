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
