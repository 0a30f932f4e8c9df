/**
 * Sentence segmentation for streaming: abbreviation-aware ("Dr. Smith", "e.g."), leaves decimals,
 * URLs and initials alone, handles ellipses and closing quotes, and cuts over-long sentences at
 * a comma or space so the first audio never waits for a 5,000-character run-on.
 */

/** A sentence's place in the text: `text.slice(start, end)`, trimmed. */
export interface SentenceSpan {
  start: number;
  end: number;
}

/** Options of `splitSentences`. */
export interface SplitOptions {
  /** Longest sentence before it is cut at a comma or space (default 600). */
  maxSentenceChars?: number;
}

/** Default upper bound of a sentence's length, in characters. */
export const DEFAULT_MAX_SENTENCE_CHARS = 600;

/** Abbreviations after which a full stop never ends a sentence (lower case, without the final stop). */
const NEVER_FINAL = new Set([
  'dr', 'mr', 'mrs', 'ms', 'prof', 'st', 'mt', 'gen', 'capt', 'lt', 'sgt', 'rev', 'sen', 'gov', 'hon',
  'e.g', 'i.e', 'vs', 'cf', 'approx', 'fig', 'vol', 'no', 'ca', 'dept', 'est',
  'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec',
]);

/** Abbreviations that end a sentence only when the next word is capitalised. */
const FINAL_IF_CAPITAL = new Set(['etc', 'inc', 'ltd', 'jr', 'sr', 'co', 'corp', 'a.m', 'p.m', 'u.s', 'u.k']);

const TERMINALS = '.!?…';
const CLOSERS = `"'”’)]»`;
const OPENERS = `"'“‘([«`;

function isSpace(character: string | undefined): boolean {
  return character !== undefined && /\s/.test(character);
}

function isUpperStart(text: string, index: number): boolean {
  let position = index;
  while (position < text.length && OPENERS.includes(text[position] as string)) position += 1;
  const character = text[position];
  return character !== undefined && (/\p{Lu}/u.test(character) || /\d/.test(character));
}

/** The word right before `index` (letters and inner full stops), lower-cased. */
function wordBefore(text: string, index: number): string {
  let start = index;
  while (start > 0 && /[\p{L}.]/u.test(text[start - 1] as string)) start -= 1;
  return text.slice(start, index).replace(/^\.+/, '').toLowerCase();
}

/** Decides whether terminal punctuation text[from, to) followed by a space ends a sentence. */
function endsSentence(text: string, from: number, to: number, next: number): boolean {
  const punctuation = text.slice(from, to);
  const nextCharacter = text[next] as string;
  if (/[,;:]/.test(nextCharacter)) return false;
  const ellipsis = punctuation.includes('…') || punctuation.includes('..');
  if (ellipsis) return isUpperStart(text, next);
  if (punctuation.startsWith('.') && !/[!?]/.test(punctuation)) {
    const word = wordBefore(text, from);
    if (NEVER_FINAL.has(word)) return word === 'no' ? !/\d/.test(nextCharacter) : false;
    if (FINAL_IF_CAPITAL.has(word)) return isUpperStart(text, next);
    // A single capital before the stop is an initial ("J. R. R. Tolkien").
    if (/^\p{L}$/u.test(word) && /\p{Lu}/u.test(text[from - 1] as string)) return false;
  }
  // '"Stop!" she said.' goes on in lower case: not a sentence end.
  return !/\p{Ll}/u.test(nextCharacter);
}

function trimmedSpan(text: string, start: number, end: number): SentenceSpan | undefined {
  let from = start;
  let to = end;
  while (from < to && isSpace(text[from])) from += 1;
  while (to > from && isSpace(text[to - 1])) to -= 1;
  return from < to ? { start: from, end: to } : undefined;
}

