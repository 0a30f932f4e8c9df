/**
 * StreamSink: the only way a stream's PCM reaches the device. An allowed `play` opens it (its
 * permit is spent here, checked to be the stream's latest decision) together with the stream's own
 * voice of the device mixer; the stream's next state change (interrupt, stop, fail — whoever asked)
 * or a registrar halt closes it. Closing flips that voice's interrupt atomic at once (≤ 5 ms fade on
 * the next period, then that voice is dropped; other streams play on sample-exact) unless everything
 * written had already played, retires the voice, and makes every later write fail: no frame after a
 * stop. On a native core the voice also watches the stream's state word (registrar.streamWatch), so
 * the audio callback starts that fade itself in the first period after a decision made on another
 * thread, without waiting for this thread's event loop to deliver the transition. The voice itself never leaves the sink: gain and events are reachable, writes only here.
 */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { AbortError, AudioError } from '../errors.js';
import type { AudioOutput } from '../audio/output.js';
import type { AudioVoice, AudioVoiceEvent, AudioVoiceEventKind, AudioVoiceOptions } from '../audio/voice.js';
import type { AudioRegistrar } from '../registrar/registrar.js';
import type { Permit, TransitionEvent } from '../registrar/types.js';

/** Why a sink closed: the decision that closed it, or a halt. */
export interface SinkClosure {
  /** `interrupt`, `stop`, `fail`, or `halt`. */
  readonly action: string;
  /** Who asked (`"kind:id"`), or null for a halt. */
  readonly actor: string | null;
  /** The closing decision's attestation id (a halt's record id when it has one), or null. */
  readonly attestationId: string | null;
  readonly seq: number | null;
  readonly reason: string | null;
}

/** One stream's gated path to the device. Owned by one JS thread. */
export class StreamSink {
  /** The stream this sink carries. */
  readonly streamId: string;
  /** The seq of the `play` decision that opened it. */
  readonly openedBySeq: number;
  readonly #output: AudioOutput;
  readonly #voice: AudioVoice;
  readonly #controller = new AbortController();
  #closure: SinkClosure | null = null;
  #framesWritten = 0;
  #drained = false;
  /** This stream's played frames when its closing decision arrived, or null. */
  #cutAtFrames: number | null = null;
  /** The cut's fade has been rendered and the voice retired (its last events arrived). */
  #settled = false;
  /** Resolves when `#settled` turns true: settle() wakes on the voice's event, not on its next poll. */
  readonly #whenSettled: Promise<void>;
  readonly #onClose = new Set<(closure: SinkClosure) => void>();

  private constructor(streamId: string, openedBySeq: number, output: AudioOutput, voice: AudioVoice) {
    this.streamId = streamId;
    this.openedBySeq = openedBySeq;
    this.#output = output;
    this.#voice = voice;
    let markSettled!: () => void;
    this.#whenSettled = new Promise((resolve) => (markSettled = resolve));
    const settled = () => {
      this.#settled = true;
      markSettled();
    };
    voice.on('interrupted', settled);
    voice.on('drained', settled);
  }

  /**
   * Opens the sink with the permit of an allowed `play` (spent here: single use, and refused when a
   * later decision superseded it): opens the stream's own voice on `output` (with `voiceOptions`,
   * e.g. its ring) and starts the device.
   */
  static open(registrar: AudioRegistrar, permit: Permit, output: AudioOutput, voiceOptions: AudioVoiceOptions = {}): StreamSink {
    const spent = registrar.spend(permit, { action: 'play' });
    const voice = output.openVoice(voiceOptions);
    try {
      // A native core's stream word is watched by the audio callback itself: a decision that ends
      // the stream (made on any thread) fades this voice the next period, before this thread's
      // event loop hears of it; close() below still follows on the transition, as without a watch.
      const watch = registrar.streamWatch(spent);
      if (watch !== null) voice.watch(watch);
      output.start();
    } catch (error) {
      voice.close();
      throw error;
    }
    return new StreamSink(spent.streamId ?? '', spent.seq, output, voice);
  }

  /** The closing decision, or null while open. */
  get closure(): SinkClosure | null {
    return this.#closure;
  }

  /** Frames this sink queued on the device. */
  get framesWritten(): number {
    return this.#framesWritten;
  }

  /** Whether the device renders (false: stopped by its host, or lost: miniaudio stopped it). */
  deviceStarted(): boolean {
    return !this.#output.closed && this.#output.stats().started;
  }

  /** Frames of this stream mixed into the device output so far (interrupt-faded ones included). */
  playedFrames(): number {
    return this.#voice.stats().framesPlayed;
  }

  /** Periods in which this stream's voice, playing and not ended, ran dry (the device played silence instead). */
  underruns(): number {
    return this.#voice.stats().underruns;
  }

  /** `playedFrames()` at the moment the closing decision arrived, or null (open, or closed with nothing left to cut). */
  get cutAtFrames(): number | null {
    return this.#cutAtFrames;
  }

