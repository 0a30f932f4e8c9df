/**
 * VoiceEngine: text in, speech out. It compiles text into a SpeechGraph, asks the registrar for
 * every lifecycle step of the stream (start → compile → synthesize → play → stop, or fail), and
 * synthesizes sentence by sentence with a backend (espeak-ng by default), converting rate and
 * channels and normalising loudness on the way. `stream()` yields chunks as soon as each is ready;
 * `speak()` returns the whole utterance; `play()` sends it to an audio device.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { AbortError, AudioError, BackendError, InputError } from '../errors.js';
import { convertChannels } from '../audio/channels.js';
import { normalizeLoudness } from '../audio/loudness.js';
import { AudioOutput } from '../audio/output.js';
import { concatPcm } from '../audio/pcm.js';
import { decodeWav } from '../audio/wav.js';
import { writeAudioFile, type WrittenAudioFile } from '../audio/file-writer.js';
import { formatFromExtension, type AudioFormat } from '../audio/encode.js';
import type { SpeechBackend } from '../backends/backend.js';
import { FallbackChain, type FallbackFailure } from '../backends/fallback.js';
import { BackendRegistry } from '../backends/registry.js';
import { compile, looksLikeSsml, planSynthesis, type CompileOptions, type SynthesisStep } from '../compiler/index.js';
import type { EngineOutput, SynthesisSegment } from '../graph/engine-output.js';
import type { SpeechGraph } from '../graph/speech-graph.js';
import { z } from 'zod';
import { ActorHandle } from '../registrar/actor-handle.js';
import { RegistrarDeniedError, RegistrarHaltedError } from '../registrar/errors.js';
import { AudioRegistrar } from '../registrar/registrar.js';
import type { HaltInfo, Permit, RegistrarResult, TransitionEvent } from '../registrar/types.js';
import { SinkBook } from '../streaming/sink-book.js';
import { readerOf, type RegistrarReader } from './registrar-reader.js';
import type { SinkClosure, StreamSink } from '../streaming/stream-sink.js';
import { parseInput } from '../validation.js';
import { speakOptionsSchema, voiceEngineOptionsSchema, type SpeakOptions, type VoiceEngineOptions } from './engine-options.js';
import type { AudioChunk, EngineHealth, SpeechResult } from './speech-types.js';
import { RateConverter, sentenceLoudness, toMono } from './pcm-shaping.js';
import { StreamLifecycle } from './stream-lifecycle.js';

type ParsedSpeakOptions = ReturnType<typeof speakOptionsSchema.parse>;
type ParsedEngineOptions = ReturnType<typeof voiceEngineOptionsSchema.parse>;

/** The runtime's own actor. */
const RUNTIME_ACTOR = 'system:voice-engine';

/** Rate used for silence when a text produces no speech at all to take the rate from. */
const FALLBACK_RATE_HZ = 24_000;

/** State of one utterance while it runs; `speak()` reads it afterwards. */
interface Utterance {
  lifecycle: StreamLifecycle;
  /** The graph compiled while validating (recompiled only when an override changes the rate). */
  graph: SpeechGraph;
  backend: string;
  failures: FallbackFailure[];
  interrupted: boolean;
  /** The registrar halted while this utterance ran: it ends with RegistrarHaltedError. */
  halted: boolean;
  /** The decision of someone else (or of close()) that ended this stream early, if any. */
  endedBy: SinkClosure | null;
  /** The runtime is ending the stream itself (natural end): its own stop is not an interruption. */
  finishing: boolean;
}

/** Options of `engine.interrupt()`: only why. The actor is always the engine's own. */
const interruptOptionsSchema = z.strictObject({ reason: z.string().max(1000).optional() });

