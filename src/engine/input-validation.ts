/**
 * What a speak/stream/play call is checked against before its stream starts: the priority the
 * engine's actor may claim, the session and user its host pinned (and a guest engine's watermark:
 * no call of an engine made by forActor sets its own, reads local audio files or raises the
 * default input bounds), the text (compiled once, through
 * the plugins' transformText) and the voices and languages the backend can speak. Validation makes
 * no registrar request: bad input is an InputError before any effect.
 *
 * Each utterance has one `TextTransform`: the plugins' transformText called at most once per
 * distinct text. Validation seeds it with the text it compiled; the run reuses it (a recompile at
 * an override's rate, the content filter's view of a live piece and the piece's compile), so what
 * the content filter judged is what is compiled and spoken, even for a plugin that would answer
 * differently on a second call.
 */
import { InputError } from '../errors.js';
import type { SpeechBackend } from '../backends/backend.js';
import { compile, DEFAULT_MAX_INPUT_CHARS, looksLikeSsml, type CompileOptions } from '../compiler/index.js';
import type { SpeechGraph } from '../graph/speech-graph.js';
import type { OverrideView } from '../registrar/types.js';
import type { ActorHandle } from '../registrar/actor-handle.js';
import { isRenderedMix, type MixLimits } from '../scene/playable.js';
import { PRIORITY_VALUES, priorityValue } from '../streaming/schedule-policy.js';
import { DEFAULT_MAX_PENDING_CHARS } from '../streaming/text-source.js';
import { isAsyncIterable } from '../streaming/text-source.js';
import type { EnginePlugins } from '../plugins/plugin-set.js';
import type { ParsedEngineOptions, ParsedSpeakOptions } from './engine-options.js';
import type { SpeechInput } from './utterance.js';
import { checkVoices } from './voice-check.js';

/** The plugins' transformText of one utterance (see `transformOnce`). */
export type TextTransform = (text: string) => string;

/** Largest number of distinct texts one transform remembers (one utterance's text, or its live pieces). */
const TRANSFORM_MEMORY = 64;

/** `fn` called at most once per distinct input among the last 64 (one utterance's texts or live pieces). */
export function transformOnce(fn: (text: string) => string): TextTransform {
  const seen = new Map<string, string>();
  return (text) => {
    const known = seen.get(text);
    if (known !== undefined) return known;
    const result = fn(text);
    seen.set(text, result);
    if (seen.size > TRANSFORM_MEMORY) seen.delete(seen.keys().next().value as string);
    return result;
  };
}

/** A validated input: its graph (null for a live source or a mix) and the utterance's transform, which already holds the text the graph came from. */
export interface ValidatedInput {
  graph: SpeechGraph | null;
  transform: TextTransform;
  /** A guest's call: how long it would last (estimated) under the override covering it now (what its speech budget counts). */
  guestEstimateMs?: number;
}

/**
 * The compiler options of a call's text; `speechRate`, the rate of a user's accessibility override
 * covering the stream, is the rate of every word (`fixedRate`): the call's `rate`, its preset or
 * emotion and the text's own prosody cannot make covered speech faster or slower than she asked.
 */
export function compileOptions(text: string, parsed: ParsedSpeakOptions, speechRate?: number): CompileOptions {
  const rate = parsed.rate ?? 1;
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
    ...(speechRate !== undefined ? { fixedRate: speechRate } : rate !== 1 ? { rate } : {}),
    ...(parsed.maxInputChars !== undefined ? { maxInputChars: parsed.maxInputChars } : {}),
  };
}

/** What validation needs of its engine. */
export interface ValidationContext {
  plugins: EnginePlugins;
  /** The engine's actor (whether it may claim the system priority). */
  actor: ActorHandle;
  /** The session and user the engine's host pinned, if any. */
  pinned: Pick<ParsedEngineOptions, 'sessionId' | 'userId' | 'sampleRateHz'>;
  /** An engine made by forActor: its streams are marked as its host engine's are (no call's own `watermark`). */
  guest: boolean;
  /** The backend a call names. */
  backendFor(name: string | undefined): Promise<SpeechBackend>;
  /** Throws once the engine began closing. */
  throwIfClosed(): void;
  /** The accessibility override that would cover a stream of this session and user now (as registrar.overrideFor decides), or null. */
  overrideFor(sessionId: string, userId: string | null): OverrideView | null;
}

/**
 * Compiles the text once to validate it, resolves the backend and checks its voices and
 * languages: no registrar request yet. A live text source (when allowed) is only checked to be
 * one; its pieces compile as they arrive.
 */
