/**
 * DevicePlayback: one stream's turn and audio on the engine's device, the one code `play()` and
 * `speakToFile({ play: true })` share. The stream's sink opens with the permit of the allowed
 * play, in the same call that took it (`hooks().onPlay`), and the device's scheduler learns the
 * stream plays and gets its per-stream gain; every frame goes through the sink in the device's
 * channel layout (paced to the real-time limit in real-time mode), and the next transition of the
 * stream (or a halt) closes it. A write cut short by such a decision just ends the feeding; a
 * device that stopped under the play fails the stream (attested) and the error goes on. While the
 * feed waits for its next chunk the admission timeout runs (`watched()`, play-guards.ts), and the
 * turn is released once the stream's voice is free (`release()`).
 */
import { convertChannels } from '../audio/channels.js';
import { AudioError } from '../errors.js';
import type { AudioOutput } from '../audio/output.js';
import type { ActorHandle } from '../registrar/actor-handle.js';
import type { AudioRegistrar } from '../registrar/registrar.js';
import { realtimeLimitFrames, writeAheadFrames, writePaced } from '../streaming/paced-write.js';
import type { Admission } from '../streaming/scheduler.js';
import type { SinkBook } from '../streaming/sink-book.js';
import type { StreamSink } from '../streaming/stream-sink.js';
import type { AudioChunk } from './speech-types.js';
import { idleWatch, type IdleWatch } from './play-guards.js';
import type { StreamLifecycle } from './stream-lifecycle.js';
import { gainTargetOf, type RunHooks } from './utterance.js';

/** What the plays of one engine on one device share (made before a play asks for its turn: see `devicePlaybackContext`). */
export interface PlaybackContext {
  sinks: SinkBook;
  output: AudioOutput;
  registrar: AudioRegistrar;
  /** The runtime actor: it fails a stream that holds its turn with no audio to play. */
  runtime: ActorHandle;
  /** Sizes the voice's ring as the write-ahead (docs/ENGINE.md, "Bounded memory and write-ahead"). */
  realtime: boolean;
  /** Each write is paced to this many frames ahead of the device (0: no pacing). */
  paceFrames: number;
  admissionTimeoutMs: number;
}

/**
 * The playback context of an engine's plays on `output`: in real-time mode writes are paced to
 * the limit `maxLatencyMs` sets. Throws InputError naming `maxLatencyMs` when it is below one
 * device period, so call it before the play asks for its turn.
 */
export function devicePlaybackContext(base: Omit<PlaybackContext, 'paceFrames'>, maxLatencyMs: number): PlaybackContext {
  return { ...base, paceFrames: base.realtime ? realtimeLimitFrames(base.output.config, maxLatencyMs) : 0 };
}

/** One stream's feeding of the device (see the module comment). */
export class DevicePlayback {
  readonly #sinks: SinkBook;
  readonly #output: AudioOutput;
  readonly #admission: Admission;
  readonly #realtime: boolean;
  readonly #paceFrames: number;
  readonly #idle: IdleWatch;
  #sink: StreamSink | undefined;

  /** Playback in `context` for the play `admission` admitted, whose stream `current()` names once it exists. */
  constructor(context: PlaybackContext, admission: Admission, current: () => string | undefined) {
    this.#sinks = context.sinks;
    this.#output = context.output;
    this.#admission = admission;
    this.#realtime = context.realtime;
    this.#paceFrames = context.paceFrames;
    this.#idle = idleWatch(context.registrar, context.runtime, context.admissionTimeoutMs, current, () => this.holdsAudio());
  }

  /**
   * The stream's chunks with the admission timeout armed while the feed waits for the next one
   * (from its admission to its first audio, and between chunks): the turn is held only while
   * there is audio to play. Ending the loop early closes `chunks`.
   */
  async *watched<T>(chunks: AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
    this.#idle.arm();
    try {
      for await (const chunk of chunks) {
        this.#idle.disarm();
        yield chunk;
        this.#idle.arm();
      }
    } finally {
      this.#idle.disarm();
    }
  }

  /** Gives the turn back once the stream's voice is free (faded or drained), so the next play finds a slot. Call once, at the end. */
  async release(): Promise<void> {
    this.#idle.disarm();
    if (this.#sink?.closure) await this.#sink.voiceFreed().catch(() => undefined);
    this.#admission.release();
  }

  /**
   * The run hooks: open the sink with the play permit, drain it before the natural-end stop, then
   * `finish` (a file's end of encoding), with the admission timeout off as while a chunk is handled.
   */
  hooks(perSentenceLoudness: boolean, finish?: () => Promise<void>): RunHooks {
    return {
      perSentenceLoudness,
      onPlay: (permit) => {
        this.#sink = this.#sinks.open(permit, this.#output, { bufferFrames: writeAheadFrames(this.#output.config, this.#realtime) });
        this.#admission.playing(permit.streamId ?? '');
        this.#admission.attachGain(gainTargetOf(this.#sink));
      },
      beforeEnd: async () => {
        await this.#sink?.drain();
        if (!finish) return;
        this.#idle.disarm();
        await finish();
      },
    };
  }

  /** The stream's sink, once the play permit opened it. */
  get sink(): StreamSink | undefined {
    return this.#sink;
  }

  /** Whether audio may be written: the sink is open and no decision has closed it. */
  get open(): boolean {
    return this.#sink !== undefined && this.#sink.closure === null;
  }

  /** Whether the device still holds audio the stream wrote (open, and not all of it played yet). */
  holdsAudio(): boolean {
    return this.open && (this.#sink?.framesWritten ?? 0) > (this.#sink?.playedFrames() ?? 0);
  }

  /**
   * Writes `chunk` in the device's layout (call only while `open`). Resolves false when a decision
   * closed the sink during the write (the feeding ends there); when the device stopped under the
   * play, `lifecycle` fails the stream (attested) before the error is rethrown.
   */
  async write(chunk: AudioChunk, lifecycle: StreamLifecycle): Promise<boolean> {
    const sink = this.#sink;
    if (!sink) return false;
    const { config } = this.#output;
    const frames = chunk.channels === config.channels ? chunk.pcm : convertChannels(chunk.pcm, { inputChannels: chunk.channels, outputChannels: config.channels });
    try {
      if (this.#paceFrames > 0) await writePaced(sink, frames, config, this.#paceFrames);
      else await sink.write(frames);
      return true;
    } catch (error) {
      if (sink.closure) return false;
      // The device stopped under the play: the runtime fails the stream (attested) with why.
      if (error instanceof AudioError && error.code === 'AUDIO_DEVICE_STOPPED') lifecycle.fail(error.message);
      throw error;
    }
  }

  /** Periods the stream ran dry on the device (0 before the sink opened). */
  underruns(): number {
    return this.#sink?.underruns() ?? 0;
  }
}

// Hardening, as VoiceEngine: no caller can swap a method of this class for its own (a patched prototype would reach every engine).
Object.freeze(DevicePlayback.prototype);
Object.freeze(DevicePlayback);
