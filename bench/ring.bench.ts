/**
 * The native PCM ring and the device callback's render cost, against a plain JS Float32Array copy
 * of the same size measured in the same run. Run: node --import tsx bench/ring.bench.ts
 *
 * 1. write+read: one `ring.write(chunk)` plus one `ring.read(out)` (two copies, two N-API
 *    crossings) per iteration, for several chunk sizes; baseline `dst.set(src)` of the same size.
 * 2. render: the device's render function run on this thread on a stopped null device
 *    (`renderForBenchmark`), timed in C++ around the call, so N-API costs are not in it. Each
 *    period is refilled first; baseline is the JS copy of one period.
 */
import { Bench, hrtimeNowTimestampProvider } from 'tinybench';
import type { NativeAudioDevice } from '../src/native/audio-binding.js';
import { nativeBinding } from '../src/native/loader.js';

const CHANNELS = 2;
const SAMPLE_RATE_HZ = 48_000;
const CHUNK_FRAMES = [128, 480, 4096];
const RENDER_PERIOD_FRAMES = [128, 480];
const BENCH_TIME_MS = 400;

interface Row {
  name: string;
  frames: number;
  p50Us: number;
  p99Us: number;
  framesPerSecond: number;
  baselineP50Us: number;
}

const binding = nativeBinding();

function percentile(sortedValues: readonly number[], fraction: number): number {
  const index = Math.min(sortedValues.length - 1, Math.floor(fraction * sortedValues.length));
  return sortedValues[index] ?? Number.NaN;
}

function chunkOf(frames: number): Float32Array {
  return Float32Array.from({ length: frames * CHANNELS }, (_, index) => Math.sin(index / 50) * 0.5);
}

/** Runs one task and its baseline together; returns p50/p99 of each in microseconds. */
async function measure(task: () => void, baseline: () => void): Promise<{ task: [number, number]; baseline: [number, number] }> {
  const bench = new Bench({ time: BENCH_TIME_MS, warmupTime: 100, timestampProvider: hrtimeNowTimestampProvider });
  bench.add('task', task).add('baseline', baseline);
  await bench.run();
  const stats = (name: string): [number, number] => {
    const result = bench.getTask(name)?.result;
    if (result === undefined || !('latency' in result)) throw new Error(`bench task ${name} did not complete`);
    return [result.latency.p50 * 1000, result.latency.p99 * 1000];
  };
  return { task: stats('task'), baseline: stats('baseline') };
}

async function ringRows(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const frames of CHUNK_FRAMES) {
    const ring = new binding.PcmRingBuffer(frames * 4, CHANNELS);
    const chunk = chunkOf(frames);
    const out = new Float32Array(frames * CHANNELS);
    const copy = new Float32Array(frames * CHANNELS);
    const result = await measure(
      () => {
        if (ring.write(chunk) !== frames || ring.read(out) !== frames) throw new Error('ring lost frames');
      },
      () => copy.set(chunk),
    );
    rows.push({
      name: 'ring write+read',
      frames,
      p50Us: result.task[0],
      p99Us: result.task[1],
      framesPerSecond: frames / (result.task[0] / 1e6),
      baselineP50Us: result.baseline[0],
    });
  }
  return rows;
}

async function renderRows(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const frames of RENDER_PERIOD_FRAMES) {
    const device: NativeAudioDevice = new binding.AudioDevice({
      backend: 'null',
      sampleRateHz: SAMPLE_RATE_HZ,
      channels: CHANNELS,
      periodFrames: frames,
      bufferFrames: frames * 4,
      captureFrames: 0,
    });
    try {
      const period = chunkOf(frames);
      const copy = new Float32Array(frames * CHANNELS);
      const renderNanos: number[] = [];
      const result = await measure(
        () => {
          device.write(period);
          renderNanos.push(device.renderForBenchmark(frames));
        },
        () => copy.set(period),
      );
      if (device.stats().underruns !== 0) throw new Error('render benchmark underran: it would measure silence');
      renderNanos.sort((a, b) => a - b);
      const p50Us = percentile(renderNanos, 0.5) / 1000;
      rows.push({
        name: 'render one period (C++-timed)',
        frames,
        p50Us,
        p99Us: percentile(renderNanos, 0.99) / 1000,
        framesPerSecond: frames / (p50Us / 1e6),
        baselineP50Us: result.baseline[0],
      });
      rows.push({
        name: 'write+render via N-API (JS-timed)',
        frames,
        p50Us: result.task[0],
        p99Us: result.task[1],
        framesPerSecond: frames / (result.task[0] / 1e6),
        baselineP50Us: result.baseline[0],
      });
      // Share of the real-time budget one period's render takes.
      const budgetUs = (frames / SAMPLE_RATE_HZ) * 1e6;
      process.stdout.write(
        `render ${frames} frames: p99 ${(percentile(renderNanos, 0.99) / 1000).toFixed(3)} us = ` +
          `${((percentile(renderNanos, 0.99) / 1000 / budgetUs) * 100).toFixed(4)} % of the ${budgetUs.toFixed(0)} us period\n`,
      );
    } finally {
      device.close();
    }
  }
  return rows;
}

const rows = [...(await ringRows()), ...(await renderRows())];
console.table(
  rows.map((row) => ({
    task: row.name,
    frames: row.frames,
    'p50 (us)': row.p50Us.toFixed(3),
    'p99 (us)': row.p99Us.toFixed(3),
    'frames/s (p50)': `${(row.framesPerSecond / 1e6).toFixed(1)} M`,
    'baseline JS copy p50 (us)': row.baselineP50Us.toFixed(3),
    'ratio p50 / baseline': (row.p50Us / row.baselineP50Us).toFixed(2),
  })),
);
process.stdout.write(
  `${CHANNELS} channels, float32; baseline = Float32Array.prototype.set of the same frame count in the same run.\n`,
);