export async function validateInput(context: ValidationContext, text: SpeechInput, parsed: ParsedSpeakOptions, allowLive: boolean): Promise<ValidatedInput> {
  context.throwIfClosed();
  const { plugins, actor } = context;
  await plugins.ready();
  // The top priority is the runtime's and users' (spec §3): an agent or plugin cannot claim it.
  if (priorityValue(parsed.priority) >= PRIORITY_VALUES.system && actor.kind !== 'system' && actor.kind !== 'user') {
    throw new InputError(`options.priority: priority ${String(parsed.priority)} (system) may be claimed only by a system or user actor; this engine's actor (VoiceEngineOptions.actor) is ${actor.key}`, { field: 'options.priority' });
  }
  for (const field of ['sessionId', 'userId'] as const) {
    const pinned = context.pinned[field];
    if (pinned !== undefined && parsed[field] !== undefined && parsed[field] !== pinned) {
      throw new InputError(`options.${field}: this engine's streams belong to ${field} "${pinned}", pinned by its host (received "${parsed[field]}")`, { field: `options.${field}` });
    }
  }
  // A guest changing the mark would evade the host's detector or write another tenant's payload.
  if (context.guest && parsed.watermark !== undefined) {
    throw new InputError("options.watermark: this engine (made by forActor) marks its streams as its host engine does; a call of it cannot set or change the watermark", { field: 'options.watermark' });
  }
  if (context.guest) checkGuestBounds(parsed, context.pinned.sampleRateHz);
  const transform = transformOnce((piece) => plugins.transformText(piece));
  if (isRenderedMix(text)) return { graph: null, transform };
  if (typeof text !== 'string') {
    if (allowLive && isAsyncIterable(text)) {
      if (parsed.format === 'ssml') throw new InputError('options.format: a live text source cannot be SSML (a document needs its whole text); use "text", "markup" or "auto"', { field: 'options.format' });
      await checkVoices(await context.backendFor(parsed.backend), null, parsed, undefined);
      return { graph: null, transform };
    }
    const expected = allowLive ? 'a string or an AsyncIterable of strings' : 'a string';
    throw new InputError(`text: expected ${expected} (received ${text === null ? 'null' : typeof text})`, { field: 'text' });
  }
  const graph = compile(transform(text), compileOptions(text, parsed));
  let guestEstimateMs: number | undefined;
  if (context.guest) {
    // As it would be spoken: an override covering the call sets the rate of every word and lengthens its pauses.
    const override = context.overrideFor(parsed.sessionId ?? context.pinned.sessionId ?? 'default', parsed.userId ?? context.pinned.userId ?? null);
    const spoken = override?.speechRate === undefined ? graph : compile(transform(text), compileOptions(text, parsed, override.speechRate));
    guestEstimateMs = spokenMs(spoken, override);
    checkGuestDuration(guestEstimateMs);
  }
  // Unknown voices and languages are InputErrors here, before any registrar request.
  await checkVoices(await context.backendFor(parsed.backend), graph, parsed, text);
  return { graph, transform, ...(guestEstimateMs !== undefined ? { guestEstimateMs } : {}) };
}

/**
 * What a guest's call may not ask: to read local audio files (SSML `<audio>`: a host relaying an
 * agent's options would hand it any clip the process can read), or input bounds above the
 * defaults (it may lower them): compiling, or rescanning for a live source, a text past them
 * holds the host's event loop for seconds, starving every engine, session and play on it.
 */
function checkGuestBounds(parsed: ParsedSpeakOptions, hostRateHz: number | undefined): void {
  for (const field of ['allowAudio', 'audioRoot'] as const) {
    if (parsed[field] !== undefined && parsed[field] !== false) {
      throw new InputError(`options.${field}: this engine (made by forActor) reads no local audio file (SSML <audio> is for its host's calls)`, { field: `options.${field}` });
    }
  }
  const bounds = [
    ['maxInputChars', parsed.maxInputChars, DEFAULT_MAX_INPUT_CHARS],
    ['textStream.maxPendingChars', parsed.textStream?.maxPendingChars, DEFAULT_MAX_PENDING_CHARS],
    // speak() holds the whole audio: a rate of 192 kHz would hold 8 times what 24 kHz does.
    ['sampleRateHz', parsed.sampleRateHz, Math.max(GUEST_MAX_RATE_HZ, hostRateHz ?? 0)],
  ] as const;
  for (const [field, asked, bound] of bounds) {
    if (asked !== undefined && asked > bound) {
      throw new InputError(`options.${field}: this engine (made by forActor) takes at most ${bound}, its host's bound (received ${asked})`, { field: `options.${field}` });
    }
  }
}

/** Highest per-call sample rate of a guest's call (unless its host's engine renders higher). */
const GUEST_MAX_RATE_HZ = 48_000;
/** Longest speech one guest call may ask for, estimated from its text, pauses and rate: 30 minutes. */
const GUEST_MAX_DURATION_MS = 30 * 60_000;

