/**
 * Speech from a live text stream: an AsyncIterable of deltas (an LLM's tokens) through stream()
 * and play(), as one registrar stream, on the null device with capture.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AudioOutput } from '../../src/audio/output.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { AbortError, AudioError, InputError } from '../../src/errors.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import type { Heard } from '../../src/streaming/heard.js';
import { rejection } from '../helpers/errors.js';
import { recordingSource, tokenize } from '../helpers/text-source.js';
import { ToneWordsBackend, toneWords } from '../helpers/tone-words-backend.js';
import { waitUntil } from '../helpers/waiting.js';

const RATE_HZ = 16_000;
const ANSWER = 'Sure, the capital of France is Paris. It has about two million people. Anything else?';

const opened: Array<{ engine: VoiceEngine; output: AudioOutput }> = [];
function setup(): { engine: VoiceEngine; output: AudioOutput; backend: ToneWordsBackend; registrar: AudioRegistrar } {
  const output = new AudioOutput({ backend: 'null', sampleRateHz: RATE_HZ, channels: 1, periodFrames: 256, capture: true });
  const backend = new ToneWordsBackend({ sampleRateHz: RATE_HZ, toneFrames: 800, gapFrames: 160, level: 0.5 });
  const registrar = new AudioRegistrar();
  const engine = new VoiceEngine({ backend, output, registrar });
  opened.push({ engine, output });
  return { engine, output, backend, registrar };
}

afterEach(async () => {
  for (const { engine, output } of opened.splice(0)) {
    await engine.close();
    output.close();
  }
});

/** Runs of samples at the tone level in a capture: one per word spoken. */
function toneRuns(pcm: Float32Array): number {
  let runs = 0;
  for (let index = 0; index < pcm.length; index++) if (Math.abs(pcm[index] ?? 0) > 0.25 && Math.abs(pcm[index - 1] ?? 0) <= 0.25) runs += 1;
  return runs;
}