/** Cuts spans longer than `maxChars` at the last comma-like break, else the last space, else hard. */
function cutLongSpan(text: string, span: SentenceSpan, maxChars: number): SentenceSpan[] {
  const pieces: SentenceSpan[] = [];
  let start = span.start;
  while (span.end - start > maxChars) {
    const window = text.slice(start, start + maxChars);
    const clause = Math.max(window.lastIndexOf(', '), window.lastIndexOf('; '), window.lastIndexOf(': '));
    const space = window.search(/\s\S*$/);
    const cut = clause > 0 ? start + clause + 1 : space > 0 ? start + space : start + maxChars;
    const piece = trimmedSpan(text, start, cut);
    if (piece) pieces.push(piece);
    // The next piece starts at its first character, so its whole budget goes to text.
    start = cut;
    while (start < span.end && isSpace(text[start])) start += 1;
  }
  const rest = trimmedSpan(text, start, span.end);
  if (rest) pieces.push(rest);
  return pieces;
}

/**
 * Finds the sentences of `text`. Every non-space character belongs to exactly one span; spans
 * are in order and trimmed. A blank line always ends a sentence.
 */
export function sentenceSpans(text: string, options: SplitOptions = {}): SentenceSpan[] {
  const maxChars = Math.max(1, options.maxSentenceChars ?? DEFAULT_MAX_SENTENCE_CHARS);
  const spans: SentenceSpan[] = [];
  let start = 0;
  const close = (end: number) => {
    const span = trimmedSpan(text, start, end);
    if (span) spans.push(...cutLongSpan(text, span, maxChars));
    start = end;
  };
  // Jump from one candidate (terminal punctuation or newline) to the next.
  const candidates = /[.!?…\n]/g;
  let index = 0;
  while (index < text.length) {
    candidates.lastIndex = index;
    const found = candidates.exec(text);
    if (!found) break;
    index = found.index;
    const character = found[0];
    if (character === '\n') {
      const blank = /^\n[^\S\n]*\n/.exec(text.slice(index, index + 64));
      if (blank) {
        close(index);
        index += blank[0].length;
        continue;
      }
    }
    if (!TERMINALS.includes(character)) {
      index += 1;
      continue;
    }
    let end = index;
    while (end < text.length && TERMINALS.includes(text[end] as string)) end += 1;
    while (end < text.length && CLOSERS.includes(text[end] as string)) end += 1;
    let next = end;
    while (next < text.length && isSpace(text[next])) next += 1;
    if (next > end && next < text.length && endsSentence(text, index, end, next)) close(end);
    index = end;
  }
  close(text.length);
  return spans;
}

/** Splits `text` into trimmed sentences (see `sentenceSpans`). */
export function splitSentences(text: string, options: SplitOptions = {}): string[] {
  return sentenceSpans(text, options).map((span) => text.slice(span.start, span.end));
}

/**
 * Incremental segmentation for text that arrives in pieces (an LLM's tokens): `push` returns the
 * sentences that are now certainly complete; `end` returns the rest. Feeding the text in any
 * pieces yields the same sentences as `splitSentences` on the whole text.
 */
export class SentenceStream {
  private buffer = '';
  private readonly options: SplitOptions;

  constructor(options: SplitOptions = {}) {
    this.options = options;
  }

  /** Adds text; returns the sentences completed by it. */
  push(chunk: string): string[] {
    this.buffer += chunk;
    const spans = sentenceSpans(this.buffer, this.options);
    // The last span may still grow (or its end may still turn out not to be a sentence end).
    const complete = spans.slice(0, -1);
    const last = complete[complete.length - 1];
    if (!last) return [];
    const sentences = complete.map((span) => this.buffer.slice(span.start, span.end));
    this.buffer = this.buffer.slice(last.end);
    return sentences;
  }

  /** Returns whatever is left (zero or more sentences) and empties the stream. */
  end(): string[] {
    const rest = splitSentences(this.buffer, this.options);
    this.buffer = '';
    return rest;
  }
}