/** How long `graph` lasts as spoken under `override` (its pauses lengthened by `pauseAmplification`), estimated, ms. */
export function spokenMs(graph: SpeechGraph, override: Pick<OverrideView, 'pauseAmplification'> | null): number {
  const amplification = override?.pauseAmplification ?? 1;
  if (amplification === 1) return graph.durationMs;
  let pausesMs = 0;
  for (const node of graph.nodes) if (node.type === 'silence') pausesMs += node.durationMs;
  return graph.durationMs + (amplification - 1) * pausesMs;
}

/**
 * A guest's text lasts at most GUEST_MAX_DURATION_MS (estimated as spoken, `spokenMs`): speak()
 * holds every sample, and pauses or a slow rate cost nothing to ask for. 14,000 characters of
 * `[pause 10s]` held 1 GB in 1.4 s (measured, 24 kHz mono); the longest text at rate 0.25 is
 * about 7 hours. The run checks again with the override it compiles under (it may have changed).
 */
export function checkGuestDuration(estimateMs: number): void {
  if (estimateMs > GUEST_MAX_DURATION_MS) {
    throw new InputError(`text: it would last about ${Math.ceil(estimateMs / 60_000)} min (estimated from its text, pauses and rate); this engine (made by forActor) speaks at most ${GUEST_MAX_DURATION_MS / 60_000} min per call`, { field: 'text' });
  }
}

/**
 * What a guest's `play(scene)` may do: read no local audio file (a file layer or effect: a host
 * relaying an agent's scene would let it read, and with `retainAudio` take back, any audio file
 * the host can read) and render into at most 1 GiB of buses (a scene's own bound is 8 GiB).
 */
export const GUEST_MIX_LIMITS: MixLimits = Object.freeze({ allowFiles: false, maxMixBytes: 1024 ** 3 });

/** Guest budgets holding a mix now (a scene's render and play, or a conversation's render). */
const holdingMix = new WeakSet<object>();

/**
 * Takes a guest budget's one mix slot until the returned release is called: a scene's render holds
 * its whole mix (until its play ends, when played), a conversation's render every turn until its
 * mixdown, so a guest holds at most one such mix at a time. InputError naming `field` while another is held.
 */
export function holdGuestMix(budget: object, field: 'scene' | 'conversation'): () => void {
  if (holdingMix.has(budget)) {
    throw new InputError(`${field}: this engine (made by forActor) is rendering or playing another mix (a scene, or a conversation); it takes one at a time (each holds its whole mix): wait for that one to end`, { field });
  }
  holdingMix.add(budget);
  return () => holdingMix.delete(budget);
}

/** Speech (estimated, ms) the speak() calls of each guest budget hold now (the guest and the engines it made share one). */
const heldSpeech = new WeakMap<object, number>();

/**
 * Counts a guest's speak() call of `graph` against its budget until the returned release is
 * called: speak() keeps every sample until it returns, so calls in flight together hold at most
 * GUEST_MAX_DURATION_MS of speech (the per-call bound alone let concurrent calls hold memory
 * without bound). Throws InputError naming `text` for a call past it, before any request.
 */
export function holdGuestSpeech(budget: object, estimateMs: number | undefined): () => void {
  const asked = estimateMs ?? 0;
  const held = heldSpeech.get(budget) ?? 0;
  if (held + asked > GUEST_MAX_DURATION_MS) {
    throw new InputError(
      `text: it would last about ${Math.ceil(asked / 60_000)} min, and this engine's calls (made by forActor) hold about ${Math.round(held / 60_000)} min of speech already; they hold at most ${GUEST_MAX_DURATION_MS / 60_000} min at once (speak() keeps every sample until it returns): wait for one to end, or use stream() or speakToFile()`,
      { field: 'text' },
    );
  }
  heldSpeech.set(budget, held + asked);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    heldSpeech.set(budget, Math.max(0, (heldSpeech.get(budget) ?? 0) - asked));
  };
}

/**
 * Settles validations in call order: checking voices awaits the backend's voice list, and the
 * scheduler admits plays in the order their validation settles.
 */
export class InCallOrder {
  /** Settles after the latest call's work. */
  #tail: Promise<unknown> = Promise.resolve();

  /** `work` (already running), settling no earlier than every call before it. */
  settle<T>(work: Promise<T>): Promise<T> {
    // Handled here so a refusal while an earlier validation still runs is never "unhandled".
    work.catch(() => undefined);
    const turn = this.#tail.then(() => work);
    this.#tail = turn.catch(() => undefined);
    return turn;
  }
}

// Hardening, as VoiceEngine: no caller can swap a method of this class for its own (a patched prototype would reach every engine).
Object.freeze(InCallOrder.prototype);
Object.freeze(InCallOrder);
