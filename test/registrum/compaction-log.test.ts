// Compaction is self-describing (src/registrar/compaction-record.ts): seq 1 states the policy, every
// compaction point states its sweep, a snapshot records the policy, and replay, restore, openLog,
// recover() and verify() follow the log instead of their own default. Logs without statements
// (written with compaction off, or before compaction existed) replay with compaction off. Lies about
// a sweep are caught; a caller's core that contradicts the log is refused naming both policies.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Attestation } from '../../src/attestation/record.js';
import { DEFAULT_COMPACTION, type CompactionPolicy } from '../../src/registrar/compaction.js';
import { ACTOR_KINDS, NO_ID, TRANSITION_ACTIONS, type CoreRequest, type DecisionCore } from '../../src/registrar/core.js';
import { NativeCore } from '../../src/registrar/native-core.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { verify } from '../../src/registrar/verify.js';
import { expectAllowed, mutableCopy, reseal } from './cores.js';

const CUSTOM: CompactionPolicy = { periodSeqs: 48, retainSeqs: 20 };
const CAST = ['agent:claude-1', 'agent:other', 'user:alice', 'user:bob'];

interface PolicyCore {
  name: string;
  create(compaction: CompactionPolicy | false): DecisionCore;
}
const CORES: PolicyCore[] = [
  { name: 'reference', create: (compaction) => new ReferenceCore({ compaction }) },
  { name: 'native', create: (compaction) => new NativeCore({ compaction }) },
];

function registrarOn(core: DecisionCore): AudioRegistrar {
  const registrar = new AudioRegistrar({ core });
  for (const actor of CAST) registrar.registerActor(actor);
  return registrar;
}

/** start, synthesize, play, stop on `target` (a fresh id when undefined); returns the id. */
function utterance(registrar: AudioRegistrar, target?: string): string {
  const id = expectAllowed(registrar.requestAsHost({ action: 'start', actor: 'agent:claude-1', ...(target ? { target } : {}) })).streamId ?? '';
  for (const action of ['synthesize', 'play', 'stop']) expectAllowed(registrar.requestAsHost({ action, actor: 'agent:claude-1', target: id }));
  return id;
}

/**
 * Utterances crossing several points, with requests whose decision depends on compaction: a
 * stream stopped early is restarted later by its owner (allowed only while it still exists) and
 * its id started again (allowed only once it was compacted).
 */
function runAcrossPoints(registrar: AudioRegistrar, utterances: number): void {
  for (let round = 0; round < utterances; round += 1) {
    utterance(registrar);
    const early = `early-${round % 3}`;
    if (round % 6 === 0) {
      registrar.requestAsHost({ action: 'restart', actor: 'agent:claude-1', target: early });
      registrar.requestAsHost({ action: 'start', actor: 'agent:claude-1', target: early });
      if (registrar.getState(early)?.state !== 'stopped') utterance(registrar, `${early}-${round}`);
    }
  }
}

const pointRecords = (log: readonly Attestation[], policy: CompactionPolicy) => log.filter((record) => record.seq % policy.periodSeqs === 0);

