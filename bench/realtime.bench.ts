/**
 * Real-time figures of the device mixer (issue 9). Run: npm run bench:realtime
 *
 * 1. Interrupt → silence of one voice, on miniaudio's null backend with the default period (480
 *    frames at 48 kHz) and a small one (64). Each sample opens a voice, fills it with a constant
 *    level, waits for its `started` event, reads the device position, calls `voice.interrupt()` and
 *    waits for the voice's `interrupted` event, which carries the device frame where the voice went
 *    silent (the end of its fade). Figures are device frames after the request, so they say what a
 *    listener hears independently of how this script is scheduled:
 *    - first faded frame = interrupted.deviceFrames − fadeFrames (the voice's ring holds far more
 *      than a fade, so the fade always runs its full length): the goal is p99 ≤ one period + 1 ms;
 *    - first silent frame = the end of the fade: by design the first faded frame + 5 ms.
 *    The device position is read just before the request; a period rendering at that moment had
 *    started before the request and plays in full, so one period is the floor of the worst case.
 *    On the null backend the request always lands between two wake-ups (it sleeps about 10 ms, then
 *    renders the periods due back to back), so these are 0 and 5 ms; the wall-clock rows show the
 *    pacing: request → the callback that rendered the fade (its time read from the device's
 *    last-callback clock when the event is seen before the next wake-up; other samples are not
 *    counted, and how many were is printed), and request → the event seen on this thread.
 * 2. Callback cost per period with 1, 8 and 32 voices (each with a period queued) and 8 voices
 *    while their gains ramp, timed in C++ around the render function on a stopped device
 *    (`renderForBenchmark`). Baseline: the default single ring rendering one period, interleaved
 *    in the same run. Also as a share of the period's real-time budget.
 * 3. Time to first audio from a token stream: `engine.stream(tokens)` from the delta that ends the
 *    first sentence to the first audio chunk, against `stream()` of that sentence alone in the same
 *    run (the rows of bench/text-stream.bench.ts, imported; tone fixture backend, no synthesis cost).
 * 4. Underruns of a play under registrar load (bench/registrar-load.ts): 4 worker threads making
 *    REALTIME_BENCH_LOAD_REQUESTS (default 10^5) registrar requests during a play, in the default
 *    mode and in real-time mode.
 */
import { AudioOutput } from '../src/audio/output.js';
import type { NativeAudioDevice } from '../src/native/audio-binding.js';
import { nativeBinding } from '../src/native/loader.js';
import { VoiceEngine } from '../src/engine/voice-engine.js';
import { ToneWordsBackend } from '../test/helpers/tone-words-backend.js';
import { loadedPlay, printLoadedPlays } from './registrar-load.js';
import { alone, live } from './text-stream.bench.js';

const SAMPLE_RATE_HZ = 48_000;
const LEVEL = 0.5;
/** Interrupt samples per period size (the issue asks for at least 1000). */
const INTERRUPTS = Number(process.env.REALTIME_BENCH_INTERRUPTS ?? 1000);
/** Render samples per row. */
const RENDERS = 3000;
const DEADLINE_MS = 5_000;
/** First-audio samples per row. */
const FIRST_AUDIO_SAMPLES = Number(process.env.REALTIME_BENCH_FIRST_AUDIO ?? 30);
/** Registrar requests of the load rows (the issue asks for at least 10^5). */
const LOAD_REQUESTS = Number(process.env.REALTIME_BENCH_LOAD_REQUESTS ?? 100_000);

function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + DEADLINE_MS;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

interface InterruptFigures {
  periodFrames: number;
  fadedFrames: number[];
  silentFrames: number[];
  wallMs: number[];
  renderedMs: number[];
  fadeFrames: number;
}

async function measureInterrupts(periodFrames: number): Promise<InterruptFigures> {
  const output = new AudioOutput({ backend: 'null', sampleRateHz: SAMPLE_RATE_HZ, channels: 1, periodFrames, bufferFrames: SAMPLE_RATE_HZ / 2 });
  const figures: InterruptFigures = { periodFrames, fadedFrames: [], silentFrames: [], wallMs: [], renderedMs: [], fadeFrames: output.fadeFrames };
  const level = new Float32Array(SAMPLE_RATE_HZ / 4).fill(LEVEL);
  output.start();
  try {
    for (let sample = 0; sample < INTERRUPTS + 5; sample += 1) {
      const voice = output.openVoice();
      let started = false;
      let silentAt = -1;
      voice.on('started', () => (started = true));
      voice.on('interrupted', (event) => (silentAt = event.deviceFrames));
      voice.write(level);
      await until(() => (output.pollEvents(), started), 'the voice to start');
      // Spread the requests over the null backend's 10 ms wake cycle (0..10 ms after the start was seen).
      await sleep((sample * 7) % 11);
      const at = output.stats().deviceFrames;
      const begun = performance.now();
      voice.interrupt();
      await until(() => (output.pollEvents(), silentAt >= 0), 'the interrupted event');
      const seen = performance.now();
      const stats = output.stats();
      const wallMs = seen - begun;
      voice.close();
      if (sample < 5) continue; // warm-up
      // The fade was rendered by the last callback's burst when no later wake-up (10 ms) has run since.
      if (stats.msSinceLastCallback !== null && stats.deviceFrames - silentAt < SAMPLE_RATE_HZ / 100) {
        figures.renderedMs.push(seen - stats.msSinceLastCallback - begun);
      }
      figures.silentFrames.push(silentAt - at);
      figures.fadedFrames.push(silentAt - output.fadeFrames - at);
      figures.wallMs.push(wallMs);
    }
  } finally {
    output.close();
  }
  return figures;
}

