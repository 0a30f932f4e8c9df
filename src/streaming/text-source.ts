/**
 * Live text input: cuts an `AsyncIterable<string>` of text deltas (an LLM's tokens) into pieces
 * to speak while the text still arrives. Sentences are cut with the compiler's rules
 * (`sentenceSpans`: abbreviations, decimals, initials and URLs never cut), each as soon as the
 * text after it proves it complete, the rest when the source ends. Two options trade prosody for
 * first-audio latency (`TextStreamOptions`). The pending text is bounded (`maxPendingChars`).
 * Contract of `cutTextSource`: pulls the source only when its consumer asks for the next piece;
 * when the consumer stops early, its signal aborts, or the source fails, the source's iterator is
 * closed (`return()`) unless it ended on its own; a source error becomes AudioError
 * `TEXT_SOURCE_FAILED`, a delta that is not a string an InputError naming `text[index]`. A source
 * that answers at once forever (e.g. `for (;;) yield ''`) cannot starve the event loop: the cutter
 * waits a macrotask turn (`setImmediate`) every 64 deltas or 5 ms, so timers, aborts and
 * interrupts still run; more than `maxEmptyDeltas` empty deltas in a row fail the stream.
 */
import { z } from 'zod';
import { AbortError, AudioError, InputError } from '../errors.js';
import { DEFAULT_MAX_SENTENCE_CHARS, sentenceSpans } from '../compiler/sentences.js';
import { planSynthesis, type SynthesisStep } from '../compiler/index.js';
import type { SpeechGraph } from '../graph/speech-graph.js';

/** Default `maxPendingChars`: characters waiting to be cut at most (also the bound of a guest engine's calls). */
export const DEFAULT_MAX_PENDING_CHARS = 16_384;

/** Schema of the `textStream` option of `stream()`/`play()` with a live text source. */
export const textStreamOptionsSchema = z.strictObject({
  /**
   * The first piece may be cut before its sentence ends, at a clause boundary (`,` `;` `:` or a
   * dash followed by a space) with at least this many characters before it (default 60).
   */
  minChars: z.number().int().min(1).max(100_000).default(60),
  /**
   * Once the oldest waiting character is this old (default 250 ms): the first piece is cut at the
   * last clause boundary, and any piece that ends in a probable sentence end (`.` `!` `?` not after
   * an abbreviation, the next word not yet arrived) is cut there. 0 cuts at once.
   */
  maxWaitMs: z.number().int().min(0).max(60_000).default(250),
  /** Most characters waiting to be cut; a delta that would exceed it fails the stream (default 16384). */
  maxPendingChars: z.number().int().min(64).max(10_000_000).default(DEFAULT_MAX_PENDING_CHARS),
  /** Most empty deltas in a row; one more fails the stream with InputError `TEXT_STREAM_LIMIT` (default 1 000 000). */
  maxEmptyDeltas: z.number().int().min(1).max(1_000_000_000).default(1_000_000),
});

/** The cutter lets timers and I/O run (a macrotask turn) at least every this many deltas... */
const YIELD_EVERY_DELTAS = 64;
/** ...or this many ms of pulling deltas, whichever comes first. */
const YIELD_EVERY_MS = 5;

/** What callers may pass as `textStream`. */
export type TextStreamOptions = z.input<typeof textStreamOptionsSchema>;

/** Parsed `textStream` options. */
export type ResolvedTextStreamOptions = z.output<typeof textStreamOptionsSchema>;

/** Whether `value` is an AsyncIterable (what `stream()`/`play()` accept besides a string). */
export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function';
}

/** A clause boundary: punctuation (or a spaced dash) followed by a space. */
const CLAUSE_BOUNDARY = /(?:[,;:]|\s[—–-])(?=\s)/g;

/**
 * The synchronous part: text in, pieces out. `push` returns the sentences the new text proved
 * complete; `timedCut`/`clauseCut` cut early by the options' rules; `end` returns the rest.
 */
export class TextCutter {
  readonly #options: ResolvedTextStreamOptions;
  #pending = '';
  /** When the oldest pending character arrived (ms, caller's clock), or null when none waits. */
  #pendingSinceMs: number | null = null;
  #piecesCut = 0;
  /** A timed cut found no place since the last delta: wait for more text instead of retrying. */
  #timedCutFailed = false;

  /** `options` as parsed by `textStreamOptionsSchema`. */
  constructor(options: ResolvedTextStreamOptions) {
    this.#options = options;
  }

  /** Characters waiting to be cut. */
  get pendingChars(): number {
    return this.#pending.length;
  }

  /** When a timed cut may happen (ms, caller's clock), or null while nothing waits. */
  get deadlineMs(): number | null {
    return this.#pendingSinceMs === null || this.#timedCutFailed || this.#pending.trim() === '' ? null : this.#pendingSinceMs + this.#options.maxWaitMs;
  }

