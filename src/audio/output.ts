/**
 * AudioOutput: the sink at the end of the audio plane. PCM goes into the native SPSC ring and a
 * miniaudio device callback pulls it out. Every call into the addon is synchronous and never
 * blocks; the async methods wait with timers sized from the device period, never by spinning.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { AbortError, AudioError, InputError } from '../errors.js';
import type { AudioBinding, NativeAudioDevice, NativeAudioDeviceOptions, NativeAudioDeviceStats } from '../native/audio-binding.js';
import { nativeBinding } from '../native/loader.js';
import { parseInput } from '../validation.js';

/** Options of `new AudioOutput(...)`, validated with zod. */
export const audioOutputOptionsSchema = z
  .strictObject({
    /** `'default'`: the platform's audio system; `'null'`: a real-time-paced device with no sound card. */
    backend: z.enum(['default', 'null']).default('default'),
    sampleRateHz: z.number().int().min(8000).max(384_000).default(48_000),
    channels: z.number().int().min(1).max(32).default(2),
    /** Frames per device callback (10 ms at 48 kHz by default). */
    periodFrames: z.number().int().min(16).max(384_000).default(480),
    /** Capacity of the playback ring; defaults to 500 ms. */
    bufferFrames: z.number().int().min(32).max(1 << 26).optional(),
    /** Copies what the callback outputs into a second ring, readable with `readCapture()` (tests, diagnostics). */
    capture: z.boolean().default(false),
    /** Capacity of the capture ring; defaults to 10 s. */
    captureFrames: z.number().int().min(1).max(1 << 26).optional(),
  })
  .superRefine((options, context) => {
    if (options.periodFrames > options.sampleRateHz) {
      context.addIssue({ code: 'custom', path: ['periodFrames'], message: 'must be at most one second of frames' });
    }
    if (options.bufferFrames !== undefined && options.bufferFrames < 2 * options.periodFrames) {
      context.addIssue({ code: 'custom', path: ['bufferFrames'], message: 'must hold at least two periods' });
    }
  });

/** What callers may pass to `new AudioOutput(...)`. */
export type AudioOutputOptions = z.input<typeof audioOutputOptionsSchema>;

/** The resolved configuration of an AudioOutput: exactly what the native device is opened with. */
export type AudioOutputConfig = NativeAudioDeviceOptions;

/** Counters of an AudioOutput (see NativeAudioDeviceStats for each field). */
export type AudioOutputStats = NativeAudioDeviceStats;

/** Options of the waiting methods. */
export interface AudioWaitOptions {
  /** Rejects the wait with an AbortError; frames already written stay queued. */
  signal?: AbortSignal;
}

/** A playback device fed through a native ring buffer. Owned by one JS thread. */
export class AudioOutput {
  /** The configuration in force. */
  readonly config: Readonly<AudioOutputConfig>;
  /** Frames one interrupt fade lasts (at most 5 ms). */
  readonly fadeFrames: number;
  readonly #device: NativeAudioDevice;
  readonly #periodMs: number;
  #closed = false;
  #claimedBy: object | null = null;
  readonly #exitRef: WeakRef<AudioOutput>;

