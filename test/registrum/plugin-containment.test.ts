// 4.8.7 Plugin containment: plugins never change lifecycle state, touch the graph only before
// commit and only when the owner allowed them, and cannot forge decisions.
import { describe, expect, it } from 'vitest';
import { RegistrarRequiredError } from '../../src/registrar/errors.js';
import { coresUnderTest, expectAllowed, registrarWith, streamIn } from './cores.js';

describe.each(coresUnderTest())('plugin containment ($name core)', (core) => {
  it('plugins are denied every lifecycle action with plugin_immutable', () => {
    const r = registrarWith(core);
    const cases: [string, string][] = [
      ['start', 'idle'],
      ['synthesize', 'compiling'],
      ['play', 'synthesizing'],
      ['interrupt', 'playing'],
      ['stop', 'playing'],
      ['fail', 'playing'],
      ['restart', 'stopped'],
    ];
    for (const [action, state] of cases) {
      const target = streamIn(r, state as 'idle');
      const before = r.getState(target);
      const denied = r.requestAsHost({ action, actor: 'plugin:reverb', target });
      expect(denied.allowed, action).toBe(false);
      expect(denied.violations.map((v) => v.invariant), action).toContain('audio.plugin.immutability');
      expect(r.getState(target)).toEqual(before);
    }
    const create = r.requestAsHost({ action: 'start', actor: 'plugin:reverb' });
    expect(create.reason).toBe('plugin_immutable');
    expect(r.requestAsHost({ action: 'claim', actor: 'plugin:reverb' }).reason).toBe('plugin_immutable');
  });

  it('a plugin may mutate the graph before commit only when the owner allowed it', () => {
    const r = registrarWith(core);
    const target = streamIn(r, 'compiling', 'agent:claude-1', { allowPlugins: ['plugin:reverb'] });
    const mutated = expectAllowed(r.requestAsHost({ action: 'mutate_graph', actor: 'plugin:reverb', target }));
    expect(mutated.attestation.stateAfter).toBe('compiling');
    expect(r.getState(target)?.graphRevision).toBe(1);
    expect(r.requestAsHost({ action: 'mutate_graph', actor: 'plugin:rogue', target }).reason).toBe('not_owner');
    expect(r.requestAsHost({ action: 'commit', actor: 'plugin:reverb', target }).reason).toBe('not_owner');
    expectAllowed(r.requestAsHost({ action: 'commit', actor: 'agent:claude-1', target }));
    const late = r.requestAsHost({ action: 'mutate_graph', actor: 'plugin:reverb', target });
    expect(late.reason).toBe('commit_boundary');
    expect(late.violations.map((v) => v.invariant)).toEqual(['audio.lifecycle.commit_boundary', 'audio.plugin.immutability']);
  });

  it('a transfer revokes the previous owner\'s plugin grants', () => {
    const r = registrarWith(core);
    const target = streamIn(r, 'compiling', 'agent:claude-1', { allowPlugins: ['plugin:reverb'] });
    expectAllowed(r.requestAsHost({ action: 'transfer', actor: 'agent:claude-1', target, metadata: { newOwner: 'agent:other' } }));
    expect(r.requestAsHost({ action: 'mutate_graph', actor: 'plugin:reverb', target }).reason).toBe('not_owner');
    expectAllowed(r.requestAsHost({ action: 'compile', actor: 'agent:other', target, metadata: { allowPlugins: ['plugin:reverb'] } }));
    expectAllowed(r.requestAsHost({ action: 'mutate_graph', actor: 'plugin:reverb', target }));
  });

  it('a plugin that owns a stream (claimed) still cannot change its lifecycle', () => {
    const r = registrarWith(core);
    const target = streamIn(r, 'stopped');
    expectAllowed(r.requestAsHost({ action: 'release', actor: 'agent:claude-1', target }));
    expectAllowed(r.requestAsHost({ action: 'claim', actor: 'plugin:reverb', target }));
    expect(r.requestAsHost({ action: 'restart', actor: 'plugin:reverb', target }).reason).toBe('plugin_immutable');
  });

  it('a plugin cannot turn its denial into a permit, nor reuse another actor\'s decision twice', () => {
    const r = registrarWith(core);
    const target = streamIn(r, 'synthesizing');
    const denied = r.requestAsHost({ action: 'play', actor: 'plugin:rogue', target });
    expect(() => r.require({ ...denied, allowed: true }, { action: 'play' })).toThrow(RegistrarRequiredError);
    const allowed = expectAllowed(r.requestAsHost({ action: 'play', actor: 'agent:claude-1', target }));
    r.require(allowed);
    expect(() => r.require(allowed)).toThrow(RegistrarRequiredError);
  });
});