  /** Adds a delta arriving at `nowMs`; returns the pieces now complete. Throws InputError past `maxPendingChars`. */
  push(delta: string, nowMs: number): string[] {
    if (this.#pending.length + delta.length > this.#options.maxPendingChars) {
      throw new InputError(
        `textStream.maxPendingChars: the text source sent ${this.#pending.length + delta.length} characters without a place to cut them (limit ${this.#options.maxPendingChars})`,
        { field: 'textStream.maxPendingChars', code: 'TEXT_STREAM_LIMIT' },
      );
    }
    if (delta === '') return [];
    this.#timedCutFailed = false;
    this.#pendingSinceMs ??= nowMs;
    this.#pending += delta;
    const spans = sentenceSpans(this.#pending, { maxSentenceChars: DEFAULT_MAX_SENTENCE_CHARS });
    // The last span may still grow, or its end may still turn out not to be a sentence end.
    const complete = spans.slice(0, -1);
    const pieces = complete.map((span) => this.#pending.slice(span.start, span.end));
    const last = complete.at(-1);
    if (last) this.#consume(last.end, nowMs);
    const early = pieces.length === 0 && this.#piecesCut === 0 && this.#pending.length >= this.#options.minChars ? this.clauseCut(nowMs, this.#options.minChars) : undefined;
    if (early !== undefined) pieces.push(early);
    this.#piecesCut += pieces.length;
    return pieces;
  }

  /**
   * The cut due at `nowMs` once `deadlineMs` passed: the first piece at the last clause boundary,
   * any piece at a probable sentence end. Undefined when there is no such place (keep waiting).
   */
  timedCut(nowMs: number): string | undefined {
    const deadline = this.deadlineMs;
    if (deadline === null || nowMs < deadline) return undefined;
    const piece = this.#piecesCut === 0 ? this.clauseCut(nowMs) : this.#cutAt(this.#probableSentenceEnd(), nowMs);
    if (piece !== undefined) this.#piecesCut += 1;
    else this.#timedCutFailed = true;
    return piece;
  }

  /**
   * Cuts the pending text at its last clause boundary or probable sentence end with at least
   * `minPieceChars` before it, if it has one.
   */
  clauseCut(nowMs: number, minPieceChars = 1): string | undefined {
    let boundary = this.#probableSentenceEnd();
    for (const match of this.#pending.matchAll(CLAUSE_BOUNDARY)) boundary = Math.max(boundary, match.index + match[0].length);
    return boundary >= minPieceChars ? this.#cutAt(boundary, nowMs) : undefined;
  }

  /** Returns every piece still pending (the source ended) and empties the cutter. */
  end(): string[] {
    const spans = sentenceSpans(this.#pending, { maxSentenceChars: DEFAULT_MAX_SENTENCE_CHARS });
    const pieces = spans.map((span) => this.#pending.slice(span.start, span.end));
    this.#pending = '';
    this.#pendingSinceMs = null;
    this.#piecesCut += pieces.length;
    return pieces;
  }

  /** Where the pending text would end a sentence if the next word starts with a capital, or -1. */
  #probableSentenceEnd(): number {
    const probe = `${this.#pending.trimEnd()} A`;
    const spans = sentenceSpans(probe, { maxSentenceChars: Number.MAX_SAFE_INTEGER });
    return spans.length > 1 ? (spans.at(-2)?.end ?? -1) : -1;
  }

  #cutAt(boundary: number, nowMs: number): string | undefined {
    if (boundary <= 0) return undefined;
    const piece = this.#pending.slice(0, boundary).trim();
    if (piece === '') return undefined;
    this.#consume(boundary, nowMs);
    return piece;
  }

  #consume(end: number, nowMs: number): void {
    this.#pending = this.#pending.slice(end);
    // What is left arrived before now; counting its age from now keeps the timed cut from firing at once.
    this.#pendingSinceMs = this.#pending.trim() === '' ? null : nowMs;
  }
}

/** A clock in ms; injected so tests can drive the timed cut without waiting. */
export type ClockMs = () => number;

/**
 * Yields the pieces of a live text source as they are cut (see `TextCutter`). Stops at `signal`
 * (rejecting with its reason, or AbortError) even while the source is waiting; closes the
 * source's iterator whenever it did not end on its own.
 */
export async function* cutTextSource(source: AsyncIterable<unknown>, options: ResolvedTextStreamOptions, signal: AbortSignal, now: ClockMs = () => performance.now()): AsyncGenerator<string, void, undefined> {
  const cutter = new TextCutter(options);
  const iterator = source[Symbol.asyncIterator]();
  let sourceEnded = false;
  let index = 0;
  let pendingNext: Promise<IteratorResult<unknown>> | undefined;
  let emptyInARow = 0;
  let sinceYield = 0;
  let lastYieldMs = now();
  try {
    for (;;) {
      // A macrotask turn now and then: a source resolving in microtasks only must not starve timers.
      if (++sinceYield >= YIELD_EVERY_DELTAS || now() - lastYieldMs >= YIELD_EVERY_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        sinceYield = 0;
        lastYieldMs = now();
        if (signal.aborted) throw abortReason(signal);
      }
      if (!pendingNext) {
        pendingNext = nextOf(iterator, index);
        // Abandoned when the stream stops: a later rejection must not go unhandled.
        pendingNext.catch(() => undefined);
      }
      const deadline = cutter.deadlineMs;
      const outcome = await race(pendingNext, deadline === null ? null : Math.max(0, deadline - now()), signal);
      if (outcome === 'timeout') {
        const piece = cutter.timedCut(now());
        if (piece !== undefined) yield piece;
        continue;
      }
      pendingNext = undefined;
      if (outcome.done === true) {
        sourceEnded = true;
        break;
      }
      const delta = outcome.value;
      if (typeof delta !== 'string') {
        throw new InputError(`text[${index}]: expected each delta of the text source to be a string (received ${delta === null ? 'null' : typeof delta})`, { field: `text[${index}]` });
      }
      index += 1;
      emptyInARow = delta === '' ? emptyInARow + 1 : 0;
      if (emptyInARow > options.maxEmptyDeltas) {
        throw new InputError(`textStream.maxEmptyDeltas: the text source sent more than ${options.maxEmptyDeltas} empty deltas in a row`, { field: 'textStream.maxEmptyDeltas', code: 'TEXT_STREAM_LIMIT' });
      }
      for (const piece of cutter.push(delta, now())) yield piece;
    }
    for (const piece of cutter.end()) yield piece;
  } finally {
    if (!sourceEnded) closeQuietly(iterator);
  }
}

/** The iterator's next result; its failure becomes AudioError `TEXT_SOURCE_FAILED` (the stream fails with it). */
async function nextOf(iterator: AsyncIterator<unknown>, index: number): Promise<IteratorResult<unknown>> {
  try {
    return await iterator.next();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new AudioError('TEXT_SOURCE_FAILED', `the text source failed after ${index} deltas: ${reason}`, { cause: error });
  }
}

/** Asks the iterator to finish (its `finally` runs); neither waits for it nor lets its failure escape. */
function closeQuietly(iterator: AsyncIterator<unknown>): void {
  try {
    const closing = iterator.return?.();
    if (closing) Promise.resolve(closing).catch(() => undefined);
  } catch {
    // A throwing return() changes nothing: the stream has already ended.
  }
}

/** Waits for the next delta, a timeout (`null`: none) or the signal, whichever comes first. */
function race(next: Promise<IteratorResult<unknown>>, timeoutMs: number | null, signal: AbortSignal): Promise<IteratorResult<unknown> | 'timeout'> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const timer = timeoutMs === null ? undefined : setTimeout(() => settle(() => resolve('timeout')), timeoutMs);
    const onAbort = (): void => settle(() => reject(abortReason(signal)));
    const settle = (action: () => void): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      action();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    next.then(
      (result) => settle(() => resolve(result)),
      (error: unknown) => settle(() => reject(error)),
    );
  });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason instanceof Error ? signal.reason : new AbortError('the text stream was aborted', { cause: signal.reason });
}

