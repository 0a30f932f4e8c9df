import { afterEach, describe, expect, it, vi } from 'vitest';
import { AudioOutput } from '../../src/audio/output.js';
import type { AudioOutputOptions } from '../../src/audio/output.js';
import { AbortError, AudioError, InputError } from '../../src/errors.js';
import type { AudioBinding, NativeAudioDevice, NativeAudioDeviceOptions } from '../../src/native/audio-binding.js';
import { nativeBinding } from '../../src/native/loader.js';
import { waitUntil } from '../helpers/waiting.js';
import { thrown } from '../helpers/errors.js';

/** Every delay asked of `node:timers/promises` setTimeout in this file, in order (the timers still run). */
const timers = vi.hoisted(() => ({ delaysMs: [] as number[] }));
vi.mock('node:timers/promises', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:timers/promises')>();
  const recorded: typeof original.setTimeout = (delayMs, ...rest) => {
    timers.delaysMs.push(delayMs ?? 1);
    return original.setTimeout(delayMs, ...rest);
  };
  return { ...original, setTimeout: recorded };
});

const RATE_HZ = 48_000;
const opened: AudioOutput[] = [];
afterEach(() => {
  for (const output of opened.splice(0)) output.close();
});

/** A null-backend output (real-time paced, no sound card), closed after each test. */
function nullOutput(options: AudioOutputOptions = {}): AudioOutput {
  const output = new AudioOutput({ backend: 'null', sampleRateHz: RATE_HZ, channels: 2, periodFrames: 240, ...options });
  opened.push(output);
  return output;
}

/** A deterministic, non-repeating stereo signal (exact in float32). */
function signal(frames: number, channels = 2): Float32Array {
  return Float32Array.from({ length: frames * channels }, (_, index) => Math.fround(Math.sin(index * 0.001) * 0.8));
}

/** The real addon binding, with every device write() counted. */
function countingBinding(): { binding: AudioBinding; writes: () => number } {
  const real = nativeBinding();
  let writes = 0;
  class CountingDevice implements NativeAudioDevice {
    readonly #device: NativeAudioDevice;
    constructor(options: NativeAudioDeviceOptions) {
      this.#device = new real.AudioDevice(options);
    }
    get fadeFrames(): number {
      return this.#device.fadeFrames;
    }
    write(pcm: Float32Array): number {
      writes += 1;
      return this.#device.write(pcm);
    }
    start(): void {
      this.#device.start();
    }
    stop(): void {
      this.#device.stop();
    }
    close(): void {
      this.#device.close();
    }
    interrupt(): number {
      return this.#device.interrupt();
    }
    resume(): void {
      this.#device.resume();
    }
    stats(): ReturnType<NativeAudioDevice['stats']> {
      return this.#device.stats();
    }
    readCapture(out: Float32Array): number {
      return this.#device.readCapture(out);
    }
    renderForBenchmark(frames: number): number {
      return this.#device.renderForBenchmark(frames);
    }
    get backendName(): string {
      return this.#device.backendName;
    }
    get deviceName(): string {
      return this.#device.deviceName;
    }
    openVoice(bufferFrames: number, gain: number): number {
      return this.#device.openVoice(bufferFrames, gain);
    }
    voiceWrite(id: number, pcm: Float32Array): number {
      return this.#device.voiceWrite(id, pcm);
    }
    voiceEnd(id: number): void {
      this.#device.voiceEnd(id);
    }
    voiceInterrupt(id: number): void {
      this.#device.voiceInterrupt(id);
    }
    voiceWatch(id: number, watch: Parameters<NativeAudioDevice['voiceWatch']>[1]): boolean {
      return this.#device.voiceWatch(id, watch);
    }
    voiceSetGain(id: number, gain: number, rampFrames: number): void {
      this.#device.voiceSetGain(id, gain, rampFrames);
    }
    voiceStats(id: number): ReturnType<NativeAudioDevice['voiceStats']> {
      return this.#device.voiceStats(id);
    }
    voiceClose(id: number): boolean {
      return this.#device.voiceClose(id);
    }
    pollEvents(out: Float64Array): number {
      return this.#device.pollEvents(out);
    }
  }
  return { binding: { ...real, AudioDevice: CountingDevice }, writes: () => writes };
}


