/**
 * AudioVoice: one stream's own input to an AudioOutput's mixer. Each voice has its own native ring
 * (its own backpressure), gain with linear ramps, and interrupt: interrupting a voice fades only
 * that voice to zero within 5 ms from the device's next period; the others play on sample-exact.
 * The audio callback reports what happens to voices through an event ring that the AudioOutput
 * drains on the JS thread (a timer sized to the period, or `output.pollEvents()`), and dispatches
 * here: `started`, `position`, `drained`, `interrupted`, `underrun`.
 *
 * Opened with `output.openVoice()`; owned by the JS thread that owns the output. `close()` retires
 * the voice (a playing voice fades out first, never cut short) and is idempotent.
 */
import { z } from 'zod';
import { AudioError, InputError } from '../errors.js';
import type { NativeAudioDevice, NativeVoiceStats } from '../native/audio-binding.js';
import type { NativeStreamWatch } from '../native/registrar-binding.js';
import { parseInput } from '../validation.js';
import { throwIfAborted, waitOrAbort as wait } from './wait.js';

/** Options of `output.openVoice(...)`, validated with zod. */
export const audioVoiceOptionsSchema = z.strictObject({
  /** Capacity of the voice's ring in frames (default: the output's bufferFrames). */
  bufferFrames: z.number().int().min(32).max(1 << 26).optional(),
  /** Starting gain in dB (0 = unchanged, -120 is inaudible, at most +24). */
  gainDb: z.number().min(-120).max(24).default(0),
});

/** What callers may pass to `output.openVoice(...)`. */
export type AudioVoiceOptions = z.input<typeof audioVoiceOptionsSchema>;

/** Options of `voice.setGain(...)`. */
export const voiceGainOptionsSchema = z.strictObject({
  /** Length of the linear ramp from the current gain (0: from the next period at once). */
  rampMs: z.number().min(0).max(60_000).default(0),
});

/** Where a voice is: nothing mixed yet, playing, fading after an interrupt, done, or closed by JS. */
export type AudioVoiceState = 'pending' | 'playing' | 'fading' | 'interrupted' | 'drained' | 'closed';

/** Counters of one voice. */
export interface AudioVoiceStats {
  /** Frames of this voice mixed into the device output (interrupt-faded ones included). */
  framesPlayed: number;
  /** Frames written and not yet mixed. */
  bufferedFrames: number;
  /** Periods in which this voice (started, not ended) had fewer frames than the period needed. */
  underruns: number;
  state: AudioVoiceState;
}

/** The kinds of voice events. */
export type AudioVoiceEventKind = 'started' | 'position' | 'drained' | 'interrupted' | 'underrun';

/** Where a voice event happened. */
export interface AudioVoiceEvent {
  /** Frames of this voice mixed at that point. */
  voiceFrames: number;
  /** The device's output frame position at that point (frames since the device first rendered). */
  deviceFrames: number;
}

/** Options of the waiting methods. */
export interface AudioVoiceWaitOptions {
  /** Rejects the wait with an AbortError; frames already written stay queued. */
  signal?: AbortSignal;
}

/** Event kinds by the number the addon reports (native/core/voice_event_ring.h). */
export const VOICE_EVENT_KINDS: readonly (AudioVoiceEventKind | undefined)[] = [undefined, 'started', 'position', 'drained', 'interrupted', 'underrun'];
const PHASES: readonly AudioVoiceState[] = ['pending', 'playing', 'fading', 'interrupted', 'drained'];

/** What a voice needs from its AudioOutput (internal: voices are opened by `output.openVoice()`). */
export interface VoiceHost {
  readonly device: NativeAudioDevice;
  readonly channels: number;
  readonly sampleRateHz: number;
  readonly periodMs: number;
  readonly closed: boolean;
  /** Runs an addon call, turning its coded Error into an AudioError. */
  call<T>(call: () => T): T;
  /** The voice was closed and the native slot is gone: stop dispatching to it. */
  forget(voice: AudioVoice): void;
}

/** One stream's input to the device mixer. */
export class AudioVoice {
  /** The voice's id on its device (never reused by that device). */
  readonly id: number;
  /** Capacity of its ring in frames. */
  readonly bufferFrames: number;
  readonly #host: VoiceHost;
  readonly #listeners = new Map<AudioVoiceEventKind, Set<(event: AudioVoiceEvent) => void>>();
  #closed = false;
  #ended = false;
  #framesWritten = 0;
  /** Counters kept from events once the native voice may be gone (after close). */
  #last: AudioVoiceStats = { framesPlayed: 0, bufferedFrames: 0, underruns: 0, state: 'pending' };