function graphHash(graph: SpeechGraph): string {
  return `sha256:${createHash('sha256').update(JSON.stringify(graph)).digest('hex')}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function durationMs(samples: number, channels: number, sampleRateHz: number): number {
  return (samples / channels / sampleRateHz) * 1000;
}


/** Speaks text through a backend under the registrar's authority. */
export class VoiceEngine {
  /** Read-only view of the registrar deciding every stream of this engine (it can decide nothing). */
  readonly registrar: RegistrarReader;
  /** The handle of the actor that owns the engine's streams (starts, compiles, interrupts them). */
  readonly actor: ActorHandle;
  /** The system actor of the runtime: synthesize, play, natural-end stop and fail (spec §3.2). */
  readonly runtimeActor = RUNTIME_ACTOR;
  readonly #registrar: AudioRegistrar;
  readonly #runtime: ActorHandle;
  readonly #sinks: SinkBook;
  readonly #options: ParsedEngineOptions;
  readonly #registry = new BackendRegistry();
  readonly #named = new Map<string, Promise<SpeechBackend>>();
  /** Backends this engine created (by name): the only ones close() closes; instances passed in stay the caller's. */
  readonly #created = new Set<Promise<SpeechBackend>>();
  readonly #active = new Map<string, { controller: AbortController; utterance: Utterance; done: Promise<void> }>();
  #main: Promise<SpeechBackend> | undefined;
  #output: AudioOutput | undefined;
  #ownsOutput = false;
  #closed = false;
  readonly #stopListening: (() => void)[];
  /** Settles when the play() holding the device is done. */
  #deviceTurn: Promise<void> = Promise.resolve();
  /** play() calls waiting for their turn on the device. */
  #waitingForDevice = 0;

  /** Validates options (InputError naming the field); backends are created on first use. */
  constructor(options: VoiceEngineOptions = {}) {
    this.#options = parseInput(voiceEngineOptionsSchema, options, 'VoiceEngineOptions');
    this.#registrar = this.#options.registrar ?? new AudioRegistrar();
    const actor = this.#options.actor;
    this.actor = this.#registrar.registerActor(actor);
    if (ActorHandle.isHandle(actor) && this.actor !== actor) {
      throw new InputError('VoiceEngineOptions.actor: an ActorHandle of another registrar (pass the registrar that issued it)', { field: 'actor' });
    }
    this.#runtime = this.#registrar.registerActor(this.runtimeActor);
    this.registrar = readerOf(this.#registrar);
    // Several engines may share one output: each stream plays on its own voice of the mixer.
    this.#output = this.#options.output;
    // Decisions are effects: the sinks obey every transition and halt first (silence), then the
    // engine aborts synthesis of the streams they concern.
    this.#sinks = new SinkBook(this.#registrar);
    this.#stopListening = [
      this.#registrar.onTransition((event) => this.#onTransition(event), { phase: 'effect' }),
      // Fail-closed: when the registrar halts, for any cause, every stream stops.
      this.#registrar.onHalt((halt) => this.#stopAllForHalt(halt), { phase: 'effect' }),
    ];
  }

  /** Synthesizes the whole text and returns it as one buffer with its lifecycle's attestations. */
  async speak(text: string, options: SpeakOptions = {}): Promise<SpeechResult> {
    const parsed = parseInput(speakOptionsSchema, options, 'options');
    const started = performance.now();
    const chunks: AudioChunk[] = [];
    const utterance = await this.#prepare(text, parsed);
    for await (const chunk of this.#run(utterance, text, parsed, { perSentenceLoudness: false })) chunks.push(chunk);
    const sampleRateHz = chunks[0]?.sampleRateHz ?? parsed.sampleRateHz ?? this.#options.sampleRateHz ?? FALLBACK_RATE_HZ;
    let audio = concatPcm(chunks.map((chunk) => chunk.pcm));
    let loudness: SpeechResult['loudness'];
    if (parsed.targetLufs !== undefined && audio.length > 0) {
      const normalised = normalizeLoudness(audio, { sampleRateHz, channels: 1, targetLufs: parsed.targetLufs, truePeakLimitDb: parsed.truePeakLimitDb });
      audio = normalised.pcm;
      loudness = { integratedLufs: normalised.after.integratedLufs, truePeakDb: normalised.after.truePeakDb, gainDb: normalised.gainDb };
    }
    return { ...resultOf(utterance, chunks, audio, sampleRateHz, started), ...(loudness ? { loudness } : {}) };
  }

  /**
   * Yields the speech sentence by sentence, each chunk as soon as it is synthesized. Breaking out
   * of the loop stops the stream; an aborted `signal` rejects with AbortError; an allowed
   * `interrupt()` ends it early. With `targetLufs`, each sentence is normalised on its own.
   */
  async *stream(text: string, options: SpeakOptions = {}): AsyncGenerator<AudioChunk, void, undefined> {
    const parsed = parseInput(speakOptionsSchema, options, 'options');
    const utterance = await this.#prepare(text, parsed);
    yield* this.#run(utterance, text, parsed, { perSentenceLoudness: true });
  }

  /** Synthesizes to a file (format from `audioFormat` or the extension); nothing is left behind on failure. */
  async speakToFile(text: string, path: string, options: SpeakOptions & { audioFormat?: AudioFormat } = {}): Promise<SpeechResult & { file: WrittenAudioFile }> {
    const { audioFormat, ...speakOptions } = options;
    const chosen = audioFormat ?? formatFromExtension(path);
    const result = await this.speak(text, speakOptions);
    if (result.audio.length === 0) throw new AudioError('AUDIO_EMPTY', 'the text produced no audio; no file was written');
    const file = await writeAudioFile(path, result.audio, { sampleRateHz: result.sampleRateHz, channels: result.channels, format: chosen });
    return { ...result, file };
  }

  /**
   * Plays the speech on the engine's audio device as it is synthesized and resolves when it has
   * been heard (or was interrupted). The device is opened on first use unless one was given.
   */
  async play(text: string, options: SpeakOptions = {}): Promise<SpeechResult> {
    const parsed = parseInput(speakOptionsSchema, options, 'options');
    const started = performance.now();
    const graph = await this.#validate(text, parsed);
    this.#throwIfClosed();
    const output = this.#outputDevice();
    const { sampleRateHz, channels } = output.config;
    // One device, one utterance at a time: a later play() waits its turn (its stream is only
    // started when it plays); priorities and preemption belong to the scheduler above the engine.
    const release = await this.#takeDevice(parsed.signal);
    const chunks: AudioChunk[] = [];
    let utterance: Utterance | undefined;
    let sink: StreamSink | undefined;
    const callerSignal = parsed.signal;
    // Once the stream exists, the caller's abort is the owner's request to end it: the registrar
    // decides (a user's accessibility override may refuse it; the speech then plays to its end).
    const abort: { requested: boolean; denial: RegistrarResult | null } = { requested: false, denial: null };
    const onCallerAbort = () => {
      if (abort.requested || !utterance) return;
      abort.requested = true;
      const streamId = utterance.lifecycle.streamId;
      const state = this.#registrar.getState(streamId)?.state;
      if (state !== 'playing' && state !== 'interrupting' && state !== 'compiling' && state !== 'synthesizing') return;
      const action = state === 'playing' || state === 'interrupting' ? 'stop' : 'fail';
      const result = this.#registrar.request({ action, actor: this.actor, target: streamId, reason: 'aborted by the caller' });
      if (!result.allowed) abort.denial = result;
    };
    try {
      this.#throwIfClosed();
      utterance = this.#begin(parsed, graph);
      callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
      if (callerSignal?.aborted) onCallerAbort();
      // The sink opens with the permit of the allowed play, in the same call that took it; every
      // frame goes through it, and the next transition of the stream (or a halt) closes it.
      const hooks: RunHooks = {
        perSentenceLoudness: true,
        onPlay: (permit) => {
          sink = this.#sinks.open(permit, output);
        },
        beforeEnd: async () => {
          await sink?.drain();
        },
      };
      const { signal: _callerSignal, ...runOptions } = parsed;
      void _callerSignal;
      for await (const chunk of this.#run(utterance, text, { ...runOptions, sampleRateHz }, hooks)) {
        chunks.push(chunk);
        if (!sink || sink.closure) break;
        const frames = channels === 1 ? chunk.pcm : convertChannels(chunk.pcm, { inputChannels: 1, outputChannels: channels });
        try {
          await sink.write(frames);
        } catch (error) {
          if (sink.closure) break;
          throw error;
        }
      }
    } catch (error) {
      if (abort.requested && !abort.denial && !utterance?.halted) throw new AbortError('play() was aborted by its signal', { cause: callerSignal?.reason });
      throw error;
    } finally {
      callerSignal?.removeEventListener('abort', onCallerAbort);
      release();
    }
    if (utterance.halted) throw new RegistrarHaltedError(`the registrar halted (${this.#registrar.haltCause?.cause ?? 'unknown cause'}): the stream was stopped (fail-closed)`);
    if (abort.requested && !abort.denial) throw new AbortError('play() was aborted by its signal', { cause: callerSignal?.reason });
    if (abort.denial) {
      const { reason, message, attestation } = abort.denial;
      throw new RegistrarDeniedError(`play() was aborted, but the registrar refused to end the stream (${reason ?? 'denied'}: ${message}); it played to its end`, { reason, seq: attestation.seq });
    }
    if (utterance.endedBy?.action === 'fail') throw streamFailed(utterance);
    return resultOf(utterance, chunks, concatPcm(chunks.map((chunk) => chunk.pcm)), sampleRateHz, started);
  }

  /**
   * Asks the registrar to interrupt a stream as the engine's own actor (no other: the actor is a
   * capability). When allowed, the registrar's transition closes the stream's sink (the device
   * fades out within one period) and synthesis stops; the result says why when denied (e.g.
   * `accessibility_override`, `not_owner`).
   */
  interrupt(streamId: string, options: { reason?: string } = {}): RegistrarResult {
    const parsed = parseInput(interruptOptionsSchema, options, 'options');
    return this.#registrar.request({ action: 'interrupt', actor: this.actor, target: streamId, ...(parsed.reason ? { reason: parsed.reason } : {}) });
  }

  /** Streams being synthesized right now. */
  activeStreams(): string[] {
    return [...this.#active.keys()];
  }

  /** The default backend's health, memory use and queue depth. */
  async health(): Promise<EngineHealth> {
    const memoryMb = Math.round((process.memoryUsage().rss / (1024 * 1024)) * 10) / 10;
    try {
      const backend = await this.#mainBackend();
      const health = await backend.health();
      return {
        backend: health.backend,
        modelLoaded: health.modelLoaded,
        memoryMb,
        queueDepth: this.#active.size + this.#waitingForDevice,
        status: this.#closed ? 'unavailable' : health.status,
        ...(health.detail ? { detail: health.detail } : {}),
        audio: this.#audioHealth(),
      };
    } catch (error) {
      const name = typeof this.#options.backend === 'string' ? this.#options.backend : this.#options.backend.name;
      return { backend: name, modelLoaded: false, memoryMb, queueDepth: this.#active.size + this.#waitingForDevice, status: 'unavailable', detail: describe(error), audio: this.#audioHealth() };
    }
  }

  #audioHealth(): EngineHealth['audio'] {
    const info = this.#output?.info;
    return info ? { backend: info.backend, device: info.device, fallback: info.fallback } : null;
  }

  /**
   * Closing is a decision too: requests `stop` (or `fail` before any audio) with reason
   * `engine_closed` for each running stream, waits for them to end, then closes backends and the
   * device it opened. Nothing stays `playing` in the log. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const running = [...this.#active.entries()];
    for (const [streamId] of running) {
      const state = this.#registrar.getState(streamId)?.state;
      if (state === 'playing' || state === 'interrupting') this.#registrar.request({ action: 'stop', actor: this.#runtime, target: streamId, reason: 'engine_closed' });
      else if (state === 'compiling' || state === 'synthesizing' || state === 'idle') this.#registrar.request({ action: 'fail', actor: this.#runtime, target: streamId, reason: 'engine_closed' });
    }
    // A stream the registrar could not end (it halted) is stopped here without a request.
    for (const [, { controller }] of running) controller.abort(new AudioError('ENGINE_CLOSED', 'the engine was closed'));
    await Promise.allSettled(running.map(([, entry]) => entry.done));
    for (const stop of this.#stopListening) stop();
    this.#sinks.dispose();
    const backends = await Promise.allSettled([...this.#created]);
    await Promise.allSettled(backends.flatMap((entry) => (entry.status === 'fulfilled' ? [entry.value.close()] : [])));
    if (this.#ownsOutput) this.#output?.close();
  }

  // --- internals -------------------------------------------------------------------------------

  /** Waits until no other play() uses the device; resolves with the function that hands it on. */
  async #takeDevice(signal: AbortSignal | undefined): Promise<() => void> {
    const previous = this.#deviceTurn;
    let release!: () => void;
    this.#deviceTurn = new Promise<void>((resolve) => (release = resolve));
    this.#waitingForDevice += 1;
    try {
      if (signal) {
        signal.throwIfAborted();
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => reject(new AbortError('play() was aborted while waiting for the device', { cause: signal.reason }));
          signal.addEventListener('abort', onAbort, { once: true });
          void previous.then(() => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          });
        });
      } else {
        await previous;
      }
    } catch (error) {
      // Hand the turn on only after the previous holder is done, so the order is kept.
      void previous.then(release);
      throw error instanceof AbortError ? error : new AbortError('play() was aborted while waiting for the device', { cause: error });
    } finally {
      this.#waitingForDevice -= 1;
    }
    return release;
  }

  #stopAllForHalt(halt: HaltInfo): void {
    for (const { controller, utterance } of this.#active.values()) {
      utterance.halted = true;
      controller.abort(new RegistrarHaltedError(`the registrar halted (${halt.cause}): every stream was stopped (fail-closed)`));
    }
  }

  /** Obeys a decision on one of this engine's running streams, whoever made it. */
  #onTransition(event: TransitionEvent): void {
    const active = this.#active.get(event.streamId);
    if (!active || (event.stateAfter !== 'interrupting' && event.stateAfter !== 'stopped' && event.stateAfter !== 'failed')) return;
    const { utterance, controller } = active;
    if (utterance.finishing && event.actor === this.#runtime.key) return;
    utterance.endedBy ??= { action: event.action, actor: event.actor, attestationId: event.attestationId, seq: event.seq, reason: event.reason };
    if (event.action !== 'fail') utterance.interrupted = true;
    controller.abort(new AbortError(`stream ${event.streamId}: ${event.action} by ${event.actor}`));
  }

  #outputDevice(): AudioOutput {
    if (!this.#output) {
      const { audioBackend, audioDevice } = this.#options;
      this.#output = new AudioOutput({ ...(audioBackend ? { backend: audioBackend } : {}), ...(audioDevice ? { device: audioDevice } : {}) });
      this.#ownsOutput = true;
    }
    return this.#output;
  }

  async #mainBackend(): Promise<SpeechBackend> {
    this.#main ??= (async () => {
      const refs = [this.#options.backend, ...(this.#options.fallback ?? [])];
      const backends = await Promise.all(refs.map((ref, index) => this.#resolve(ref, index === 0 ? this.#options.backendOptions : undefined)));
      const [first] = backends;
      if (backends.length === 1 && first) return first;
      return new FallbackChain(backends);
    })();
    return this.#main;
  }

  async #backendFor(name: string | undefined): Promise<SpeechBackend> {
    if (name === undefined) return this.#mainBackend();
    const main = typeof this.#options.backend === 'string' ? this.#options.backend : undefined;
    if (name === main) return this.#mainBackend();
    let created = this.#named.get(name);
    if (!created) {
      created = this.#registry.create(name);
      this.#created.add(created);
      this.#named.set(name, created);
      created.catch(() => this.#named.delete(name));
    }
    return created;
  }

  #resolve(ref: string | SpeechBackend, options: Record<string, unknown> | undefined): Promise<SpeechBackend> {
    if (typeof ref !== 'string') return Promise.resolve(ref);
    const created = this.#registry.create(ref, options ?? {});
    this.#created.add(created);
    return created;
  }

  #compileOptions(text: string, parsed: ParsedSpeakOptions, rateScale: number): CompileOptions {
    const rate = (parsed.rate ?? 1) * rateScale;
    const ssml = parsed.format === 'ssml' || (parsed.format === 'auto' && looksLikeSsml(text));
    return {
      format: parsed.format,
      lenient: parsed.lenient ?? !ssml,
      allowAudio: parsed.allowAudio,
      ...(parsed.audioRoot !== undefined ? { audioRoot: parsed.audioRoot } : {}),
      ...(parsed.language !== undefined ? { language: parsed.language } : {}),
      ...(parsed.voice !== undefined ? { voice: parsed.voice } : {}),
      ...(parsed.emotion !== undefined ? { emotion: parsed.emotion as CompileOptions['emotion'] } : {}),
      ...(parsed.preset !== undefined ? { preset: parsed.preset as CompileOptions['preset'] } : {}),
      ...(rate !== 1 ? { rate } : {}),
    };
  }

  /** No stream starts once close() began, whatever a call was awaiting when it did. */
  #throwIfClosed(): void {
    if (this.#closed) throw new AudioError('ENGINE_CLOSED', 'the engine was closed');
  }

  /** Validates the text (compiling it) and the backend, then creates the stream; throws before any effect on bad input or a denial. */
  async #prepare(text: string, parsed: ParsedSpeakOptions): Promise<Utterance> {
    const graph = await this.#validate(text, parsed);
    this.#throwIfClosed();
    return this.#begin(parsed, graph);
  }

  /** Compiles the text once to validate it and resolves the backend: no registrar request yet. */
  async #validate(text: string, parsed: ParsedSpeakOptions): Promise<SpeechGraph> {
    this.#throwIfClosed();
    for (const field of ['sessionId', 'userId'] as const) {
      const pinned = this.#options[field];
      if (pinned !== undefined && parsed[field] !== undefined && parsed[field] !== pinned) {
        throw new InputError(`options.${field}: this engine's streams belong to ${field} "${pinned}", pinned by its host (received "${parsed[field]}")`, { field: `options.${field}` });
      }
    }
    if (typeof text !== 'string') throw new InputError(`text: expected a string (received ${typeof text})`, { field: 'text' });
    const graph = compile(text, this.#compileOptions(text, parsed, 1));
    await this.#backendFor(parsed.backend);
    return graph;
  }

  /** Asks the registrar for the stream. */
  #begin(parsed: ParsedSpeakOptions, graph: SpeechGraph): Utterance {
    const lifecycle = new StreamLifecycle(this.#registrar, this.actor, this.#runtime);
    lifecycle.start({ sessionId: parsed.sessionId ?? this.#options.sessionId, userId: parsed.userId ?? this.#options.userId, priority: parsed.priority });
    return { lifecycle, graph, backend: parsed.backend ?? '', failures: [], interrupted: false, halted: false, endedBy: null, finishing: false };
  }

  async *#run(utterance: Utterance, text: string, parsed: ParsedSpeakOptions, mode: RunHooks): AsyncGenerator<AudioChunk, void, undefined> {
    const { lifecycle } = utterance;
    const controller = new AbortController();
    const signal = parsed.signal ? AbortSignal.any([parsed.signal, controller.signal]) : controller.signal;
    let markDone!: () => void;
    const done = new Promise<void>((resolve) => (markDone = resolve));
    this.#active.set(lifecycle.streamId, { controller, utterance, done });
    let finished = false;
    try {
      // An accessibility override held by a user shapes delivery: its rate and pause amplification win.
      const override = lifecycle.override();
      const rateScale = override?.speechRate ?? 1;
      const graph = rateScale === 1 ? utterance.graph : compile(text, this.#compileOptions(text, parsed, rateScale));
      lifecycle.compile(graphHash(graph));
      lifecycle.synthesize();
      const backend = await this.#backendFor(parsed.backend);
      utterance.backend = backend.name;
      const steps = planSynthesis(graph);
      const converter = new RateConverter(parsed.sampleRateHz ?? this.#options.sampleRateHz);
      const speechTotal = steps.filter((step) => step.kind === 'speech').length;
      let speechDone = 0;
      let index = 0;
      let positionMs = 0;
      let playing = false;
      let pendingMarks: string[] = [];
      let pendingSilenceMs = 0;

      const emit = (kind: AudioChunk['kind'], pcm: Float32Array, nodeId: string, extra: Partial<AudioChunk>): AudioChunk | Promise<AudioChunk> => {
        if (!playing) {
          // effectsAwaitDurability: the first chunk waits until the play decision is on disk (each
          // `yield` of this async generator awaits the promise before the consumer sees the chunk).
          if (this.#registrar.effectsAwaitDurability) {
            playing = true;
            return lifecycle.playWhenDurable().then((permit) => {
              mode.onPlay?.(permit);
              return emit(kind, pcm, nodeId, extra);
            });
          }
          const permit = lifecycle.play();
          playing = true;
          mode.onPlay?.(permit);
        }
        const rate = converter.rateHz ?? FALLBACK_RATE_HZ;
        const chunk: AudioChunk = { streamId: lifecycle.streamId, index: index++, kind, pcm, sampleRateHz: rate, channels: 1, startMs: positionMs, durationMs: durationMs(pcm.length, 1, rate), nodeId, marks: pendingMarks, metadata: {}, ...extra };
        positionMs += chunk.durationMs;
        pendingMarks = [];
        return chunk;
      };
      const silence = (nodeId: string): AudioChunk | Promise<AudioChunk> | undefined => {
        if (pendingSilenceMs <= 0 || converter.rateHz === undefined) return undefined;
        const samples = Math.round((pendingSilenceMs / 1000) * converter.rateHz);
        pendingSilenceMs = 0;
        return emit('silence', new Float32Array(samples), nodeId, {});
      };

      for (const step of steps) {
        if (signal.aborted) break;
        if (step.kind === 'mark') {
          pendingMarks.push(step.name);
        } else if (step.kind === 'silence') {
          pendingSilenceMs += step.durationMs * (override?.pauseAmplification ?? 1);
          const chunk = silence(step.nodeId);
          if (chunk) yield chunk;
        } else if (step.kind === 'audio') {
          const pcm = await this.#readClip(step, converter, signal);
          const pause = silence(step.nodeId);
          if (pause) yield pause;
          yield emit('audio', pcm, step.nodeId, {});
        } else {
          const produced = await this.#synthesizeStep(backend, step.segment, parsed, signal, utterance);
          // Per-sentence loudness needs the whole sentence (BS.1770 gates 400 ms blocks), so the
          // sentence is gathered first; otherwise every backend chunk goes out as it arrives.
          const gather = mode.perSentenceLoudness && parsed.targetLufs !== undefined;
          const gathered: Float32Array[] = [];
          let gatheredMetadata: AudioChunk['metadata'] | undefined;
          for await (const output of produced) {
            // A backend that ignores its signal must not keep the stream speaking after an allowed end.
            if (signal.aborted) break;
            const pcm = converter.convert(toMono(output.pcm, output.channels), output.sampleRateHz, false);
            const pause = silence(step.nodeId);
            if (pause) yield pause;
            if (gather) {
              gathered.push(pcm);
              gatheredMetadata ??= output.metadata;
            } else if (pcm.length > 0) {
              yield emit('speech', pcm, step.nodeId, { text: step.segment.text, metadata: output.metadata, backend: utterance.backend });
            }
          }
          const tail = converter.convert(new Float32Array(0), converter.rateHz ?? FALLBACK_RATE_HZ, true);
          if (gather) {
            const sentence = concatPcm([...gathered, tail]);
            const rate = converter.rateHz ?? FALLBACK_RATE_HZ;
            if (sentence.length > 0) yield emit('speech', sentenceLoudness(sentence, rate, parsed), step.nodeId, { text: step.segment.text, metadata: gatheredMetadata ?? {}, backend: utterance.backend });
          } else if (tail.length > 0) {
            yield emit('speech', tail, step.nodeId, { text: step.segment.text, backend: utterance.backend });
          }
          speechDone += 1;
          parsed.onProgress?.({ done: speechDone, total: speechTotal, audioMs: positionMs });
        }
      }
      if (!signal.aborted) {
        if (pendingSilenceMs > 0 && converter.rateHz === undefined) converter.rateHz = FALLBACK_RATE_HZ;
        const pause = silence('end');
        if (pause) yield pause;
        if (pendingMarks.length > 0) yield emit('silence', new Float32Array(0), 'end', {});
      }
      if (!signal.aborted && mode.beforeEnd) await mode.beforeEnd();
      if (utterance.halted) throw new RegistrarHaltedError('the registrar halted: the stream was stopped (fail-closed)');
      if (parsed.signal?.aborted) throw new AbortError('speech was aborted', { cause: parsed.signal.reason });
      if (utterance.endedBy?.action === 'fail') throw streamFailed(utterance);
      finished = true;
      utterance.finishing = true;
      lifecycle.stop(utterance.interrupted ? 'interrupted' : 'end of speech');
    } catch (error) {
      if (utterance.halted || this.#registrar.halted) {
        // Nothing may be requested any more; the log already says why (the HALT record).
        finished = true;
        lifecycle.abandon();
        throw error instanceof RegistrarHaltedError ? error : new RegistrarHaltedError('the registrar halted: the stream was stopped (fail-closed)', { cause: error });
      }
      if (utterance.endedBy?.action === 'fail') {
        finished = true;
        lifecycle.stop('failed');
        throw error instanceof AudioError && error.code === 'STREAM_FAILED' ? error : streamFailed(utterance);
      }
      if (utterance.interrupted && !(parsed.signal?.aborted ?? false)) {
        finished = true;
        utterance.finishing = true;
        lifecycle.stop('interrupted');
        return;
      }
      if (error instanceof AbortError || parsed.signal?.aborted) {
        finished = true;
        lifecycle.stop('aborted by the caller');
        throw error instanceof AbortError ? error : new AbortError('speech was aborted', { cause: error });
      }
      finished = true;
      lifecycle.fail(describe(error));
      throw error;
    } finally {
      // The consumer stopped iterating early (break/return): the stream ends where it is.
      if (!finished) {
        if (this.#registrar.halted) lifecycle.abandon();
        else if (utterance.endedBy) {
          utterance.finishing = true;
          lifecycle.stop(utterance.endedBy.action === 'interrupt' ? 'interrupted' : `${utterance.endedBy.action} by ${utterance.endedBy.actor ?? 'the registrar'}`);
        } else lifecycle.stop('consumer stopped reading');
      }
      this.#active.delete(lifecycle.streamId);
      markDone();
    }
  }

  /** Starts a segment on the backend; a fallback chain reports which backend served and why. */
  async #synthesizeStep(backend: SpeechBackend, segment: SynthesisSegment, parsed: ParsedSpeakOptions, signal: AbortSignal, utterance: Utterance): Promise<AsyncIterable<EngineOutput>> {
    const options = parsed.voice !== undefined ? { voice: parsed.voice } : {};
    if (backend instanceof FallbackChain) {
      const result = await backend.open(segment, options, signal);
      utterance.backend = result.backend;
      for (const failure of result.failures) {
        if (!utterance.failures.some((known) => known.backend === failure.backend && known.code === failure.code)) utterance.failures.push(failure);
      }
      return result.chunks;
    }
    return backend.synthesize(segment, options, signal);
  }

  async #readClip(step: Extract<SynthesisStep, { kind: 'audio' }>, converter: RateConverter, signal: AbortSignal): Promise<Float32Array> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(step.path, { signal });
    } catch (error) {
      throw new BackendError('engine', 'AUDIO_CLIP_UNREADABLE', `cannot read audio clip ${step.path}: ${describe(error)}`, { cause: error });
    }
    const clip = decodeWav(bytes);
    const mono = toMono(clip.pcm, clip.channels);
    const head = converter.convert(mono, clip.sampleRateHz, false);
    const tail = converter.convert(new Float32Array(0), clip.sampleRateHz, true);
    return tail.length > 0 ? concatPcm([head, tail]) : head;
  }
}

