/**
 * Underruns of a play under registrar load, a row of bench/realtime.bench.ts: four worker threads
 * attached to the engine's registrar (test/engine/fixtures/load-worker.ts) make `requests`
 * requests while the main thread play()s a fixture signal on the null device; the play lasts
 * until the load is done (its live text source adds sentences until then), so all of it falls
 * inside the play. Reports the play's underruns, the load's duration and throughput, and the
 * main thread's event-loop delay meanwhile (what the write-ahead has to cover). The same scenario
 * is asserted (default mode, underruns 0) by test/engine/under-load.alone.test.ts.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AudioOutput } from '../src/audio/output.js';
import { VoiceEngine } from '../src/engine/voice-engine.js';
import { AudioRegistrar } from '../src/registrar/registrar.js';
import { SignalBackend } from '../test/helpers/signal-backend.js';
import type { LoadJob } from '../test/engine/fixtures/load-worker.js';

const WORKER_SCRIPT = fileURLToPath(new URL('../test/engine/fixtures/load-worker.ts', import.meta.url));
const WORKER_BOOTSTRAP = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(WORKER_SCRIPT)}); })`;
const RATE_HZ = 16_000;

/** What one loaded play measured. */
export interface LoadedPlay {
  mode: string;
  requests: number;
  loadMs: number;
  audioS: number;
  underruns: number;
  /** Event-loop delay of the main thread during the play, p99 and max (ms). */
  loopP99Ms: number;
  loopMaxMs: number;
}

/** Plays under the load of `workers` threads making `requests` registrar requests in all. */
export async function loadedPlay(options: { realtime: boolean; requests: number; workers?: number }): Promise<LoadedPlay> {
  const workers = options.workers ?? 4;
  const registrar = new AudioRegistrar();
  const output = new AudioOutput({ backend: 'null', sampleRateHz: RATE_HZ, channels: 1, periodFrames: 256 });
  const engine = new VoiceEngine({ backend: new SignalBackend({ sampleRateHz: RATE_HZ, framesPerChunk: 1600, chunksPerSegment: 5 }), output, registrar, realtime: options.realtime });
  const counter = new Int32Array(new SharedArrayBuffer(8));
  async function* sentences(): AsyncGenerator<string> {
    for (let index = 1; Atomics.load(counter, 0) < options.requests; index += 1) yield `Sentence ${index}. `;
    yield 'The end.';
  }
  try {
    const playing = engine.play(sentences());
    while (output.stats().framesPlayed === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const started = performance.now();
    const share = registrar.share();
    const reports = await Promise.all(
      Array.from({ length: workers }, (_, index) => {
        const job: LoadJob = { share, index, target: options.requests, counter: counter.buffer as SharedArrayBuffer };
        const worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData: job });
        return new Promise<{ requests: number }>((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
        });
      }),
    );
    const loadMs = performance.now() - started;
    const result = await playing;
    delay.disable();
    return {
      mode: options.realtime ? `realtime (maxLatencyMs 50)` : 'default (2 s write-ahead)',
      requests: reports.reduce((sum, report) => sum + report.requests, 0),
      loadMs,
      audioS: result.durationMs / 1000,
      underruns: result.underruns,
      loopP99Ms: delay.percentile(99) / 1e6,
      loopMaxMs: delay.max / 1e6,
    };
  } finally {
    await engine.close();
    output.close();
    await registrar.close();
  }
}

/** Prints the rows of `loadedPlay` results. */
export function printLoadedPlays(rows: readonly LoadedPlay[], periodMs: number): void {
  process.stdout.write(`\nUnderruns of a play under registrar load (4 worker threads; null device, period ${periodMs.toFixed(0)} ms)\n`);
  for (const row of rows) {
    process.stdout.write(
      `  ${row.mode.padEnd(28)} underruns ${String(row.underruns).padStart(4)}  ${row.requests} requests in ${(row.loadMs / 1000).toFixed(1)} s ` +
        `(${Math.round(row.requests / (row.loadMs / 1000))}/s), audio ${row.audioS.toFixed(1)} s, event-loop delay p99 ${row.loopP99Ms.toFixed(0)} ms max ${row.loopMaxMs.toFixed(0)} ms\n`,
    );
  }
}
