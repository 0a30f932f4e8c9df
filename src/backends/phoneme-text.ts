/**
 * Text -> phoneme strings for the phoneme-driven neural backends (Kokoro, Piper): sentence
 * splitting, punctuation-preserving phonemization (espeak-ng drops punctuation, but both models
 * were trained on phoneme strings that keep it, so the text is phonemized between punctuation marks
 * and the marks are put back), and splitting of over-long token sequences at the best boundary.
 */
import { AbortError } from '../errors.js';

/** Turns a piece of plain text (no punctuation marks) into IPA. */
export type Phonemizer = (text: string, language: string, signal?: AbortSignal) => Promise<string>;

/** Marks kept verbatim between phonemized runs (sentence ends, clause marks, quotes, brackets). */
const PUNCTUATION_CLASS = '.,;:!?\u2014\u2013\u2026"\u201C\u201D()';
const PUNCTUATION_RUN = new RegExp(`([${PUNCTUATION_CLASS}]+)`, 'u');
/** A sentence ends after terminal marks (and closing quotes/brackets) followed by whitespace, or at a line break. */
const SENTENCE_END = /(?<=[.!?\u2026]["\u201D)]*)\s+|\s*\n\s*\n\s*/u;
/** Text worth sending to the phonemizer: it has at least one letter or digit. */
const SPEAKABLE = /[\p{L}\p{N}]/u;
/** Most phonemizer processes started at once for one sentence. */
const MAX_CONCURRENT_PHONEMIZE = 4;

/**
 * Splits text into sentences (terminal marks stay with their sentence). Pieces with nothing to say
 * (blank, or punctuation only such as a lone `...`) are dropped: a model fed only punctuation makes
 * noise, and pauses are the compiler's business.
 */
export function splitSentences(text: string): string[] {
  return text
    .split(SENTENCE_END)
    .map((sentence) => sentence.trim())
    .filter((sentence) => SPEAKABLE.test(sentence));
}

/**
 * Yields `prepare(sentence)` for each sentence of `text`, in order. The next sentence's preparation
 * (phonemization) starts as soon as the current one is handed out, so it overlaps with the model's
 * run on the current one. A preparation nobody awaits (the consumer stopped or was aborted) is
 * observed, so its rejection is not reported as unhandled.
 */
export async function* prepareSentencesAhead<T>(text: string, prepare: (sentence: string) => Promise<T>): AsyncGenerator<T> {
  const sentences = splitSentences(text);
  const pending: Array<Promise<T> | undefined> = [];
  const start = (index: number) => {
    const sentence = sentences[index];
    if (sentence === undefined || pending[index]) return;
    const promise = prepare(sentence);
    promise.catch(() => undefined);
    pending[index] = promise;
  };
  for (let index = 0; index < sentences.length; index++) {
    start(index);
    const prepared = await (pending[index] as Promise<T>);
    start(index + 1);
    yield prepared;
  }
}

/** A run of a sentence: either words to phonemize or punctuation kept as is. */
interface TextRun {
  kind: 'words' | 'punctuation';
  text: string;
  spaceBefore: boolean;
  spaceAfter: boolean;
}

function splitRuns(sentence: string): TextRun[] {
  const runs: TextRun[] = [];
  sentence.split(PUNCTUATION_RUN).forEach((part, index) => {
    if (part.length === 0) return;
    const trimmed = part.trim();
    const spaceBefore = /^\s/u.test(part);
    const spaceAfter = /\s$/u.test(part);
    const kind = index % 2 === 1 ? 'punctuation' : 'words';
    if (trimmed.length === 0) {
      const previous = runs.at(-1);
      if (previous) previous.spaceAfter = true;
      return;
    }
    runs.push({ kind, text: trimmed, spaceBefore, spaceAfter });
  });
  return runs;
}

async function mapWithLimit<T, R>(items: readonly T[], limit: number, map: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await map(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Phonemizes one sentence, keeping its punctuation: the words between marks go to the phonemizer
 * (a few at a time), the marks are put back where they were. Whitespace is normalised to single
 * spaces (espeak-ng ends clauses with line breaks).
 */
export async function phonemizeKeepingPunctuation(
  sentence: string,
  language: string,
  phonemize: Phonemizer,
  signal?: AbortSignal,
): Promise<string> {
  const runs = splitRuns(sentence);
  const phonemes = await mapWithLimit(runs, MAX_CONCURRENT_PHONEMIZE, async (run) => {
    if (signal?.aborted) throw new AbortError('phonemization was aborted');
    if (run.kind === 'punctuation') return run.text;
    return SPEAKABLE.test(run.text) ? (await phonemize(run.text, language, signal)).trim() : '';
  });
  let joined = '';
  runs.forEach((run, index) => {
    const piece = phonemes[index] ?? '';
    if (piece.length === 0) return;
    if (run.spaceBefore || (run.kind === 'words' && joined.length > 0 && !/[("\u201C]$/u.test(joined))) joined += ' ';
    joined += piece;
    if (run.spaceAfter) joined += ' ';
  });
  return joined.replace(/\s+/gu, ' ').trim();
}

/** How good a place a cut after a symbol is: higher is better, 0 means "not a boundary". */
export type BoundaryRank = (index: number) => number;

/** Rank of cutting after a sentence end. */
export const RANK_SENTENCE = 3;
/** Rank of cutting after a clause mark. */
export const RANK_CLAUSE = 2;
/** Rank of cutting after a word separator. */
export const RANK_WORD = 1;

/** Ranks a symbol as a cut position: sentence end, clause mark, word separator or none. */
export function rankSymbolBoundary(symbol: string): number {
  if (/^[.!?\u2026]$/u.test(symbol)) return RANK_SENTENCE;
  if (/^[,;:\u2014\u2013]$/u.test(symbol)) return RANK_CLAUSE;
  if (symbol === ' ') return RANK_WORD;
  return 0;
}

/**
 * Splits `length` symbols into consecutive pieces of at most `maxLength` symbols, cutting after the
 * best-ranked boundary that leaves the piece at least a third full (sentence > clause > word), or
 * at any boundary, or — only for a boundary-free run longer than `maxLength` — hard at the limit.
 * Nothing is dropped: the pieces cover [0, length) exactly. Returns the end index of each piece.
 */
export function splitAtBoundaries(length: number, maxLength: number, rankAfter: BoundaryRank): number[] {
  const ends: number[] = [];
  let start = 0;
  while (length - start > maxLength) {
    const limit = start + maxLength;
    const minimumEnd = start + Math.max(1, Math.floor(maxLength / 3));
    let bestEnd = -1;
    let bestRank = 0;
    let anyEnd = -1;
    for (let end = limit; end > start; end--) {
      const rank = rankAfter(end - 1);
      if (rank === 0) continue;
      if (anyEnd < 0) anyEnd = end;
      if (end >= minimumEnd && rank > bestRank) {
        bestRank = rank;
        bestEnd = end;
      }
    }
    const end = bestEnd > 0 ? bestEnd : anyEnd > 0 ? anyEnd : limit;
    ends.push(end);
    start = end;
  }
  if (length > start) ends.push(length);
  return ends;
}