describe('AudioOutput options', () => {
  it.each([
    [{ backend: 'alsa' }, 'options.backend'],
    [{ sampleRateHz: 44_100.5 }, 'options.sampleRateHz'],
    [{ channels: 0 }, 'options.channels'],
    [{ periodFrames: 8 }, 'options.periodFrames'],
    [{ periodFrames: 480, bufferFrames: 600 }, 'options.bufferFrames'],
    [{ capture: 'yes' }, 'options.capture'],
  ])('rejects %j with an InputError naming %s', (options, field) => {
    const error = thrown(() => new AudioOutput({ backend: 'null', ...options } as AudioOutputOptions));
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).code).toBe('INPUT_INVALID');
    expect((error as InputError).field).toBe(field);
    expect((error as InputError).message).toContain(field);
  });

  it('rejects unknown options and names them', () => {
    const error = thrown(() => new AudioOutput({ backend: 'null', sampleRate: 48_000 } as AudioOutputOptions)) as InputError;
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain('sampleRate');
  });

  it('fills defaults and lists the compiled-in backends', () => {
    const output = nullOutput();
    expect(output.config).toEqual({
      backend: 'null',
      sampleRateHz: RATE_HZ,
      channels: 2,
      periodFrames: 240,
      bufferFrames: 24_000,
      captureFrames: 0,
    });
    expect(output.fadeFrames).toBe(240);
    expect(AudioOutput.listBackends()).toContain('Null');
  });
});

describe('AudioOutput on the null device', () => {
  it('consumes frames in whole periods, paced by its clock: it progresses, and never runs ahead of real time', async () => {
    const output = nullOutput({ bufferFrames: 10 * RATE_HZ });
    expect(output.write(new Float32Array(10 * RATE_HZ * 2).fill(0.1))).toBe(10 * RATE_HZ); // pre-fill 10 s
    const beforeStartMs = performance.now();
    output.start();
    await waitUntil(() => output.stats().framesPlayed >= RATE_HZ / 2, 'half a second of frames played');
    output.stop(); // joins the callback: the counters below are one consistent snapshot
    const atLeastElapsedMs = performance.now() - beforeStartMs;
    const { framesPlayed, underruns, callbacks, bufferedFrames } = output.stats();
    expect(framesPlayed).toBe(callbacks * 240);
    expect(bufferedFrames).toBe(10 * RATE_HZ - framesPlayed);
    expect(underruns).toBe(0); // pre-filled far beyond what was played: no underrun
    // One-sided on purpose: a busy machine can only make the measured time longer, never let a
    // real-time-paced device render more than its clock allows (plus the periods the backend holds).
    expect(framesPlayed).toBeLessThanOrEqual((atLeastElapsedMs / 1000) * RATE_HZ + 4 * 240);
  });

  it('plays exactly what was written: captured output equals the input sample for sample', async () => {
    const output = nullOutput({ capture: true });
    const pcm = signal(12_000);
    expect(output.write(pcm)).toBe(12_000);
    output.start();
    await output.drain();
    output.stop();
    const captured = output.readCapture();
    expect(captured.length).toBeGreaterThanOrEqual(pcm.length);
    expect(captured.subarray(0, pcm.length)).toEqual(pcm);
    expect(captured.subarray(pcm.length).every((sample) => sample === 0)).toBe(true);
    expect(output.stats().captureOverflowFrames).toBe(0);
  });

  it('counts underruns and pads with silence when starved', async () => {
    const output = nullOutput();
    output.write(signal(2400));
    output.start();
    await waitUntil(() => output.stats().callbacks >= 20, '20 callbacks');
    output.stop(); // joins the callback: callbacks and starvedFrames below come from the same period
    const stats = output.stats();
    expect(stats.framesPlayed).toBe(2400);
    expect(stats.underruns).toBeGreaterThanOrEqual(10);
    expect(stats.starvedFrames).toBe(stats.callbacks * 240 - 2400);
    expect(stats.msSinceLastCallback).not.toBeNull();
  });

  it('interrupt(): fades out within 5 ms, monotone, then zeros, and drops the queue', async () => {
    const output = nullOutput({ capture: true, bufferFrames: RATE_HZ });
    expect(output.write(new Float32Array(RATE_HZ * 2).fill(0.5))).toBe(RATE_HZ);
    output.start();
    await waitUntil(() => output.stats().framesPlayed >= 4800, '100 ms of playback');
    const generation = output.interrupt();
    expect(output.stats().interrupted).toBe(true);
    await waitUntil(() => output.stats().completedInterruptGeneration === generation, 'the fade');
    const callbacksAtFadeEnd = output.stats().callbacks;
    await waitUntil(() => output.stats().callbacks >= callbacksAtFadeEnd + 3, 'three periods after the fade');
    output.stop();

    const stats = output.stats();
    expect(stats.bufferedFrames).toBe(0);
    expect(stats.droppedFrames).toBe(RATE_HZ - stats.framesPlayed);
    expect(stats.underruns).toBe(0);
    const left = output.readCapture().filter((_, index) => index % 2 === 0);
    const fadeStart = left.findIndex((sample) => sample !== 0.5);
    const fadeEnd = left.findIndex((sample) => sample === 0);
    expect(fadeStart).toBeGreaterThanOrEqual(4800);
    expect(fadeEnd - fadeStart).toBeLessThanOrEqual((5 / 1000) * RATE_HZ);
    for (let index = fadeStart + 1; index <= fadeEnd; index += 1) {
      expect(left[index]).toBeLessThan(left[index - 1] as number);
    }
    expect(left.subarray(fadeEnd).every((sample) => sample === 0)).toBe(true);
    expect(left.length - fadeEnd).toBeGreaterThan(240); // silence went on for more than a period
  });

  it('after interrupt(), resume() plays the next utterance in full and nothing of the old one', async () => {
    const output = nullOutput({ capture: true });
    output.write(new Float32Array(4800 * 2).fill(0.9));
    output.interrupt();
    output.write(new Float32Array(480 * 2).fill(0.7)); // written while interrupted: dropped
    output.resume();
    const next = signal(4800);
    output.write(next);
    output.start();
    await output.drain();
    output.stop();
    const captured = output.readCapture();
    expect(captured.subarray(0, next.length)).toEqual(next); // interrupted while stopped: no fade needed
    expect(output.stats().droppedFrames).toBe(4800 + 480);
  });
});