interface RenderRow {
  name: string;
  periodFrames: number;
  nanos: number[];
}

/** One device per row, all stopped; rows interleaved sample by sample so load hits all alike. */
function measureRenders(periodFrames: number): RenderRow[] {
  const binding = nativeBinding();
  const open = (): NativeAudioDevice =>
    new binding.AudioDevice({ backend: 'null', sampleRateHz: SAMPLE_RATE_HZ, channels: 2, periodFrames, bufferFrames: periodFrames * 4, captureFrames: 0 });
  const period = Float32Array.from({ length: periodFrames * 2 }, (_, index) => Math.sin(index * 0.01) * 0.25);
  const baseline = open();
  const rows: { row: RenderRow; device: NativeAudioDevice; voices: number[]; ramp: boolean }[] = [{ row: { name: 'baseline: default ring only', periodFrames, nanos: [] }, device: baseline, voices: [], ramp: false }];
  for (const [count, ramp] of [[1, false], [8, false], [32, false], [8, true]] as const) {
    const device = open();
    const voices = Array.from({ length: count }, () => device.openVoice(periodFrames * 4, 0.5));
    rows.push({ row: { name: `${count} voice${count === 1 ? '' : 's'}${ramp ? ', gains ramping' : ''}`, periodFrames, nanos: [] }, device, voices, ramp });
  }
  try {
    for (let sample = 0; sample < RENDERS + 50; sample += 1) {
      for (const { row, device, voices, ramp } of rows) {
        if (voices.length === 0) device.write(period);
        for (const id of voices) {
          device.voiceWrite(id, period);
          if (ramp) device.voiceSetGain(id, sample % 2 === 0 ? 0.25 : 0.75, periodFrames * 4);
        }
        const nanos = device.renderForBenchmark(periodFrames);
        if (sample >= 50) row.nanos.push(nanos);
      }
    }
    for (const { device, voices } of rows) {
      const stats = device.stats();
      if (stats.underruns !== 0) throw new Error(`render benchmark underran (${stats.underruns}): it would measure silence`);
      for (const id of voices) if (device.voiceStats(id).underruns !== 0) throw new Error('a voice underran: it would measure silence');
    }
  } finally {
    for (const { device } of rows) device.close();
  }
  return rows.map(({ row }) => row);
}

function printInterrupts(figures: InterruptFigures): void {
  const { periodFrames, fadeFrames } = figures;
  const periodMs = (1000 * periodFrames) / SAMPLE_RATE_HZ;
  const goalFrames = periodFrames + SAMPLE_RATE_HZ / 1000;
  const show = (name: string, values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const p50 = percentile(sorted, 0.5);
    const p99 = percentile(sorted, 0.99);
    const max = sorted[sorted.length - 1] ?? Number.NaN;
    const ms = (frames: number) => ((1000 * frames) / SAMPLE_RATE_HZ).toFixed(2);
    process.stdout.write(
      `  ${name.padEnd(34)} p50 ${String(p50).padStart(5)} frames = ${(p50 / periodFrames).toFixed(2)} periods = ${ms(p50)} ms | ` +
        `p99 ${String(p99).padStart(5)} frames = ${(p99 / periodFrames).toFixed(2)} periods = ${ms(p99)} ms | max ${ms(max)} ms\n`,
    );
    return p99;
  };
  process.stdout.write(`\ninterrupt → silence of one voice, period ${periodFrames} frames (${periodMs.toFixed(2)} ms), fade ${fadeFrames} frames, ${figures.silentFrames.length} interrupts\n`);
  const fadedP99 = show('request → first faded frame', figures.fadedFrames);
  show('request → first silent frame', figures.silentFrames);
  const rendered = [...figures.renderedMs].sort((a, b) => a - b);
  const renderedP99 = percentile(rendered, 0.99);
  process.stdout.write(
    `  ${'request → fade rendered (wall)'.padEnd(34)} p50 ${percentile(rendered, 0.5).toFixed(2)} ms | p99 ${renderedP99.toFixed(2)} ms = ${(renderedP99 / periodMs).toFixed(2)} periods ` +
      `(${rendered.length} of ${figures.wallMs.length} samples; goal one period + 1 ms = ${(periodMs + 1).toFixed(2)} ms: ${renderedP99 <= periodMs + 1 ? 'met' : 'NOT met'})\n`,
  );
  const wall = [...figures.wallMs].sort((a, b) => a - b);
  process.stdout.write(`  ${'interrupt() → event seen (wall)'.padEnd(34)} p50 ${percentile(wall, 0.5).toFixed(2)} ms | p99 ${percentile(wall, 0.99).toFixed(2)} ms\n`);
  process.stdout.write(
    `  goal (first faded frame p99 ≤ one period + 1 ms = ${goalFrames} frames): ${fadedP99 <= goalFrames ? 'met' : 'NOT met'}; p99 / period = ${(fadedP99 / periodFrames).toFixed(2)}\n`,
  );
}

