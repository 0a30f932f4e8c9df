/**
 * Under load: four worker threads attached to the engine's registrar make at least 10^5 requests
 * (their own streams through start, synthesize, play, interrupt, stop) while the main thread
 * play()s a fixture's known signal on the null device with capture. The load starts once the
 * stream is playing and the play lasts until the load is done (its live text source keeps adding
 * sentences until then), so all of it falls inside the play. The play's underruns stay 0 and the
 * captured output equals the input sample for sample from its first frame. The negative test
 * starves the stream on purpose (its source pauses longer than the ring holds): both checks
 * catch it.
 */
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { AudioOutput } from '../../src/audio/output.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';
import { capturedSoFar } from '../helpers/device-capture.js';
import { SignalBackend, signal } from '../helpers/signal-backend.js';
import { waitUntil } from '../helpers/waiting.js';
import type { LoadJob } from './fixtures/load-worker.js';

const WORKER_SCRIPT = fileURLToPath(new URL('./fixtures/load-worker.ts', import.meta.url));
// Workers do not inherit the test runner's TypeScript loader: register tsx, then import the fixture.
const WORKER_BOOTSTRAP = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(WORKER_SCRIPT)}); })`;

const WORKERS = 4;
const TARGET_REQUESTS = 100_000;
const RATE_HZ = 16_000;
/** 100 ms chunks, five to a sentence: half a second of signal per sentence. */
const CHUNK_FRAMES = 1_600;
const CHUNKS_PER_SENTENCE = 5;
/** The capture holds two minutes; it is also read out every second. */
const CAPTURE_FRAMES = RATE_HZ * 120;

const opened = closedAfterEach();

function setup(): { engine: VoiceEngine; output: AudioOutput; backend: SignalBackend; registrar: AudioRegistrar } {
  const registrar = new AudioRegistrar();
  const output = new AudioOutput({ backend: 'null', sampleRateHz: RATE_HZ, channels: 1, periodFrames: 256, capture: true, captureFrames: CAPTURE_FRAMES });
  const backend = new SignalBackend({ sampleRateHz: RATE_HZ, framesPerChunk: CHUNK_FRAMES, chunksPerSegment: CHUNKS_PER_SENTENCE });
  const engine = new VoiceEngine({ backend, output, registrar });
  opened.push(registrar, output, engine);
  return { engine, output, backend, registrar };
}

/**
 * The captured output against what play() wrote: from the first non-zero captured frame (the
 * signal is never zero), the frames that differ, and whether only silence follows.
 */
function compareCapture(captured: Float32Array, written: Float32Array): { start: number; mismatches: number; silentAfter: boolean } {
  let start = 0;
  while (start < captured.length && captured[start] === 0) start += 1;
  let mismatches = 0;
  for (let index = 0; index < written.length; index += 1) if (captured[start + index] !== written[index]) mismatches += 1;
  const after = captured.subarray(start + written.length);
  return { start, mismatches, silentAfter: after.every((sample) => sample === 0) };
}

/** The samples of `pcm` that are not silence (the pauses play() adds between sentences are exact zeros). */
function withoutSilence(pcm: Float32Array): Float32Array {
  return pcm.filter((sample) => sample !== 0);
}

describe('play() under registrar load', () => {
  it(`4 worker threads, ≥ ${TARGET_REQUESTS} registrar requests during the play: underruns 0, output equals input`, async () => {
    const { engine, output, backend, registrar } = setup();
    const counter = new Int32Array(new SharedArrayBuffer(8));
    const share = registrar.share();
    // The play lasts until the load is done: its source adds a sentence whenever the engine asks
    // for more text, until the workers' requests reach the target.
    async function* sentences(): AsyncGenerator<string> {
      for (let index = 1; Atomics.load(counter, 0) < TARGET_REQUESTS; index += 1) yield `Sentence ${index}. `;
      yield 'The end.';
    }
    const reading = setInterval(() => capturedSoFar(output), 1_000);
    try {
      const playing = engine.play(sentences(), { retainAudio: true });
      await waitUntil(() => engine.activeStreams().some((id) => registrar.getState(id)?.state === 'playing') && output.stats().framesPlayed > 0, 'the stream playing');
      const workers = Array.from({ length: WORKERS }, (_, index) => {
        const job: LoadJob = { share, index, target: TARGET_REQUESTS, counter: counter.buffer as SharedArrayBuffer };
        const worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData: job });
        return new Promise<{ requests: number; refused: number }>((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
        });
      });
      const reports = await Promise.all(workers);
      const result = await playing;
      const captured = capturedSoFar(output);

      expect(reports.reduce((sum, report) => sum + report.requests, 0)).toBeGreaterThanOrEqual(TARGET_REQUESTS);
      expect(reports.map((report) => report.refused)).toEqual([0, 0, 0, 0]);
      expect(result.attestations.at(-1)?.action).toBe('stop');
      expect(result.underruns).toBe(0);
      expect(output.stats().captureOverflowFrames).toBe(0);
      // What play() wrote is the input: the backend's signal, with the sentence pauses between.
      expect(withoutSilence(result.audio)).toEqual(signal(backend.samples));
      const { mismatches, silentAfter } = compareCapture(captured, result.audio);
      expect(mismatches).toBe(0);
      expect(silentAfter).toBe(true);
    } finally {
      clearInterval(reading);
    }
  }, 240_000);

  it('negative: a stream starved on purpose (its source pauses longer than the ring holds) shows underruns and a capture that differs', async () => {
    const { engine, output } = setup();
    async function* stalling(): AsyncGenerator<string> {
      yield 'One. ';
      yield 'Two. ';
      await sleep(1_500);
      yield 'Three.';
    }
    const result = await engine.play(stalling(), { retainAudio: true });
    const { mismatches } = compareCapture(capturedSoFar(output), result.audio);
    expect(result.underruns).toBeGreaterThan(0);
    expect(mismatches).toBeGreaterThan(0);
  });
});
