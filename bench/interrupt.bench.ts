/**
 * Interrupt → silence at the device (spec §8: p99 5 ms seed budget; goal one device period + 1 ms).
 * Run: npm run bench interrupt
 *
 * Each sample plays a constant level (0.5) on miniaudio's null device with output capture, asks
 * for an interrupt, and measures two things:
 * - audio latency: how much audio the device rendered between the request and the first faded
 *   frame, read from the captured output (independent of how this benchmark is scheduled). 0 means
 *   the first frame rendered after the request was already fading: no queued audio escapes. Plus
 *   the fade length, that is "silence at the device" on top of the wait for the next callback
 *   (at most one period on a sound card);
 * - wall-clock time until the callback reports the fade done (`completedInterruptGeneration`).
 *   miniaudio's null backend wakes about every 10 ms and renders queued periods back to back, so
 *   this column shows that pacing, not a sound card's.
 *
 * Baseline (same run): `AudioOutput.interrupt()`. Task: `VoiceEngine.interrupt()` on a stream
 * that is playing: the registrar's decision and attestation, then the same native flag.
 */
import { Bench, hrtimeNowTimestampProvider } from 'tinybench';
import { AudioOutput } from '../src/audio/output.js';
import { BaseBackend, type BackendCapabilities, type VoiceInfo } from '../src/backends/backend.js';
import { VoiceEngine } from '../src/engine/voice-engine.js';
import type { EngineOutput, SynthesisSegment } from '../src/graph/engine-output.js';

const SAMPLE_RATE_HZ = 48_000;
const PERIOD_FRAMES = 240; // 5 ms
const LEVEL = 0.5;

/** A backend that "speaks" a constant level for 2 s, so the fade is easy to find in the capture. */
class ConstantLevelBackend extends BaseBackend {
  readonly name = 'constant-level';
  readonly capabilities: BackendCapabilities = { streaming: true, wordTimings: false, phonemes: false, remote: false };
  async voices(): Promise<VoiceInfo[]> {
    return [];
  }
  protected async *synthesizeOnce(_segment: SynthesisSegment): AsyncIterable<EngineOutput> {
    yield { pcm: new Float32Array(SAMPLE_RATE_HZ * 2).fill(LEVEL), sampleRateHz: SAMPLE_RATE_HZ, channels: 1, metadata: {} };
  }
}

interface Sample {
  audioLatencyMs: number;
}

function outputPosition(output: AudioOutput): number {
  const stats = output.stats();
  return stats.framesPlayed + stats.starvedFrames;
}

/** Frames between `requestedAt` and the first faded frame in the captured output. */
function fadeStartAfter(output: AudioOutput, requestedAt: number): number {
  const captured = output.readCapture();
  let index = requestedAt;
  while (index < captured.length && Math.abs((captured[index] ?? 0) - LEVEL) < 1e-6) index++;
  // Frames before requestedAt that were already faded would mean the position was read late.
  return index - requestedAt;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const periodMs = (PERIOD_FRAMES / SAMPLE_RATE_HZ) * 1000;
  const samples = new Map<string, Sample[]>();
  let output: AudioOutput | undefined;
  let engine: VoiceEngine | undefined;
  let playing: Promise<unknown> | undefined;
  let streamId = '';
  let requestedAt = 0;
  let fadeMs = 0;

  const openDevice = () => {
    output = new AudioOutput({ backend: 'null', sampleRateHz: SAMPLE_RATE_HZ, channels: 1, periodFrames: PERIOD_FRAMES, capture: true, captureFrames: SAMPLE_RATE_HZ * 4 });
    fadeMs = (output.fadeFrames / SAMPLE_RATE_HZ) * 1000;
    return output;
  };
  const record = (name: string) => {
    if (!output) return;
    const frames = fadeStartAfter(output, requestedAt);
    samples.set(name, [...(samples.get(name) ?? []), { audioLatencyMs: (frames / SAMPLE_RATE_HZ) * 1000 }]);
  };
  const waitForFade = (device: AudioOutput, generation: number) => {
    // Busy wait on purpose: a sleep here would be what gets measured.
    while (device.stats().completedInterruptGeneration < generation) {
      /* spin */
    }
  };

  const BASELINE = 'AudioOutput.interrupt() (baseline)';
  const ENGINE = 'VoiceEngine.interrupt()';
  const bench = new Bench({ iterations: 40, time: 0, warmupIterations: 2, timestampProvider: hrtimeNowTimestampProvider });
  bench
    .add(
      BASELINE,
      () => {
        const device = output as AudioOutput;
        requestedAt = outputPosition(device);
        waitForFade(device, device.interrupt());
      },
      {
        beforeEach: async () => {
          const device = openDevice();
          device.write(new Float32Array(SAMPLE_RATE_HZ).fill(LEVEL));
          device.start();
          await new Promise((resolve) => setTimeout(resolve, 30 + Math.random() * periodMs));
        },
        afterEach: () => {
          record(BASELINE);
          output?.close();
        },
      },
    )
    .add(
      ENGINE,
      () => {
        const device = output as AudioOutput;
        const generation = device.stats().interruptGeneration + 1;
        requestedAt = outputPosition(device);
        const result = (engine as VoiceEngine).interrupt(streamId);
        if (!result.allowed) throw new Error(`interrupt denied: ${result.reason}`);
        waitForFade(device, generation);
      },
      {
        beforeEach: async () => {
          const device = openDevice();
          engine = new VoiceEngine({ backend: new ConstantLevelBackend(), output: device });
          playing = engine.play('constant');
          for (;;) {
            await new Promise((resolve) => setTimeout(resolve, 2));
            const candidate = engine.activeStreams()[0];
            if (candidate && engine.registrar.getState(candidate)?.state === 'playing' && outputPosition(device) > PERIOD_FRAMES * 4) {
              streamId = candidate;
              break;
            }
          }
          await new Promise((resolve) => setTimeout(resolve, Math.random() * periodMs));
        },
        afterEach: async () => {
          record(ENGINE);
          await playing;
          await engine?.close();
          output?.close();
        },
      },
    );
  await bench.run();

  const rows = [BASELINE, ENGINE].map((name) => {
    const wall = bench.getTask(name)?.result;
    const audio = (samples.get(name) ?? []).map((sample) => sample.audioLatencyMs);
    const wallLatency = wall && 'latency' in wall ? wall.latency : undefined;
    return {
      task: name,
      samples: audio.length,
      'audio before fade p50 (ms)': percentile(audio, 0.5).toFixed(2),
      'audio before fade p99 (ms)': percentile(audio, 0.99).toFixed(2),
      'silence at device p99 (ms)': (percentile(audio, 0.99) + fadeMs).toFixed(2),
      'wall to fade done p50 (ms)': wallLatency?.p50.toFixed(2) ?? '-',
      'wall to fade done p99 (ms)': wallLatency?.p99.toFixed(2) ?? '-',
    };
  });
  console.table(rows);
  console.log(`period ${periodMs.toFixed(2)} ms, fade ${fadeMs.toFixed(2)} ms; goal: audio before fade p99 <= one period + 1 ms = ${(periodMs + 1).toFixed(2)} ms`);
}

await main();