describe.each(CORES)('a log states its compaction ($name core)', (factory) => {
  it('seq 1 states the policy, each point its sweep, and a snapshot records the policy', () => {
    const registrar = registrarOn(factory.create(CUSTOM));
    runAcrossPoints(registrar, 60);
    const log = registrar.attestationStore.all();
    expect(log[0]?.metadata.compaction).toEqual({ periodSeqs: 48, retainSeqs: 20 });
    const points = pointRecords(log, CUSTOM);
    expect(points.length).toBeGreaterThanOrEqual(4);
    for (const record of points) expect(record.metadata.compaction).toMatchObject({ periodSeqs: 48, retainSeqs: 20, removed: expect.any(Number) });
    expect(points.reduce((sum, record) => sum + Number((record.metadata.compaction as { removed: number }).removed), 0)).toBeGreaterThan(10);
    expect(log.filter((record) => record.seq !== 1 && record.seq % CUSTOM.periodSeqs !== 0).every((record) => record.metadata.compaction === undefined)).toBe(true);
    expect(registrar.snapshot().compaction).toEqual(CUSTOM);
    expect(registrarOn(factory.create(false)).snapshot().compaction).toBeNull();
  });

  it('a log written with a custom policy replays, restores and verifies with default options', () => {
    const live = registrarOn(factory.create(CUSTOM));
    runAcrossPoints(live, 30);
    const snapshot = live.snapshot();
    runAcrossPoints(live, 30);
    const log = live.attestationStore.all();
    const replayed = AudioRegistrar.replay(log);
    expect(replayed.stateHash()).toBe(live.stateHash());
    expect(replayed.snapshot().compaction).toEqual(CUSTOM);
    const restored = AudioRegistrar.restore(snapshot, log);
    expect(restored.stateHash()).toBe(live.stateHash());
    expect(verify(log, { replay: true })).toMatchObject({ ok: true, errors: [] });
    expect(verify(log.filter((record) => record.seq > snapshot.lastSeq), { start: { seq: snapshot.lastSeq, hash: snapshot.lastHash }, snapshot, replay: true })).toMatchObject({ ok: true, errors: [] });
    // The rebuilt registrar keeps compacting under the log's policy, not the default.
    runAcrossPoints(replayed, 30);
    runAcrossPoints(live, 30);
    const shape = (registrar: AudioRegistrar) => registrar.listStates().map((s) => (s.streamId.startsWith('early') ? `${s.streamId}:${s.state}` : s.state)).sort();
    expect(shape(replayed)).toEqual(shape(live)); // generated ids differ, what is kept does not
    expect(live.listStates().length).toBeLessThan(20);
  });

  it('a core given to replay or restore that contradicts the log is refused, naming both policies', () => {
    const live = registrarOn(factory.create(CUSTOM));
    runAcrossPoints(live, 20);
    const log = live.attestationStore.all();
    const expected = /given core's compaction policy \(period 16384, retain 16384\) is not the one the log \(seq 1\) was written under \(period 48, retain 20\)/;
    expect(() => AudioRegistrar.replay(log, { core: factory.create(DEFAULT_COMPACTION) })).toThrow(expected);
    expect(() => AudioRegistrar.replay(log, { core: factory.create(DEFAULT_COMPACTION) })).toThrow(expect.objectContaining({ code: 'REGISTRAR_REPLAY_POLICY', seq: 1 }));
    expect(() => AudioRegistrar.restore(live.snapshot(), [], { core: factory.create(false) })).toThrow(
      /given core's compaction policy \(none \(compaction off\)\) is not the one the snapshot was written under \(period 48, retain 20\)/,
    );
    const off = registrarOn(factory.create(false));
    utterance(off);
    expect(() => AudioRegistrar.replay(off.attestationStore.all(), { core: factory.create(CUSTOM) })).toThrow(expect.objectContaining({ code: 'REGISTRAR_REPLAY_POLICY' }));
    // A core with the log's policy is accepted.
    expect(AudioRegistrar.replay(log, { core: factory.create(CUSTOM) }).stateHash()).toBe(live.stateHash());
  });

  it('a forged sweep count (re-sealed) is caught by replay and by verify', () => {
    const live = registrarOn(factory.create(CUSTOM));
    runAcrossPoints(live, 40);
    const log = mutableCopy(live.attestationStore.all());
    const point = pointRecords(log, CUSTOM).find((record) => Number((record.metadata.compaction as { removed: number }).removed) > 0) as Attestation;
    const index = log.findIndex((record) => record.seq === point.seq);
    const told = point.metadata.compaction as { removed: number };
    log[index] = { ...point, metadata: { ...point.metadata, compaction: { ...told, removed: told.removed - 1 } } };
    const forged = reseal(log);
    expect(() => AudioRegistrar.replay(forged)).toThrow(expect.objectContaining({ code: 'REGISTRAR_REPLAY_MISMATCH', seq: point.seq }));
    expect(() => AudioRegistrar.replay(forged)).toThrow(new RegExp(`compaction statement is .*"removed":${told.removed}.*the log records .*"removed":${told.removed - 1}`));
    const report = verify(forged); // without replay: the count is recounted from the log
    expect(report.ok).toBe(false);
    expect(report.errors).toContainEqual(expect.objectContaining({ seq: point.seq, invariant: 'ordering.deterministic' }));
    // A point stripped of its statement, or a statement moved off a point, is caught too.
    const stripped = mutableCopy(live.attestationStore.all());
    const { compaction: _dropped, ...rest } = (stripped[index] as Attestation).metadata;
    void _dropped;
    stripped[index] = { ...(stripped[index] as Attestation), metadata: rest };
    expect(verify(reseal(stripped)).errors).toContainEqual(expect.objectContaining({ seq: point.seq, invariant: 'ordering.deterministic' }));
    expect(() => AudioRegistrar.replay(reseal(stripped))).toThrow(expect.objectContaining({ code: 'REGISTRAR_REPLAY_MISMATCH', seq: point.seq }));
  });

  it('recover() keeps the live registrar\'s policy, with or without a log', () => {
    const live = registrarOn(factory.create(CUSTOM));
    const empty = live.recover();
    expect(empty.snapshot().compaction).toEqual(CUSTOM); // an empty log states nothing: the live policy is kept
    runAcrossPoints(live, 30);
    for (const user of ['user:alice', 'user:bob']) live.registerActor(user, { sessions: ['den'] });
    expectAllowed(live.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'den' } }));
    live.requestAsHost({ action: 'enable_override', actor: 'user:bob', metadata: { scope: 'session', scopeId: 'den' } });
    expect(live.halted).toBe(true);
    const recovered = live.recover();
    expect(recovered.halted).toBe(false);
    expect(recovered.baseSnapshot?.compaction).toEqual(CUSTOM);
    runAcrossPoints(recovered, 30);
    const segment = recovered.attestationStore.all();
    const point = pointRecords(segment, CUSTOM)[0];
    expect(point?.metadata.compaction).toMatchObject({ periodSeqs: 48, retainSeqs: 20 });
    expect(AudioRegistrar.restore(recovered.baseSnapshot, segment).stateHash()).toBe(recovered.stateHash());
    // Recovering again, from the recovery snapshot, keeps it too.
    expect(recovered.recover().baseSnapshot?.compaction).toEqual(CUSTOM);
  });
});

