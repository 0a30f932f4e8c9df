// Compaction of terminal streams (src/registrar/compaction.ts): a long run holds a bounded number
// of streams and ids, and compaction is deterministic: a full replay and restore(snapshot, tail)
// reach the same decisions and the same state hash as the live registrar, on both cores. The
// negative tests show the suite notices when compaction is off or when replay does not apply it.
import { describe, expect, it } from 'vitest';
import type { Attestation } from '../../src/attestation/record.js';
import { compactionPointOf, DEFAULT_COMPACTION, type CompactionPolicy } from '../../src/registrar/compaction.js';
import { ACTOR_KINDS, NO_ID, STREAM_STATES, TRANSITION_ACTIONS, type CoreRequest, type DecisionCore, type TransitionAction } from '../../src/registrar/core.js';
import { InputError } from '../../src/errors.js';
import { NativeCore } from '../../src/registrar/native-core.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { verify } from '../../src/registrar/verify.js';
import { expectAllowed, mutableCopy, reseal } from './cores.js';

const POLICY: CompactionPolicy = { periodSeqs: 64, retainSeqs: 32 };
const CAST = ['agent:claude-1', 'agent:other', 'user:alice', 'plugin:reverb', 'system:runtime'];

/** Core factories taking core options (the registrum cores.ts factories take none). */
interface CompactingCore {
  name: string;
  create(compaction: CompactionPolicy | false, journalCapacity?: number): DecisionCore & { stats(): { liveStreamIds: number; streamTableSize: number } };
}
const CORES: CompactingCore[] = [
  { name: 'reference', create: (compaction, journalCapacity = 1024) => new ReferenceCore({ compaction, journalCapacity }) },
  { name: 'native', create: (compaction, journalCapacity = 1024) => new NativeCore({ compaction, journalCapacity }) },
];

function registrarOn(core: DecisionCore): AudioRegistrar {
  const registrar = new AudioRegistrar({ core });
  for (const actor of CAST) registrar.registerActor(actor);
  return registrar;
}

/** One utterance on `target` (a fresh id when undefined): start, synthesize, play, then stop or fail. */
function utterance(registrar: AudioRegistrar, target: string | undefined, end: 'stop' | 'fail' = 'stop', metadata: Record<string, unknown> = {}): string {
  const started = expectAllowed(registrar.requestAsHost({ action: 'start', actor: 'agent:claude-1', ...(target ? { target } : {}), metadata }));
  const id = started.streamId ?? '';
  for (const action of ['synthesize', 'play', end]) expectAllowed(registrar.requestAsHost({ action, actor: 'agent:claude-1', target: id }));
  return id;
}

/**
 * A run that crosses many compaction points: fresh utterances, a few ids re-used once their stream
 * was compacted (re-creation), requests naming stopped or compacted streams (interrupt, restart by
 * another agent, plugin mutation: decided differently once compacted), and, first, a stream
 * restarted before compaction and a stream left playing (neither is ever compacted).
 */
function busyRun(registrar: AudioRegistrar, rounds = 60, prelude = true): void {
  if (prelude) longLivedStreams(registrar);
  for (let round = 0; round < rounds; round += 1) {
    utterance(registrar, undefined, round % 5 === 0 ? 'fail' : 'stop');
    const reused = `reused-${round % 4}`;
    const state = registrar.getState(reused);
    if (state === null) utterance(registrar, reused, 'stop', round % 8 === 0 ? { allowPlugins: ['plugin:reverb'] } : {});
    registrar.requestAsHost({ action: 'interrupt', actor: 'agent:claude-1', target: reused });
    registrar.requestAsHost({ action: 'restart', actor: 'agent:other', target: `reused-${(round + 1) % 4}` });
    registrar.requestAsHost({ action: 'mutate_graph', actor: 'plugin:reverb', target: reused });
    if (round % 7 === 0) registrar.requestAsHost({ action: 'bogus', actor: 'agent:claude-1' });
    if (round % 9 === 0) registrar.observeAsHost({ action: 'interrupt', actor: 'agent:claude-1', target: reused });
  }
}