function printRenders(rows: RenderRow[]): void {
  const baselineRow = rows[0];
  if (!baselineRow) return;
  const periodFrames = baselineRow.periodFrames;
  const budgetUs = (1e6 * periodFrames) / SAMPLE_RATE_HZ;
  const baselineP50 = percentile([...baselineRow.nanos].sort((a, b) => a - b), 0.5) / 1000;
  process.stdout.write(`\ncallback cost per period of ${periodFrames} frames (stereo, C++-timed, ${RENDERS} renders per row, budget ${budgetUs.toFixed(0)} µs)\n`);
  for (const row of rows) {
    const sorted = [...row.nanos].sort((a, b) => a - b);
    const p50 = percentile(sorted, 0.5) / 1000;
    const p99 = percentile(sorted, 0.99) / 1000;
    process.stdout.write(
      `  ${row.name.padEnd(30)} p50 ${p50.toFixed(2).padStart(7)} µs  p99 ${p99.toFixed(2).padStart(7)} µs  ` +
        `= ${((100 * p99) / budgetUs).toFixed(3).padStart(6)} % of the period (p99)  × ${(p50 / baselineP50).toFixed(2)} baseline (p50)\n`,
    );
  }
}

/** Time to first audio from a token stream against the sentence alone, interleaved sample by sample. */
async function printFirstAudio(): Promise<void> {
  const engine = new VoiceEngine({ backend: new ToneWordsBackend({ sampleRateHz: 24_000, toneFrames: 2400, gapFrames: 480, level: LEVEL }) });
  const rows: Array<[string, () => Promise<number>]> = [
    ['sentence alone (baseline)', () => alone(engine)],
    ['tokens back to back', () => live(engine, 0)],
    ['a token every 20 ms', () => live(engine, 20)],
    ['a token every 20 ms, maxWaitMs 0', () => live(engine, 20, 0)],
  ];
  const samples = rows.map((): number[] => []);
  for (let round = 0; round < FIRST_AUDIO_SAMPLES + 3; round++) {
    for (const [index, [, run]] of rows.entries()) {
      const ms = await run();
      if (round >= 3) samples[index]?.push(ms);
    }
  }
  await engine.close();
  const sorted = samples.map((values) => [...values].sort((a, b) => a - b));
  const baselineP50 = percentile(sorted[0] ?? [], 0.5);
  process.stdout.write(`\nTime to first audio from a token stream (first sentence boundary → first chunk; tone fixture; ${FIRST_AUDIO_SAMPLES} samples per row)\n`);
  for (const [index, [name]] of rows.entries()) {
    const values = sorted[index] ?? [];
    const p50 = percentile(values, 0.5);
    process.stdout.write(`  ${name.padEnd(34)} p50 ${p50.toFixed(2).padStart(7)} ms  p99 ${percentile(values, 0.99).toFixed(2).padStart(7)} ms  × ${(p50 / baselineP50).toFixed(2)} baseline (p50)\n`);
  }
}

async function main(): Promise<void> {
  for (const periodFrames of [480, 64]) printRenders(measureRenders(periodFrames));
  for (const periodFrames of [480, 64]) printInterrupts(await measureInterrupts(periodFrames));
  await printFirstAudio();
  const loaded = [await loadedPlay({ realtime: false, requests: LOAD_REQUESTS }), await loadedPlay({ realtime: true, requests: LOAD_REQUESTS })];
  printLoadedPlays(loaded, (1000 * 256) / 16_000);
}

await main();