describe('VoiceEngine with a live text source', () => {
  it('plays an LLM-style token stream as one attested stream, every word reaching the device', async () => {
    const { engine, output, registrar } = setup();
    const { source, record } = recordingSource(tokenize(ANSWER));
    const result = await engine.play(source);
    expect(record).toMatchObject({ ended: true, closedEarly: false });
    // One stream for the whole source: each lifecycle step once.
    expect(result.attestations.map((attestation) => `${attestation.action}:${attestation.decision}`)).toEqual(['start:allowed', 'compile:allowed', 'synthesize:allowed', 'play:allowed', 'stop:allowed']);
    expect(registrar.listStates()).toHaveLength(1);
    expect(JSON.stringify(result.attestations[1]?.parameters)).toContain('"textSource":"live"');
    await waitUntil(() => output.stats().bufferedFrames === 0, 'the ring to drain');
    expect(toneRuns(output.readCapture())).toBe(toneWords(ANSWER).length);
    expect(result.heard?.text).toBe(ANSWER);
    expect(result.heard?.cutAtMs).toBeNull();
    expect(result.heard?.words.every((word) => word.heard === 'full' && word.source === 'reported')).toBe(true);
  });

  it('stream() yields the first sentence while the source is still writing; an interrupt closes the source', async () => {
    const { engine, backend, registrar } = setup();
    const { source, record } = recordingSource(tokenize('The first sentence is here. And the second one is still'), { stall: true });
    const chunks = engine.stream(source, { textStream: { minChars: 1000, maxWaitMs: 60_000 } });
    const first = await chunks.next();
    expect(first.done).toBe(false);
    expect(backend.segments).toEqual(['The first sentence is here.']);
    expect(record.ended).toBe(false);
    const streamId = first.value?.streamId ?? '';
    // The generator now waits on the stalled source: the interrupt must end that wait too.
    const rest = (async () => {
      for await (const chunk of chunks) void chunk;
    })();
    expect(engine.interrupt(streamId).allowed).toBe(true);
    await rest;
    expect(record.closedEarly).toBe(true);
    expect(registrar.getState(streamId)?.state).toBe('stopped');
  });

  it('an interrupt during play() closes the source and reports what was heard', async () => {
    const { engine } = setup();
    const { source, record } = recordingSource(tokenize('Hello there. Let me look that up'), { stall: true });
    let interrupted: Heard | undefined;
    const playing = engine.play(source, { textStream: { maxWaitMs: 60_000 }, onInterrupted: (heard) => (interrupted = heard) });
    await waitUntil(() => engine.activeStreams().length === 1 && engine.registrar.getState(engine.activeStreams()[0] ?? '')?.state === 'playing', 'the first sentence to play');
    const streamId = engine.activeStreams()[0] ?? '';
    expect(engine.interrupt(streamId, { reason: 'barge-in' }).allowed).toBe(true);
    const result = await playing;
    expect(result.interrupted).toBe(true);
    expect(record.closedEarly).toBe(true);
    expect(interrupted).toEqual(result.heard);
    expect(result.heard?.cutAtMs).not.toBeNull();
  });

  it("the caller's abort stops the stream and closes the source", async () => {
    const { engine, registrar } = setup();
    const { source, record } = recordingSource(tokenize('Working on it'), { stall: true });
    const controller = new AbortController();
    const playing = engine.play(source, { signal: controller.signal });
    await waitUntil(() => engine.activeStreams().length === 1, 'the stream to start');
    await waitUntil(() => record.pulled === 3, 'the source to be read');
    controller.abort();
    expect(await rejection(playing)).toBeInstanceOf(AbortError);
    expect(record.closedEarly).toBe(true);
    const [state] = registrar.listStates();
    expect(['stopped', 'failed']).toContain(state?.state);
  });

  it('a source that throws fails the stream with the reason in the attested fail', async () => {
    const { engine, registrar } = setup();
    const { source } = recordingSource(tokenize('Partial answer. Then'), { failWith: new Error('socket reset') });
    const error = await rejection(engine.play(source));
    expect(error).toBeInstanceOf(AudioError);
    expect(error.code).toBe('TEXT_SOURCE_FAILED');
    const [state] = registrar.listStates();
    expect(state?.state).toBe('failed');
    const fail = registrar.attestationStore.query({ action: 'fail' });
    expect(fail).toHaveLength(1);
    expect(fail[0]?.decision).toBe('allowed');
    expect(JSON.stringify(fail[0]?.parameters)).toContain('socket reset');
  });

  it('validates the source before any request, and each delta as it comes', async () => {
    const { engine, registrar } = setup();
    for (const bad of [42, null, { text: 'x' }, ['an', 'array']]) {
      const error = await rejection(engine.play(bad as unknown as string));
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).field).toBe('text');
    }
    const speakError = await rejection(engine.speak(recordingSource(['Hi.']).source as unknown as string));
    expect((speakError as InputError).field).toBe('text');
    const ssml = await rejection(engine.play(recordingSource(['<speak>Hi</speak>']).source, { format: 'ssml' }));
    expect((ssml as InputError).field).toBe('options.format');
    const options = await rejection(engine.play(recordingSource(['Hi.']).source, { textStream: { minChars: 0 } }));
    expect((options as InputError).field).toBe('options.textStream.minChars');
    expect(registrar.listStates()).toHaveLength(0);

    const { source, record } = recordingSource(['Fine so far. ', 7, ' never read']);
    const delta = await rejection(engine.play(source));
    expect(delta).toBeInstanceOf(InputError);
    expect((delta as InputError).field).toBe('text[1]');
    expect(record.closedEarly).toBe(true);
    expect(registrar.listStates()[0]?.state).toBe('failed');
  });

  it('bounds the pending text: an endless run-on past maxPendingChars fails the stream naming the option', async () => {
    const { engine } = setup();
    const { source } = recordingSource(['x'.repeat(100), 'y'.repeat(100)]);
    const error = await rejection(engine.play(source, { textStream: { maxPendingChars: 150 } }));
    expect((error as InputError).field).toBe('textStream.maxPendingChars');
  });
});
