// 4.8.6 Replay determinism: the log alone rebuilds the state and re-derives every decision.
import { describe, expect, it } from 'vitest';
import { RegistrarReplayError } from '../../src/registrar/errors.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { coresUnderTest, expectAllowed, mutableCopy, registrarWith, reseal, streamIn } from './cores.js';

function busyRegistrar(core: Parameters<typeof registrarWith>[0]): AudioRegistrar {
  const r = registrarWith(core);
  const a = streamIn(r, 'playing', 'agent:claude-1', { sessionId: 'den', userId: 'alice', allowPlugins: ['plugin:reverb'] });
  const b = streamIn(r, 'compiling', 'agent:other', { allowPlugins: ['plugin:reverb'] });
  r.requestAsHost({ action: 'mutate_graph', actor: 'plugin:reverb', target: b });
  r.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'user', scopeId: 'alice', speechRate: 0.9 } });
  r.requestAsHost({ action: 'interrupt', actor: 'agent:claude-1', target: a });
  r.requestAsHost({ action: 'transfer', actor: 'agent:other', target: b, metadata: { newOwner: 'agent:claude-1' } });
  r.requestAsHost({ action: 'bogus' });
  r.observeAsHost({ action: 'commit', actor: 'agent:claude-1', target: b });
  r.requestAsHost({ action: 'stop', actor: 'system:runtime', target: a });
  r.requestAsHost({ action: 'release', actor: 'agent:claude-1', target: a });
  r.requestAsHost({ action: 'claim', actor: 'agent:other', target: a });
  return r;
}

describe.each(coresUnderTest())('replay determinism ($name core)', (core) => {
  it('replay reconstructs the same state (same state hash) and the same decisions', () => {
    const live = busyRegistrar(core);
    const log = live.attestationStore.all();
    const replayed = AudioRegistrar.replay(log, { core: core.create() });
    expect(replayed.stateHash()).toBe(live.stateHash());
    expect(replayed.listStates()).toEqual(live.listStates());
    expect(replayed.listOverrides()).toEqual(live.listOverrides());
    expect(replayed.attestationStore.all()).toEqual(log);
    // The replayed registrar continues the chain where the log ended.
    const next = expectAllowed(replayed.requestAsHost({ action: 'start', actor: 'agent:claude-1' }));
    expect(next.attestation.seq).toBe(log.length + 1);
    expect(next.attestation.prevHash).toBe(log.at(-1)?.hash);
  });

  it('replaying twice gives identical decisions and state hashes', () => {
    const log = busyRegistrar(core).attestationStore.all();
    const first = AudioRegistrar.replay(log, { core: core.create() });
    const second = AudioRegistrar.replay(log, { core: core.create() });
    expect(second.stateHash()).toBe(first.stateHash());
  });

  it('snapshot + tail restores the same state as a full replay, and a tampered snapshot is refused', () => {
    const live = busyRegistrar(core);
    const middle = live.snapshot();
    live.requestAsHost({ action: 'restart', actor: 'agent:other', target: live.listStates()[0]?.streamId ?? '' });
    live.requestAsHost({ action: 'start', actor: 'agent:claude-1' });
    const log = live.attestationStore.all();
    const restored = AudioRegistrar.restore(middle, log, { core: core.create() });
    expect(restored.stateHash()).toBe(AudioRegistrar.replay(log, { core: core.create() }).stateHash());
    expect(restored.stateHash()).toBe(live.stateHash());
    expect(AudioRegistrar.restore(JSON.parse(JSON.stringify(middle)), [], { core: core.create() }).stateHash()).toBe(middle.stateHash);
    const forged = { ...middle, halted: true };
    expect(() => AudioRegistrar.restore(forged, [])).toThrowError(/snapshot: hash does not match/);
  });

  it('reordering two records is detected and names the first bad seq', () => {
    const log = mutableCopy(busyRegistrar(core).attestationStore.all());
    const swapped = [...log];
    // seq 2 (synthesize) and seq 3 (play) of the first stream do not commute.
    [swapped[1], swapped[2]] = [swapped[2]!, swapped[1]!];
    expect(() => AudioRegistrar.replay(swapped)).toThrow(expect.objectContaining({ code: 'REGISTRAR_REPLAY_GAP', seq: 2 }));
    // Even with the chain re-sealed and seqs renumbered, the decisions no longer replay.
    const renumbered = reseal(swapped.map((record, index) => ({ ...record, seq: index + 1 })));
    const error = (() => {
      try {
        AudioRegistrar.replay(renumbered, { core: core.create() });
      } catch (caught) {
        return caught as RegistrarReplayError;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(RegistrarReplayError);
    expect(error?.code).toBe('REGISTRAR_REPLAY_MISMATCH');
    expect(error?.seq).toBe(2);
    expect(error?.message).toMatch(/replay decided denied \(invalid_transition/);
  });

  it('a gap, a broken hash link and an unknown field each name the first bad seq', () => {
    const log = mutableCopy(busyRegistrar(core).attestationStore.all());
    expect(() => AudioRegistrar.replay([...log.slice(0, 3), ...log.slice(4)])).toThrow(expect.objectContaining({ code: 'REGISTRAR_REPLAY_GAP', seq: 4 }));
    const tampered = mutableCopy(log);
    (tampered[6] as { message: string }).message = 'nothing to see';
    expect(() => AudioRegistrar.replay(tampered)).toThrow(expect.objectContaining({ code: 'REGISTRAR_REPLAY_CHAIN', seq: 7 }));
    const extra = mutableCopy(log);
    (extra[2] as unknown as Record<string, unknown>).sneaky = 1;
    expect(() => AudioRegistrar.replay(extra)).toThrow(expect.objectContaining({ code: 'REGISTRAR_REPLAY_SCHEMA', seq: 3 }));
  });

  it('a re-sealed log whose recorded decision was changed fails replay at that seq', () => {
    const log = mutableCopy(busyRegistrar(core).attestationStore.all());
    const index = log.findIndex((record) => record.reason === 'not_owner' || record.decision === 'denied');
    const forged = mutableCopy(log);
    Object.assign(forged[index]!, { decision: 'allowed', reason: null });
    expect(() => AudioRegistrar.replay(reseal(forged), { core: core.create() })).toThrow(expect.objectContaining({ code: 'REGISTRAR_REPLAY_MISMATCH', seq: index + 1 }));
  });
});