  /**
   * Opens (but does not start) the device. Throws InputError naming the bad option, or
   * AudioError (`AUDIO_DEVICE_INIT_FAILED`, ...) when the backend cannot open it.
   */
  constructor(options: AudioOutputOptions = {}, binding: AudioBinding = nativeBinding()) {
    const parsed = parseInput(audioOutputOptionsSchema, options, 'options');
    this.config = Object.freeze({
      backend: parsed.backend,
      sampleRateHz: parsed.sampleRateHz,
      channels: parsed.channels,
      periodFrames: parsed.periodFrames,
      bufferFrames: parsed.bufferFrames ?? Math.max(2 * parsed.periodFrames, Math.round(parsed.sampleRateHz / 2)),
      captureFrames: parsed.capture ? (parsed.captureFrames ?? parsed.sampleRateHz * 10) : 0,
    });
    this.#device = callNative(() => new binding.AudioDevice(this.config), OPEN_HINTS);
    this.fadeFrames = this.#device.fadeFrames;
    this.#periodMs = (1000 * this.config.periodFrames) / this.config.sampleRateHz;
    this.#exitRef = new WeakRef(this);
    closeOnExit(this.#exitRef);
  }

  /**
   * Reserves the device for one owner (a VoiceEngine): an interrupt silences the whole device, so
   * two engines on one device would silence each other's streams. Returns the function that hands
   * it back. Throws AudioError `AUDIO_DEVICE_IN_USE` while another owner holds it.
   */
  claim(owner: object): () => void {
    if (this.#claimedBy !== null && this.#claimedBy !== owner) {
      throw new AudioError('AUDIO_DEVICE_IN_USE', 'this AudioOutput is already used by another engine: give each engine its own device (one device per engine until streams are mixed)');
    }
    this.#claimedBy = owner;
    return () => {
      if (this.#claimedBy === owner) this.#claimedBy = null;
    };
  }

  /** Names of the backends compiled into the addon (e.g. `['PulseAudio', 'ALSA', 'Null']`). */
  static listBackends(binding: AudioBinding = nativeBinding()): string[] {
    return binding.listBackends();
  }

  /**
   * Queues as much of `pcm` (interleaved float32, whole frames) as fits and returns the frames
   * accepted; never waits. Write before `start()` to pre-fill the ring.
   */
  write(pcm: Float32Array): number {
    this.#checkPcm(pcm);
    this.#checkOpen('write');
    return callNative(() => this.#device.write(pcm));
  }

  /**
   * Queues all of `pcm`, waiting for room with timers sized from the period (never spinning).
   * Resolves with the frames written; rejects with AbortError when `signal` fires. While an
   * interrupt is in force the callback drops what is queued, so this completes without playing.
   */
  async writeAll(pcm: Float32Array, options: AudioWaitOptions = {}): Promise<number> {
    this.#checkPcm(pcm);
    const { channels, sampleRateHz, bufferFrames } = this.config;
    const totalFrames = pcm.length / channels;
    let writtenFrames = 0;
    for (;;) {
      throwIfAborted(options.signal, writtenFrames, totalFrames);
      this.#checkOpen('writeAll');
      writtenFrames += callNative(() => this.#device.write(pcm.subarray(writtenFrames * channels)));
      if (writtenFrames >= totalFrames) return writtenFrames;
      // The ring is full. Sleep until about half of it (or what is left to write) has played:
      // few wake-ups, and the ring never runs below half full while we wait.
      const wantedFrames = Math.min(totalFrames - writtenFrames, Math.floor(bufferFrames / 2));
      await this.#wait(Math.max(this.#periodMs, (1000 * wantedFrames) / sampleRateHz), options.signal, writtenFrames, totalFrames);
    }
  }

  /**
   * Resolves once the callback has taken everything queued (played, or dropped by an interrupt);
   * the backend may still hold its last period. Rejects with AudioError `AUDIO_NOT_STARTED` when
   * frames are queued on a stopped device.
   */
  async drain(options: AudioWaitOptions = {}): Promise<void> {
    for (;;) {
      throwIfAborted(options.signal);
      const stats = this.stats();
      if (stats.bufferedFrames === 0) return;
      if (!stats.started) {
        throw new AudioError('AUDIO_NOT_STARTED', `drain: ${stats.bufferedFrames} frames are queued but the device is stopped`);
      }
      await this.#wait(Math.max(this.#periodMs, (1000 * stats.bufferedFrames) / this.config.sampleRateHz), options.signal);
    }
  }

  /** Starts the device callback. */
  start(): void {
    this.#checkOpen('start');
    callNative(() => this.#device.start());
  }

  /** Stops the device callback; queued frames stay for the next start(). */
  stop(): void {
    this.#checkOpen('stop');
    callNative(() => this.#device.stop());
  }

  /**
   * Fades out within 5 ms on the next period, then plays silence and drops everything queued
   * until `resume()`. Returns the interrupt generation.
   */
  interrupt(): number {
    this.#checkOpen('interrupt');
    return callNative(() => this.#device.interrupt());
  }

  /** Ends the interrupt in force: frames written from now on play. */
  resume(): void {
    this.#checkOpen('resume');
    callNative(() => this.#device.resume());
  }

  /** A snapshot of the device counters (readable after close()). */
  stats(): AudioOutputStats {
    return callNative(() => this.#device.stats());
  }

  /** Copies out up to `maxFrames` frames of what the device played (needs `capture: true`). */
  readCapture(maxFrames: number = this.config.captureFrames): Float32Array {
    this.#checkOpen('readCapture');
    if (this.config.captureFrames === 0) {
      throw new AudioError('AUDIO_CAPTURE_DISABLED', 'readCapture: open the AudioOutput with { capture: true }');
    }
    const frames = parseInput(z.number().int().min(0), maxFrames, 'maxFrames');
    const out = new Float32Array(Math.min(frames, this.config.captureFrames) * this.config.channels);
    const copied = callNative(() => this.#device.readCapture(out));
    return out.subarray(0, copied * this.config.channels);
  }

  /** Stops the device and joins its thread. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    openOutputs.delete(this.#exitRef);
    this.#device.close();
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  #checkOpen(operation: string): void {
    if (this.#closed) throw new AudioError('AUDIO_DEVICE_CLOSED', `${operation}: the AudioOutput is closed`);
  }

  #checkPcm(pcm: unknown): asserts pcm is Float32Array {
    if (!(pcm instanceof Float32Array)) {
      throw new InputError(`pcm: expected a Float32Array (received ${describe(pcm)})`, { field: 'pcm' });
    }
    if (pcm.length % this.config.channels !== 0) {
      throw new InputError(
        `pcm: expected whole frames of ${this.config.channels} interleaved samples (received ${pcm.length} samples)`,
        { field: 'pcm' },
      );
    }
  }

  async #wait(delayMs: number, signal: AbortSignal | undefined, writtenFrames?: number, totalFrames?: number): Promise<void> {
    try {
      await sleep(delayMs, undefined, signal === undefined ? undefined : { signal });
    } catch (cause) {
      throwIfAborted(signal, writtenFrames, totalFrames);
      throw cause;
    }
  }
}

/**
 * Outputs of this thread still open. `process.exit()` skips Node's env cleanup hooks on the main
 * thread, so an 'exit' listener closes them (joining the device threads) before the process goes.
 * Weak references: an output nobody holds is still finalized (and closed) by the addon.
 */
const openOutputs = new Set<WeakRef<AudioOutput>>();
let exitListenerInstalled = false;

function closeOnExit(output: WeakRef<AudioOutput>): void {
  openOutputs.add(output);
  if (exitListenerInstalled) return;
  exitListenerInstalled = true;
  process.once('exit', () => {
    for (const reference of openOutputs) reference.deref()?.close();
  });
}

function throwIfAborted(signal: AbortSignal | undefined, writtenFrames?: number, totalFrames?: number): void {
  if (!signal?.aborted) return;
  const progress = writtenFrames === undefined ? '' : ` after writing ${writtenFrames} of ${totalFrames} frames`;
  throw new AbortError(`The audio wait was aborted${progress}`, { cause: signal.reason });
}

/** What to tell the user when the device cannot be opened, by code. */
const OPEN_HINTS: Readonly<Record<string, string>> = {
  AUDIO_BACKEND_INIT_FAILED: "No usable audio system was found; pass { backend: 'null' } to run headless.",
  AUDIO_DEVICE_INIT_FAILED: "No playback device could be opened; pass { backend: 'null' } to run headless.",
};

/** Runs an addon call and turns its coded Error into an AudioError with the same code. */
function callNative<T>(call: () => T, hints: Readonly<Record<string, string>> = {}): T {
  try {
    return call();
  } catch (cause) {
    if (cause instanceof Error && typeof (cause as { code?: unknown }).code === 'string') {
      const code = (cause as Error & { code: string }).code;
      const hint = hints[code];
      throw new AudioError(code, hint === undefined ? cause.message : `${cause.message}. ${hint}`, { cause });
    }
    throw cause;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}

// Hardening: no caller can swap a method of this class for its own (a monkey-patched prototype would see every instance).
Object.freeze(AudioOutput.prototype);
Object.freeze(AudioOutput);