function longLivedStreams(registrar: AudioRegistrar): void {
  const longLived = utterance(registrar, 'long-lived', 'stop');
  expectAllowed(registrar.requestAsHost({ action: 'restart', actor: 'agent:claude-1', target: longLived }));
  const playing = expectAllowed(registrar.requestAsHost({ action: 'start', actor: 'agent:other', target: 'still-playing' })).streamId ?? '';
  expectAllowed(registrar.requestAsHost({ action: 'synthesize', actor: 'agent:other', target: playing }));
  expectAllowed(registrar.requestAsHost({ action: 'play', actor: 'agent:other', target: playing }));
}

const withoutIds = (r: AudioRegistrar) => r.listStates().map(({ lastAttestation: _ignored, ...rest }) => rest);

describe.each(CORES)('compaction ($name core)', (factory) => {
  it('keeps the number of streams bounded: terminal streams are compacted, live ones stay', () => {
    const registrar = registrarOn(factory.create(POLICY));
    busyRun(registrar, 200);
    const states = registrar.listStates();
    // Terminal streams live at most retain + period seqs (a handful of utterances); live ones stay.
    expect(states.length).toBeLessThan(40);
    expect(states.find((s) => s.streamId === 'still-playing')?.state).toBe('playing');
    expect(states.find((s) => s.streamId === 'long-lived')?.state).toBe('idle');
    const last = registrar.attestationStore.lastSeq;
    for (const stream of states) {
      if (stream.state !== 'stopped' && stream.state !== 'failed') continue;
      const record = registrar.attestationStore.query({ target: stream.streamId, decision: 'allowed' }).at(-1);
      expect(compactionPointOf(record?.seq ?? 0, POLICY)).toBeGreaterThan(last); // not due yet
    }
  });

  it('a full replay and restore(snapshot, tail) reach the same decisions and state hash as the live registrar', () => {
    const live = registrarOn(factory.create(POLICY));
    busyRun(live, 30);
    const snapshot = live.snapshot();
    busyRun(live, 40, false);
    const log = live.attestationStore.all();
    const replayed = AudioRegistrar.replay(log, { core: factory.create(POLICY) });
    expect(replayed.stateHash()).toBe(live.stateHash());
    expect(replayed.listStates()).toEqual(live.listStates());
    const restored = AudioRegistrar.restore(snapshot, log, { core: factory.create(POLICY) });
    expect(restored.stateHash()).toBe(live.stateHash());
    expect(verify(log, { replay: true })).toMatchObject({ ok: true, errors: [] }); // the policy is the log's
    // The other core re-decides the log the same way.
    const other = CORES.find((entry) => entry.name !== factory.name) as CompactingCore;
    expect(withoutIds(AudioRegistrar.replay(log, { core: other.create(POLICY) }))).toEqual(withoutIds(live));
  });

  it('a compacted stream is gone: interrupt is terminal_state, restart invalid_transition, start names a new stream', () => {
    const registrar = registrarOn(factory.create(POLICY));
    const id = utterance(registrar, 'ended', 'stop');
    const stoppedAt = registrar.attestationStore.lastSeq;
    expect(registrar.getState(id)?.state).toBe('stopped');
    // Before the compaction point the stopped stream is still there.
    expect(registrar.requestAsHost({ action: 'restart', actor: 'agent:other', target: id }).reason).toBe('not_owner');
    while (registrar.attestationStore.lastSeq < compactionPointOf(stoppedAt, POLICY)) utterance(registrar, undefined);
    expect(registrar.getState(id)).toBeNull();
    const interrupt = registrar.requestAsHost({ action: 'interrupt', actor: 'agent:claude-1', target: id });
    expect(interrupt).toMatchObject({ allowed: false, reason: 'terminal_state' });
    expect(registrar.requestAsHost({ action: 'restart', actor: 'agent:claude-1', target: id })).toMatchObject({ allowed: false, reason: 'invalid_transition' });
    const claimed = utterance(registrar, 'claimed-later', 'fail');
    const failedAt = registrar.attestationStore.lastSeq;
    while (registrar.attestationStore.lastSeq < compactionPointOf(failedAt, POLICY)) utterance(registrar, undefined);
    expect(expectAllowed(registrar.requestAsHost({ action: 'claim', actor: 'agent:other', target: claimed })).attestation).toMatchObject({ stateBefore: null, stateAfter: 'idle', version: 1 });
    const again = expectAllowed(registrar.requestAsHost({ action: 'start', actor: 'agent:other', target: id }));
    expect(again.attestation).toMatchObject({ stateBefore: null, stateAfter: 'compiling', version: 1, parent: null, metadata: { created: true } });
    expect(registrar.getState(id)).toMatchObject({ streamId: id, owner: 'agent:other', version: 1 });
    expect(verify(registrar.attestationStore.all()).ok).toBe(true);
  });

  it('a re-created id does not inherit the compacted stream\'s plugin grants', () => {
    const registrar = registrarOn(factory.create(POLICY));
    utterance(registrar, 'granted', 'stop', { allowPlugins: ['plugin:reverb'] });
    const stoppedAt = registrar.attestationStore.lastSeq;
    while (registrar.attestationStore.lastSeq < compactionPointOf(stoppedAt, POLICY)) utterance(registrar, undefined);
    expectAllowed(registrar.requestAsHost({ action: 'start', actor: 'agent:claude-1', target: 'granted' }));
    expect(registrar.requestAsHost({ action: 'mutate_graph', actor: 'plugin:reverb', target: 'granted' }).reason).toBe('not_owner');
  });

  it('frees ids and reuses them: the id table stays bounded over thousands of streams', () => {
    const core = factory.create(POLICY, 1024);
    const registrar = registrarOn(core);
    for (let index = 0; index < 3000; index += 1) utterance(registrar, undefined);
    // Live: what is not yet compacted (retain + period seqs of utterances, 4 seqs each); the table:
    // that plus one journal length (1024 seqs) of freed ids in quarantine.
    const { liveStreamIds, streamTableSize } = core.stats();
    expect(liveStreamIds).toBeLessThanOrEqual((POLICY.retainSeqs + POLICY.periodSeqs) / 4 + 2);
    expect(streamTableSize).toBeLessThanOrEqual(liveStreamIds + 1024 / 4 + POLICY.periodSeqs / 4 + 2);
  });

  it('a key whose id was freed and reused for another stream is looked up again, not confused with it', () => {
    const core = factory.create(POLICY, 1024);
    const registrar = registrarOn(core);
    const first = utterance(registrar, 'first', 'stop');
    expect(registrar.getState(first)?.state).toBe('stopped'); // cached key -> id in the native object
    for (let index = 0; index < 700; index += 1) utterance(registrar, undefined); // > retain + quarantine
    expect(registrar.getState(first)).toBeNull();
    expect(registrar.requestAsHost({ action: 'stop', actor: 'agent:claude-1', target: first }).reason).toBe('invalid_transition');
    const fresh = expectAllowed(registrar.requestAsHost({ action: 'start', actor: 'agent:claude-1', target: first }));
    expect(fresh.streamId).toBe(first);
    expect(registrar.getState(first)).toMatchObject({ streamId: first, state: 'compiling', version: 1 });
    expect(registrar.listStates().filter((s) => s.streamId === first)).toHaveLength(1);
    expect(AudioRegistrar.replay(registrar.attestationStore.all(), { core: factory.create(POLICY, 1024) }).stateHash()).toBe(registrar.stateHash());
  });

  it('negative: without compaction the same run keeps every stream, and replay without it is refused or a mismatch', () => {
    const compacting = registrarOn(factory.create(POLICY));
    busyRun(compacting, 60);
    const keeping = registrarOn(factory.create(false));
    for (let index = 0; index < 60; index += 1) utterance(keeping, undefined);
    expect(keeping.listStates().length).toBeGreaterThanOrEqual(60);
    const log = compacting.attestationStore.all();
    // A core that skips compaction (or applies another policy) is refused up front, naming both policies.
    expect(() => AudioRegistrar.replay(log, { core: factory.create(false) })).toThrow(expect.objectContaining({ code: 'REGISTRAR_REPLAY_POLICY', seq: 1 }));
    expect(() => AudioRegistrar.replay(log, { core: factory.create({ periodSeqs: 128, retainSeqs: 32 }) })).toThrow(/period 128, retain 32.*period 64, retain 32/);
    // A log whose policy statement was stripped (re-sealed) replays without compaction: it re-decides differently.
    const stripped = mutableCopy(log);
    const { compaction: _dropped, ...rest } = stripped[0]?.metadata ?? {};
    void _dropped;
    stripped[0] = { ...(stripped[0] as Attestation), metadata: rest };
    expect(() => AudioRegistrar.replay(reseal(stripped))).toThrow(expect.objectContaining({ code: 'REGISTRAR_REPLAY_MISMATCH', seq: POLICY.periodSeqs }));
    // verify of that log takes it as a log without compaction: the re-creations are second creations.
    const report = verify(reseal(stripped));
    expect(report.ok).toBe(false);
    expect(report.errors.some((error) => error.invariant === 'state.identity.unique')).toBe(true);
  });

  it('negative: a re-creation before the compaction point is still a second creation for verify', () => {
    const registrar = registrarOn(factory.create(POLICY));
    utterance(registrar, 'early', 'stop');
    const log = registrar.attestationStore.all().map((record) => ({ ...record })) as Attestation[];
    // A forged log re-creating "early" right away: verify must not take it for a compaction.
    const creation = log.find((record) => record.target === 'early' && record.stateBefore === null) as Attestation;
    const forged = [...log, { ...creation, seq: log.length + 1 }];
    expect(verify(forged).errors.map((e) => e.invariant)).toContain('state.identity.unique');
  });
});

