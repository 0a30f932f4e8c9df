/**
 * One utterance's run, from a started stream to its end: the content filter, the compile (at an
 * accessibility override's rate; plugins' graph proposals through the registrar), the synthesize
 * and play requests, then sentence by sentence synthesis (fallback chains, SSML clips, edge
 * trimming, pauses as asked, per-sentence loudness, the plugins' onAudio and the watermark last),
 * yielding chunks as soon as each is ready. Whichever way the run ends (natural end, interrupt,
 * someone else's fail, a halt, the caller's abort or break, an error), the stream's end is told
 * to the registrar exactly once (stop, fail, or abandon when it halted) and the run leaves
 * `active`. The caller has validated the input and started the stream (`Utterance`).
 */
import { createHash } from 'node:crypto';
import { AbortError, AudioError, BackendError } from '../errors.js';
import { concatPcm } from '../audio/pcm.js';
import { decodeWav } from '../audio/wav.js';
import { readRegularFile } from '../audio/input-file.js';
import type { SpeechBackend } from '../backends/backend.js';
import { FallbackChain } from '../backends/fallback.js';
import { compile, joinSentenceSteps, planSynthesis, type SynthesisStep } from '../compiler/index.js';
import type { EngineOutput, SynthesisSegment } from '../graph/engine-output.js';
import type { SpeechGraph } from '../graph/speech-graph.js';
import type { ActorHandle } from '../registrar/actor-handle.js';
import { RegistrarHaltedError } from '../registrar/errors.js';
import { haltedError } from './play-guards.js';
import type { AudioRegistrar } from '../registrar/registrar.js';
import type { EnginePlugins } from '../plugins/plugin-set.js';
import { isRenderedMix, mixChunks } from '../scene/playable.js';
import { realClipPath } from '../security/clip-path.js';
import { auditedContentFilter, filterSpeechInput, pickDefined } from '../security/content-filter.js';
import { createWatermarkEmbedder } from '../security/watermark.js';
import { joinWordTimings } from '../streaming/heard.js';
import { joinVisemes, withStreamClock } from '../streaming/stream-clock.js';
import { liveSynthesisSteps } from '../streaming/text-source.js';
import type { ParsedEngineOptions, ParsedSpeakOptions } from './engine-options.js';
import { checkGuestDuration, compileOptions, spokenMs, transformOnce } from './input-validation.js';
import { RateConverter, sentenceLoudness, toMono } from './pcm-shaping.js';
import { EdgeTrimmer, shiftMetadata } from './speech-edges.js';
import type { RunningStreams } from './running-streams.js';
import type { AudioChunk } from './speech-types.js';
import { describe, durationMs, FALLBACK_RATE_HZ, streamFailed, type RunHooks, type SpeechInput, type Utterance } from './utterance.js';

/** Largest SSML `<audio>` clip read (a WAV file; 256 MiB is ~25 min of 44.1 kHz stereo 16-bit). */
const MAX_CLIP_BYTES = 256 * 1024 * 1024;

/** What a run needs of its engine. */
export interface RunContext {
  registrar: AudioRegistrar;
  /** The engine's actor (named to the content filter). */
  actor: ActorHandle;
  options: ParsedEngineOptions;
  plugins: EnginePlugins;
  /** The backend a call names. */
  backendFor(name: string | undefined): Promise<SpeechBackend>;
  /** The engine's running utterances: the run is in it from its start to its end. */
  active: Pick<RunningStreams, 'add' | 'delete'>;
  /** An engine made by forActor: its text is held to the guest's bound as it will be spoken. */
  guest: boolean;
}

/** The text as given: what a covered stream compiles instead of the plugins' transformText. */
const unchangedText = (text: string): string => text;

/** The hash the compile request records: sha256 of the graph's JSON. */
function graphHash(graph: SpeechGraph): string {
  return `sha256:${createHash('sha256').update(JSON.stringify(graph)).digest('hex')}`;
}

/**
 * Runs one utterance whose stream has started: content filter, compile (at an override's rate),
 * synthesize and play requests, then chunks as they are ready, and the stream's end as the
 * registrar is told it (stop, fail or abandon on a halt) whichever way the run ends.
 */
