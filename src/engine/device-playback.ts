/**
 * DevicePlayback: one stream's turn and audio on the engine's device, the one code `play()` and
 * `speakToFile({ play: true })` share. A play starts in one sequence (`admit()` then `start()`):
 * the device's scheduler admits it, its stream begins (unless the admission began it), the
 * caller's abort becomes the owner's request to end the stream (the registrar decides, so the
 * run itself gets no signal), and the run is watched by the admission timeout. The stream's sink opens with the permit of the allowed
 * play, in the same call that took it (`hooks().onPlay`), and the device's scheduler learns the
 * stream plays and gets its per-stream gain; every frame goes through the sink in the device's
 * channel layout (paced to the real-time limit in real-time mode), and the next transition of the
 * stream (or a halt) closes it. A write cut short by such a decision just ends the feeding; a
 * device that stopped under the play fails the stream (attested) and the error goes on. While the
 * feed waits for its next chunk the admission timeout runs (play-guards.ts), and the
 * turn is released once the stream's voice is free (`release()`).
 */
import { convertChannels } from '../audio/channels.js';
import { AudioError, type AbortError } from '../errors.js';
import type { AudioOutput } from '../audio/output.js';
import type { ActorHandle } from '../registrar/actor-handle.js';
import type { AudioRegistrar } from '../registrar/registrar.js';
import { realtimeLimitFrames, writeAheadFrames, writePaced } from '../streaming/paced-write.js';
import type { Admission } from '../streaming/scheduler.js';
import type { SinkBook } from '../streaming/sink-book.js';
import type { StreamSink } from '../streaming/stream-sink.js';
import type { ParsedSpeakOptions } from './engine-options.js';
import type { AudioChunk } from './speech-types.js';
import { givenUpWaits, GivenUp } from './given-up-wait.js';
import { callerAbort, callerAbortError, idleWatch, ownerEnds, playEndError, type CallerAbort, type IdleWatch } from './play-guards.js';
import type { StreamLifecycle } from './stream-lifecycle.js';
import { gainTargetOf, streamFailed, type RunHooks, type Utterance } from './utterance.js';

/** Codes of a write that failed because the device no longer renders (stopped, lost, or closed by its host). */
const DEVICE_GONE: ReadonlySet<string> = new Set(['AUDIO_DEVICE_STOPPED', 'AUDIO_DEVICE_CLOSED']);

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

/** What a play asks of its engine to start (its internals, as closures over the call). */
export interface PlayStart {
  /** Waits for the play's turn (play-admission.ts); `started` keeps a stream the scheduler began for it meanwhile. */
  admit(started: (utterance: Utterance) => void, current: () => Utterance | undefined): Promise<Admission>;
  /** Starts the play's stream (asks the registrar). */
  begin(): Utterance;
  /** Whether the engine began closing, and the check that throws once it did. */
  closed(): boolean;
  throwIfClosed(): void;
  /** Runs a started utterance of the call's input with `options` and `hooks` (utterance-run.ts). */
  run(utterance: Utterance, options: ParsedSpeakOptions, hooks: RunHooks): AsyncGenerator<AudioChunk, void, undefined>;
  /** The engine's actor, the stream's owner: the caller's abort is its request. */
  actor: ActorHandle;
}

/** A started play: its stream and its chunks (watched by the admission timeout). */
export interface StartedPlay {
  utterance: Utterance;
  chunks: AsyncGenerator<AudioChunk, void, undefined>;
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
  readonly #registrar: AudioRegistrar;
  readonly #admission: Admission;
  readonly #realtime: boolean;
  readonly #paceFrames: number;
  readonly #idle: IdleWatch;
  readonly #play: PlayStart;
  /** The play's stream, once begun (by its admission or by `start()`): shared with the scheduler's view of the play. */
  readonly #current: { utterance?: Utterance };
  readonly #signal: AbortSignal | undefined;
  /** The caller's abort once the stream exists: the owner's request to end it, which the registrar decides. */
  readonly abort: CallerAbort;
  #sink: StreamSink | undefined;
  /** Resolves false once the sink closed (made on first use by `whileWriting`). */
  #sinkClosed: Promise<false> | undefined;
  /** Ends the feed's wait for its next chunk once the admission timeout failed the stream (set while it waits). */
  #gaveUp: (() => void) | undefined;

