import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '../helpers/waiting.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../src/audio/wav.js';
import { measureLoudness } from '../../src/audio/loudness.js';
import { AudioOutput } from '../../src/audio/output.js';
import { BaseBackend } from '../../src/backends/backend.js';
import { EspeakBackend } from '../../src/backends/espeak.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { AbortError, InputError } from '../../src/errors.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';

function rms(pcm: Float32Array): number {
  let sum = 0;
  for (const sample of pcm) sum += sample * sample;
  return Math.sqrt(sum / Math.max(1, pcm.length));
}

/** Zero crossings per second: a crude pitch/brightness proxy that moves with the voice's pitch. */
function crossingsPerSecond(pcm: Float32Array, sampleRateHz: number): number {
  let crossings = 0;
  for (let i = 1; i < pcm.length; i++) if ((pcm[i - 1] ?? 0) < 0 !== (pcm[i] ?? 0) < 0) crossings++;
  return crossings / (pcm.length / sampleRateHz);
}

describe('VoiceEngine', () => {
  let engine: VoiceEngine;
  let dir: string;

  beforeAll(() => {
    engine = new VoiceEngine();
    dir = mkdtempSync(join(tmpdir(), 'vs-engine-'));
  });
  afterAll(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('speaks with the embedded voice under an attested start → compile → synthesize → play → stop', async () => {
    const result = await engine.speak('Hello there. This is the default voice.');
    expect(result.backend).toBe('espeak');
    expect(result.sampleRateHz).toBe(22050);
    expect(result.durationMs).toBeGreaterThan(1000);
    expect(result.durationMs).toBeLessThan(6000);
    expect(rms(result.audio)).toBeGreaterThan(0.02);
    expect(result.realtimeFactor).toBeGreaterThan(0);
    expect(result.attestations.map((a) => `${a.action}:${a.decision}`)).toEqual([
      'start:allowed',
      'compile:allowed',
      'synthesize:allowed',
      'play:allowed',
      'stop:allowed',
    ]);
    expect(engine.registrar.getState(result.streamId)?.state).toBe('stopped');
    expect(engine.registrar.getState(result.streamId)?.owner).toBe('system:voice-engine');
  });

  it('streams sentence by sentence, the first chunk before the last sentence is synthesized', async () => {
    const sentences = Array.from({ length: 6 }, (_, i) => `This is sentence number ${i + 1} of a longer text.`).join(' ');
    // Sentences finished synthesizing when each chunk arrived (onProgress counts them): streaming
    // means the first chunk comes while most sentences are still to be synthesized.
    let sentencesDone = 0;
    const doneAtArrival: number[] = [];
    const chunks = [];
    for await (const chunk of engine.stream(sentences, { onProgress: (progress) => (sentencesDone = progress.done) })) {
      doneAtArrival.push(sentencesDone);
      chunks.push(chunk);
    }
    const speech = chunks.filter((chunk) => chunk.kind === 'speech');
    expect(speech.length).toBe(6);
    expect(speech[0]?.text).toContain('sentence number one');
    expect(chunks.map((chunk) => chunk.index)).toEqual(chunks.map((_, i) => i));
    // Chunk positions are contiguous.
    for (let i = 1; i < chunks.length; i++) expect(chunks[i]?.startMs).toBeCloseTo((chunks[i - 1]?.startMs ?? 0) + (chunks[i - 1]?.durationMs ?? 0), 6);
    expect(doneAtArrival[0]).toBe(0);
    expect(sentencesDone).toBe(6);
  });

  it('emotions and rate reach the audio', async () => {
    const text = 'The quick brown fox jumps over the lazy dog.';
    const neutral = await engine.speak(text);
    const fast = await engine.speak(text, { rate: 1.8 });
    const sad = await engine.speak(text, { emotion: 'sadness' });
    const joy = await engine.speak(text, { emotion: 'joy' });
    expect(fast.durationMs).toBeLessThan(neutral.durationMs * 0.75);
    expect(sad.durationMs).toBeGreaterThan(neutral.durationMs * 1.05);
    expect(crossingsPerSecond(joy.audio, joy.sampleRateHz)).not.toBeCloseTo(crossingsPerSecond(neutral.audio, neutral.sampleRateHz), 0);
  });

  it('light markup pauses and SSML breaks become silence of the asked length', async () => {
    const plain = await engine.speak('One two');
    const paused = await engine.speak('One [pause 800ms] two');
    expect(paused.durationMs - plain.durationMs).toBeGreaterThan(650);
    const ssml = await engine.speak('<speak>One <break time="700ms"/> two <mark name="end"/></speak>');
    expect(ssml.durationMs - plain.durationMs).toBeGreaterThan(550);
    expect(ssml.marks.map((mark) => mark.name)).toEqual(['end']);
  });

  it('reads free text with stray braces and brackets, but is strict with SSML and when asked', async () => {
    const free = await engine.speak('Index array[0] with {key} braces.');
    expect(free.durationMs).toBeGreaterThan(1000);
    await expect(engine.speak('Index array[0] with {key} braces.', { lenient: false })).rejects.toMatchObject({ code: 'MARKUP_INVALID' });
    await expect(engine.speak('<speak><unknown/></speak>')).rejects.toBeInstanceOf(InputError);
  });

  it('resamples to the asked rate and normalises loudness', async () => {
    const result = await engine.speak('Loudness normalisation brings speech to a target level for broadcast.', { sampleRateHz: 48000, targetLufs: -23 });
    expect(result.sampleRateHz).toBe(48000);
    const measured = measureLoudness(result.audio, { sampleRateHz: 48000, channels: 1 });
    expect(measured.integratedLufs).toBeCloseTo(-23, 0);
    expect(result.loudness?.integratedLufs).toBeCloseTo(measured.integratedLufs, 3);
    expect(measured.truePeakDb).toBeLessThanOrEqual(-0.99);
  });

  it('stream() normalises each whole sentence, even when the backend sends it in small pieces', async () => {
    // A backend that sends 1.5 s of a quiet tone per sentence in 100 ms pieces (like a cloud backend).
    class PiecewiseTone extends BaseBackend {
      readonly name = 'piecewise-tone';
      readonly capabilities = { streaming: true, wordTimings: false, phonemes: false, remote: false };
      async voices() {
        return [];
      }
      protected async *synthesizeOnce() {
        for (let piece = 0; piece < 15; piece++) {
          const pcm = Float32Array.from({ length: 2400 }, (_, i) => 0.05 * Math.sin((2 * Math.PI * 440 * (piece * 2400 + i)) / 24000));
          yield { pcm, sampleRateHz: 24000, channels: 1, metadata: {} };
        }
      }
    }
    const toneEngine = new VoiceEngine({ backend: new PiecewiseTone() });
    const speech = [];
    for await (const chunk of toneEngine.stream('One sentence. Another sentence.', { targetLufs: -20 })) if (chunk.kind === 'speech') speech.push(chunk);
    expect(speech).toHaveLength(2);
    for (const chunk of speech) {
      expect(chunk.durationMs).toBeCloseTo(1500, 0);
      expect(measureLoudness(chunk.pcm, { sampleRateHz: 24000, channels: 1 }).integratedLufs).toBeCloseTo(-20, 0);
    }
    await toneEngine.close();
  });

  it('writes files atomically and leaves nothing on failure', async () => {
    const path = join(dir, 'hello.wav');
    const result = await engine.speakToFile('Hello file.', path);
    const decoded = decodeWav(readFileSync(path));
    expect(decoded.sampleRateHz).toBe(result.sampleRateHz);
    expect(decoded.pcm.length).toBe(result.file.frames);
    expect(result.durationMs).toBeCloseTo((result.file.frames / result.sampleRateHz) * 1000, 6);
    const missingDir = join(dir, 'no-such-dir', 'out.wav');
    await expect(engine.speakToFile('Hello file.', missingDir)).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['hello.wav']);
  });

  it('rejects bad input before asking the registrar, naming the field', async () => {
    const before = engine.registrar.attestations(1)[0]?.seq;
    await expect(engine.speak('Hi', { rate: 99 })).rejects.toMatchObject({ name: 'InputError', field: 'options.rate' });
    await expect(engine.speak('<speak><prosody rate="fast">x</speak>', { format: 'ssml' })).rejects.toBeInstanceOf(InputError);
    await expect(engine.speak('Hi', { backend: 'nope' })).rejects.toMatchObject({ code: 'BACKEND_UNKNOWN' });
    expect(engine.registrar.attestations(1)[0]?.seq).toBe(before);
  });

  it('an aborted call rejects with AbortError and the stream ends in the registrar', async () => {
    const controller = new AbortController();
    const long = Array.from({ length: 20 }, () => 'A sentence that takes a while to speak.').join(' ');
    const iterator = engine.stream(long, { signal: controller.signal });
    const first = await iterator.next();
    expect(first.done).toBe(false);
    controller.abort();
    await expect(iterator.next()).rejects.toBeInstanceOf(AbortError);
    const streams = engine.registrar.listStates();
    expect(streams[streams.length - 1]?.state).toBe('stopped');
  });

  it('a consumer that stops reading ends the stream', async () => {
    let streamId = '';
    for await (const chunk of engine.stream('First sentence. Second sentence. Third sentence.')) {
      expect(chunk.kind).toBe('speech');
      streamId = engine.activeStreams()[0] ?? '';
      break;
    }
    expect(engine.registrar.getState(streamId)?.state).toBe('stopped');
    expect(engine.activeStreams()).toEqual([]);
  });

  it('reports health', async () => {
    const health = await engine.health();
    expect(health).toMatchObject({ backend: 'espeak', status: 'ok', modelLoaded: true, queueDepth: 0 });
    expect(health.memoryMb).toBeGreaterThan(10);
  });
});

