/**
 * AudioOutput: the sink at the end of the audio plane. PCM goes into native SPSC rings and a
 * miniaudio device callback pulls it out: the default ring (`write`, `interrupt`, `resume`) plus
 * up to 64 voices (`openVoice()`, src/audio/voice.ts) mixed in the callback, each with its own ring,
 * gain ramp and interrupt. Voice events come from the callback's event ring, drained on this thread
 * by a timer sized to the period while voices are open (or by `pollEvents()`). Every call into the
 * addon is synchronous and never blocks; the async methods wait with timers, never by spinning.
 *
 * Which device: `backend` (else `VOICE_SOUNDBOARD_AUDIO_BACKEND`, else the platform's audio system)
 * and `device` (an id or name from `listOutputDevices()`). When the platform's default device cannot
 * be opened, the output falls back to the null backend with one process warning
 * (`VOICE_SOUNDBOARD_AUDIO_FALLBACK`) and says so in `fellBackToNull` (unless `fallbackToNull: false`).
 */
import { z } from 'zod';
import { AudioError, InputError } from '../errors.js';
import type { AudioBinding, NativeAudioDevice, NativeAudioDeviceOptions, NativeAudioDeviceStats } from '../native/audio-binding.js';
import { AUDIO_BACKEND_ENV, audioBackendFromEnv } from './devices.js';
import { AudioVoice, type AudioVoiceEventKind, type AudioVoiceOptions, audioVoiceOptionsSchema, dbToGain, VOICE_EVENT_KINDS, type VoiceHost } from './voice.js';
import { nativeBinding } from '../native/loader.js';
import { parseInput } from '../validation.js';
import { throwIfAborted, waitOrAbort } from './wait.js';

