// 4.8.2 Lifecycle ordering: the §2 state table, and nothing else.
import { describe, expect, it } from 'vitest';
import { coresUnderTest, expectAllowed, registrarWith, streamIn } from './cores.js';

describe.each(coresUnderTest())('lifecycle ordering ($name core)', (core) => {
  it('walks the full lifecycle start → compile → synthesize → play → interrupt → stop → restart → start', () => {
    const r = registrarWith(core);
    const start = expectAllowed(r.requestAsHost({ action: 'start', actor: 'agent:claude-1' }));
    const target = start.streamId ?? '';
    expect(start.attestation.stateBefore).toBeNull();
    expect(start.attestation.stateAfter).toBe('compiling');
    const steps: [string, string, string][] = [
      ['compile', 'compiling', 'compiling'],
      ['synthesize', 'compiling', 'synthesizing'],
      ['play', 'synthesizing', 'playing'],
      ['interrupt', 'playing', 'interrupting'],
      ['stop', 'interrupting', 'stopped'],
      ['restart', 'stopped', 'idle'],
      ['start', 'idle', 'compiling'],
    ];
    for (const [action, before, after] of steps) {
      const result = expectAllowed(r.requestAsHost({ action, actor: 'agent:claude-1', target }));
      expect([result.attestation.stateBefore, result.attestation.stateAfter]).toEqual([before, after]);
    }
    expect(r.getState(target)).toMatchObject({ state: 'compiling', version: 8, committed: false, graphRevision: 0 });
  });

  it.each([
    ['idle', 'play'],
    ['stopped', 'interrupt'],
    ['failed', 'play'],
    ['playing', 'start'],
    ['playing', 'compile'],
    ['idle', 'synthesize'],
    ['compiling', 'play'],
    ['synthesizing', 'interrupt'],
    ['playing', 'restart'],
    ['stopped', 'fail'],
    ['playing', 'release'],
  ] as const)('denies %s --%s--> with a reason and no effect', (state, action) => {
    const r = registrarWith(core);
    const target = streamIn(r, state);
    const before = r.getState(target);
    const result = r.requestAsHost({ action, actor: 'agent:claude-1', target });
    expect(result.allowed).toBe(false);
    expect(result.decision).toBe('denied');
    const expectedReason = action === 'interrupt' && state === 'stopped' ? 'terminal_state' : action === 'compile' && state === 'playing' ? 'commit_boundary' : 'invalid_transition';
    expect(result.reason).toBe(expectedReason);
    expect(result.violations.map((v) => v.invariant)).toContain('audio.lifecycle.valid_transition');
    expect(r.getState(target)).toEqual(before);
  });

  it('IDLE -> PLAYING, STOPPED -> INTERRUPTING, FAILED -> PLAYING and PLAYING -> COMPILING are all denied', () => {
    const r = registrarWith(core);
    expect(r.requestAsHost({ action: 'play', actor: 'agent:claude-1', target: streamIn(r, 'idle') }).reason).toBe('invalid_transition');
    const stopped = r.requestAsHost({ action: 'interrupt', actor: 'agent:claude-1', target: streamIn(r, 'stopped') });
    expect(stopped.reason).toBe('terminal_state');
    expect(stopped.violations.map((v) => v.invariant)).toEqual(['audio.lifecycle.no_dead_interrupt', 'audio.lifecycle.valid_transition']);
    expect(r.requestAsHost({ action: 'play', actor: 'agent:claude-1', target: streamIn(r, 'failed') }).reason).toBe('invalid_transition');
    expect(r.requestAsHost({ action: 'start', actor: 'agent:claude-1', target: streamIn(r, 'playing') }).reason).toBe('invalid_transition');
  });

  it('terminal_state for interrupting a failed or unknown stream', () => {
    const r = registrarWith(core);
    expect(r.requestAsHost({ action: 'interrupt', actor: 'agent:claude-1', target: streamIn(r, 'failed') }).reason).toBe('terminal_state');
    const unknown = r.requestAsHost({ action: 'interrupt', actor: 'agent:claude-1', target: 'never-created' });
    expect(unknown.reason).toBe('terminal_state');
    expect(unknown.attestation.stateBefore).toBeNull();
  });

  it('actions on an unknown stream other than start/claim are invalid_transition', () => {
    const r = registrarWith(core);
    for (const action of ['compile', 'synthesize', 'play', 'stop', 'fail', 'restart', 'release', 'commit', 'rollback', 'mutate_graph']) {
      expect(r.requestAsHost({ action, actor: 'agent:claude-1', target: 'ghost' }).reason, action).toBe('invalid_transition');
    }
    expect(r.getState('ghost')).toBeNull();
  });

  it('fail is allowed from every live state and restart only from stopped/failed', () => {
    const r = registrarWith(core);
    for (const state of ['idle', 'compiling', 'synthesizing', 'playing', 'interrupting'] as const) {
      expectAllowed(r.requestAsHost({ action: 'fail', actor: 'agent:claude-1', target: streamIn(r, state) }));
    }
    expect(r.requestAsHost({ action: 'restart', actor: 'agent:claude-1', target: streamIn(r, 'playing') }).reason).toBe('invalid_transition');
  });

  it('commit boundary: compile, mutate_graph and rollback are denied after commit (explicit or by synthesize)', () => {
    const r = registrarWith(core);
    const target = streamIn(r, 'compiling');
    expectAllowed(r.requestAsHost({ action: 'compile', actor: 'agent:claude-1', target, metadata: { graphHash: 'g1' } }));
    expectAllowed(r.requestAsHost({ action: 'mutate_graph', actor: 'agent:claude-1', target }));
    expect(r.getState(target)?.graphRevision).toBe(2);
    expectAllowed(r.requestAsHost({ action: 'rollback', actor: 'agent:claude-1', target }));
    expect(r.getState(target)?.graphRevision).toBe(0);
    expectAllowed(r.requestAsHost({ action: 'mutate_graph', actor: 'agent:claude-1', target }));
    expectAllowed(r.requestAsHost({ action: 'commit', actor: 'agent:claude-1', target }));
    expect(r.getState(target)).toMatchObject({ committed: true, graphRevision: 0 });
    for (const action of ['compile', 'mutate_graph', 'rollback']) {
      const denied = r.requestAsHost({ action, actor: 'agent:claude-1', target });
      expect(denied.reason, action).toBe('commit_boundary');
    }
    expectAllowed(r.requestAsHost({ action: 'synthesize', actor: 'agent:claude-1', target }));
    const implicit = streamIn(r, 'synthesizing');
    expect(r.getState(implicit)?.committed).toBe(true);
  });

  it('the stream version rises by one per accepted transition and not on denials', () => {
    const r = registrarWith(core);
    const target = streamIn(r, 'playing');
    expect(r.getState(target)?.version).toBe(3);
    r.requestAsHost({ action: 'play', actor: 'agent:claude-1', target });
    expect(r.getState(target)?.version).toBe(3);
  });
});
