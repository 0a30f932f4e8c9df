// Issue 7 point 1 across threads: a decision made on ANOTHER worker thread sharing the native core
// silences the engine's stream at the device within one period (+ the ≤ 5 ms fade) of the decision,
// with no help from this thread: the voice watches the stream's state word in the core
// (native/core/stream_watch.h) and the audio callback starts the fade itself. To prove it, this
// thread blocks in Atomics.wait while the worker decides and then busy-reads the device position
// (its event loop never turns, so no transition event, doorbell or sink close can run), and reads
// the capture before unblocking. Frames are counted on the capture; no wall-clock bound.
// Planted violation: the same scenario on a core whose watch is removed must fail the same check.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { AudioOutput } from '../../src/audio/output.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { NativeCore } from '../../src/registrar/native-core.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';
import { nullDevice, PERIOD_FRAMES, RATE_HZ } from '../helpers/null-device-host.js';
import { ConstantLevelBackend } from '../helpers/constant-level-backend.js';
import { capturedSoFar, position } from '../helpers/device-capture.js';
import { unwatchedCore } from '../helpers/unwatched-core.js';
import { waitUntil } from '../helpers/waiting.js';
import type { WatchJob } from './fixtures/watch-worker.js';

const WORKER_SCRIPT = fileURLToPath(new URL('./fixtures/watch-worker.ts', import.meta.url));
// Workers do not inherit the test runner's TypeScript loader: register tsx, then import the fixture.
const WORKER_BOOTSTRAP = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(WORKER_SCRIPT)}); })`;

const LEVEL = 0.25;
/** Periods the blocked thread lets the device render after the decision before it reads the capture. */
const BLOCKED_PERIODS = 12;
/** A hang guard for the blocked thread's waits (never an assertion on speed). */
const HANG_MS = 60_000;

const opened = closedAfterEach();

/** A one-second voice ring: while this thread is blocked the device has plenty queued to play on. */
const device = (): AudioOutput => nullDevice(opened, { bufferFrames: RATE_HZ, captureSeconds: 60 });

interface Played {
  readonly streamId: string;
  readonly result: Promise<unknown>;
}

/** Starts play() on `engine` and waits until its stream plays, with a few periods heard and the voice ring well filled. */
async function playing(engine: VoiceEngine, registrar: AudioRegistrar, output: AudioOutput, sessionId?: string): Promise<Played> {
  const before = new Set(engine.activeStreams());
  // `mix`: a second engine's play sounds together with the first (the default policy queues it).
  const result = engine.play('a constant level for a long while', sessionId ? { sessionId, policy: 'mix' } : { policy: 'mix' });
  result.catch(() => undefined);
  let streamId = '';
  await waitUntil(() => {
    streamId = engine.activeStreams().find((id) => !before.has(id)) ?? '';
    return streamId !== '' && registrar.getState(streamId)?.state === 'playing';
  }, 'the stream to play');
  const from = position(output);
  await waitUntil(() => position(output) > from + PERIOD_FRAMES * 4, 'a few periods of it');
  return { streamId, result };
}

interface Blocked {
  /** The device position read right after the worker's decision returned (the decision is at or before it). */
  readonly decidedBy: number;
  readonly captured: Float32Array;
  /** Transition events this thread heard while blocked (none can arrive: its event loop is stopped). */
  readonly heardWhileBlocked: number;
  readonly report: Promise<{ allowed: boolean; reason: string | null; attestationId: string; halted: boolean }>;
}

/** Runs the worker's request while this thread is blocked (see the file comment) and reads the capture before unblocking. */
async function decideWhileBlocked(registrar: AudioRegistrar, output: AudioOutput, job: Omit<WatchJob, 'share' | 'cell'>): Promise<Blocked> {
  const cell = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData: { ...job, share: registrar.share(), cell: cell.buffer } satisfies WatchJob });
  opened.push({ close: () => worker.terminate() });
  const messages: unknown[] = [];
  let failed: unknown = null;
  worker.on('message', (message) => messages.push(message));
  worker.once('error', (error) => (failed = error));
  await waitUntil(() => failed !== null || messages.includes('armed'), 'the worker to arm');
  expect(failed).toBeNull();
  const report = new Promise<Blocked['report'] extends Promise<infer T> ? T : never>((resolve, reject) => {
    worker.on('message', (message) => message !== 'armed' && resolve(message as never));
    worker.once('error', reject);
  });
  let heard = 0;
  const stopListening = registrar.onTransition(() => (heard += 1));
  // From here to the capture read, nothing yields: this thread's event loop is stopped.
  Atomics.store(cell, 0, 1);
  Atomics.notify(cell, 0);
  if (Atomics.wait(cell, 1, 0, HANG_MS) === 'timed-out') throw new Error('the worker never decided');
  const decidedBy = position(output);
  const deadline = Date.now() + HANG_MS;
  while (position(output) < decidedBy + BLOCKED_PERIODS * PERIOD_FRAMES) {
    if (Date.now() > deadline) throw new Error('the device stopped rendering');
  }
  const captured = capturedSoFar(output).slice();
  const heardWhileBlocked = heard;
  stopListening();
  return { decidedBy, captured, heardWhileBlocked, report };
}

/** The first silent frame at or after `from` (Infinity when the capture has none): the end of the fade. */
function firstSilent(captured: Float32Array, from: number): number {
  for (let index = from; index < captured.length; index += 1) if (captured[index] === 0) return index;
  return Number.POSITIVE_INFINITY;
}

/** The check: silent within one period + the fade of the decision, and silent from then on. */
function silencedInTime(blocked: Blocked, fadeFrames: number, from: number): boolean {
  const silent = firstSilent(blocked.captured, from);
  return silent <= blocked.decidedBy + PERIOD_FRAMES + fadeFrames && blocked.captured.subarray(silent).every((sample) => sample === 0);
}

/** An engine of `agent` on `registrar` playing a constant level (10 s per segment). */
function engineOf(registrar: AudioRegistrar, output: AudioOutput, agent: string): VoiceEngine {
  const actor = registrar.registerActor(agent);
  const engine = new VoiceEngine({ registrar, actor, output, backend: new ConstantLevelBackend({ level: LEVEL, sampleRateHz: RATE_HZ, framesPerSegment: RATE_HZ * 10 }) });
  opened.push(engine);
  return engine;
}

describe('the audio callback obeys the registrar core directly (decisions on another thread)', () => {
  for (const kind of ['interrupt', 'stop', 'fail'] as const) {
    it(`${kind} decided on a worker thread: silent within one period + fade of the decision while this thread is blocked`, async () => {
      const registrar = new AudioRegistrar({ core: new NativeCore() });
      const output = device();
      const engine = engineOf(registrar, output, 'agent:assistant');
      const { streamId, result } = await playing(engine, registrar, output);
      const from = position(output);
      const blocked = await decideWhileBlocked(registrar, output, { kind, actor: 'agent:assistant', target: streamId });
      expect(blocked.heardWhileBlocked).toBe(0);
      expect(blocked.captured[from]).toBe(LEVEL); // it was playing when the worker was fired
      expect(silencedInTime(blocked, output.fadeFrames, from)).toBe(true);
      // Unblocked, the rest goes as before: the sink closes on the transition and play() settles with the attestation.
      const report = await blocked.report;
      expect(report.allowed).toBe(true);
      // interrupt / stop settle play() as interrupted; fail rejects it with STREAM_FAILED: both name the worker's attestation.
      const settled = (await result.then((value) => value, (error: unknown) => error)) as { endedBy?: { attestationId: string }; attestationId?: string; code?: string };
      if (kind === 'fail') expect(settled).toMatchObject({ code: 'STREAM_FAILED', attestationId: report.attestationId });
      else expect(settled.endedBy?.attestationId).toBe(report.attestationId);
      // The device's interrupt counts stay paired: the watch's cut completes the sink's request.
      await waitUntil(() => output.stats().completedInterruptGeneration >= output.stats().interruptGeneration, 'the interrupt counts to pair');
    });
  }

  it('planted violation: on a core without the watch the same blocked check fails (the device plays on until the event loop turns)', async () => {
    const registrar = new AudioRegistrar({ core: unwatchedCore() });
    const output = device();
    const engine = engineOf(registrar, output, 'agent:assistant');
    const { streamId, result } = await playing(engine, registrar, output);
    const from = position(output);
    const blocked = await decideWhileBlocked(registrar, output, { kind: 'interrupt', actor: 'agent:assistant', target: streamId });
    expect((await blocked.report).allowed).toBe(true);
    expect(silencedInTime(blocked, output.fadeFrames, from)).toBe(false);
    // It kept playing through the whole blocked window.
    expect(blocked.captured.subarray(from, blocked.decidedBy + BLOCKED_PERIODS * PERIOD_FRAMES).every((sample) => sample === LEVEL)).toBe(true);
    await result.catch(() => undefined);
  });

  it('a change that keeps the stream playing (ownership transfer on a worker thread) does not fade it', async () => {
    const registrar = new AudioRegistrar({ core: new NativeCore() });
    const output = device();
    const engine = engineOf(registrar, output, 'agent:assistant');
    const { streamId, result } = await playing(engine, registrar, output);
    const from = position(output);
    const blocked = await decideWhileBlocked(registrar, output, { kind: 'transfer', actor: 'agent:assistant', target: streamId, newOwner: 'agent:other' });
    expect(blocked.captured.subarray(from, blocked.decidedBy + BLOCKED_PERIODS * PERIOD_FRAMES).every((sample) => sample === LEVEL)).toBe(true);
    expect(firstSilent(blocked.captured, from)).toBe(Number.POSITIVE_INFINITY);
    const report = await blocked.report;
    expect(report.allowed).toBe(true);
    expect(registrar.getState(streamId)).toMatchObject({ state: 'playing', owner: 'agent:other' });
    // Still sounding after this thread heard the transfer too.
    const at = position(output);
    await waitUntil(() => position(output) > at + PERIOD_FRAMES * 4, 'more periods');
    const later = capturedSoFar(output);
    expect(later.subarray(at, at + PERIOD_FRAMES * 4).every((sample) => sample === LEVEL)).toBe(true);
    const other = registrar.registerActor('agent:other');
    expect(registrar.request({ action: 'stop', actor: other, target: streamId }).allowed).toBe(true);
    await result.catch(() => undefined);
  });

  it('a halt decided on a worker thread silences every watched voice while this thread is blocked', async () => {
    const registrar = new AudioRegistrar({ core: new NativeCore() });
    const output = device();
    const first = engineOf(registrar, output, 'agent:assistant');
    const second = engineOf(registrar, output, 'agent:helper');
    const alice = registrar.registerActor('user:alice', { sessions: ['den'] });
    expect(registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'den' } }).allowed).toBe(true);
    const one = await playing(first, registrar, output, 'den');
    const two = await playing(second, registrar, output, 'den');
    const from = position(output);
    const blocked = await decideWhileBlocked(registrar, output, { kind: 'bypass', actor: 'user:bob', sessionId: 'den' });
    expect(blocked.heardWhileBlocked).toBe(0);
    expect(blocked.captured[from]).toBe(2 * LEVEL); // both were sounding
    expect(silencedInTime(blocked, output.fadeFrames, from)).toBe(true);
    expect(await blocked.report).toMatchObject({ allowed: false, reason: 'accessibility_override', halted: true });
    await expect(one.result).rejects.toMatchObject({ name: 'RegistrarHaltedError' });
    await expect(two.result).rejects.toMatchObject({ name: 'RegistrarHaltedError' });
  });

  it('a watch comes only from a spent play permit, a voice takes one, only a real one; the reference core has none', async () => {
    const output = device();
    const voice = output.openVoice();
    expect(() => voice.watch({} as never)).toThrow(expect.objectContaining({ code: 'AUDIO_INVALID_ARGUMENT' }));
    for (const core of [new NativeCore(), new ReferenceCore()]) {
      const registrar = new AudioRegistrar({ core });
      opened.push(registrar);
      const agent = registrar.registerActor('agent:assistant');
      const streamId = registrar.request({ action: 'start', actor: agent }).streamId ?? '';
      for (const action of ['compile', 'synthesize'] as const) expect(registrar.request({ action, actor: agent, target: streamId }).allowed).toBe(true);
      const permit = registrar.require(registrar.request({ action: 'play', actor: agent, target: streamId }), { action: 'play' });
      expect(() => registrar.streamWatch(permit)).toThrow(expect.objectContaining({ code: 'REGISTRAR_REQUIRED' })); // not spent yet
      const watch = registrar.streamWatch(registrar.spend(permit, { action: 'play' }));
      if (core instanceof ReferenceCore) {
        expect(watch).toBeNull();
        continue;
      }
      expect(watch).not.toBeNull();
      expect(Object.isFrozen(watch) && Object.keys(watch ?? {}).length === 0).toBe(true);
      expect(voice.watch(watch as NonNullable<typeof watch>)).toBe(true);
      expect(() => voice.watch(watch as NonNullable<typeof watch>)).toThrow(expect.objectContaining({ code: 'AUDIO_VOICE_WATCHED' }));
    }
    voice.close();
  });

  it('a voice cut by its watch and closed before its `interrupted` event is pumped is still reclaimed (the pump runs on until its slot is free)', async () => {
    const output = device();
    const registrar = new AudioRegistrar({ core: new NativeCore() });
    opened.push(registrar);
    const agent = registrar.registerActor('agent:assistant');
    const streamId = registrar.request({ action: 'start', actor: agent }).streamId ?? '';
    for (const action of ['compile', 'synthesize'] as const) registrar.request({ action, actor: agent, target: streamId });
    const permit = registrar.spend(registrar.require(registrar.request({ action: 'play', actor: agent, target: streamId }), { action: 'play' }), { action: 'play' });
    const voice = output.openVoice();
    voice.watch(registrar.streamWatch(permit) as NonNullable<ReturnType<AudioRegistrar['streamWatch']>>);
    voice.write(new Float32Array(RATE_HZ / 2).fill(LEVEL));
    output.start();
    await waitUntil(() => voice.stats().state === 'playing', 'the voice to play');
    // From the decision to the close nothing yields, so the cut's event is still in the ring.
    expect(registrar.request({ action: 'interrupt', actor: agent, target: streamId }).allowed).toBe(true);
    const deadline = Date.now() + HANG_MS;
    while (voice.stats().state !== 'interrupted') if (Date.now() > deadline) throw new Error('the watch never cut the voice');
    voice.close();
    output.pollEvents(); // dispatches `interrupted` to the closed voice, most likely before the callback acknowledged the retirement
    await waitUntil(() => output.stats().liveVoices === 0, 'the slot to be reclaimed by the pump');
  });
});