  /**
   * Resolves once the device has rendered this sink's cut (fade and drop), so `playedFrames()` is
   * final; at once when nothing was cut. Waits with timers of one period, never spinning.
   */
  async settle(signal?: AbortSignal): Promise<void> {
    if (this.#cutAtFrames === null) return;
    const { periodFrames, sampleRateHz } = this.#output.config;
    const periodMs = (1000 * periodFrames) / sampleRateHz;
    // When the voice's last event was lost (a full event ring), its slot going away ends the wait
    // a couple of periods later.
    let lingering = 3;
    while (!this.#settled && !this.#output.closed) {
      if (!this.#output.stats().started) return;
      if (!this.#voice.isAllocated() && --lingering <= 0) return;
      const poll = new AbortController();
      const stopPoll = () => poll.abort();
      signal?.addEventListener('abort', stopPoll, { once: true });
      try {
        await Promise.race([this.#whenSettled, sleep(periodMs, undefined, { signal: poll.signal }).catch(() => undefined)]);
      } finally {
        poll.abort();
        signal?.removeEventListener('abort', stopPoll);
      }
      signal?.throwIfAborted();
    }
  }

  /**
   * Resolves once this sink's voice no longer holds a slot of the device's mixer (a closed voice
   * keeps it while it fades or drains), so the scheduler's count of free voices is true when the
   * play releases its turn. Waits with timers of one period, at most `maxPeriods` of them.
   */
  async voiceFreed(maxPeriods = 50): Promise<void> {
    const { periodFrames, sampleRateHz } = this.#output.config;
    const periodMs = (1000 * periodFrames) / sampleRateHz;
    for (let period = 0; period < maxPeriods && this.#voice.isAllocated(); period++) {
      if (!this.#output.stats().started) return;
      await sleep(periodMs);
    }
  }

  /** The id of this stream's voice on the device (events and stats of the mixer name it). */
  get voiceId(): number {
    return this.#voice.id;
  }

  /**
   * Ramps this stream's gain to `gainDb` over `rampMs` (ducking); no effect once closed. Never
   * makes sound by itself: only written frames play.
   */
  setGain(gainDb: number, options: { rampMs?: number } = {}): void {
    if (this.#closure) return;
    this.#voice.setGain(gainDb, options);
  }

  /** Calls `listener` on this stream's voice events (`started`, `position`, ...); returns the unsubscribe. */
  onVoiceEvent(kind: AudioVoiceEventKind, listener: (event: AudioVoiceEvent) => void): () => void {
    return this.#voice.on(kind, listener);
  }

  /** Calls `listener` when the sink closes (at once when it already has). */
  onClose(listener: (closure: SinkClosure) => void): void {
    if (this.#closure) listener(this.#closure);
    else this.#onClose.add(listener);
  }

  /**
   * Queues all of `pcm` (interleaved, the device's channels), waiting for room. Rejects with
   * AudioError `STREAM_SINK_CLOSED` when the sink is (or becomes) closed: the rest is never played.
   */
  async write(pcm: Float32Array, signal?: AbortSignal): Promise<number> {
    this.#throwIfClosed();
    this.#drained = false;
    const wait = signal ? AbortSignal.any([signal, this.#controller.signal]) : this.#controller.signal;
    try {
      const frames = await this.#voice.writeAll(pcm, { signal: wait });
      this.#framesWritten += frames;
      return frames;
    } catch (error) {
      this.#throwIfClosed();
      throw error;
    }
  }

  /**
   * Ends the stream's input and resolves when everything written has been played; rejects like
   * `write` when closed first. The last call before the stream ends: later writes fail.
   */
  async drain(signal?: AbortSignal): Promise<void> {
    this.#throwIfClosed();
    this.#voice.end();
    const wait = signal ? AbortSignal.any([signal, this.#controller.signal]) : this.#controller.signal;
    try {
      await this.#voice.drain({ signal: wait });
      // Cut by the device itself (the voice's watch saw the stream end before this thread heard of
      // it): nothing was drained; the closing transition is on its way, and ends this wait.
      if (this.#voice.stats().state === 'interrupted') {
        if (!wait.aborted) await once(wait, 'abort');
        wait.throwIfAborted();
      }
      this.#drained = true;
    } catch (error) {
      this.#throwIfClosed();
      throw error;
    }
  }

  /**
   * Closes the sink for `closure` (idempotent): the device fades this stream's voice (only it) out
   * on its next period and drops what it holds, pending writes reject, later writes fail.
   */
  close(closure: SinkClosure): void {
    if (this.#closure) return;
    this.#closure = Object.freeze({ ...closure });
    // Silence first (one atomic store in the addon), then wake the waiting writer.
    if (!this.#drained && !this.#output.closed) {
      this.#cutAtFrames = this.playedFrames();
      this.#voice.interrupt();
    }
    this.#voice.close();
    this.#controller.abort(new AbortError(`stream ${this.streamId} ${closure.action}`));
    for (const listener of this.#onClose) listener(this.#closure);
    this.#onClose.clear();
  }

  #throwIfClosed(): void {
    const closure = this.#closure;
    if (!closure) return;
    const by = closure.actor ? ` by ${closure.actor}` : '';
    const record = closure.attestationId ? ` (attestation ${closure.attestationId})` : '';
    throw new AudioError('STREAM_SINK_CLOSED', `stream ${this.streamId}: ${closure.action}${by}${record}; nothing more reaches the device`);
  }
}

/** The closure a transition means for an open sink, or null when the stream keeps playing. */
export function closureOf(event: TransitionEvent): SinkClosure | null {
  if (event.stateAfter === 'playing') return null;
  return { action: event.action, actor: event.actor, attestationId: event.attestationId, seq: event.seq, reason: event.reason };
}

// Hardening: no caller can swap a method of this class for its own (a monkey-patched prototype would see every instance).
Object.freeze(StreamSink.prototype);
Object.freeze(StreamSink);