describe('compaction on a native core shared by two objects (as by two threads)', () => {
  it('an id cached by one object and freed by the other\'s decisions is looked up again, never confused', () => {
    const a = new NativeCore({ compaction: POLICY, journalCapacity: 1024 });
    const b = NativeCore.attach(a.shareToken);
    const agent = a.registerActor('agent:a', ACTOR_KINDS.indexOf('agent'));
    const session = a.internScope(0, 'default');
    const request = (action: TransitionAction, stream: number): CoreRequest => ({
      actor: agent, actorKind: ACTOR_KINDS.indexOf('agent'), action: TRANSITION_ACTIONS.indexOf(action), stream,
      newOwner: NO_ID, preemptFor: NO_ID, priority: 5, session, user: NO_ID, overrideScope: 0, overrideScopeId: NO_ID, pluginAllowed: false,
    });
    const lifecycle = (core: NativeCore, key: string) => {
      for (const action of ['start', 'synthesize', 'play', 'stop'] as const) expect(core.decide(request(action, core.internStream(key))).allowed).toBe(true);
    };
    /** Enough of b's decisions that a's streams are removed, their ids freed and, a journal length later, reused. */
    const churn = (prefix: string) => {
      for (let index = 0; index < 600; index += 1) lifecycle(b, `${prefix}-${index}`);
    };
    lifecycle(a, 'k');
    const cachedK = a.internStream('k');
    churn('first');
    expect(b.stats().streamTableSize).toBeLessThan(600);
    // decide with an id a cached before the sweep: answered stale, a interns k again and decides.
    expect(a.internStream('k')).toBe(cachedK); // a has not heard of the sweep yet
    const restarted = a.decide(request('start', a.internStream('k')));
    expect(restarted).toMatchObject({ allowed: true, stateBefore: -1, version: 1 });
    expect(a.streamKey(restarted.stream)).toBe('k');
    // stream() with an id a cached before another sweep: looked up again, it finds k2b's new stream.
    lifecycle(a, 'k2b');
    const cachedK2b = a.streamIdOf('k2b');
    churn('second');
    expect(b.decide(request('start', b.internStream('k2b'))).allowed).toBe(true); // k2b again, under b
    expect(a.streamIdOf('k2b')).toBe(cachedK2b);
    expect(a.stream(cachedK2b)).toMatchObject({ state: STREAM_STATES.indexOf('compiling'), version: 1 });
    expect(a.stream(a.streamIdOf('k'))?.state).toBe(STREAM_STATES.indexOf('compiling')); // k lives on
    b.close();
    a.close();
  });
});

describe('compaction options', () => {
  it('defaults to DEFAULT_COMPACTION on both cores, and rejects bad options naming the field', () => {
    expect(new ReferenceCore().compactionPolicy()).toEqual(DEFAULT_COMPACTION);
    const native = new NativeCore();
    expect(native.compactionPolicy()).toEqual(DEFAULT_COMPACTION);
    native.close();
    expect(new ReferenceCore({ compaction: false }).compactionPolicy()).toBeNull();
    expect(() => new ReferenceCore({ compaction: { periodSeqs: 0 } })).toThrow(InputError);
    expect(() => new ReferenceCore({ compaction: { periodSeqs: 0 } })).toThrow(/compaction\.periodSeqs/);
    expect(() => new NativeCore({ compaction: { retainSeqs: -1 } })).toThrow(/compaction\.retainSeqs/);
  });
});