/** How `#run` is driven: loudness per sentence, and the device hooks of play(). */
interface RunHooks {
  perSentenceLoudness: boolean;
  /** Called with the permit of the allowed play, before the first chunk is yielded. */
  onPlay?: (permit: Permit) => void;
  /** Awaited after the last chunk, before the natural-end stop (play() drains the device here). */
  beforeEnd?: () => Promise<void>;
}

/** The error a stream ends with when someone else's allowed `fail` ended it. */
function streamFailed(utterance: Utterance): AudioError {
  const by = utterance.endedBy;
  const error = new AudioError('STREAM_FAILED', `stream ${utterance.lifecycle.streamId} was failed by ${by?.actor ?? 'the registrar'}${by?.reason ? ` (${by.reason})` : ''}; attestation ${by?.attestationId ?? 'unknown'}`);
  return Object.assign(error, { attestationId: by?.attestationId ?? null });
}

/** The SpeechResult of an utterance whose chunks (and final audio) are known. */
function resultOf(utterance: Utterance, chunks: readonly AudioChunk[], audio: Float32Array, sampleRateHz: number, startedMs: number): SpeechResult {
  const total = durationMs(audio.length, 1, sampleRateHz);
  return {
    audio,
    sampleRateHz,
    channels: 1,
    durationMs: total,
    streamId: utterance.lifecycle.streamId,
    attestations: [...utterance.lifecycle.attestations],
    realtimeFactor: total > 0 ? (performance.now() - startedMs) / total : 0,
    backend: utterance.backend,
    ...(utterance.failures.length > 0 ? { degraded: { servedBy: utterance.backend, failures: utterance.failures } } : {}),
    ...(utterance.interrupted ? { interrupted: true } : {}),
    ...(utterance.endedBy ? { endedBy: utterance.endedBy } : {}),
    marks: chunks.flatMap((chunk) => chunk.marks.map((name) => ({ name, timeMs: chunk.startMs }))),
  };
}

// Hardening: no caller can swap a method of this class for its own (a monkey-patched prototype would see every instance).
Object.freeze(VoiceEngine.prototype);
Object.freeze(VoiceEngine);
