/**
 * Light markup for plain text: `[pause 300ms]` (or `[pause]`, `[pause 1.5s]`), emotion spans
 * `{joy}…{/joy}`, `*emphasis*` and `**strong emphasis**`, blank lines as paragraph ends, and
 * `\` to escape `* [ ] { } \`. Brackets, braces and asterisks that do not form markup are text;
 * markup that is clearly meant but malformed (`[pause soon]`, `{glee}`, an unclosed `{joy}`) is a
 * `MARKUP_INVALID` error naming line:column, or text in lenient mode.
 */
import { EMOTION_NAMES, combineProsody, isEmotionName, type EmotionName } from './emotion.js';
import { COMPILER_ERROR_CODES, errorAt } from './input-errors.js';
import type { Run, RunStyle } from './runs.js';
import { EMPHASIS_PROSODY, MAX_BREAK_MS, readDurationMs } from './ssml/ssml-values.js';

/** Length of `[pause]` without a duration, in ms. */
export const DEFAULT_MARKUP_PAUSE_MS = 500;

// Bounded so a long run of unclosed "[pause" stays linear in lenient mode.
const PAUSE = /\[pause(?:\s+([^\]\n]{0,40}))?\]/iy;
const PAUSE_START = /\[pause\b/iy;
const SPAN_TAG = /\{(\/?)([A-Za-z]+)\}/y;
const PARAGRAPH_BREAK = /\n[^\S\n]*\n\s*/y;
const ESCAPABLE = new Set(['*', '[', ']', '{', '}', '\\']);

interface OpenSpan {
  emotion: EmotionName;
  offset: number;
  style: RunStyle;
}

/** Reads light markup into runs, starting from `style`. */
export function markupToRuns(input: string, style: RunStyle, lenient: boolean): Run[] {
  const runs: Run[] = [];
  const spans: OpenSpan[] = [];
  let current = style;
  let text = '';
  const flush = (runStyle: RunStyle = current) => {
    if (text !== '') runs.push({ kind: 'text', text, style: runStyle });
    text = '';
  };
  const fail = (offset: number, message: string) => errorAt(COMPILER_ERROR_CODES.markupInvalid, input, offset, message);
  const matchAt = (pattern: RegExp, index: number) => {
    pattern.lastIndex = index;
    return pattern.exec(input);
  };

  let index = 0;
  while (index < input.length) {
    const character = input[index] as string;
    if (character === '\\' && ESCAPABLE.has(input[index + 1] ?? '')) {
      text += input[index + 1];
      index += 2;
      continue;
    }
    if (character === '\n') {
      const blank = matchAt(PARAGRAPH_BREAK, index);
      if (blank) {
        flush();
        runs.push({ kind: 'boundary', level: 'paragraph' });
        index += blank[0].length;
        continue;
      }
    }
    if (character === '[' && matchAt(PAUSE_START, index)) {
      const pause = matchAt(PAUSE, index);
      const argument = pause?.[1]?.trim();
      const durationMs = argument === undefined || argument === '' ? DEFAULT_MARKUP_PAUSE_MS : readDurationMs(argument);
      if (pause && durationMs !== undefined) {
        flush();
        runs.push({ kind: 'break', durationMs });
        index += pause[0].length;
        continue;
      }
      if (!lenient) throw fail(index, `malformed pause: expected [pause], [pause 300ms] or [pause 1.5s] (at most ${MAX_BREAK_MS} ms)`);
    }
    if (character === '{') {
      const tag = matchAt(SPAN_TAG, index);
      if (tag) {
        const closing = tag[1] === '/';
        const name = (tag[2] as string).toLowerCase();
        if (!isEmotionName(name)) {
          if (!lenient) throw fail(index, `unknown emotion {${closing ? '/' : ''}${tag[2]}} (expected one of ${EMOTION_NAMES.join(', ')})`);
        } else if (!closing) {
          flush();
          spans.push({ emotion: name, offset: index, style: current });
          current = { ...current, emotion: name };
          index += tag[0].length;
          continue;
        } else if (spans[spans.length - 1]?.emotion === name) {
          flush();
          current = (spans.pop() as OpenSpan).style;
          index += tag[0].length;
          continue;
        } else if (!lenient) {
          const open = spans[spans.length - 1];
          throw fail(index, open ? `{/${name}} does not match the open {${open.emotion}}` : `{/${name}} closes nothing`);
        }
      }
    }
    if (character === '*') {
      const emphasis = readEmphasis(input, index);
      if (emphasis) {
        flush();
        const level = emphasis.marker.length === 2 ? 'strong' : 'moderate';
        const change = EMPHASIS_PROSODY[level] as (typeof EMPHASIS_PROSODY)[string];
        runs.push({ kind: 'text', text: emphasis.content, style: { ...current, relative: combineProsody(current.relative, change), emphasis: level } });
        index = emphasis.end;
        continue;
      }
    }
    text += character;
    index += 1;
  }
  flush();
  const unclosed = spans[spans.length - 1];
  if (unclosed && !lenient) throw fail(unclosed.offset, `{${unclosed.emotion}} is never closed (expected {/${unclosed.emotion}})`);
  return runs;
}

/** `*text*` / `**text**` at `index`: content must not start or end with a space nor cross a paragraph. */
function readEmphasis(input: string, index: number): { marker: string; content: string; end: number } | undefined {
  const marker = input.startsWith('**', index) ? '**' : '*';
  const start = index + marker.length;
  const first = input[start];
  if (first === undefined || /\s|\*/.test(first)) return undefined;
  const close = input.indexOf(marker, start + 1);
  if (close < 0) return undefined;
  const content = input.slice(start, close);
  if (/\s$/.test(content) || /\n[^\S\n]*\n/.test(content) || (marker === '*' && input[close + 1] === '*')) return undefined;
  return { marker, content: content.replace(/\\([*[\]{}\\])/g, '$1'), end: close + marker.length };
}
