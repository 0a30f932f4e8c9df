/**
 * VoiceEngine: text in, speech out. It compiles text into a SpeechGraph, asks the registrar for
 * every lifecycle step of the stream (start → compile → synthesize → play → stop, or fail), and
 * synthesizes sentence by sentence with a backend (espeak-ng by default), converting rate and
 * channels and normalising loudness on the way. `stream()` yields chunks as soon as each is ready;
 * `speak()` returns the whole utterance; `play()` sends it to an audio device.
 *
 * This class is the public face and owns the engine's state; the work is in focused modules it
 * hands what they need: input-validation.ts (checks before any request, the per-utterance
 * transformText), utterance-run.ts (one stream from start to end), play-admission.ts and
 * device-playback.ts (a play's turn and its device feed), running-streams.ts (obeying decisions,
 * halts and close), engine-backends.ts and utterance.ts (results and bookkeeping).
 */
import { AudioError, InputError } from '../errors.js';
import { normalizeLoudness } from '../audio/loudness.js';
import { AudioOutput } from '../audio/output.js';
import { concatPcm } from '../audio/pcm.js';
import type { WrittenAudioFile } from '../audio/file-writer.js';
import { formatFromExtension } from '../audio/encode.js';
import type { SpeechBackend, VoiceInfo } from '../backends/backend.js';
import { BackendRegistry } from '../backends/registry.js';
import { z } from 'zod';
import { ActorHandle } from '../registrar/actor-handle.js';
import { AudioRegistrar, overrideCovering } from '../registrar/registrar.js';
import type { RegistrarResult } from '../registrar/types.js';
import { SinkBook } from '../streaming/sink-book.js';
import { schedulerFor, type Admission, type Scheduler, type ScheduleView } from '../streaming/scheduler.js';
import { HeardLedger, type Heard } from '../streaming/heard.js';
import { readerOf, type RegistrarReader } from './registrar-reader.js';
import { parseInput } from '../validation.js';
import { schedulePolicySchema } from '../streaming/schedule-policy.js';
import { playOptionsSchema, speakOptionsSchema, voiceEngineOptionsSchema, type ParsedEngineOptions, type ParsedSpeakOptions, type PlayOptions, type SpeakOptions, type VoiceEngineOptions } from './engine-options.js';
import type { AudioChunk, EngineHealth, PlayResult, SpeechResult } from './speech-types.js';
import { StreamLifecycle } from './stream-lifecycle.js';
import { encoderStalled } from './play-guards.js';
import { admitPlay, type AdmissionContext } from './play-admission.js';
import { DevicePlayback, devicePlaybackContext, type PlaybackContext, type PlayStart } from './device-playback.js';
import { SpeechFileWriter, speechFileOptionsSchema, type WrittenSpeech } from './speech-file.js';
import { EngineBackends } from './engine-backends.js';
import { GUEST_MIX_LIMITS, holdGuestMix, holdGuestSpeech, InCallOrder, validateInput, type ValidatedInput, type ValidationContext } from './input-validation.js';
import { runUtterance, type RunContext } from './utterance-run.js';
import { ownerAbortable } from './owner-abort.js';
import { BackendStallWatch } from './backend-stall.js';
import { RunningStreams } from './running-streams.js';
import { callQuietly, describe, durationMs, FALLBACK_RATE_HZ, marksOf, resultOf, type RunHooks, type SpeechInput, type Utterance } from './utterance.js';
import { EnginePlugins } from '../plugins/plugin-set.js';
import { PluginError } from '../plugins/errors.js';
import type { LoadPluginOptions } from '../plugins/manifest.js';
import type { PluginFault, PluginInfo } from '../plugins/plugin.js';
// scene (issue 14): engine.play(scene) plays its rendered mix as one stream (src/scene/playable.ts).
import { isPlayableMix, MIX_LIMITS_OF, sealMix, type MixLimits, type PlayableMix } from '../scene/playable.js';
import { Scene, sceneMixInHeldSlot } from '../scene/scene.js';
import { Conversation, type ConversationRenderOptions, type ConversationSpeechResult } from '../conversation/conversation.js';
import type { ConversationPlayOptions, ConversationPlayResult } from '../conversation/live.js';
import { HOLD_MIX, holdingMixOf } from '../conversation/engine-face.js';
import { complianceTags, type ComplianceTags } from '../security/compliance-tags.js';

/** Options of `speakToFile`: the speak options, the output format and how loudness is applied. */
export type SpeakToFileOptions = SpeakOptions & z.input<typeof speechFileOptionsSchema>;

