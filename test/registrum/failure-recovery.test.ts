// 4.8.8 Failure and recovery: a denial has no partial effect; HALT fails closed; a restart that
// replays the durable log reaches the same state hash.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AttestationStore } from '../../src/attestation/store.js';
import { RegistrarHaltedError } from '../../src/registrar/errors.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { coresUnderTest, expectAllowed, registrarWith, streamIn } from './cores.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('registrum-');
function tempLog(): string {
  const dir = tempDir();
  return join(dir, 'attestations.jsonl');
}

describe.each(coresUnderTest())('failure and recovery ($name core)', (core) => {
  it('a denied request changes no state, no owner, no override and no grant', () => {
    const r = registrarWith(core);
    const target = streamIn(r, 'playing', 'agent:claude-1', { allowPlugins: ['plugin:reverb'] });
    const statesBefore = r.listStates();
    const denials = [
      r.requestAsHost({ action: 'transfer', actor: 'agent:other', target, metadata: { newOwner: 'agent:other' } }),
      r.requestAsHost({ action: 'release', actor: 'agent:claude-1', target }),
      r.requestAsHost({ action: 'update_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'default', speechRate: 2 } }),
      r.requestAsHost({ action: 'compile', actor: 'agent:claude-1', target, metadata: { allowPlugins: ['plugin:rogue'] } }),
    ];
    expect(denials.every((result) => !result.allowed)).toBe(true);
    // Each denial consumed a seq; nothing else moved.
    expect(r.listStates()).toEqual(statesBefore);
    expect(statesBefore[0]).toMatchObject({ state: 'playing', owner: 'agent:claude-1', version: 3 });
    expect(r.listOverrides()).toEqual([]);
    expect(r.requestAsHost({ action: 'mutate_graph', actor: 'plugin:rogue', target }).reason).toBe('not_owner');
  });

  it('HALT fails closed, the runtime is told to stop everything, and recover() rebuilds an un-halted registrar', () => {
    const r = registrarWith(core);
    const playing = streamIn(r, 'playing', 'agent:claude-1', { sessionId: 'den' });
    expectAllowed(r.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'den', speechRate: 0.5 } }));
    const stopped: string[] = [];
    r.onHalt(() => {
      for (const stream of r.listStates()) stopped.push(stream.streamId);
    });
    r.requestAsHost({ action: 'enable_override', actor: 'user:bob', metadata: { scope: 'session', scopeId: 'den' } });
    expect(stopped).toEqual([playing]);
    expect(r.halted).toBe(true);
    for (const action of ['stop', 'interrupt', 'fail']) {
      expect(r.requestAsHost({ action, actor: 'agent:claude-1', target: playing }).reason).toBe('registrar_halted');
    }
    expect(r.observeAsHost({ action: 'stop', actor: 'agent:claude-1', target: playing }).reason).toBe('registrar_halted');
    expect(r.getState(playing)?.state).toBe('playing');

    const recovered = r.recover({ core: core.create() });
    expect(recovered.halted).toBe(false);
    expect(recovered.baseSnapshot?.lastSeq).toBe(r.attestationStore.lastSeq);
    expect(recovered.listOverrides()).toEqual(r.listOverrides());
    const stop = expectAllowed(recovered.requestAsHost({ action: 'stop', actor: 'user:alice', target: playing }));
    expect(stop.attestation.seq).toBe(r.attestationStore.lastSeq + 1);
    expect(stop.attestation.prevHash).toBe(r.attestationStore.lastHash);
    // The new segment replays from the recovery snapshot.
    const again = AudioRegistrar.restore(recovered.baseSnapshot, recovered.attestationStore.all(), { core: core.create() });
    expect(again.stateHash()).toBe(recovered.stateHash());
    expect(() => r.require(stop)).toThrow(RegistrarHaltedError);
  });

  it('restart + replay of the durable log reaches the same state hash, and the log continues', async () => {
    const path = tempLog();
    const { store } = AttestationStore.open(path, { durability: 'fsync' });
    const r = registrarWith(core, { store });
    const target = streamIn(r, 'playing', 'agent:claude-1', { sessionId: 'den' });
    r.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'den' } });
    r.requestAsHost({ action: 'interrupt', actor: 'agent:claude-1', target });
    r.requestAsHost({ not: 'a request' });
    const hash = r.stateHash();
    await r.close();

    const reopened = AttestationStore.open(path, { durability: 'fsync' });
    expect(reopened.report).toEqual({ records: 6, tornTail: null });
    const restarted = AudioRegistrar.replay(reopened.store.all(), { core: core.create(), store: reopened.store });
    expect(restarted.stateHash()).toBe(hash);
    const next = restarted.requestAsHost({ action: 'interrupt', actor: 'user:alice', target });
    expect(next.allowed).toBe(true);
    await next.durable;
    await restarted.close();
    const third = AudioRegistrar.openLog(path, { core: core.create(), durability: 'group', groupCommitMs: 1 });
    expect(third.report.records).toBe(7);
    expect(third.registrar.getState(target)?.state).toBe('interrupting');
    const stop = third.registrar.requestAsHost({ action: 'stop', actor: 'user:alice', target });
    await stop.durable;
    await third.registrar.close();
    const fourth = AttestationStore.open(path);
    expect(fourth.report.records).toBe(8);
    await fourth.store.close();
  });

  it('a log that cannot be written halts the registrar (fail-closed)', async () => {
    const path = tempLog();
    const { store } = AttestationStore.open(path, { durability: 'group', groupCommitMs: 1 });
    const r = registrarWith(core, { store });
    const started = r.requestAsHost({ action: 'start', actor: 'agent:claude-1' });
    await started.durable;
    await store.close();
    const after = r.requestAsHost({ action: 'synthesize', actor: 'agent:claude-1', target: started.streamId });
    await expect(after.durable).rejects.toMatchObject({ code: 'ATTESTATION_LOG_CLOSED' });
    expect(r.halted).toBe(true);
    expect(r.requestAsHost({ action: 'play', actor: 'agent:claude-1', target: started.streamId }).reason).toBe('registrar_halted');
    const failing = AttestationStore.open(tempLog(), { durability: 'fsync' });
    const broken = registrarWith(core, { store: failing.store });
    await failing.store.close();
    const lost = broken.requestAsHost({ action: 'start', actor: 'agent:claude-1' });
    await expect(lost.durable).rejects.toMatchObject({ code: 'ATTESTATION_LOG_CLOSED' });
    expect(broken.halted).toBe(true);
  });
});