describe('AudioOutput writing and waiting', () => {
  it('write() is partial when the ring is full; writeAll() waits for room without spinning', async () => {
    const counting = countingBinding();
    const output = new AudioOutput({ backend: 'null', sampleRateHz: RATE_HZ, channels: 2, periodFrames: 240, capture: true, bufferFrames: 9600, captureFrames: 96_000 }, counting.binding);
    opened.push(output);
    const pcm = signal(48_000); // 1 s through a 200 ms ring
    const prefilledFrames = output.write(pcm);
    expect(prefilledFrames).toBe(9600);
    expect(output.write(pcm.subarray(prefilledFrames * 2))).toBe(0);
    output.start();
    const writesBefore = counting.writes();
    timers.delaysMs.length = 0;
    expect(await output.writeAll(pcm.subarray(prefilledFrames * 2))).toBe(48_000 - 9600);
    const attempts = counting.writes() - writesBefore;
    const waitsMs = [...timers.delaysMs];
    await output.drain();
    output.stop();
    // Same samples in the same order. Zeros are left out on both sides so that an underrun on a
    // loaded machine (silence inserted by the device, counted in stats) cannot fail the check.
    const nonZero = (samples: Float32Array) => samples.filter((sample) => sample !== 0);
    expect(nonZero(output.readCapture())).toEqual(nonZero(pcm));
    // No spinning: between two write attempts there is exactly one timer, of at least one period
    // (5 ms), and while more than half a ring is left to write it waits for half the ring (100 ms).
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBe(waitsMs.length + 1);
    expect(Math.min(...waitsMs)).toBeGreaterThanOrEqual(5);
    expect(waitsMs[0]).toBe(100);
  });

  it('writeAll() honours an AbortSignal and keeps what it queued', async () => {
    const output = nullOutput({ bufferFrames: 960 }); // never started: the ring stays full
    const error = await output.writeAll(signal(4800), { signal: AbortSignal.timeout(50) }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AbortError);
    expect((error as AbortError).code).toBe('ABORTED');
    expect((error as AbortError).message).toContain('after writing 960 of 4800 frames');
    expect(output.stats().bufferedFrames).toBe(960);
    const aborted = AbortSignal.abort();
    await expect(output.drain({ signal: aborted })).rejects.toBeInstanceOf(AbortError);
  });

  it('drain() on a stopped device with queued frames fails instead of hanging', async () => {
    const output = nullOutput();
    output.write(signal(100));
    await expect(output.drain()).rejects.toMatchObject({ code: 'AUDIO_NOT_STARTED' });
    const empty = nullOutput();
    await expect(empty.drain()).resolves.toBeUndefined();
  });

  it('rejects bad PCM with an InputError naming pcm and queues nothing', () => {
    const output = nullOutput();
    const misaligned = thrown(() => output.write(new Float32Array(3))) as InputError;
    expect(misaligned).toBeInstanceOf(InputError);
    expect(misaligned.field).toBe('pcm');
    expect(misaligned.message).toContain('whole frames of 2 interleaved samples (received 3 samples)');
    const wrongType = thrown(() => output.write([0, 0] as unknown as Float32Array)) as InputError;
    expect(wrongType.message).toBe('pcm: expected a Float32Array (received Array)');
    expect(output.stats().bufferedFrames).toBe(0);
  });

  it('close() is idempotent and later calls fail with AUDIO_DEVICE_CLOSED', () => {
    const output = nullOutput();
    output.start();
    output.close();
    output.close();
    expect(output.closed).toBe(true);
    expect(output.stats().closed).toBe(true);
    expect(output.stats().started).toBe(false);
    const error = thrown(() => output.write(signal(1))) as AudioError;
    expect(error).toBeInstanceOf(AudioError);
    expect(error.code).toBe('AUDIO_DEVICE_CLOSED');
    expect(thrown(() => output.interrupt())).toMatchObject({ code: 'AUDIO_DEVICE_CLOSED' });
  });

  it('readCapture() without capture is an AudioError', () => {
    const output = nullOutput();
    expect(thrown(() => output.readCapture())).toMatchObject({ code: 'AUDIO_CAPTURE_DISABLED' });
  });
});