describe('logs without compaction statements replay with compaction off', () => {
  it('a log longer than two default periods, written with compaction off, replays and verifies by default', () => {
    // Stopped early, restarted after seq 2 x 16,384: allowed without compaction; under the default
    // policy the stream would be compacted at seq 32,768 and the restart denied (a mismatch).
    const live = registrarOn(new ReferenceCore({ compaction: false }));
    const early = utterance(live, 'early');
    while (live.attestationStore.lastSeq < 2 * DEFAULT_COMPACTION.periodSeqs + 100) utterance(live);
    expectAllowed(live.requestAsHost({ action: 'restart', actor: 'agent:claude-1', target: early }));
    const log = live.attestationStore.all();
    expect(log.length).toBeGreaterThan(32_868);
    expect(log.some((record) => record.metadata.compaction !== undefined)).toBe(false);
    const replayed = AudioRegistrar.replay(log);
    expect(replayed.stateHash()).toBe(live.stateHash());
    expect(replayed.snapshot().compaction).toBeNull();
    expect(verify(log).ok).toBe(true);
    // Stating the default policy at seq 1 (re-sealed) makes the same log re-decide differently.
    const forged = mutableCopy(log);
    forged[0] = { ...(forged[0] as Attestation), metadata: { ...(forged[0] as Attestation).metadata, compaction: { ...DEFAULT_COMPACTION } } };
    expect(() => AudioRegistrar.replay(reseal(forged), { core: new ReferenceCore() })).toThrow(expect.objectContaining({ code: 'REGISTRAR_REPLAY_MISMATCH', seq: DEFAULT_COMPACTION.periodSeqs }));
  }, 120_000);

  it('an empty log (a new durable log) gets the default policy; a reopened one keeps what seq 1 states', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'vs-compaction-log-'));
    cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
    const path = join(directory, 'log.jsonl');
    const first = AudioRegistrar.openLog(path, { durability: 'group' }).registrar;
    expect(first.snapshot().compaction).toEqual(DEFAULT_COMPACTION);
    await first.close();
    const custom = AudioRegistrar.openLog(join(directory, 'custom.jsonl'), { durability: 'group', core: new ReferenceCore({ compaction: CUSTOM }) }).registrar;
    for (const actor of CAST) custom.registerActor(actor);
    runAcrossPoints(custom, 20);
    const hash = custom.stateHash();
    await custom.close();
    const reopened = AudioRegistrar.openLog(join(directory, 'custom.jsonl'), { durability: 'group' });
    expect(reopened.registrar.stateHash()).toBe(hash);
    expect(reopened.registrar.snapshot().compaction).toEqual(CUSTOM);
    await reopened.registrar.close();
    expect(() => AudioRegistrar.openLog(join(directory, 'custom.jsonl'), { durability: 'group', core: new ReferenceCore() })).toThrow(
      expect.objectContaining({ code: 'REGISTRAR_REPLAY_POLICY' }),
    );
  });
});

describe('sweeps attested from another thread\'s decisions (a shared native core)', () => {
  it('a registrar attesting decisions made through another object on its core states each sweep; the log replays by default', () => {
    const core = new NativeCore({ compaction: CUSTOM, journalCapacity: 1024 });
    const registrar = registrarOn(core);
    const other = NativeCore.attach(core.shareToken);
    const actor = other.actorId('agent:claude-1');
    const session = other.internScope(0, 'default');
    const request = (action: string, stream: number): CoreRequest => ({
      actor, actorKind: ACTOR_KINDS.indexOf('agent'), action: TRANSITION_ACTIONS.indexOf(action as (typeof TRANSITION_ACTIONS)[number]), stream,
      newOwner: NO_ID, preemptFor: NO_ID, priority: 5, session, user: NO_ID, overrideScope: 0, overrideScopeId: NO_ID, pluginAllowed: false,
    });
    for (let index = 0; index < 60; index += 1) {
      for (const action of ['start', 'synthesize', 'play', 'stop']) expect(other.decide(request(action, other.internStream(`foreign-${index}`))).allowed).toBe(true);
      if (index % 10 === 0) registrar.syncJournal();
    }
    registrar.syncJournal();
    const log = registrar.attestationStore.all();
    expect(log).toHaveLength(240);
    const points = pointRecords(log, CUSTOM);
    expect(points.map((record) => record.metadata.origin)).toEqual(points.map(() => 'journal'));
    expect(points.every((record) => typeof (record.metadata.compaction as { removed?: unknown }).removed === 'number')).toBe(true);
    expect(AudioRegistrar.replay(log).stateHash()).toBe(registrar.stateHash());
    expect(verify(log).ok).toBe(true);
    other.close();
    core.close();
  });
});

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});