/** The result of `speakToFile`: a SpeechResult without the audio (it is in the file), with the file. */
export type SpeechFileResult = Omit<SpeechResult, 'audio'> & { file: WrittenAudioFile };

/** The runtime's own actor. */
const RUNTIME_ACTOR = 'system:voice-engine';

/** What forActor hands the engine it makes: its host's plugins and backend registry (module-private, keyed by the options object). */
const fromHost = new WeakMap<object, { plugins: EnginePlugins; registry: BackendRegistry; budget: object | undefined }>();

/** Options of `engine.interrupt()`: only why. The actor is always the engine's own. */
const interruptOptionsSchema = z.strictObject({ reason: z.string().max(1000).optional() });
const voicesOptionsSchema = z.strictObject({ backend: z.string().min(1).max(100).optional() });
/** Options of `engine.forActor()`: only the scheduling policy of the engine it makes. */
const forActorOptionsSchema = z.strictObject({ policy: schedulePolicySchema.optional() });

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
  readonly #registry: BackendRegistry;
  /** The main and named backends: created on first use; close() closes only the ones created here. */
  readonly #backends: EngineBackends;
  /** The utterances being run, and how they obey decisions (running-streams.ts). */
  readonly #active: RunningStreams;
  #output: AudioOutput | undefined;
  #ownsOutput = false;
  #closed = false;
  readonly #stopListening: (() => void)[];
  /** The scheduler of the engine's device (shared with every engine on it), once the device is known. */
  #scheduler: Scheduler | undefined;
  /** Validations settle in call order (see `#validate`). */
  readonly #validations = new InCallOrder();
  /** The engine's plugins and their hook points (src/plugins/). */
  readonly #plugins: EnginePlugins;
  /** False for an engine made by forActor: it uses its host's plugins (and their backends) and never disposes them. */
  readonly #ownsPlugins: boolean;
  /** Whose bounds its calls count against (scheduling: maxConcurrent, maxQueue; a guest's held speech and mix): its own, or those of the guest engine that made it. */
  readonly #budget: object;
  /** What validation and runs need of this engine (src/engine/input-validation.ts, utterance-run.ts). */
  readonly #validationContext: ValidationContext;
  readonly #runContext: RunContext;

  /** Validates options (InputError naming the field); backends are created on first use. */
  constructor(options: VoiceEngineOptions = {}) {
    const inherited = fromHost.get(options);
    this.#options = parseInput(voiceEngineOptionsSchema, options, 'VoiceEngineOptions');
    this.#registrar = this.#options.registrar ?? new AudioRegistrar();
    const actor = this.#options.actor;
    // Refused before registering: registering another registrar's handle would make its name an actor here.
    if (ActorHandle.isHandle(actor) && !this.#registrar.issued(actor)) {
      throw new InputError('VoiceEngineOptions.actor: an ActorHandle of another registrar (pass the registrar that issued it)', { field: 'actor' });
    }
    this.actor = this.#registrar.registerActor(actor);
    this.#runtime = this.#registrar.registerActor(this.runtimeActor);
    this.registrar = readerOf(this.#registrar);
    this.#registry = inherited?.registry ?? new BackendRegistry();
    this.#plugins = inherited?.plugins ?? new EnginePlugins(this.#registrar, this.#registry, this.#options.plugins, this.#options.audit);
    this.#ownsPlugins = inherited === undefined;
    this.#budget = inherited?.budget ?? this;
    this.#backends = new EngineBackends(this.#registry, this.#options);
    this.#active = new RunningStreams(this.#registrar, this.#runtime);
    const backendFor = (name: string | undefined): Promise<SpeechBackend> => this.#backends.forName(name);
    this.#validationContext = { plugins: this.#plugins, actor: this.actor, pinned: this.#options, guest: !this.#ownsPlugins, backendFor, throwIfClosed: () => this.#throwIfClosed(), overrideFor: (sessionId, userId) => overrideCovering(this.#registrar, sessionId, userId) };
    this.#runContext = { registrar: this.#registrar, actor: this.actor, options: this.#options, plugins: this.#plugins, backendFor, active: this.#active, guest: !this.#ownsPlugins };
    // Several engines may share one output: each stream plays on its own voice of the mixer.
    this.#output = this.#options.output;
    // Decisions are effects: the sinks obey every transition and halt first (silence), then the
    // engine aborts synthesis of the streams they concern.
    this.#sinks = new SinkBook(this.#registrar);
    this.#stopListening = [
      this.#registrar.onTransition((event) => this.#active.obey(event), { phase: 'effect' }),
      // Fail-closed: when the registrar halts, for any cause, every stream stops.
      this.#registrar.onHalt((halt) => this.#active.haltAll(halt), { phase: 'effect' }),
      // An override decided after a duck began lifts it (the scheduler re-checks its gains).
      this.#registrar.onOverride(() => this.#scheduler?.recheck(), { phase: 'effect' }),
    ];
  }

  /** Synthesizes the whole text and returns it as one buffer with its lifecycle's attestations. */
  speak(text: string, options?: SpeakOptions): Promise<SpeechResult>;
  /** A Conversation: every turn synthesized (one stream each), mixed down to mono at its place (docs/CONVERSATIONS.md). */
  speak(conversation: Conversation, options?: ConversationRenderOptions): Promise<ConversationSpeechResult>;
  async speak(text: string | Conversation, options: SpeakOptions | ConversationRenderOptions = {}): Promise<SpeechResult | ConversationSpeechResult> {
    // The conversation holds this engine's mix slot for its render (HOLD_MIX).
    if (text instanceof Conversation) return text.speak(this, options as ConversationRenderOptions);
    const parsed = parseInput(speakOptionsSchema, options, 'options');
    const started = performance.now();
    const chunks: AudioChunk[] = [];
    const validated = await this.#validate(text, parsed);
    // A guest's calls in flight together hold a bounded amount of speech (input-validation.ts).
    const release = this.#ownsPlugins ? () => undefined : holdGuestSpeech(this.#budget, validated.guestEstimateMs);
    try {
      this.#throwIfClosed();
      const utterance = this.#begin(parsed, validated);
      for await (const chunk of this.#runOwned(utterance, text, parsed, { perSentenceLoudness: false }, 'speak()')) chunks.push(chunk);
      const sampleRateHz = chunks[0]?.sampleRateHz ?? parsed.sampleRateHz ?? this.#options.sampleRateHz ?? FALLBACK_RATE_HZ;
      let audio = concatPcm(chunks.map((chunk) => chunk.pcm));
      let loudness: SpeechResult['loudness'];
      if (parsed.targetLufs !== undefined && audio.length > 0) {
        const normalised = normalizeLoudness(audio, { sampleRateHz, channels: 1, targetLufs: parsed.targetLufs, truePeakLimitDb: parsed.truePeakLimitDb });
        audio = normalised.pcm;
        loudness = { integratedLufs: normalised.after.integratedLufs, truePeakDb: normalised.after.truePeakDb, gainDb: normalised.gainDb, limited: normalised.limited, peakReductionDb: normalised.peakReductionDb };
      }
      return { audio, ...resultOf(utterance, marksOf(chunks), audio.length, sampleRateHz, started), ...(loudness ? { loudness } : {}) };
    } finally {
      release();
    }
  }

  /**
   * Yields the speech sentence by sentence, each chunk as soon as it is synthesized. Breaking out
   * of the loop stops the stream; an aborted `signal` is the owner's request to end it (AbortError
   * when the registrar allows it; refused, every chunk still comes, then REGISTRAR_DENIED:
   * owner-abort.ts); an allowed `interrupt()` ends it early. With `targetLufs`, each sentence is
   * normalised on its own.
   * `text` may be a live source (an AsyncIterable of text deltas, e.g. an LLM's tokens): one stream
   * speaks it sentence by sentence as it arrives (option `textStream`) and ends when it ends.
   */
  async *stream(text: string | AsyncIterable<string>, options: SpeakOptions = {}): AsyncGenerator<AudioChunk, void, undefined> {
    const parsed = parseInput(speakOptionsSchema, options, 'options');
    const utterance = await this.#prepare(text, parsed, true);
    yield* this.#runOwned(utterance, text, parsed, { perSentenceLoudness: true }, 'stream()');
  }

  /**
   * Synthesizes to a file, or to a writable stream such as stdout, sentence by sentence in
   * constant memory (speech-file.ts). Format from `audioFormat`, else the extension (`wav` for a
   * stream). A new path or regular file is written atomically (nothing is left behind on
   * failure); a FIFO, a character device or a symlink's target is written through, never
   * replaced. `targetLufs` applies over the whole text (`loudnessMode: 'integrated'`, two passes)
   * or per sentence (`'per-sentence'`). The result holds no audio: it is in the file. An engine
   * made by forActor writes only to a stream (a path is an InputError naming `path`).
   */
  async speakToFile(text: string, path: string | NodeJS.WritableStream, options: SpeakToFileOptions = {}): Promise<SpeechFileResult> {
    // A guest writes no file by path: a host relaying an agent's path would let it replace any
    // file the process may write. The host opens a stream where it chooses and passes that.
    if (!this.#ownsPlugins && typeof path === 'string') {
      throw new InputError('path: this engine (made by forActor) writes no file by path (a path is for its host\'s calls): pass a writable stream its host opened', { field: 'path' });
    }
    const { audioFormat, loudnessMode, play, ...speakOptions } = options;
    const fileOptions = parseInput(speechFileOptionsSchema, { audioFormat, loudnessMode, play }, 'options');
    const parsed = parseInput(speakOptionsSchema, speakOptions, 'options');
    const started = performance.now();
    const validated = await this.#validate(text, parsed);
    const integrated = fileOptions.loudnessMode === 'integrated';
    const format = fileOptions.audioFormat ?? (typeof path === 'string' ? formatFromExtension(path) : 'wav');
    const output = fileOptions.play ? this.#outputDevice() : undefined;
    if (output && parsed.sampleRateHz !== undefined && parsed.sampleRateHz !== output.config.sampleRateHz) {
      throw new InputError(`options.sampleRateHz: with play the file is written at the device's rate (${output.config.sampleRateHz} Hz) (received ${parsed.sampleRateHz})`, { field: 'options.sampleRateHz' });
    }
    // Playing, the turn on the device is held by play()'s rules (device-playback.ts).
    const playbackContext = output ? this.#playbackContext(output) : undefined;
    // The destination is opened (and a directory or socket refused) before the stream starts.
    let utterance: Utterance | undefined;
    const tags = (): ComplianceTags =>
      complianceTags({ backend: utterance?.backend, voice: parsed.voice, streamId: utterance?.lifecycle.streamId, attestationId: utterance?.lifecycle.attestations[0]?.id, watermark: parsed.watermark ?? this.#options.watermark });
    // An encoder that stalls is caught as a stalled backend is: the runtime fails the stream (attested), the call rejects STREAM_FAILED.
    const stallTimeoutMs = this.#options.admissionTimeoutMs;
    const onStall = (): Error => encoderStalled(utterance, this.#registrar, stallTimeoutMs);
    const writer = await SpeechFileWriter.open(path, { format, truePeakLimitDb: parsed.truePeakLimitDb, tags, stallTimeoutMs, onStall, ...(integrated ? { targetLufs: parsed.targetLufs } : {}) });
    let written: WrittenSpeech;
    let playback: DevicePlayback | undefined;
    // Playing too, a file that fails is the owner's request to end the stream (device-playback.ts,
    // fileFailed): a user's override keeps covered speech playing; the call rejects with the error at the end.
    let fileError: { error: unknown } | undefined;
    const intoFile = async (work: () => Promise<unknown>): Promise<void> => {
      if (fileError) return;
      try {
        await work();
      } catch (error) {
        if (!playback) throw error;
        fileError = { error };
        playback.fileFailed(describe(error));
      }
    };
    try {
      // The file is encoded to its end before the stream's natural end, so an encoder's failure fails the stream (the owner's end when playing).
      const finish = () => intoFile(() => writer.finish());
      const runOptions = { ...parsed, ...(integrated ? { targetLufs: undefined } : {}) };
      let chunks: AsyncIterable<AudioChunk>;
      if (playbackContext) {
        // Playing too: the play starts as a play() does (device-playback.ts): admitted by the
        // device's scheduler (docs/ENGINE.md, "Scheduling"), the caller's abort the owner's request
        // to end the stream (the registrar decides), the device fed through the sink the play permit opens.
        playback = await DevicePlayback.admit(playbackContext, this.#playStart(text, parsed, validated), parsed.signal);
        ({ utterance, chunks } = playback.start(runOptions, !integrated, finish));
      } else {
        this.#throwIfClosed();
        utterance = this.#begin(parsed, validated);
        // No device turn to time, but a backend that stops producing audio is caught as a stalled play is (backend-stall.ts).
        const stall = new BackendStallWatch(this.#registrar, () => utterance, stallTimeoutMs);
        const beforeEnd = (): Promise<void> => {
          stall.stop();
          return finish();
        };
        chunks = stall.watched(this.#runOwned(utterance, text, runOptions, { perSentenceLoudness: !integrated, beforeEnd }, 'speakToFile()'));
      }
      for await (const chunk of chunks) {
        // Playing, a target that takes nothing holds the turn by play()'s rule: the admission timeout ends it (device-playback.ts).
        await intoFile(() => (playback ? playback.whileWriting(writer.write(chunk)) : writer.write(chunk)));
        if (!playback) continue;
        if (!playback.open || !(await playback.write(chunk, utterance.lifecycle))) break;
      }
      // Ended by a halt, the caller's abort (allowed or refused) or someone else's fail: play()'s error, and no file.
      const ended = playback?.endError(utterance, 'speakToFile()');
      if (ended) throw ended;
      if (fileError) throw fileError.error;
      written = await writer.close();
    } catch (error) {
      // The device turn goes back first: giving up the file may wait on its target (a FIFO write the kernel holds).
      await playback?.release();
      await writer.abort();
      throw playback?.abortError('speakToFile()') ?? error;
    } finally {
      await playback?.release();
    }
    const result = resultOf(utterance, [], 0, written.sampleRateHz, started);
    const total = durationMs(written.frames, 1, written.sampleRateHz);
    return { ...result, durationMs: total, realtimeFactor: total > 0 ? (performance.now() - started) / total : 0, marks: written.marks, file: written.file, ...(written.loudness ? { loudness: written.loudness } : {}) };
  }

  /**
   * Plays the speech on the engine's audio device as it is synthesized and resolves when it has
   * been heard (or was interrupted). The device is opened on first use unless one was given.
   * `text` may be a live source like in `stream()`. The result's `heard` (and `onInterrupted`
   * when the stream was cut) says what reached the device. It runs in bounded memory whatever the
   * length: chunks go to the device and are let go; only `retainAudio: true` keeps them, joined in
   * `result.audio`. `result.underruns` counts the periods the stream ran dry on the device.
   * A Scene is rendered at the device's rate first, then its mix plays as one stream (docs/SCENES.md).
   */
  play(text: string | AsyncIterable<string> | PlayableMix, options: PlayOptions & { retainAudio: true }): Promise<PlayResult & { audio: Float32Array }>;
  play(text: string | AsyncIterable<string> | PlayableMix, options?: PlayOptions): Promise<PlayResult>;
  /** A Conversation, live: each turn its own play and stream; an allowed interrupt of a turn ends it (docs/CONVERSATIONS.md). */
  play(conversation: Conversation, options?: ConversationPlayOptions): Promise<ConversationPlayResult>;
  async play(input: string | AsyncIterable<string> | PlayableMix | Conversation, options: PlayOptions | ConversationPlayOptions = {}): Promise<PlayResult | ConversationPlayResult> {
    if (input instanceof Conversation) return input.play(this, options as ConversationPlayOptions);
    // A scene's mix is held from its render to the end of its play (a queued play holds it too).
    return isPlayableMix(input) ? holdingMixOf(this, 'scene', () => this.#play(input, options)) : this.#play(input, options);
  }

  /**
   * Takes this engine's mix slot for a render that holds a whole mix (a scene's, a conversation's,
   * however it is rendered: engine.play/speak, scene.render, conversation.render): a guest holds
   * one at a time (input-validation.ts, holdGuestMix); the host holds none. Returns the release. @internal
   */
  [HOLD_MIX](field: 'scene' | 'conversation'): () => void {
    return this.#ownsPlugins ? () => undefined : holdGuestMix(this.#budget, field);
  }

  /** play() of a text, a live source or a mix (see there). */
  async #play(input: string | AsyncIterable<string> | PlayableMix, options: PlayOptions): Promise<PlayResult> {
    const { retainAudio, ...speakParsed } = parseInput(playOptionsSchema, options, 'options');
    const parsed: ParsedSpeakOptions = speakParsed;
    const started = performance.now();
    const mixRateHz = this.#outputDevice().config.sampleRateHz;
    // A Scene renders within the slot play() holds (sceneMixInHeldSlot); any other mix's renderMix (a
    // subclass's own too) is its author's, and a scene it renders there takes the slot itself.
    const ownScene = (mix: PlayableMix): mix is Scene => mix instanceof Scene && mix.renderMix === Scene.prototype.renderMix;
    const mixOf = (mix: PlayableMix): Promise<unknown> => (ownScene(mix) ? sceneMixInHeldSlot(mix, this, mixRateHz) : mix.renderMix(this, mixRateHz, this[MIX_LIMITS_OF]()));
    const text = isPlayableMix(input) ? sealMix(await mixOf(input), mixRateHz) : input;
    const validated = await this.#validate(text, parsed, true);
    this.#throwIfClosed();
    const output = this.#outputDevice();
    const { sampleRateHz } = output.config;
    const playbackContext = this.#playbackContext(output);
    // The device's scheduler decides when this play starts (docs/ENGINE.md, "Scheduling"): its
    // stream is started when its turn comes, or earlier when it preempts (the registrar attests a
    // preemption between two existing streams). The sink opens with the permit of the allowed
    // play, in the same call that took it; every frame goes through it, and the next transition
    // of the stream (or a halt) closes it (device-playback.ts).
    const playback = await DevicePlayback.admit(playbackContext, this.#playStart(text, parsed, validated), parsed.signal);
    // Bounded memory: what the result needs is counted as chunks pass (marks are names and times);
    // the PCM itself is kept only with `retainAudio`.
    const retained: Float32Array[] = [];
    const marks: SpeechResult['marks'] = [];
    let samples = 0;
    // Where each chunk starts on the stream's frame clock: with the sink's played frames, what was heard.
    const ledger = new HeardLedger();
    let heard: Heard | undefined;
    const recordHeard = async (cut: boolean): Promise<void> => {
      heard = await ledger.atEnd(playback.sink, cut, sampleRateHz);
      if (cut) callQuietly(parsed.onInterrupted, heard);
    };
    let utterance: Utterance;
    try {
      // Once the stream exists, the caller's abort is the owner's request to end it: the registrar
      // decides (a user's accessibility override may refuse it; the speech then plays to its end).
      // The turn is held only while there is audio to play: no chunk for admissionTimeoutMs fails the stream.
      const run = playback.start(parsed, true);
      utterance = run.utterance;
      for await (const chunk of run.chunks) {
        if (retainAudio) retained.push(chunk.pcm);
        samples += chunk.pcm.length / chunk.channels;
        marks.push(...marksOf([chunk]));
        if (!playback.open) break;
        ledger.add(chunk.pcm.length / chunk.channels, chunk.kind === 'speech' ? chunk.text : undefined, chunk.metadata.wordTimings, chunk.nodeId);
        if (!(await playback.write(chunk, utterance.lifecycle))) break;
      }
      await recordHeard(utterance.interrupted || utterance.halted || utterance.endedBy !== null || playback.abort.requested);
    } catch (error) {
      await recordHeard(true);
      throw playback.abortError('play()') ?? error;
    } finally {
      // The turn is released once the stream's voice is free: the next play finds a slot.
      await playback.release();
    }
    const ended = playback.endError(utterance, 'play()');
    if (ended) throw ended;
    return { ...(retainAudio ? { audio: concatPcm(retained) } : {}), ...resultOf(utterance, marks, samples, sampleRateHz, started), underruns: playback.underruns(), ...(heard ? { heard } : {}) };
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

  /**
   * Loads a plugin (a path or a package specifier) into this engine: sandboxed in an isolate unless
   * `trusted: true`, acting as its own `plugin:<name>` actor; `grant: ['mutate_graph']` lets its
   * `onGraph` proposals through the registrar on this engine's streams (docs/PLUGINS.md).
   */
  loadPlugin(source: string, options: LoadPluginOptions = {}): Promise<PluginInfo> {
    this.#throwIfClosed();
    if (!this.#ownsPlugins) {
      return Promise.reject(new PluginError('PLUGIN_LOAD_FAILED', source, 'this engine (made by forActor) shares its host engine\'s plugins: load plugins on the host engine'));
    }
    return this.#plugins.ready().then(() => this.#plugins.load(source, options));
  }

  /** The loaded plugins, and the audited hook faults and registrar denials of their proposals. */
  plugins(): { plugins: PluginInfo[]; faults: PluginFault[] } {
    return { plugins: this.#plugins.list(), faults: this.#plugins.faults() };
  }

  /**
   * An engine whose streams belong to `actor` (a handle of this engine's registrar, e.g. one MCP
   * session's agent), sharing this engine's registrar, main backend and device. Its close() ends
   * only its own streams: the backend and device stay this engine's. `options.policy` replaces the
   * scheduling policy for its plays (default: this engine's).
   */
  async forActor(actor: ActorHandle, options: Pick<VoiceEngineOptions, 'policy'> = {}): Promise<VoiceEngine> {
    this.#throwIfClosed();
    // A handle only: the engine's constructor registers a name, so a guest holding this engine
    // could otherwise name any actor (a user, the runtime) and act as it.
    if (!ActorHandle.isHandle(actor)) {
      throw new InputError(`forActor: actor: expected an ActorHandle of this engine's registrar (a name or a copy is not a capability; received ${typeof actor === 'string' ? JSON.stringify((actor as string).slice(0, 100)) : typeof actor})`, { field: 'actor' });
    }
    if (!this.#registrar.issued(actor)) {
      throw new InputError(`forActor: actor: an ActorHandle of another registrar (${String(actor)}); pass one this engine's registrar issued`, { field: 'actor' });
    }
    // Only `policy`: anything else (a session, a user, a content filter, a timeout) would let the
    // engine it makes escape what the host pinned on this one (a guest may call forActor too).
    const parsed = parseInput(forActorOptionsSchema, options, 'forActor options');
    const backend = await this.#backends.main();
    const { backend: _backend, backendOptions: _backendOptions, fallback: _fallback, registrar: _registrar, output: _output, actor: _actor, audioBackend: _audioBackend, audioDevice: _audioDevice, plugins: _plugins, ...shared } = this.#options;
    const engineOptions: VoiceEngineOptions = { ...shared, ...parsed, backend, registrar: this.#registrar, output: this.#outputDevice(), actor };
    // The session engine uses this engine's plugins (loaded once, one isolate each) and their backends.
    // An engine a guest makes counts against the guest's bounds: no guest multiplies its share of the device.
    fromHost.set(engineOptions, { plugins: this.#plugins, registry: this.#registry, budget: this.#ownsPlugins ? undefined : this.#budget });
    return new VoiceEngine(engineOptions);
  }

  /** Streams being synthesized right now. */
  activeStreams(): string[] {
    return this.#active.ids();
  }

  /** This engine's plays as its device's scheduler sees them: admitted, then waiting in queue order. */
  schedule(): ScheduleView {
    return this.#scheduler?.view(this) ?? { active: [], queued: [] };
  }

  /**
   * The voices the engine's backend offers (what `voice` may name), or those of the backend
   * `options.backend` names (created once and kept, as a call's `backend` option does).
   */
  async voices(options: { backend?: string } = {}): Promise<VoiceInfo[]> {
    this.#throwIfClosed();
    const parsed = parseInput(voicesOptionsSchema, options, 'options');
    return (await this.#backends.forName(parsed.backend)).voices();
  }

  /** The default backend's health, memory use and queue depth. */
  async health(): Promise<EngineHealth> {
    const memoryMb = Math.round((process.memoryUsage().rss / (1024 * 1024)) * 10) / 10;
    try {
      const backend = await this.#backends.main();
      const health = await backend.health();
      return {
        backend: health.backend,
        modelLoaded: health.modelLoaded,
        memoryMb,
        queueDepth: this.#active.size + (this.#scheduler?.queuedCount(this) ?? 0),
        status: this.#closed ? 'unavailable' : health.status,
        ...(health.detail ? { detail: health.detail } : {}),
        audio: this.#audioHealth(),
        plugins: this.#plugins.list(),
      };
    } catch (error) {
      const name = typeof this.#options.backend === 'string' ? this.#options.backend : this.#options.backend.name;
      return { backend: name, modelLoaded: false, memoryMb, queueDepth: this.#active.size + (this.#scheduler?.queuedCount(this) ?? 0), status: 'unavailable', detail: describe(error), audio: this.#audioHealth(), plugins: this.#plugins.list() };
    }
  }

  #audioHealth(): EngineHealth['audio'] {
    const info = this.#output?.info;
    return info ? { backend: info.backend, device: info.device, fallback: info.fallback } : null;
  }

  /** The MixLimits a scene rendered with this engine keeps (a guest's: GUEST_MIX_LIMITS; the host's: none). @internal */
  [MIX_LIMITS_OF](): MixLimits | undefined {
    return this.#ownsPlugins ? undefined : GUEST_MIX_LIMITS;
  }

  /**
   * Closing is a decision too: requests `stop` (or `fail` before any audio) with reason
   * `engine_closed` for each running stream, waits for them to end, then closes backends and the
   * device it opened. Nothing stays `playing` in the log. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#scheduler?.withdraw(this, new AudioError('ENGINE_CLOSED', 'the engine was closed'));
    await this.#active.endAll(this.actor);
    for (const stop of this.#stopListening) stop();
    this.#sinks.dispose();
    await this.#backends.closeCreated();
    if (this.#ownsOutput) this.#output?.close();
    if (this.#ownsPlugins) this.#plugins.dispose();
  }

  // --- internals -------------------------------------------------------------------------------

  /** What a play of `text` asks of this engine to start (device-playback.ts). */
  #playStart(text: SpeechInput, parsed: ParsedSpeakOptions, validated: ValidatedInput): PlayStart {
    return {
      admit: (started, current) => this.#admit(parsed, validated, started, current),
      begin: () => this.#begin(parsed, validated),
      closed: () => this.#closed,
      throwIfClosed: () => this.#throwIfClosed(),
      run: (utterance, options, hooks) => this.#run(utterance, text, options, hooks),
      actor: this.actor,
    };
  }

  /** Waits for this play's turn from the device's scheduler (play-admission.ts). */
  async #admit(parsed: ParsedSpeakOptions, validated: ValidatedInput, started: (utterance: Utterance) => void, current: () => Utterance | undefined): Promise<Admission> {
    const context: AdmissionContext = {
      scheduler: this.#schedulerOf(this.#outputDevice()),
      owner: this,
      budget: this.#budget,
      registrar: this.#registrar,
      actor: this.actor,
      runtime: this.#runtime,
      options: this.#options,
      plugins: this.#plugins,
      schedule: () => this.schedule(),
      begin: () => this.#begin(parsed, validated),
      closed: () => this.#closed,
      throwIfClosed: () => this.#throwIfClosed(),
    };
    return await admitPlay(context, parsed, started, current);
  }

  /** What this engine's plays on `output` share (device-playback.ts); InputError when `maxLatencyMs` is below one device period. */
  #playbackContext(output: AudioOutput): PlaybackContext {
    const { realtime, admissionTimeoutMs, maxLatencyMs } = this.#options;
    return devicePlaybackContext({ sinks: this.#sinks, output, registrar: this.#registrar, runtime: this.#runtime, realtime, admissionTimeoutMs }, maxLatencyMs);
  }

  #schedulerOf(output: AudioOutput): Scheduler {
    this.#scheduler ??= schedulerFor(output);
    return this.#scheduler;
  }

  #outputDevice(): AudioOutput {
    if (!this.#output) {
      const { audioBackend, audioDevice } = this.#options;
      this.#output = new AudioOutput({ ...(audioBackend ? { backend: audioBackend } : {}), ...(audioDevice ? { device: audioDevice } : {}) });
      this.#ownsOutput = true;
    }
    return this.#output;
  }

  /** No stream starts once close() began, whatever a call was awaiting when it did. */
  #throwIfClosed(): void {
    if (this.#closed) throw new AudioError('ENGINE_CLOSED', 'the engine was closed');
  }

  /** Validates the text (compiling it) and the backend, then creates the stream; throws before any effect on bad input or a denial. */
  async #prepare(text: SpeechInput, parsed: ParsedSpeakOptions, allowLive = false): Promise<Utterance> {
    const validated = await this.#validate(text, parsed, allowLive);
    this.#throwIfClosed();
    return this.#begin(parsed, validated);
  }

  /** Validates (input-validation.ts), settling in call order: the scheduler admits plays in the order their validation settles. */
  #validate(text: SpeechInput, parsed: ParsedSpeakOptions, allowLive = false): Promise<ValidatedInput> {
    return this.#validations.settle(validateInput(this.#validationContext, text, parsed, allowLive));
  }

  /** Asks the registrar for the stream. */
  #begin(parsed: ParsedSpeakOptions, { graph, transform }: ValidatedInput): Utterance {
    const lifecycle = new StreamLifecycle(this.#registrar, this.actor, this.#runtime);
    lifecycle.start({ ...parsed.streamMetadata, sessionId: parsed.sessionId ?? this.#options.sessionId, userId: parsed.userId ?? this.#options.userId, priority: parsed.priority, allowPlugins: this.#plugins.allowPlugins() });
    callQuietly(parsed.onStreamStart, lifecycle.streamId);
    return { lifecycle, graph, transform, backend: parsed.backend ?? '', failures: [], interrupted: false, halted: false, endedBy: null, finishing: false };
  }

  /**
   * Runs a started utterance with no device (speak, stream, a file): the caller's abort is the
   * owner's request to end the stream, which the registrar decides (owner-abort.ts).
   */
  #runOwned(utterance: Utterance, text: SpeechInput, parsed: ParsedSpeakOptions, hooks: RunHooks, face: string): AsyncGenerator<AudioChunk, void, undefined> {
    const { signal, ...unsignalled } = parsed;
    return ownerAbortable({ registrar: this.#registrar, owner: this.actor }, utterance, signal, face, this.#run(utterance, text, unsignalled, hooks));
  }

  /** Runs a started utterance (utterance-run.ts). */
  #run(utterance: Utterance, text: SpeechInput, parsed: ParsedSpeakOptions, hooks: RunHooks): AsyncGenerator<AudioChunk, void, undefined> {
    return runUtterance(this.#runContext, utterance, text, parsed, hooks);
  }

}

// Hardening: no caller can swap a method of this class for its own (a monkey-patched prototype would see every instance).
Object.freeze(VoiceEngine.prototype);
Object.freeze(VoiceEngine);