  private constructor(context: PlaybackContext, play: PlayStart, admission: Admission, current: { utterance?: Utterance }, signal: AbortSignal | undefined) {
    this.#sinks = context.sinks;
    this.#output = context.output;
    this.#registrar = context.registrar;
    this.#admission = admission;
    this.#realtime = context.realtime;
    this.#paceFrames = context.paceFrames;
    this.#play = play;
    this.#current = current;
    this.#signal = signal;
    const streamId = (): string | undefined => current.utterance?.lifecycle.streamId;
    this.#idle = idleWatch(context.registrar, context.runtime, context.admissionTimeoutMs, streamId, () => this.holdsAudio(), () => this.#gaveUp?.());
    this.abort = callerAbort(context.registrar, play.actor, streamId);
  }

  /**
   * Waits for the play's turn from the device's scheduler (docs/ENGINE.md, "Scheduling"): its
   * stream is begun when its turn comes, or earlier when it preempts. `signal` is the caller's
   * (it withdraws a waiting play). Then call `start()`, and `release()` at the end whatever happens.
   */
  static async admit(context: PlaybackContext, play: PlayStart, signal: AbortSignal | undefined): Promise<DevicePlayback> {
    const current: { utterance?: Utterance } = {};
    const admission = await play.admit(
      (started) => (current.utterance = started),
      () => current.utterance,
    );
    return new DevicePlayback(context, play, admission, current, signal);
  }