/** Options of `new AudioOutput(...)`, validated with zod. */
export const audioOutputOptionsSchema = z
  .strictObject({
    /**
     * `'default'`: the platform's audio system; `'null'`: a real-time-paced device with no sound card.
     * Default: `VOICE_SOUNDBOARD_AUDIO_BACKEND`, else `'default'`.
     */
    backend: z.enum(['default', 'null']).optional(),
    /** A playback device's id or name (see `listOutputDevices()`); default: the backend's default device. */
    device: z.string().min(1).max(1024).optional(),
    /** When the platform's default device cannot be opened, open the null backend instead (one warning). */
    fallbackToNull: z.boolean().default(true),
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

/** Which backend and device an AudioOutput actually opened, and whether it fell back to the null backend. */
export interface AudioOutputInfo {
  /** miniaudio's name of the backend opened (`'Null'`, `'ALSA'`, `'PulseAudio'`, ...). */
  backend: string;
  /** The playback device opened. */
  device: string;
  /** Why the output fell back to the null backend, or null when it opened what was asked. */
  fallback: string | null;
}

/** Codes of an open failure after which the null backend is tried. */
const FALLBACK_CODES = new Set(['AUDIO_BACKEND_INIT_FAILED', 'AUDIO_DEVICE_INIT_FAILED']);
let fallbackWarned = false;

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
  /** Which backend and device were opened, and the fallback reason if any. */
  readonly info: Readonly<AudioOutputInfo>;
  readonly #device: NativeAudioDevice;
  readonly #periodMs: number;
  #closed = false;
  readonly #exitRef: WeakRef<AudioOutput>;
  readonly #voices = new Map<number, AudioVoice>();
  readonly #voiceHost: VoiceHost;
  readonly #eventBuffer = new Float64Array(4 * 1024);
  #pump: ReturnType<typeof setInterval> | undefined;

  /**
   * Opens (but does not start) the device. Throws InputError naming the bad option, or
   * AudioError (`AUDIO_DEVICE_INIT_FAILED`, ...) when the backend cannot open it.
   */
  constructor(options: AudioOutputOptions = {}, binding: AudioBinding = nativeBinding()) {
    const parsed = parseInput(audioOutputOptionsSchema, options, 'options');
    const asked: AudioOutputConfig = {
      backend: parsed.backend ?? audioBackendFromEnv() ?? 'default',
      sampleRateHz: parsed.sampleRateHz,
      channels: parsed.channels,
      periodFrames: parsed.periodFrames,
      bufferFrames: parsed.bufferFrames ?? Math.max(2 * parsed.periodFrames, Math.round(parsed.sampleRateHz / 2)),
      captureFrames: parsed.capture ? (parsed.captureFrames ?? parsed.sampleRateHz * 10) : 0,
      ...(parsed.device === undefined ? {} : { device: parsed.device }),
    };
    let config = asked;
    let device: NativeAudioDevice;
    let fallback: string | null = null;
    try {
      device = callNative(() => new binding.AudioDevice(asked), OPEN_HINTS);
    } catch (error) {
      // Only the platform's default device falls back: a device the user named is reported as is.
      if (!(error instanceof AudioError) || !FALLBACK_CODES.has(error.code) || asked.backend !== 'default' || asked.device !== undefined || !parsed.fallbackToNull) throw error;
      config = { ...asked, backend: 'null' };
      device = callNative(() => new binding.AudioDevice(config));
      fallback = `${error.code}: ${(error.cause instanceof Error ? error.cause.message : error.message)}`;
      warnFallback(fallback);
    }
    this.config = Object.freeze(config);
    this.#device = device;
    this.info = Object.freeze({ backend: device.backendName, device: device.deviceName, fallback });
    this.fadeFrames = this.#device.fadeFrames;
    this.#periodMs = (1000 * this.config.periodFrames) / this.config.sampleRateHz;
    this.#exitRef = new WeakRef(this);
    closeOnExit(this.#exitRef);
    const output = this;
    this.#voiceHost = Object.freeze({
      device,
      channels: config.channels,
      sampleRateHz: config.sampleRateHz,
      periodMs: this.#periodMs,
      get closed() {
        return output.#closed;
      },
      call: <T>(call: () => T): T => callNative(call),
      forget: (voice: AudioVoice) => {
        if (this.#voices.get(voice.id) === voice) this.#voices.delete(voice.id);
        if (this.#voices.size === 0) this.#stopPump();
      },
    });
  }

  /** True when the platform's default device could not be opened and the null backend plays instead. */
  get fellBackToNull(): boolean {
    return this.info.fallback !== null;
  }

  /**
   * Opens a voice: a stream's own input to this device's mixer (own ring, gain, interrupt, events).
   * Throws InputError naming a bad option, AudioError `AUDIO_NO_FREE_VOICE` when 64 voices are open.
   */
  openVoice(options: AudioVoiceOptions = {}): AudioVoice {
    const parsed = parseInput(audioVoiceOptionsSchema, options, 'options');
    this.#checkOpen('openVoice');
    const bufferFrames = parsed.bufferFrames ?? this.config.bufferFrames;
    const id = callNative(() => this.#device.openVoice(bufferFrames, dbToGain(parsed.gainDb)));
    const voice = new AudioVoice(this.#voiceHost, id, bufferFrames);
    this.#voices.set(id, voice);
    this.#startPump();
    return voice;
  }

  /**
   * Drains the callback's voice events now and dispatches them to their voices' listeners; returns
   * how many. A timer calls this every period while voices are open; call it to see events sooner.
   */
  pollEvents(): number {
    if (this.#closed) return 0;
    let total = 0;
    const buffer = this.#eventBuffer;
    for (;;) {
      const count = this.#device.pollEvents(buffer);
      for (let index = 0; index < count; index += 1) {
        const voice = this.#voices.get(buffer[index * 4] ?? 0);
        const kind = VOICE_EVENT_KINDS[buffer[index * 4 + 1] ?? 0];
        if (voice && kind) voice.dispatch(kind, { deviceFrames: buffer[index * 4 + 2] ?? 0, voiceFrames: buffer[index * 4 + 3] ?? 0 });
      }
      total += count;
      if (count < buffer.length / 4) break;
    }
    // A closed voice whose final event was lost (a full event ring) is forgotten once it is freed.
    for (const voice of [...this.#voices.values()]) {
      if (voice.closed && !voice.isAllocated()) this.#voiceHost.forget(voice);
    }
    return total;
  }

  /** Voices opened on this output and not yet forgotten (closed voices stay until their fade ends). */
  get openVoices(): number {
    return this.#voices.size;
  }

  #startPump(): void {
    if (this.#pump !== undefined) return;
    const intervalMs = Math.min(20, Math.max(2, this.#periodMs));
    this.#pump = setInterval(() => this.pollEvents(), intervalMs);
    // Events never keep the process alive: writers and waiters hold their own timers.
    this.#pump.unref();
  }

  #stopPump(): void {
    if (this.#pump === undefined) return;
    clearInterval(this.#pump);
    this.#pump = undefined;
  }

  /** The kinds of voice events (`on(kind, ...)` of an AudioVoice). */
  static readonly voiceEventKinds: readonly AudioVoiceEventKind[] = ['started', 'position', 'drained', 'interrupted', 'underrun'];

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
      await waitOrAbort(Math.max(this.#periodMs, (1000 * wantedFrames) / sampleRateHz), options.signal, writtenFrames, totalFrames);
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
      await waitOrAbort(Math.max(this.#periodMs, (1000 * stats.bufferedFrames) / this.config.sampleRateHz), options.signal);
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
   * Interrupts the default ring only (`write()`): fades it out within 5 ms on the next period,
   * then drops what it queued and plays nothing of it until `resume()`. Voices (`openVoice()`,
   * every engine stream) are untouched and keep playing: interrupt a voice with
   * `voice.interrupt()` (an engine stream: `engine.interrupt(streamId)`). Returns the interrupt
   * generation.
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
    this.#stopPump();
    openOutputs.delete(this.#exitRef);
    this.#device.close();
    this.#voices.clear();
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

/** What to tell the user when the device cannot be opened, by code. */
const OPEN_HINTS: Readonly<Record<string, string>> = {
  AUDIO_BACKEND_INIT_FAILED: `No usable audio system was found; pass { backend: 'null' } (VoiceEngine: { audioBackend: 'null' }) or set ${AUDIO_BACKEND_ENV}=null to run headless.`,
  AUDIO_DEVICE_INIT_FAILED: `No playback device could be opened; pass { backend: 'null' } (VoiceEngine: { audioBackend: 'null' }) or set ${AUDIO_BACKEND_ENV}=null to run headless.`,
  AUDIO_DEVICE_NOT_FOUND: 'List the devices with listOutputDevices() or `voice-soundboard devices`.',
};

/** One process warning for the first fallback to the null backend (later ones are in `info`). */
function warnFallback(reason: string): void {
  if (fallbackWarned) return;
  fallbackWarned = true;
  process.emitWarning(`No audio device could be opened (${reason}); playing on the null backend (no sound). Set ${AUDIO_BACKEND_ENV}=null to make this explicit.`, {
    code: 'VOICE_SOUNDBOARD_AUDIO_FALLBACK',
    type: 'AudioFallbackWarning',
  });
}

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