describe('VoiceEngine under the registrar', () => {
  it('a denial stops the work with no partial effect', async () => {
    const registrar = new AudioRegistrar();
    const engine = new VoiceEngine({ registrar, actor: 'agent:narrator' });
    registrar.registerActor('user:alice', { sessions: ['kitchen'] });
    registrar.registerActor('user:bob', { sessions: ['kitchen'] });
    registrar.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'kitchen' } });
    // bob replacing alice's override would end it without disable_override: HALT, fail-closed.
    const bypass = registrar.requestAsHost({ action: 'enable_override', actor: 'user:bob', metadata: { scope: 'session', scopeId: 'kitchen' } });
    expect(bypass.allowed).toBe(false);
    expect(registrar.halted).toBe(true);
    const before = registrar.attestationStore.all().length;
    await expect(engine.speak('Nothing may play now.')).rejects.toMatchObject({ name: 'RegistrarHaltedError' });
    expect(registrar.listStates()).toEqual([]);
    const after = registrar.attestationStore.all();
    expect(after.length).toBe(before + 1);
    expect(after[after.length - 1]).toMatchObject({ action: 'start', decision: 'denied', reason: 'registrar_halted' });
    await engine.close();
  });

  it('a HALT stops every running stream at once (fail-closed) and silences the device', async () => {
    const registrar = new AudioRegistrar();
    const output = new AudioOutput({ backend: 'null', sampleRateHz: 22050, channels: 1, capture: true });
    const engine = new VoiceEngine({ registrar, output });
    registrar.registerActor('user:alice', { sessions: ['den'] });
    registrar.registerActor('user:bob', { sessions: ['den'] });
    registrar.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'den' } });
    const long = Array.from({ length: 12 }, () => 'This stream would go on for quite a while.').join(' ');
    const iterator = engine.stream(long);
    expect((await iterator.next()).done).toBe(false);
    const playing = engine.play(long);
    await waitUntil(() => output.stats().framesPlayed >= 2205, 'a tenth of a second played');
    const before = registrar.attestationStore.all().length;
    registrar.requestAsHost({ action: 'enable_override', actor: 'user:bob', metadata: { scope: 'session', scopeId: 'den' } });
    expect(registrar.halted).toBe(true);
    await expect(iterator.next()).rejects.toMatchObject({ name: 'RegistrarHaltedError' });
    await expect(playing).rejects.toMatchObject({ name: 'RegistrarHaltedError' });
    expect(engine.activeStreams()).toEqual([]);
    // The HALT record is the last word: the engine asked for nothing after it.
    expect(registrar.attestationStore.all().length).toBe(before + 1);
    await waitUntil(() => output.stats().completedInterruptGeneration >= output.stats().interruptGeneration, 'the fade to be rendered');
    const callbacks = output.stats().callbacks;
    await waitUntil(() => output.stats().callbacks > callbacks + 2, 'periods after the fade');
    const captured = output.readCapture();
    expect(rms(captured.subarray(captured.length - 512))).toBe(0);
    await engine.close();
    output.close();
  });

  it("a user's accessibility override shapes delivery and blocks an agent's interrupt", async () => {
    const registrar = new AudioRegistrar();
    const output = new AudioOutput({ backend: 'null', sampleRateHz: 22050, channels: 1, capture: true });
    const engine = new VoiceEngine({ registrar, actor: 'agent:assistant', output });
    registrar.registerActor('user:alice', { sessions: ['living-room'] });
    registrar.registerActor('agent:other');
    const text = 'Accessibility comes first. Users decide how fast they hear speech.';
    const normal = await engine.speak(text, { sessionId: 'living-room' });
    const enabled = registrar.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'living-room', speechRate: 0.6 } });
    expect(enabled.allowed).toBe(true);
    const slowed = await engine.speak(text, { sessionId: 'living-room' });
    expect(slowed.durationMs).toBeGreaterThan(normal.durationMs * 1.3);

    // While playing, an agent may not interrupt (accessibility_override); alice may.
    const playing = engine.play(text, { sessionId: 'living-room' });
    let streamId: string | undefined;
    await waitUntil(() => {
      const candidate = engine.activeStreams()[0];
      if (candidate && registrar.getState(candidate)?.state === 'playing') streamId = candidate;
      return streamId !== undefined;
    }, 'the stream to play');
    expect(streamId).toBeDefined();
    const byAgent = registrar.request({ action: 'interrupt', actor: registrar.registerActor('agent:other'), target: streamId ?? '' });
    // Not the owner either: the first violation in §4 order is the reason, all are listed.
    expect(byAgent).toMatchObject({ allowed: false, reason: 'not_owner' });
    expect(byAgent.violations.map((violation) => violation.invariant)).toContain('audio.accessibility.supremacy');
    const byOwnerAgent = engine.interrupt(streamId ?? '');
    expect(byOwnerAgent).toMatchObject({ allowed: false, reason: 'accessibility_override' });
    const byAlice = registrar.request({ action: 'interrupt', actor: registrar.registerActor('user:alice'), target: streamId ?? '' });
    expect(byAlice.allowed).toBe(true);
    const result = await playing;
    expect(result.interrupted).toBe(true);
    expect(registrar.getState(streamId ?? '')?.state).toBe('stopped');
    expect(result.durationMs).toBeLessThan(slowed.durationMs);
    await engine.close();
    output.close();
  });

  it("an agent cannot undo a user's override speech rate: its rate option, emotion and the text's own prosody leave every word at her rate", async () => {
    const registrar = new AudioRegistrar();
    const engine = new VoiceEngine({ registrar, actor: registrar.registerActor('agent:assistant') });
    const alice = registrar.registerActor('user:alice', { sessions: ['den'] });
    const text = 'Accessibility comes first. Users decide how fast they hear speech.';
    const free = await engine.speak(text, { sessionId: 'den', rate: 4 });
    expect(registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'den', speechRate: 0.6 } }).allowed).toBe(true);
    const asked = await engine.speak(text, { sessionId: 'den' });
    expect(asked.durationMs).toBeGreaterThan(free.durationMs * 3);
    for (const [input, options] of [
      [text, { rate: 4 }],
      [text, { emotion: 'excited', preset: 'announcer' }],
      [`<speak><prosody rate="400%">${text}</prosody></speak>`, {}],
    ] as const) {
      const undone = await engine.speak(input, { sessionId: 'den', ...options });
      // The same words at the same rate: within a few percent (an emotion also shapes pitch and pauses).
      expect(undone.durationMs).toBeGreaterThan(asked.durationMs * 0.9);
    }
    await engine.close();
  });

  it('interrupting playback silences the device within one period plus the fade', async () => {
    const output = new AudioOutput({ backend: 'null', sampleRateHz: 22050, channels: 1, periodFrames: 256, capture: true });
    const engine = new VoiceEngine({ output });
    const text = Array.from({ length: 8 }, () => 'This sentence keeps the device busy for a while.').join(' ');
    const playing = engine.play(text);
    let streamId: string | undefined;
    await waitUntil(() => {
      const candidate = engine.activeStreams()[0];
      if (candidate && engine.registrar.getState(candidate)?.state === 'playing' && output.stats().framesPlayed > 22050 / 2) streamId = candidate;
      return streamId !== undefined;
    }, 'half a second played');
    expect(streamId).toBeDefined();
    const result = engine.interrupt(streamId ?? '');
    expect(result.allowed).toBe(true);
    const played = await playing;
    expect(played.interrupted).toBe(true);
    expect(engine.registrar.getState(streamId ?? '')?.state).toBe('stopped');
    // After the fade the device plays silence: the captured output ends in zeros.
    await waitUntil(() => output.stats().completedInterruptGeneration >= output.stats().interruptGeneration, 'the fade to be rendered');
    const callbacks = output.stats().callbacks;
    await waitUntil(() => output.stats().callbacks > callbacks + 4, 'periods after the fade');
    const captured = output.readCapture();
    const tail = captured.subarray(captured.length - 1024);
    expect(rms(tail)).toBe(0);
    await engine.close();
    output.close();
  });

  it('concurrent play() calls of equal priority take turns on the device (the default policy: queue)', async () => {
    const output = new AudioOutput({ backend: 'null', sampleRateHz: 22050, channels: 1 });
    const engine = new VoiceEngine({ output });
    const both = Promise.all([engine.play('First in line.'), engine.play('Second in line.')]);
    // One holds the device, one waits its turn (a deadline only: the count is what is checked).
    let depth = 0;
    await waitUntil(async () => (depth = (await engine.health()).queueDepth) === 2, 'both play() calls queued');
    expect(depth).toBe(2);
    const [first, second] = await both;
    const seqOf = (result: typeof first, action: string) => result.attestations.find((a) => a.action === action)?.seq ?? -1;
    // The second stream is started only after the first one stopped.
    expect(seqOf(second, 'start')).toBeGreaterThan(seqOf(first, 'stop'));
    expect(engine.registrar.getState(second.streamId)?.state).toBe('stopped');
    // An abort while waiting for the device rejects without starting a stream.
    const controller = new AbortController();
    const busy = engine.play('Keeping the device busy for a moment.');
    const waiting = engine.play('Never played.', { signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortError);
    await busy;
    expect(engine.registrar.listStates()).toHaveLength(3);
    await engine.close();
    output.close();
  });

  it('interrupting a stream() leaves the device playing another utterance alone', async () => {
    const output = new AudioOutput({ backend: 'null', sampleRateHz: 22050, channels: 1 });
    const engine = new VoiceEngine({ output });
    const playing = engine.play('The device keeps playing this sentence to the end.');
    const iterator = engine.stream('A separate stream. It is interrupted after its first chunk.');
    const first = await iterator.next();
    const streamed = first.done ? '' : first.value.streamId;
    expect(engine.registrar.getState(streamed)?.state).toBe('playing');
    const generation = output.stats().interruptGeneration;
    expect(engine.interrupt(streamed).allowed).toBe(true);
    expect((await iterator.next()).done).toBe(true);
    const played = await playing;
    expect(played.interrupted).toBeUndefined();
    expect(output.stats().interruptGeneration).toBe(generation);
    await engine.close();
    output.close();
  });

  it('falls back to the next backend and reports the degradation', async () => {
    const broken = new EspeakBackend({ mode: 'process', binaryPath: '/nonexistent/espeak-ng' });
    const engine = new VoiceEngine({ backend: broken, fallback: ['espeak'] });
    const result = await engine.speak('Fallback keeps speaking.');
    expect(result.degraded?.servedBy).toBe('espeak');
    expect(result.degraded?.failures[0]?.backend).toBe('espeak');
    expect(result.degraded?.failures[0]?.code).toMatch(/ESPEAK|NOT_FOUND|SPAWN/);
    expect(rms(result.audio)).toBeGreaterThan(0.02);
    await engine.close();
  });

  it('fails the stream with the reason when every backend fails', async () => {
    const broken = new EspeakBackend({ mode: 'process', binaryPath: '/nonexistent/espeak-ng' });
    const registrar = new AudioRegistrar();
    const engine = new VoiceEngine({ backend: broken, registrar });
    await expect(engine.speak('Nothing works.')).rejects.toThrow();
    const [stream] = registrar.listStates();
    expect(stream?.state).toBe('failed');
    const fail = registrar.attestationStore.query({ action: 'fail' });
    expect(fail).toHaveLength(1);
    expect(JSON.stringify(fail[0]?.parameters)).toContain('espeak');
    await engine.close();
  });
});