  /**
   * Starts the admitted play: its stream (the one its admission began, else a new one; none once
   * the engine began closing), the caller's abort as the owner's request to end it, and its run at
   * the device's rate with `options` (their signal left to that abort) and this playback's hooks
   * (`hooks(perSentenceLoudness, finish)`), watched by the admission timeout.
   */
  start(options: ParsedSpeakOptions, perSentenceLoudness: boolean, finish?: () => Promise<unknown>): StartedPlay {
    const play = this.#play;
    if (play.closed() && this.#current.utterance) this.#current.utterance.lifecycle.stop('engine_closed');
    play.throwIfClosed();
    const utterance = (this.#current.utterance ??= play.begin());
    this.#signal?.addEventListener('abort', this.abort.onAbort, { once: true });
    if (this.#signal?.aborted) this.abort.onAbort();
    const { signal: _callerSignal, ...unsignalled } = options;
    void _callerSignal;
    const hooks = this.hooks(perSentenceLoudness, finish);
    return { utterance, chunks: this.#watched(play.run(utterance, { ...unsignalled, sampleRateHz: this.#output.config.sampleRateHz }, hooks)) };
  }

  /**
   * The file a `speakToFile({ play: true })` also writes failed (`why`): the owner's request to end
   * the stream, as the caller's abort is, never the runtime's; refused (a user's accessibility
   * override over an agent's stream), the speech plays on to its end.
   */
  fileFailed(why: string): void {
    const streamId = this.#current.utterance?.lifecycle.streamId;
    if (streamId !== undefined && !this.#registrar.halted) ownerEnds(this.#registrar, this.#play.actor, streamId, `the file could not be written: ${why}`.slice(0, 1000));
  }

  /**
   * Awaits `work`, a write of the file a `speakToFile({ play: true })` also writes, under the
   * admission timeout: a file target that takes nothing (a peer that stopped reading) while the
   * device has none of the stream's audio left holds the turn with nothing to play, and the
   * runtime fails the stream (play-guards.ts). Resolves true when `work` did, false (leaving
   * `work` to settle on its own) once the stream's sink closed first, by that fail or any decision.
   */
  async whileWriting(work: Promise<unknown>): Promise<boolean> {
    const sink = this.#sink;
    if (!sink) return work.then(() => true);
    if (sink.closure) {
      work.catch(() => undefined);
      return false;
    }
    this.#sinkClosed ??= new Promise<false>((resolve) => sink.onClose(() => resolve(false)));
    this.#idle.arm();
    try {
      return await Promise.race([work.then(() => true), this.#sinkClosed]);
    } finally {
      this.#idle.disarm();
    }
  }

  /** The AbortError the play ends with when the caller's abort ended its stream (`face` names the call), else null. */
  abortError(face: string): AbortError | null {
    return callerAbortError(this.abort, this.#current.utterance?.halted ?? false, this.#signal, face);
  }

  /** The error the play ends with once its feed stopped (play-guards.ts, `playEndError`), or null when it ended well. */
  endError(utterance: Utterance, face: string): Error | null {
    return playEndError(utterance, this.abort, this.#registrar, this.#signal, face);
  }

  /**
   * The stream's chunks with the admission timeout armed while the feed waits for the next one
   * (from its admission to its first audio, and between chunks): the turn is held only while
   * there is audio to play. Once the timeout failed the stream the wait ends with the stream's
   * STREAM_FAILED error, even when the backend ignores its abort (its call is left to settle on its
   * own). Ending the loop early closes `chunks` (unless it was given up: its wait never ends).
   */
  #watched<T>(chunks: AsyncGenerator<T, void, undefined>): AsyncGenerator<T, void, undefined> {
    return givenUpWaits(chunks, async (next) => {
      this.#idle.arm();
      try {
        const gaveUp = new Promise<never>((_, reject) => (this.#gaveUp = () => reject(new GivenUp(this.#givenUpError()))));
        return await Promise.race([next, gaveUp]);
      } finally {
        this.#gaveUp = undefined;
        this.#idle.disarm();
      }
    });
  }

  /** The error a play the admission timeout gave up ends with (the runtime's fail, attested). */
  #givenUpError(): Error {
    const utterance = this.#current.utterance;
    return utterance ? streamFailed(utterance) : new AudioError('STREAM_FAILED', 'the stream was given up: no audio to play (admissionTimeoutMs)');
  }

  /** Stops listening to the caller's abort and gives the turn back once the stream's voice is free (faded or drained), so the next play finds a slot. Call once, at the end. */
  async release(): Promise<void> {
    this.#signal?.removeEventListener('abort', this.abort.onAbort);
    this.#idle.disarm();
    if (this.#sink?.closure) await this.#sink.voiceFreed().catch(() => undefined);
    this.#admission.release();
  }

  /**
   * The run hooks: open the sink with the play permit, drain it before the natural-end stop, then
   * `finish` (a file's end of encoding). The admission timeout is off from there on, as while a
   * chunk is handled: every chunk has come, the drain is bounded by the audio left (a stopped
   * device fails it) and an encoder has its own timeout (speech-file.ts). Left armed, it could
   * fire in the moment between the device playing the last frame and the drain seeing it.
   */
  hooks(perSentenceLoudness: boolean, finish?: () => Promise<unknown>): RunHooks {
    return {
      perSentenceLoudness,
      onPlay: (permit) => {
        this.#sink = this.#sinks.open(permit, this.#output, { bufferFrames: writeAheadFrames(this.#output.config, this.#realtime) });
        this.#admission.playing(permit.streamId ?? '');
        this.#admission.attachGain(gainTargetOf(this.#sink));
      },
      beforeEnd: async () => {
        this.#idle.disarm();
        await this.#sink?.drain();
        await finish?.();
      },
      // An error of the run (a caller's text source or callback that throws, a backend) fails the
      // stream as the runtime; under a user's accessibility override only once the device has played
      // what the stream wrote, so no agent cuts covered speech with an error of its own making.
      beforeFail: async () => {
        this.#idle.disarm();
        const streamId = this.#current.utterance?.lifecycle.streamId;
        if (streamId !== undefined && this.#registrar.overrideFor(streamId) !== null) await this.#sink?.drain().catch(() => undefined);
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

  /**
   * Whether the device still holds audio the stream wrote that it will play (open, not all of it
   * played yet, and the device renders: a closed or stopped device plays nothing, so what it holds
   * does not keep the admission timeout off).
   */
  holdsAudio(): boolean {
    const sink = this.#sink;
    return this.open && sink !== undefined && sink.framesWritten > sink.playedFrames() && sink.deviceStarted();
  }

  /**
   * Writes `chunk` in the device's layout (call only while `open`). Resolves false when a decision
   * closed the sink during the write (the feeding ends there); when the device stopped under the
   * play or was closed, `lifecycle` fails the stream (attested) before the error is rethrown.
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
      // The device stopped under the play, or its host closed it: the stream was cut, so the runtime
      // fails it (attested) with why; left to the run, a throw here read as its consumer leaving (a plain stop).
      if (error instanceof AudioError && DEVICE_GONE.has(error.code)) lifecycle.fail(error.message);
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