export async function* runUtterance(context: RunContext, utterance: Utterance, text: SpeechInput, parsed: ParsedSpeakOptions, mode: RunHooks): AsyncGenerator<AudioChunk, void, undefined> {
  const { registrar, options, plugins } = context;
  const { lifecycle } = utterance;
  const controller = new AbortController();
  const signal = parsed.signal ? AbortSignal.any([parsed.signal, controller.signal]) : controller.signal;
  let markDone!: () => void;
  const done = new Promise<void>((resolve) => (markDone = resolve));
  context.active.add(lifecycle.streamId, { controller, utterance, done });
  let finished = false;
  try {
    // Content filter (security/content-filter.ts): a denial fails the stream below (attested); a replacement is compiled.
    const filterContext = { streamId: lifecycle.streamId, actor: String(context.actor), format: parsed.format, ...pickDefined({ voice: parsed.voice, sessionId: parsed.sessionId ?? options.sessionId, userId: parsed.userId ?? options.userId }) };
    // Live pieces compile as they are cut, never as SSML (`auto` reads markup).
    const pieceOptions = { ...parsed, format: parsed.format === 'auto' ? ('markup' as const) : parsed.format };
    const filter = options.contentFilter && options.audit ? auditedContentFilter(options.contentFilter, options.audit) : options.contentFilter;
    // A scene's mix needs none: its dialogue was spoken (and filtered) by its own speak() streams.
    // Each text passes the plugins' transformText once (the utterance's transform, seeded by
    // validation): what the content filter judged is what is compiled and spoken (a plugin
    // answering differently on a second call cannot slip past it). A stream a user's override
    // covers is spoken as its caller wrote it: no plugin rewrites its text, as none may mutate its
    // graph (mutate_graph is denied) or alter its audio (onAudio). Decided before the filter, so it
    // judges the text that is compiled.
    const coveredAtFilter = lifecycle.override() !== null;
    // A live source streams for as long as its caller likes: each piece is looked at once, when
    // first compiled (for the filter or to be spoken, the same answer for both), and a piece cut
    // after a user's override began covering the stream is spoken as its caller wrote it.
    const transform = coveredAtFilter ? unchangedText : typeof text === 'string' ? utterance.transform : transformOnce((piece) => (lifecycle.override() === null ? utterance.transform(piece) : piece));
    const judgedGraph = coveredAtFilter ? null : utterance.graph;
    const filtered = isRenderedMix(text) ? text : await filterSpeechInput(filter, text, filterContext, parsed.textStream, signal, judgedGraph, (piece) => compile(transform(piece), compileOptions(piece, pieceOptions)));
    if (filtered !== text) [text, utterance.graph] = [filtered, null];
    // An accessibility override held by a user shapes delivery: its rate (every word's, whatever the
    // call or the text ask) and its pause amplification win.
    const override = lifecycle.override();
    const speechRate = override?.speechRate;
    let steps: Iterable<SynthesisStep> | AsyncIterable<SynthesisStep>;
    let speechTotal: number | null = null;
    if (typeof text === 'string') {
      // The validated graph's text is in `transform` already: a recompile at another rate does not ask the plugins again.
      // The validated graph (its text transformed) serves only an uncovered stream whose text the filter left as it was.
      const compiled = override === null && !coveredAtFilter && utterance.graph ? utterance.graph : compile(transform(text), compileOptions(text, parsed, speechRate));
      // The override met here may not be the one validation saw (enabled or changed meanwhile): a guest's bound holds as spoken.
      if (context.guest) checkGuestDuration(spokenMs(compiled, override));
      lifecycle.compile(graphHash(compiled));
      // Plugins' proposals go through the registrar (mutate_graph as each plugin) before the commit.
      const graph = plugins.onGraph(compiled, lifecycle.streamId);
      const planned = planSynthesis(graph);
      speechTotal = planned.filter((step) => step.kind === 'speech').length;
      steps = planned;
    } else if (isRenderedMix(text)) {
      lifecycle.compile(text.contentHash);
      steps = [];
    } else {
      // One stream for the whole source: each piece compiles as it is cut (with `pieceOptions`).
      lifecycle.compileLive();
      // Filtered pieces are spoken as judged: not cut again.
      steps = liveSynthesisSteps(text, parsed.textStream, signal, (piece) => compile(transform(piece), compileOptions(piece, pieceOptions, speechRate)), { cut: filter === undefined });
    }
    lifecycle.synthesize();
    const backend = await context.backendFor(parsed.backend);
    utterance.backend = backend.name;
    // A backend that varies delivery inside one call speaks each sentence whole (no hole at an emphasis).
    if (Array.isArray(steps) && backend.capabilities.inlineProsody === true) {
      steps = joinSentenceSteps(steps as SynthesisStep[]);
      speechTotal = (steps as SynthesisStep[]).filter((step) => step.kind === 'speech').length;
    }
    const converter = new RateConverter(parsed.sampleRateHz ?? options.sampleRateHz);
    let speechDone = 0;
    let index = 0;
    let positionMs = 0;
    let playing = false;
    let pendingMarks: string[] = [];
    let pendingSilenceMs = 0;
    let pendingSilenceNode: string | undefined;
    // Pauses as asked (speech-edges.ts): each segment ends with a margin of its own decay, which
    // counts towards the next pause, as does the next segment's opening margin.
    let tailMarginFrames = 0;

    const watermark = parsed.watermark ?? options.watermark;
    const marker = watermark ? createWatermarkEmbedder(watermark) : undefined;
    const emit = (kind: AudioChunk['kind'], unmarked: Float32Array, nodeId: string, extra: Partial<AudioChunk>): AudioChunk | Promise<AudioChunk> => {
      // Every chunk leaves through here: once a decision (or a halt, or close()) aborted the run,
      // nothing more is handed out, whatever the run still held (a gathered sentence, a resampler's
      // tail, a clip read meanwhile). The abort's reason is what the run ends with (below).
      signal.throwIfAborted();
      if (!playing) {
        // effectsAwaitDurability: the first chunk waits until the play decision is on disk (each
        // `yield` of this async generator awaits the promise before the consumer sees the chunk).
        if (registrar.effectsAwaitDurability) {
          playing = true;
          return lifecycle.playWhenDurable().then((permit) => {
            mode.onPlay?.(permit);
            return emit(kind, unmarked, nodeId, extra);
          });
        }
        const permit = lifecycle.play();
        playing = true;
        mode.onPlay?.(permit);
      }
      const rate = converter.rateHz ?? FALLBACK_RATE_HZ;
      const channels = extra.channels ?? 1;
      let processed = unmarked;
      // No plugin alters a stream a user's accessibility override covers (spec §3.1), its audio included: the user hears it as synthesized.
      if (processed.length > 0 && plugins.has('onAudio') && lifecycle.override() === null) processed = plugins.onAudio(processed, { streamId: lifecycle.streamId, index, kind, sampleRateHz: rate, channels });
      // The watermark goes last, so no later step removes it; a scene's stereo mix is not marked again
      // (its dialogue was marked when spoken).
      const pcm = marker && channels === 1 ? marker.process(processed, rate) : processed;
      const chunk: AudioChunk = { streamId: lifecycle.streamId, index: index++, kind, pcm, sampleRateHz: rate, channels, startMs: positionMs, durationMs: durationMs(pcm.length, channels, rate), nodeId, marks: pendingMarks, metadata: {}, ...extra };
      chunk.metadata = withStreamClock(chunk.metadata, chunk.startMs);
      positionMs += chunk.durationMs;
      pendingMarks = [];
      return chunk;
    };
    // A pause goes out just before what follows it, once that one's opening margin is known.
    const silence = (nodeId: string, headMarginFrames = 0): AudioChunk | Promise<AudioChunk> | undefined => {
      if (pendingSilenceMs <= 0 || converter.rateHz === undefined) return undefined;
      const samples = Math.max(0, Math.round((pendingSilenceMs / 1000) * converter.rateHz) - tailMarginFrames - headMarginFrames);
      const silenceNode = pendingSilenceNode ?? nodeId;
      pendingSilenceMs = 0;
      pendingSilenceNode = undefined;
      tailMarginFrames = 0;
      return emit('silence', new Float32Array(samples), silenceNode, {});
    };

    if (isRenderedMix(text)) {
      for (const pcm of mixChunks(text)) {
        if (signal.aborted) break;
        yield emit('audio', pcm, text.label, { channels: text.channels });
      }
    }
    for await (const step of steps) {
      if (signal.aborted) break;
      if (step.kind === 'mark') {
        // A mark after a pause is reached when the pause is over: the pause goes out now (its
        // follower's opening margin unknown yet: up to 5 ms longer than asked in this case).
        const pause = silence(step.nodeId);
        if (pause) yield pause;
        pendingMarks.push(step.name);
      } else if (step.kind === 'silence') {
        pendingSilenceMs += step.durationMs * (override?.pauseAmplification ?? 1);
        pendingSilenceNode ??= step.nodeId;
      } else if (step.kind === 'audio') {
        const pcm = await readClip({ ...step, path: await realClipPath(step.path, parsed.audioRoot) }, converter, signal);
        const pause = silence(step.nodeId);
        if (pause) yield pause;
        tailMarginFrames = 0;
        yield emit('audio', pcm, step.nodeId, {});
      } else {
        const produced = await synthesizeStep(backend, step.segment, parsed, signal, utterance);
        // Per-sentence loudness needs the whole sentence (BS.1770 gates 400 ms blocks), so the
        // sentence is gathered first; otherwise every backend chunk goes out as it arrives.
        const gather = mode.perSentenceLoudness && parsed.targetLufs !== undefined;
        const gathered: Float32Array[] = [];
        let gatheredMetadata: AudioChunk['metadata'] | undefined;
        // Word times are relative to each output: shifted by where it starts in the gathered sentence.
        const gatheredTimings: Array<{ wordTimings: AudioChunk['metadata']['wordTimings']; visemes: AudioChunk['metadata']['visemes']; offsetMs: number }> = [];
        let gatheredMs = 0;
        let trimmer: EdgeTrimmer | undefined;
        for await (const output of produced) {
          // A backend that ignores its signal must not keep the stream speaking after an allowed end.
          if (signal.aborted) break;
          const converted = converter.convert(toMono(output.pcm, output.channels), output.sampleRateHz, false);
          trimmer ??= new EdgeTrimmer(converter.rateHz ?? FALLBACK_RATE_HZ);
          const opening = !trimmer.hasSound;
          const trimmed = trimmer.push(converted, (output.metadata.wordTimings?.length ?? 0) > 0);
          const pcm = trimmed.pcm;
          if (pcm.length === 0) continue;
          const metadata = shiftMetadata(output.metadata, trimmed.shiftMs);
          if (opening) {
            const pause = silence(step.nodeId, trimmer.headFrames);
            tailMarginFrames = 0;
            if (pause) yield pause;
          }
          if (gather) {
            gathered.push(pcm);
            gatheredMetadata ??= metadata;
            gatheredTimings.push({ wordTimings: metadata.wordTimings, visemes: metadata.visemes, offsetMs: gatheredMs });
            gatheredMs += durationMs(pcm.length, 1, converter.rateHz ?? FALLBACK_RATE_HZ);
          } else {
            yield emit('speech', pcm, step.nodeId, { text: step.segment.text, metadata, backend: utterance.backend });
          }
        }
        // Ended meanwhile: what this sentence gathered or the resampler holds is never handed out (nor counted as done).
        if (signal.aborted) break;
        const flushed = converter.convert(new Float32Array(0), converter.rateHz ?? FALLBACK_RATE_HZ, true);
        const tail = trimmer ? trimmer.push(flushed).pcm : flushed;
        trimmer?.end();
        if (trimmer?.hasSound) tailMarginFrames = trimmer.tailFrames;
        if (gather) {
          const sentence = concatPcm([...gathered, tail]);
          const rate = converter.rateHz ?? FALLBACK_RATE_HZ;
          const wordTimings = joinWordTimings(gatheredTimings);
          const visemes = joinVisemes(gatheredTimings);
          const metadata = { ...(gatheredMetadata ?? {}), ...(wordTimings ? { wordTimings } : {}), ...(visemes ? { visemes } : {}) };
          if (sentence.length > 0) yield emit('speech', sentenceLoudness(sentence, rate, parsed), step.nodeId, { text: step.segment.text, metadata, backend: utterance.backend });
        } else if (tail.length > 0) {
          yield emit('speech', tail, step.nodeId, { text: step.segment.text, backend: utterance.backend });
        }
        speechDone += 1;
        parsed.onProgress?.({ done: speechDone, total: speechTotal ?? speechDone, audioMs: positionMs });
      }
    }
    if (!signal.aborted) {
      if (pendingSilenceMs > 0 && converter.rateHz === undefined) converter.rateHz = FALLBACK_RATE_HZ;
      const pause = silence('end');
      if (pause) yield pause;
      if (pendingMarks.length > 0) yield emit('silence', new Float32Array(0), 'end', {});
    }
    if (!signal.aborted && mode.beforeEnd) await mode.beforeEnd();
    if (utterance.halted) throw haltedError(registrar);
    if (parsed.signal?.aborted) throw new AbortError('speech was aborted', { cause: parsed.signal.reason });
    if (utterance.endedBy?.action === 'fail') throw streamFailed(utterance);
    finished = true;
    utterance.finishing = true;
    lifecycle.stop(utterance.interrupted ? 'interrupted' : 'end of speech');
  } catch (error) {
    if (utterance.halted || registrar.halted) {
      // Nothing may be requested any more; the log already says why (the HALT record).
      finished = true;
      lifecycle.abandon();
      throw error instanceof RegistrarHaltedError ? error : haltedError(registrar, error);
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
    // Play: a stream a user's override covers keeps what the device holds (no error the caller caused cuts it).
    if (mode.beforeFail) await mode.beforeFail();
    if (registrar.halted) {
      lifecycle.abandon();
      throw haltedError(registrar, error);
    }
    lifecycle.fail(describe(error));
    throw error;
  } finally {
    // The consumer stopped iterating early (break/return): the stream ends where it is.
    if (!finished) {
      if (registrar.halted) lifecycle.abandon();
      else if (utterance.endedBy) {
        utterance.finishing = true;
        lifecycle.stop(utterance.endedBy.action === 'interrupt' ? 'interrupted' : `${utterance.endedBy.action} by ${utterance.endedBy.actor ?? 'the registrar'}`);
      } else lifecycle.stop('consumer stopped reading');
    }
    context.active.delete(lifecycle.streamId);
    markDone();
  }
}

/** Starts a segment on the backend; a fallback chain reports which backend served and why. */
async function synthesizeStep(backend: SpeechBackend, segment: SynthesisSegment, parsed: ParsedSpeakOptions, signal: AbortSignal, utterance: Utterance): Promise<AsyncIterable<EngineOutput>> {
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

/** An SSML `<audio>` clip (a WAV file, at most MAX_CLIP_BYTES) as mono PCM at the stream's rate. */
async function readClip(step: Extract<SynthesisStep, { kind: 'audio' }>, converter: RateConverter, signal: AbortSignal): Promise<Float32Array> {
  let bytes: Uint8Array;
  try {
    signal.throwIfAborted();
    bytes = await readRegularFile(step.path, MAX_CLIP_BYTES);
  } catch (error) {
    throw new BackendError('engine', 'AUDIO_CLIP_UNREADABLE', `cannot read audio clip ${step.path}: ${describe(error)}`, { cause: error });
  }
  const clip = decodeWav(bytes);
  const mono = toMono(clip.pcm, clip.channels);
  const head = converter.convert(mono, clip.sampleRateHz, false);
  const tail = converter.convert(new Float32Array(0), clip.sampleRateHz, true);
  return tail.length > 0 ? concatPcm([head, tail]) : head;
}