/**
 * The synthesis steps of a live text source, piece by piece as it is cut (`textStream`: the
 * caller's option, defaults applied here); `compilePiece` turns one piece into its graph.
 * `cut: false` takes the source's strings as the pieces (already cut and judged by a content filter).
 */
export async function* liveSynthesisSteps(source: AsyncIterable<unknown>, textStream: TextStreamOptions | undefined, signal: AbortSignal, compilePiece: (piece: string) => SpeechGraph, options: { cut?: boolean } = {}): AsyncGenerator<SynthesisStep, void, undefined> {
  let sentencePauseMs: number | undefined;
  let previous: string | undefined;
  const pieces = options.cut === false ? (source as AsyncIterable<string>) : cutTextSource(source, textStreamOptionsSchema.parse(textStream ?? {}), signal);
  for await (const piece of pieces) {
    const steps = planSynthesis(compilePiece(piece));
    const speaks = steps.some((step) => step.kind === 'speech');
    // Each piece compiles alone, so the pause between two of them is placed here: the one the
    // compiler puts between two sentences with the same options, unless the piece was cut inside
    // a sentence or starts with a pause of its own. (Pieces are cut trimmed: a blank line between
    // them is not seen, so it gets the sentence pause too.)
    if (speaks && previous !== undefined && endsSentence(previous) && steps[0]?.kind !== 'silence') {
      sentencePauseMs ??= firstPauseMs(compilePiece('One. Two.'));
      if (sentencePauseMs > 0) yield { kind: 'silence', nodeId: 'live-pause', durationMs: sentencePauseMs };
    }
    yield* steps;
    if (speaks) previous = piece;
  }
}

/** Whether a live piece ends a sentence (not a cut inside one, at a clause or by time). */
function endsSentence(piece: string): boolean {
  return /[.!?…。！？]["'”’)\]]*\s*$/u.test(piece);
}

/** The first pause of a compiled probe, in ms (0 when it has none). */
function firstPauseMs(graph: SpeechGraph): number {
  const pause = planSynthesis(graph).find((step) => step.kind === 'silence');
  return pause?.kind === 'silence' ? pause.durationMs : 0;
}
