// Decisions are effects (issue 7.1, 7.2, 7.6): whoever makes an allowed interrupt/stop/fail, the
// engine's audio for that stream fades at the device within one period of the decision; no frame
// reaches the device before an allowed play or after the stream's next transition; close() is a
// decision too. Real addon, miniaudio's null device with capture, a constant-level backend so the
// fade is found in the captured output by counting frames (no wall-clock assertions).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../helpers/waiting.js';
import { AttestationStore } from '../../src/attestation/store.js';
import { ConstantLevelBackend } from '../helpers/constant-level-backend.js';
import { capturedSoFar, position } from '../helpers/device-capture.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';
import { constantLevel, framesUntilFade, framesUntilSilenced, LEVEL, nullDevice, nullDeviceHost, PERIOD_FRAMES, playing, RATE_HZ, SEGMENT_FRAMES } from '../helpers/null-device-host.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import type { EngineOutput } from '../../src/graph/engine-output.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import type { Permit } from '../../src/registrar/types.js';
import { NativeCore } from '../../src/registrar/native-core.js';
import { SinkBook } from '../../src/streaming/sink-book.js';
import { Worker } from 'node:worker_threads';

const WORKER_SCRIPT = fileURLToPath(new URL('./fixtures/interrupt-worker.ts', import.meta.url));
// Workers do not inherit the test runner's TypeScript loader: register tsx, then import the fixture.
const WORKER_BOOTSTRAP = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(WORKER_SCRIPT)}); })`;

/** Every segment "spoken" as 2 s of a constant level. */
const CONSTANT = { level: LEVEL, sampleRateHz: RATE_HZ, framesPerSegment: SEGMENT_FRAMES };

const opened = closedAfterEach();

describe('decisions are effects at the device', () => {
  it("the owner's interrupt requested directly on the registrar silences the device within one period; play() settles as interrupted with the attestation id", async () => {
    const { registrar, agent, output, engine } = nullDeviceHost(opened);
    const { result, streamId } = await playing(engine, output, registrar);
    const at = position(output);
    const decision = registrar.request({ action: 'interrupt', actor: agent, target: streamId, reason: 'barge-in' });
    // The decision fell between `at` and here: a thread pre-empted meanwhile widens the bound by that much only.
    const slack = position(output) - at;
    expect(decision.allowed).toBe(true);
    const played = await result;
    const callbacks = output.stats().callbacks;
    await waitUntil(() => output.stats().callbacks > callbacks + 4, 'periods after the interrupt');
    const captured = capturedSoFar(output);
    expect(framesUntilFade(output, at, captured)).toBeLessThanOrEqual(PERIOD_FRAMES + slack);
    expect(played.interrupted).toBe(true);
    expect(played.endedBy).toMatchObject({ action: 'interrupt', actor: 'agent:assistant', attestationId: decision.attestation.id });
    expect(registrar.getState(streamId)?.state).toBe('stopped');
    // After the fade, nothing but silence was rendered.
    const fadeEnd = at + framesUntilFade(output, at, captured) + output.fadeFrames;
    expect(captured.subarray(fadeEnd).every((sample) => sample === 0)).toBe(true);
  });

  it("a user's override beats the agent: the agent's interrupt is denied and the audio goes on; the user's interrupt silences it", async () => {
    const { registrar, agent, alice, output, engine } = nullDeviceHost(opened);
    registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'den' } });
    const { result, streamId } = await playing(engine, output, registrar, { sessionId: 'den' });
    const deniedAt = position(output);
    expect(registrar.request({ action: 'interrupt', actor: agent, target: streamId }).reason).toBe('accessibility_override');
    expect(engine.interrupt(streamId).reason).toBe('accessibility_override');
    await waitUntil(() => position(output) > deniedAt + PERIOD_FRAMES * 8, 'periods after the denial');
    // A denied interrupt that silenced anything would show a fade here.
    expect(framesUntilFade(output, deniedAt)).toBeGreaterThanOrEqual(PERIOD_FRAMES * 8);
    const at = position(output);
    const allowed = registrar.request({ action: 'interrupt', actor: alice, target: streamId });
    const slack = position(output) - at;
    expect(allowed.allowed).toBe(true);
    const played = await result;
    expect(await framesUntilSilenced(output, at)).toBeLessThanOrEqual(PERIOD_FRAMES + slack);
    expect(played.endedBy).toMatchObject({ actor: 'user:alice', attestationId: allowed.attestation.id });
  });

  it("an owner's stop silences like an interrupt; an owner's fail rejects play() with STREAM_FAILED and the attestation id", async () => {
    const first = nullDeviceHost(opened);
    const stopped = await playing(first.engine, first.output, first.registrar);
    let at = position(first.output);
    const stop = first.registrar.request({ action: 'stop', actor: first.agent, target: stopped.streamId });
    const played = await stopped.result;
    expect(await framesUntilSilenced(first.output, at)).toBeLessThanOrEqual(PERIOD_FRAMES);
    expect(played.endedBy).toMatchObject({ action: 'stop', attestationId: stop.attestation.id });

    const second = nullDeviceHost(opened);
    const failed = await playing(second.engine, second.output, second.registrar);
    at = position(second.output);
    const fail = second.registrar.request({ action: 'fail', actor: second.agent, target: failed.streamId, reason: 'agent gave up' });
    await expect(failed.result).rejects.toMatchObject({ code: 'STREAM_FAILED', attestationId: fail.attestation.id });
    expect(await framesUntilSilenced(second.output, at)).toBeLessThanOrEqual(PERIOD_FRAMES);
    expect(second.registrar.getState(failed.streamId)?.state).toBe('failed');
  });

  it('no frame reaches the device before the allowed play, and none after the stream ended', async () => {
    const { registrar, output, engine } = nullDeviceHost(opened);
    const seen: { action: string; queuedOrPlayed: number }[] = [];
    registrar.onTransition((event) => {
      const stats = output.stats();
      // A voice's own ring is not in the device's bufferedFrames: a live voice counts as queued (planted-violations.test.ts).
      seen.push({ action: event.action, queuedOrPlayed: stats.framesPlayed + stats.bufferedFrames + stats.liveVoices });
    });
    const { result, streamId } = await playing(engine, output, registrar);
    expect(seen.slice(0, 3)).toEqual([
      { action: 'start', queuedOrPlayed: 0 },
      { action: 'compile', queuedOrPlayed: 0 },
      { action: 'synthesize', queuedOrPlayed: 0 },
    ]);
    expect(seen[3]).toEqual({ action: 'play', queuedOrPlayed: 0 });
    engine.interrupt(streamId);
    await result;
    await waitUntil(() => output.stats().completedInterruptGeneration >= output.stats().interruptGeneration, 'the fade to complete');
    const after = output.stats();
    await waitUntil(() => output.stats().callbacks > after.callbacks + 4, 'callbacks after the end');
    expect(output.stats().framesPlayed).toBe(after.framesPlayed);
  });

  it('closing is a decision: close() stops every running stream with reason engine_closed and nothing stays playing', async () => {
    const { registrar, output, engine } = nullDeviceHost(opened);
    const { result, streamId } = await playing(engine, output, registrar);
    const at = position(output);
    // close() requests its stops synchronously, before its first await.
    const closing = engine.close();
    const slack = position(output) - at;
    await closing;
    const played = await result;
    expect(played.endedBy).toMatchObject({ action: 'stop', reason: 'engine_closed' });
    expect(await framesUntilSilenced(output, at)).toBeLessThanOrEqual(PERIOD_FRAMES + slack);
    expect(registrar.getState(streamId)?.state).toBe('stopped');
    expect(registrar.listStates().filter((stream) => stream.state === 'playing' || stream.state === 'interrupting')).toEqual([]);
    const stop = registrar.attestationStore.all().find((record) => record.action === 'stop' && record.target === streamId);
    expect(stop).toMatchObject({ decision: 'allowed', actor: { kind: 'system', id: 'voice-engine' }, parameters: { reason: 'engine_closed' } });
  });

  it('an interrupt decided on another thread sharing the native core silences this thread\'s device and ends play()', async () => {
    const core = new NativeCore();
    const registrar = new AudioRegistrar({ core });
    const agent = registrar.registerActor('agent:assistant');
    const output = nullDevice(opened);
    const engine = new VoiceEngine({ registrar, actor: agent, output, backend: constantLevel() });
    opened.push(engine);
    const { result, streamId } = await playing(engine, output, registrar);
    const at = position(output);
    const report = await new Promise<{ allowed: boolean; reason: string | null; seq: number; attestationId: string }>((resolve, reject) => {
      const worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData: { share: registrar.share(), streamId, actor: 'agent:assistant' } });
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    expect(report).toMatchObject({ allowed: true, reason: null });
    const played = await result;
    // One log: this thread's registrar wrote the worker's record, with the worker's text and id.
    expect(played.endedBy).toMatchObject({ action: 'interrupt', actor: 'agent:assistant', seq: report.seq, attestationId: report.attestationId, reason: 'from a worker' });
    expect(registrar.getState(streamId)?.state).toBe('stopped');
    await waitUntil(() => output.stats().completedInterruptGeneration >= output.stats().interruptGeneration, 'the fade to be rendered');
    const captured = capturedSoFar(output);
    const fadeAt = at + framesUntilFade(output, at, captured);
    expect(fadeAt).toBeLessThan(captured.length);
    expect(captured.subarray(fadeAt + output.fadeFrames).every((sample) => sample === 0)).toBe(true);
  });

  it('a halt caused by a failed log write silences the device and rejects play() (fail-closed)', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'vs-binding-')), 'log.jsonl');
    const { store } = AttestationStore.open(path, { durability: 'fsync' });
    const { registrar, alice, output, engine } = nullDeviceHost(opened, { store });
    const { result } = await playing(engine, output, registrar);
    await store.close();
    const at = position(output);
    registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'user', scopeId: 'alice' } });
    const slack = position(output) - at;
    expect(registrar.haltCause?.cause).toBe('attestation_io');
    await expect(result).rejects.toMatchObject({ name: 'RegistrarHaltedError' });
    expect(await framesUntilSilenced(output, at)).toBeLessThanOrEqual(PERIOD_FRAMES + slack);
  });
});

describe('stream() and speak() obey decisions made elsewhere too', () => {
  const sentences = Array.from({ length: 6 }, (_, index) => `Sentence number ${index + 1}.`).join(' ');

  it("stream(): the owner's interrupt on the registrar ends the iteration early; someone's fail throws STREAM_FAILED with the attestation id", async () => {
    const registrar = new AudioRegistrar();
    const agent = registrar.registerActor('agent:assistant');
    const engine = new VoiceEngine({ registrar, actor: agent, backend: constantLevel() });
    opened.push(engine);
    let chunks = 0;
    for await (const chunk of engine.stream(sentences)) {
      chunks += 1;
      if (chunks === 1) expect(registrar.request({ action: 'interrupt', actor: agent, target: chunk.streamId }).allowed).toBe(true);
    }
    expect(chunks).toBe(1);
    const interrupted = registrar.listStates()[0];
    expect(interrupted?.state).toBe('stopped');

    let failed: { attestation: { id: string } } | undefined;
    const consume = async () => {
      for await (const chunk of engine.stream(sentences)) {
        failed ??= registrar.request({ action: 'fail', actor: agent, target: chunk.streamId, reason: 'cancelled upstream' });
      }
    };
    const error = await consume().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: 'STREAM_FAILED', attestationId: failed?.attestation.id });
  });

  it("speak(): a stop by the owner while synthesizing resolves with what was made, interrupted, naming the decision", async () => {
    const registrar = new AudioRegistrar();
    const agent = registrar.registerActor('agent:assistant');
    const engine = new VoiceEngine({ registrar, actor: agent, backend: constantLevel() });
    opened.push(engine);
    let decision: { attestation: { id: string } } | undefined;
    registrar.onTransition((event) => {
      if (event.action === 'play') queueMicrotask(() => (decision = registrar.request({ action: 'interrupt', actor: agent, target: event.streamId })));
    });
    const result = await engine.speak(sentences);
    expect(result.interrupted).toBe(true);
    expect(result.endedBy).toMatchObject({ action: 'interrupt', attestationId: decision?.attestation.id });
    expect(result.audio.length).toBeLessThan(RATE_HZ * 2 * 6);
  });
});

describe('hostile callers around the engine (adversarial review findings)', () => {
  it("an agent's listener that throws cannot keep a user's interrupt from silencing the user's engine", async () => {
    const registrar = new AudioRegistrar();
    const agent = registrar.registerActor('agent:assistant');
    const alice = registrar.registerActor('user:alice');
    const agentEngine = new VoiceEngine({ registrar, actor: agent, backend: constantLevel() });
    opened.push(agentEngine);
    agentEngine.registrar.onTransition((event) => {
      if (event.action === 'interrupt') throw Object.create(null);
    });
    agentEngine.registrar.onHalt(() => {
      throw Object.create(null);
    });
    const output = nullDevice(opened);
    const userEngine = new VoiceEngine({ registrar, actor: alice, output, backend: constantLevel() });
    opened.push(userEngine);
    const onWarning = () => undefined;
    process.on('warning', onWarning);
    try {
      const { result, streamId } = await playing(userEngine, output, registrar);
      const at = position(output);
      expect(registrar.request({ action: 'interrupt', actor: alice, target: streamId }).allowed).toBe(true);
      const slack = position(output) - at;
      expect((await result).interrupted).toBe(true);
      expect(await framesUntilSilenced(output, at)).toBeLessThanOrEqual(PERIOD_FRAMES + slack);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it("two engines share one device: one engine's interrupt fades only its own voice, the other's plays on", async () => {
    const registrar = new AudioRegistrar();
    const output = nullDevice(opened);
    const agent = registrar.registerActor('agent:a');
    const alice = registrar.registerActor('user:alice');
    const agentEngine = new VoiceEngine({ registrar, actor: agent, output, backend: new ConstantLevelBackend({ ...CONSTANT, level: 0.25 }) });
    const userEngine = new VoiceEngine({ registrar, actor: alice, output, backend: new ConstantLevelBackend({ ...CONSTANT, level: 0.125, framesPerSegment: RATE_HZ * 8 }) });
    opened.push(agentEngine, userEngine);
    // Equal priorities queue by default (docs/ENGINE.md, "Scheduling"): these two ask to be mixed.
    const agentPlay = agentEngine.play('constant level for a while', { policy: 'mix' });
    const userPlay = userEngine.play('constant level for a while', { policy: 'mix' });
    agentPlay.catch(() => undefined);
    let agentStream = '';
    let userStream = '';
    await waitUntil(() => {
      agentStream = agentEngine.activeStreams()[0] ?? '';
      userStream = userEngine.activeStreams()[0] ?? '';
      return agentStream !== '' && userStream !== '' && registrar.getState(agentStream)?.state === 'playing' && registrar.getState(userStream)?.state === 'playing';
    }, 'both streams to play');
    // Both mixed: 0.25 + 0.125 (exact in float32) somewhere in the capture.
    await waitUntil(() => capturedSoFar(output).some((sample) => sample === 0.375), 'the two streams mixed');
    // The agent may not interrupt alice's stream (not the owner): denied, and nothing is faded.
    expect(registrar.request({ action: 'interrupt', actor: agent, target: userStream }).allowed).toBe(false);
    const at = position(output);
    expect(registrar.request({ action: 'interrupt', actor: agent, target: agentStream }).allowed).toBe(true);
    const slack = position(output) - at;
    expect((await agentPlay).interrupted).toBe(true);
    await waitUntil(() => output.stats().completedInterruptGeneration >= output.stats().interruptGeneration && position(output) > at + PERIOD_FRAMES * 4, 'the fade and a few periods after it');
    const captured = capturedSoFar(output);
    // From one period after the request on, only alice's level plays (or silence between her segments).
    const after = captured.subarray(at + slack + PERIOD_FRAMES + output.fadeFrames, position(output));
    expect(after.length).toBeGreaterThan(PERIOD_FRAMES * 2);
    expect(after.every((sample) => sample === 0.125 || sample === 0)).toBe(true);
    expect(after.some((sample) => sample === 0.125)).toBe(true);
    expect(registrar.getState(userStream)?.state).toBe('playing');
    expect(userEngine.interrupt(userStream).allowed).toBe(true);
    await userPlay;
  });

  it("a host can pin an agent engine's session and user: the agent cannot step outside a user's session override", async () => {
    const registrar = new AudioRegistrar();
    const agent = registrar.registerActor('agent:assistant');
    const alice = registrar.registerActor('user:alice', { sessions: ['kitchen'] });
    registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'kitchen', speechRate: 0.8 } });
    const engine = new VoiceEngine({ registrar, actor: agent, backend: constantLevel(), sessionId: 'kitchen', userId: 'alice' });
    opened.push(engine);
    await expect(engine.speak('hi', { sessionId: 'elsewhere' })).rejects.toMatchObject({ name: 'InputError', field: 'options.sessionId' });
    await expect(engine.speak('hi', { userId: 'mallory' })).rejects.toMatchObject({ name: 'InputError', field: 'options.userId' });
    const result = await engine.speak('hi');
    expect(registrar.getState(result.streamId)).toMatchObject({ sessionId: 'kitchen', userId: 'alice' });
    expect(registrar.overrideFor(result.streamId)?.owner).toBe('user:alice');
  });

  it('play() racing close() starts no stream after close', async () => {
    const { registrar, engine } = nullDeviceHost(opened);
    const late = engine.play('started in the same tick as close');
    await engine.close();
    await expect(late).rejects.toMatchObject({ code: 'ENGINE_CLOSED' });
    expect(registrar.listStates()).toEqual([]);
  });

  it("aborting play() is the owner's request: allowed, it stops the stream as the agent; under a user's override it is denied and the speech plays to its end", async () => {
    const free = nullDeviceHost(opened);
    const controller = new AbortController();
    const freePlay = free.engine.play('constant level for a while', { signal: controller.signal });
    freePlay.catch(() => undefined);
    await waitUntil(() => free.registrar.listStates()[0]?.state === 'playing' && position(free.output) > PERIOD_FRAMES * 4, 'the stream to play');
    const at = position(free.output);
    controller.abort();
    await expect(freePlay).rejects.toMatchObject({ name: 'AbortError' });
    expect(await framesUntilSilenced(free.output, at)).toBeLessThanOrEqual(PERIOD_FRAMES);
    const stop = free.registrar.attestationStore.all().find((record) => record.action === 'stop');
    expect(stop).toMatchObject({ decision: 'allowed', actor: { kind: 'agent', id: 'assistant' }, parameters: { reason: 'aborted by the caller' } });

    const guarded = nullDeviceHost(opened);
    guarded.registrar.request({ action: 'enable_override', actor: guarded.alice, metadata: { scope: 'session', scopeId: 'den' } });
    const guardedController = new AbortController();
    const guardedPlay = guarded.engine.play('constant level for a while', { signal: guardedController.signal, sessionId: 'den' });
    guardedPlay.catch(() => undefined);
    await waitUntil(() => guarded.registrar.listStates()[0]?.state === 'playing' && position(guarded.output) > PERIOD_FRAMES * 4, 'the stream to play');
    const abortedAt = position(guarded.output);
    guardedController.abort();
    await expect(guardedPlay).rejects.toMatchObject({ code: 'REGISTRAR_DENIED', reason: 'accessibility_override' });
    // Played to its natural end: the whole 2 s segment went out at the level, no fade in between.
    expect(framesUntilFade(guarded.output, abortedAt)).toBeGreaterThanOrEqual(RATE_HZ * 2 - abortedAt - PERIOD_FRAMES);
    const streamId = guarded.registrar.listStates()[0]?.streamId ?? '';
    expect(guarded.registrar.getState(streamId)?.state).toBe('stopped');
    const records = guarded.registrar.attestationStore.all().filter((record) => record.target === streamId && record.action === 'stop');
    expect(records.map((record) => `${record.actor?.kind}:${record.decision}:${record.reason}`)).toEqual(['agent:denied:accessibility_override', 'system:allowed:null']);
  });

  it('stream() stops yielding as soon as an interrupt is allowed, even from a backend that ignores its signal', async () => {
    class DeafBackend extends ConstantLevelBackend {
      override async *synthesize(): AsyncIterable<EngineOutput> {
        for (let index = 0; index < 20; index += 1) yield { pcm: new Float32Array(2400).fill(LEVEL), sampleRateHz: RATE_HZ, channels: 1, metadata: {} };
      }
    }
    const registrar = new AudioRegistrar();
    const agent = registrar.registerActor('agent:assistant');
    const engine = new VoiceEngine({ registrar, actor: agent, backend: new DeafBackend(CONSTANT) });
    opened.push(engine);
    let chunks = 0;
    for await (const chunk of engine.stream('one long sentence')) {
      chunks += 1;
      if (chunks === 1) registrar.request({ action: 'interrupt', actor: agent, target: chunk.streamId });
    }
    expect(chunks).toBe(1);
  });

  it('a fake AbortSignal is refused before any stream starts; backends passed in are not closed by the engine', async () => {
    const registrar = new AudioRegistrar();
    const backend = constantLevel();
    let closed = 0;
    const originalClose = backend.close.bind(backend);
    backend.close = async () => {
      closed += 1;
      await originalClose();
    };
    const engine = new VoiceEngine({ registrar, actor: registrar.registerActor('agent:x'), backend });
    const fake = Object.create(AbortSignal.prototype) as AbortSignal;
    await expect(engine.speak('hello', { signal: fake })).rejects.toMatchObject({ name: 'InputError', field: 'options.signal' });
    expect(registrar.listStates()).toEqual([]);
    await engine.close();
    expect(closed).toBe(0);
  });
});

describe('the sink and the engine hand out no authority', () => {
  it('a sink opens only with a genuine, current, unspent play permit, and refuses writes once closed', async () => {
    const registrar = new AudioRegistrar();
    const owner = registrar.registerActor('agent:x');
    const output = nullDevice(opened);
    const book = new SinkBook(registrar);
    opened.push({ close: () => book.dispose() });
    const start = registrar.request({ action: 'start', actor: owner });
    const target = start.streamId ?? '';
    registrar.request({ action: 'synthesize', actor: owner, target });
    const play = registrar.request({ action: 'play', actor: owner, target });
    const permit = registrar.require(play, { action: 'play', streamId: target });
    const forged = { action: 'play', streamId: target, seq: permit.seq, attestationId: permit.attestationId } as unknown as Permit;
    expect(() => book.open(forged, output)).toThrow(/not a permit of this registrar/);
    expect(() => book.open(Object.create(permit) as Permit, output)).toThrow(/not a permit/);
    const other = new AudioRegistrar();
    expect(() => new SinkBook(other).open(permit, output)).toThrow(/not a permit of this registrar/);
    const sink = book.open(permit, output);
    expect(() => book.open(permit, output)).toThrow(/already spent/);
    expect(output.stats().liveVoices).toBe(1);
    await sink.write(new Float32Array(PERIOD_FRAMES * 8).fill(LEVEL));
    await waitUntil(() => sink.playedFrames() >= PERIOD_FRAMES, 'a period of the stream played');
    registrar.request({ action: 'stop', actor: owner, target });
    expect(sink.closure).toMatchObject({ action: 'stop', actor: 'agent:x' });
    // The stream's voice fades out and is freed once the callback lets go of it.
    await waitUntil(() => (output.pollEvents(), output.stats().liveVoices === 0), "the stream's voice to be freed");
    const played = sink.playedFrames();
    expect(played).toBeLessThan(PERIOD_FRAMES * 8);
    const before = output.stats();
    await expect(sink.write(new Float32Array(PERIOD_FRAMES).fill(LEVEL))).rejects.toMatchObject({ code: 'STREAM_SINK_CLOSED' });
    sink.setGain(0); // no effect once closed, and no throw
    await waitUntil(() => output.stats().callbacks > before.callbacks + 2, 'callbacks after the refused write');
    // Not one frame of the refused write reached the device: no voice took it, nothing more played.
    expect(output.stats().liveVoices).toBe(0);
    expect(output.stats().framesPlayed).toBe(before.framesPlayed);
    expect(sink.playedFrames()).toBe(played);

    // A permit that a later decision superseded opens nothing.
    const next = registrar.request({ action: 'start', actor: owner });
    const nextId = next.streamId ?? '';
    registrar.request({ action: 'synthesize', actor: owner, target: nextId });
    const stale = registrar.require(registrar.request({ action: 'play', actor: owner, target: nextId }), { action: 'play' });
    registrar.request({ action: 'interrupt', actor: owner, target: nextId });
    expect(() => book.open(stale, output)).toThrow(/superseded/);
  });

  it('an agent engine cannot act as anyone else: no actor option, no deciding registrar, no store', () => {
    const registrar = new AudioRegistrar();
    const agent = registrar.registerActor('agent:assistant');
    const engine = new VoiceEngine({ registrar, actor: agent, backend: constantLevel() });
    opened.push(engine);
    expect(() => engine.interrupt('stream-x', { actor: 'user:alice' } as never)).toThrow(/options: Unrecognized key/);
    const view = engine.registrar as unknown as Record<string, unknown>;
    for (const name of ['request', 'requestAsHost', 'observe', 'observeAsHost', 'registerActor', 'attestationStore', 'require', 'spend', 'recover']) {
      expect(view[name], name).toBeUndefined();
    }
    expect(Object.isFrozen(engine.registrar)).toBe(true);
    const foreign = new AudioRegistrar().registerActor('user:alice');
    expect(() => new VoiceEngine({ registrar, actor: foreign })).toThrow(/another registrar/);
  });
});