  /** Internal: use `output.openVoice()`. */
  constructor(host: VoiceHost, id: number, bufferFrames: number) {
    this.#host = host;
    this.id = id;
    this.bufferFrames = bufferFrames;
  }

  /** Frames written to this voice so far. */
  get framesWritten(): number {
    return this.#framesWritten;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Queues as much of `pcm` (interleaved float32, whole frames) as fits and returns the frames
   * accepted; never waits. Throws AudioError `AUDIO_VOICE_CLOSED`, `AUDIO_VOICE_ENDED` or
   * `AUDIO_VOICE_INTERRUPTED` when the voice takes no more input.
   */
  write(pcm: Float32Array): number {
    this.#checkPcm(pcm);
    this.#checkWritable('write');
    const accepted = this.#host.call(() => this.#host.device.voiceWrite(this.id, pcm));
    this.#framesWritten += accepted;
    return accepted;
  }

  /**
   * Queues all of `pcm`, waiting for room with timers sized from the period (never spinning).
   * Resolves with the frames written; rejects with AbortError when `signal` fires, AudioError
   * `AUDIO_DEVICE_STOPPED` when the ring is full and the device does not render (stopped, or lost).
   */
  async writeAll(pcm: Float32Array, options: AudioVoiceWaitOptions = {}): Promise<number> {
    this.#checkPcm(pcm);
    const { channels, sampleRateHz, periodMs } = this.#host;
    const totalFrames = pcm.length / channels;
    let writtenFrames = 0;
    for (;;) {
      throwIfAborted(options.signal, writtenFrames, totalFrames);
      writtenFrames += this.write(pcm.subarray(writtenFrames * channels));
      if (writtenFrames >= totalFrames) return writtenFrames;
      // The ring is full and only the device empties it: a stopped (or lost) device never will.
      if (!this.#host.call(() => this.#host.device.stats()).started) {
        throw new AudioError('AUDIO_DEVICE_STOPPED', `writeAll: voice ${this.id} has ${totalFrames - writtenFrames} frames left to write but the device is stopped`);
      }
      // The ring is full: sleep until about half of it (or what is left) has played.
      const wantedFrames = Math.min(totalFrames - writtenFrames, Math.floor(this.bufferFrames / 2));
      await wait(Math.max(periodMs, (1000 * wantedFrames) / sampleRateHz), options.signal, writtenFrames, totalFrames);
    }
  }

  /** No more input: once everything written has been mixed the voice is `drained`. Idempotent. */
  end(): void {
    if (this.#ended || this.#closed) return;
    this.#ended = true;
    this.#host.call(() => this.#host.device.voiceEnd(this.id));
  }

  /**
   * Resolves when everything written has been mixed (or dropped by an interrupt). Rejects with
   * AudioError `AUDIO_NOT_STARTED` when frames are queued on a stopped device, `AUDIO_VOICE_CLOSED`
   * when the voice is closed first, and AbortError when `signal` fires.
   */
  async drain(options: AudioVoiceWaitOptions = {}): Promise<void> {
    for (;;) {
      throwIfAborted(options.signal);
      this.#checkOpen('drain');
      const stats = this.stats();
      if (stats.bufferedFrames === 0) return;
      if (!this.#host.call(() => this.#host.device.stats()).started) {
        throw new AudioError('AUDIO_NOT_STARTED', `drain: voice ${this.id} has ${stats.bufferedFrames} frames queued but the device is stopped`);
      }
      await wait(Math.max(this.#host.periodMs, (1000 * stats.bufferedFrames) / this.#host.sampleRateHz), options.signal);
    }
  }

  /**
   * Fades this voice only to zero within 5 ms from the device's next period, then drops what it
   * holds; later writes fail with `AUDIO_VOICE_INTERRUPTED`. Idempotent; nothing after close().
   */
  interrupt(): void {
    if (this.#closed || this.#host.closed) return;
    this.#host.call(() => this.#host.device.voiceInterrupt(this.id));
  }

  /**
   * Makes this voice follow a registrar stream (a watch from `registrar.streamWatch(permit)`): from
   * the first device period in which that stream no longer plays (interrupting, stopped, failed,
   * or its core halted), the audio callback fades this voice out exactly as `interrupt()` does,
   * whichever thread decided it. Returns false when the watch's core is gone. Once per voice
   * (AudioError `AUDIO_VOICE_WATCHED` after); AUDIO_VOICE_CLOSED after close().
   */
  watch(watch: NativeStreamWatch): boolean {
    this.#checkOpen('watch');
    return this.#host.call(() => this.#host.device.voiceWatch(this.id, watch));
  }

  /** Ramps the gain linearly to `gainDb` (≤ +24 dB; -120 is inaudible) over `rampMs`, from the next period. */
  setGain(gainDb: number, options: { rampMs?: number } = {}): void {
    const level = parseInput(z.number().min(-120).max(24), gainDb, 'gainDb');
    const { rampMs } = parseInput(voiceGainOptionsSchema, options, 'options');
    this.#checkOpen('setGain');
    const rampFrames = Math.round((rampMs * this.#host.sampleRateHz) / 1000);
    this.#host.call(() => this.#host.device.voiceSetGain(this.id, dbToGain(level), rampFrames));
  }

  /** A snapshot of the voice's counters (after close(): the last known, updated by its final events). */
  stats(): AudioVoiceStats {
    if (this.#closed || this.#host.closed) return { ...this.#last, bufferedFrames: 0, state: 'closed' };
    const native: NativeVoiceStats = this.#host.call(() => this.#host.device.voiceStats(this.id));
    this.#last = { framesPlayed: native.framesPlayed, bufferedFrames: native.bufferedFrames, underruns: native.underruns, state: PHASES[native.phase] ?? 'pending' };
    return { ...this.#last };
  }

  /** Calls `listener` for each event of `kind` on this voice; returns the function that unsubscribes it. */
  on(kind: AudioVoiceEventKind, listener: (event: AudioVoiceEvent) => void): () => void {
    parseInput(z.enum(['started', 'position', 'drained', 'interrupted', 'underrun']), kind, 'kind');
    let set = this.#listeners.get(kind);
    if (!set) this.#listeners.set(kind, (set = new Set()));
    set.add(listener);
    return () => void set.delete(listener);
  }

  /** Retires the voice: a playing voice fades out first; later writes fail. Idempotent. */
  close(): void {
    if (this.#closed) return;
    try {
      this.stats();
    } catch {
      // The device is closed: keep the last known counters.
    }
    this.#closed = true;
    if (this.#host.closed) {
      this.#host.forget(this);
      return;
    }
    this.#host.device.voiceClose(this.id);
    if (!this.isAllocated()) this.#host.forget(this);
  }

  /** Internal: whether the native slot still holds this voice (a closed voice fading out). */
  isAllocated(): boolean {
    if (this.#host.closed) return false;
    try {
      this.#host.device.voiceStats(this.id);
      return true;
    } catch {
      return false;
    }
  }

  /** Internal: an event from the device's event ring (called by the AudioOutput's pump). */
  dispatch(kind: AudioVoiceEventKind, event: AudioVoiceEvent): void {
    // After close() the native counters may be gone: the events keep the last known ones current.
    if (this.#closed) {
      this.#last = { ...this.#last, framesPlayed: Math.max(this.#last.framesPlayed, event.voiceFrames), underruns: this.#last.underruns + (kind === 'underrun' ? 1 : 0) };
    }
    // Forgotten once its native slot is gone: a voice cut by its watch reports `interrupted` before
    // it is retired, and the output's pump must run on until the slot is reclaimed.
    if (this.#closed && (kind === 'interrupted' || kind === 'drained') && !this.isAllocated()) this.#host.forget(this);
    const listeners = this.#listeners.get(kind);
    if (!listeners) return;
    for (const listener of [...listeners]) listener(Object.freeze({ ...event }));
  }

  #checkOpen(operation: string): void {
    if (this.#closed) throw new AudioError('AUDIO_VOICE_CLOSED', `${operation}: voice ${this.id} is closed`);
    if (this.#host.closed) throw new AudioError('AUDIO_DEVICE_CLOSED', `${operation}: the AudioOutput is closed`);
  }

  #checkWritable(operation: string): void {
    this.#checkOpen(operation);
    if (this.#ended) throw new AudioError('AUDIO_VOICE_ENDED', `${operation}: voice ${this.id} was ended (end() means no more input)`);
  }

  #checkPcm(pcm: unknown): asserts pcm is Float32Array {
    if (!(pcm instanceof Float32Array)) {
      throw new InputError(`pcm: expected a Float32Array (received ${pcm === null ? 'null' : typeof pcm})`, { field: 'pcm' });
    }
    if (pcm.length % this.#host.channels !== 0) {
      throw new InputError(`pcm: expected whole frames of ${this.#host.channels} interleaved samples (received ${pcm.length} samples)`, { field: 'pcm' });
    }
  }
}

/** Linear gain of a level in dB. */
export function dbToGain(gainDb: number): number {
  return 10 ** (gainDb / 20);
}

// Hardening: no caller can swap a method of this class for its own.
Object.freeze(AudioVoice.prototype);
Object.freeze(AudioVoice);
