/**
 * StreamSink: the only way a stream's PCM reaches the device. An allowed `play` opens it (its
 * permit is spent here, checked to be the stream's latest decision); the stream's next state change
 * (interrupt, stop, fail — whoever asked) or a registrar halt closes it. Closing flips the device's
 * interrupt atomic at once (≤ 5 ms fade on the next period, then silence, the queue dropped) unless
 * everything written had already played, and makes every later write fail: no frame after a stop.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AbortError, AudioError } from '../errors.js';
import type { AudioOutput } from '../audio/output.js';
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
  readonly #controller = new AbortController();
  #closure: SinkClosure | null = null;
  #framesWritten = 0;
  #drained = false;
  /** The device's framesPlayed when this sink opened (its stream's frame clock starts there). */
  #framesPlayedAtOpen = 0;
  /** This stream's played frames when its closing decision arrived, or null. */
  #cutAtFrames: number | null = null;
  /** The device interrupt generation of this sink's cut, or null when nothing was cut. */
  #cutGeneration: number | null = null;
  readonly #onClose = new Set<(closure: SinkClosure) => void>();

  private constructor(streamId: string, openedBySeq: number, output: AudioOutput) {
    this.streamId = streamId;
    this.openedBySeq = openedBySeq;
    this.#output = output;
  }

  /**
   * Opens the sink with the permit of an allowed `play` (spent here: single use, and refused when a
   * later decision superseded it). Ends any interrupt left in force and starts the device.
   */
  static open(registrar: AudioRegistrar, permit: Permit, output: AudioOutput): StreamSink {
    const spent = registrar.spend(permit, { action: 'play' });
    const sink = new StreamSink(spent.streamId ?? '', spent.seq, output);
    output.resume();
    sink.#framesPlayedAtOpen = output.stats().framesPlayed;
    output.start();
    return sink;
  }

  /** The closing decision, or null while open. */
  get closure(): SinkClosure | null {
    return this.#closure;
  }

  /** Frames this sink queued on the device. */
  get framesWritten(): number {
    return this.#framesWritten;
  }

  /**
   * Frames of this stream the device has played so far (faded frames of a cut included): the
   * device's framesPlayed since this sink opened.
   */
  playedFrames(): number {
    return this.#output.stats().framesPlayed - this.#framesPlayedAtOpen;
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
    const generation = this.#cutGeneration;
    if (generation === null) return;
    const { periodFrames, sampleRateHz } = this.#output.config;
    const periodMs = (1000 * periodFrames) / sampleRateHz;
    while (!this.#output.closed) {
      const stats = this.#output.stats();
      if (stats.completedInterruptGeneration >= generation || !stats.started) return;
      await sleep(periodMs, undefined, signal ? { signal } : undefined);
    }
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
      const frames = await this.#output.writeAll(pcm, { signal: wait });
      this.#framesWritten += frames;
      return frames;
    } catch (error) {
      this.#throwIfClosed();
      throw error;
    }
  }

  /** Resolves when everything written has been played; rejects like `write` when closed first. */
  async drain(signal?: AbortSignal): Promise<void> {
    this.#throwIfClosed();
    const wait = signal ? AbortSignal.any([signal, this.#controller.signal]) : this.#controller.signal;
    try {
      await this.#output.drain({ signal: wait });
      this.#drained = true;
    } catch (error) {
      this.#throwIfClosed();
      throw error;
    }
  }

  /**
   * Closes the sink for `closure` (idempotent): the device fades this stream out on its next
   * period and drops what is queued, pending writes reject, later writes fail.
   */
  close(closure: SinkClosure): void {
    if (this.#closure) return;
    this.#closure = Object.freeze({ ...closure });
    // Silence first (one atomic store in the addon), then wake the waiting writer.
    if (!this.#drained && !this.#output.closed) {
      this.#cutAtFrames = this.playedFrames();
      this.#cutGeneration = this.#output.interrupt();
    }
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
