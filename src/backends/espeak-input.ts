/**
 * Input shaping for espeak-ng: turns any string into text espeak-ng 1.51 can take without crashing
 * or being steered. Every call into espeak-ng (the espeak backend and the phonemizer behind Kokoro
 * and Piper) passes through `shapeEspeakInput` in espeak-engine.ts, for every language.
 *
 * Why (each found by experiment with the system espeak-ng 1.51, see docs/COMPILER.md "Input shaping"):
 * - a word made of one letter, a full stop and ≥ 167 more bytes (`x.111…`, `x.aaa…`, `a.a.a.…`)
 *   aborts it with "stack smashing detected" in 127 of its 131 voices (in Hakka, `hak`,
 *   19 Hangul letters after `a.` suffice, cut into words or not);
 * - single letters with full stops in a row, even split into words (`a.a. a.a. …`, 86 letters),
 *   do the same: espeak-ng joins them into one abbreviation across spaces and commas;
 * - a word stacking ≥ 67 `'s` suffixes (`s's's'…`, 135 bytes) does the same in 49 voices (en, ru, hi…);
 * - a control character U+0001 starts an embedded command: `\u0001` + `20S` halves the speaking
 *   rate of the rest of the text; `[[…]]` is read as espeak phoneme mnemonics, not as text.
 *
 * The contract (all limits are exported; `shapeEspeakInput` is idempotent):
 * - lone surrogates and Unicode noncharacters are removed; text is NFC;
 * - control characters become a space (line breaks are kept as `\n`); format characters are
 *   removed, except the joiners U+200C/U+200D scripts need, and U+200B which becomes a space;
 * - `[[` and `]]` get a space inside (`[ [`), so text never switches to phoneme input;
 * - at most `MAX_COMBINING_MARKS` combining marks follow a character (the rest are dropped);
 * - a character repeated more than `MAX_REPEATED_CHARACTERS` times in a row (digits aside) is
 *   cut to that many (`!!!!!!` -> `!!!`, `Sooooo` -> `Sooo`);
 * - a run of more than `MAX_DIGIT_RUN` digits is cut into groups of `DIGIT_GROUP_SIZE` from the
 *   left, joined by `, `: espeak-ng reads each group as a number in the voice's language with a
 *   short pause between groups (a space alone would not do: in de and fr espeak-ng reads
 *   `123 456` as one number, one hundred twenty-three thousand...);
 * - a word (a run without whitespace) longer than `MAX_WORD_CHARS` characters or
 *   `MAX_WORD_BYTES` UTF-8 bytes is cut into equal pieces, each cut moved to just after a
 *   punctuation character when one is near (URLs break after `/` or `.`), never before a
 *   combining mark or inside a surrogate pair;
 * - a single letter with a full stop followed by more than `MAX_INITIAL_TAIL_CHARS` characters
 *   without a space gets a space after the stop (`x.1111111` -> `x. 1111111`; `z.B.` is kept);
 * - a chain of more than `MAX_DOTTED_LETTERS` single letters with full stops (`a.a. a.a. …`,
 *   spaces and commas between allowed) gets a line break after every that many;
 * - runs of spaces and tabs become one space; the result is trimmed;
 * - per voice: Kyrgyz (`ky`) gets no apostrophes (`b'b'b'` kills it with SIGSEGV).
 */

/** Most combining marks kept after one base character (Vietnamese and Indic scripts need ≤ 3). */
export const MAX_COMBINING_MARKS = 4;
/** Longest run of one repeated character kept (digits excepted: see `MAX_DIGIT_RUN`). */
export const MAX_REPEATED_CHARACTERS = 3;
/** Longest run of digits passed whole (espeak-ng reads up to hundreds of billions as one number). */
export const MAX_DIGIT_RUN = 12;
/** Size of the groups a longer digit run is cut into. */
export const DIGIT_GROUP_SIZE = 3;
/** Longest word in characters (code points) passed whole: the longest German compounds fit. */
export const MAX_WORD_CHARS = 48;
/**
 * Longest word in UTF-8 bytes passed whole: well under the 135 bytes of the shortest crashing word
 * found (`s'`×68 in English), so CJK, Thai or Devanagari runs without spaces are cut too.
 */
export const MAX_WORD_BYTES = 96;
/**
 * Longest word that may follow a single letter and a full stop with no space between (`z.B.`,
 * `U.S.A.`, `e.g.` keep their readings): espeak-ng reads `x.<tail>` as one abbreviation, and in
 * Hakka (`hak`) 19 Hangul letters after `a.` already abort it.
 */
export const MAX_INITIAL_TAIL_CHARS = 6;
/**
 * Most single letters with a full stop (`a.`, `U.`) in a row, spaces and commas between them
 * allowed: espeak-ng joins them into one abbreviation, and `a.a. ` repeated 43 times (86 letters)
 * aborts it. Longer chains are broken by a line break every this many letters.
 */
export const MAX_DOTTED_LETTERS = 8;
/** How far (in characters) a cut may move from the even split to land after punctuation. */
const CUT_SLACK_CHARS = 8;

const LONE_SURROGATE = /\p{Cs}/gu;
const NONCHARACTER = /[\uFDD0-\uFDEF\uFFFE\uFFFF\u{1FFFE}\u{1FFFF}\u{2FFFE}\u{2FFFF}\u{3FFFE}\u{3FFFF}\u{EFFFE}\u{EFFFF}\u{FFFFE}\u{FFFFF}\u{10FFFE}\u{10FFFF}]/gu;
const LINE_BREAK = /\r\n?|[\u2028\u2029\u0085\v\f]/g;
const CONTROL = /[^\P{Cc}\n]/gu;
const FORMAT = /[^\P{Cf}\u200B-\u200D]/gu;
const EXCESS_MARKS = new RegExp(`(\\p{M}{${MAX_COMBINING_MARKS}})\\p{M}+`, 'gu');
const REPEATED = new RegExp(`([^\\p{Nd}\\s])\\1{${MAX_REPEATED_CHARACTERS},}`, 'gu');
const DIGIT_RUN = new RegExp(`\\p{Nd}{${MAX_DIGIT_RUN + 1},}`, 'gu');
const WORD = /\S+/gu;
const DOTTED_LETTER = /(?<![\p{L}\p{M}])\p{L}\p{M}*\.[^\S\n]*,?[^\S\n]*/gu;
const INITIAL_WITH_LONG_TAIL = new RegExp(`(?<![\\p{L}\\p{M}])(\\p{L}\\p{M}*\\.)(?=\\S{${MAX_INITIAL_TAIL_CHARS + 1}})`, 'gu');
const DOTTED_CHAIN = new RegExp(`(?:${DOTTED_LETTER.source}){${MAX_DOTTED_LETTERS + 1},}`, 'gu');
const CUT_AFTER = /[\p{P}\p{S}]/u;
const NO_CUT_BEFORE = /[\p{M}\u200C\u200D\uFE00-\uFE0F]/u;
const JOINER = /[\u200C\u200D]/u;
const utf8 = new TextEncoder();

/** Cuts a digit run into groups of `DIGIT_GROUP_SIZE` joined by `, ` (`1234567890123` -> `123, 456, …, 3`). */
function groupDigits(run: string): string {
  const digits = [...run];
  const groups: string[] = [];
  for (let start = 0; start < digits.length; start += DIGIT_GROUP_SIZE) groups.push(digits.slice(start, start + DIGIT_GROUP_SIZE).join(''));
  return groups.join(', ');
}

/** Breaks a chain of dotted letters with a line break after every `MAX_DOTTED_LETTERS` of them. */
function breakChain(chain: string): string {
  const units = chain.match(DOTTED_LETTER) ?? [chain];
  const lines: string[] = [];
  for (let start = 0; start < units.length; start += MAX_DOTTED_LETTERS) lines.push(units.slice(start, start + MAX_DOTTED_LETTERS).join('').trimEnd());
  return `${lines.join('\n')} `;
}

/** Cuts one word that is too long into even pieces joined by spaces. */
function cutWord(word: string): string {
  // Fast path: a UTF-16 unit is at most 3 UTF-8 bytes, so short words are within both limits.
  if (word.length * 3 <= MAX_WORD_BYTES) return word;
  const chars = [...word];
  const bytes = utf8.encode(word).length;
  if (chars.length <= MAX_WORD_CHARS && bytes <= MAX_WORD_BYTES) return word;
  const pieces: string[] = [];
  let rest = chars;
  while (rest.length > 0) {
    const restBytes = utf8.encode(rest.join('')).length;
    if (rest.length <= MAX_WORD_CHARS && restBytes <= MAX_WORD_BYTES) {
      pieces.push(rest.join(''));
      break;
    }
    const count = Math.max(Math.ceil(rest.length / MAX_WORD_CHARS), Math.ceil(restBytes / MAX_WORD_BYTES));
    const even = Math.ceil(rest.length / count);
    // Largest prefix within both limits, then the best cut at or below it: after punctuation near the even split.
    let limit = Math.min(even + CUT_SLACK_CHARS, MAX_WORD_CHARS, rest.length - 1);
    while (limit > 1 && utf8.encode(rest.slice(0, limit).join('')).length > MAX_WORD_BYTES) limit -= 1;
    let cut = Math.min(even, limit);
    for (let candidate = limit; candidate >= Math.max(1, even - CUT_SLACK_CHARS); candidate -= 1) {
      if (CUT_AFTER.test(rest[candidate - 1] ?? '')) {
        cut = candidate;
        break;
      }
    }
    while (cut > 1 && (NO_CUT_BEFORE.test(rest[cut] ?? '') || JOINER.test(rest[cut - 1] ?? ''))) cut -= 1;
    pieces.push(rest.slice(0, cut).join(''));
    rest = rest.slice(cut);
  }
  return pieces.join(' ');
}

/** Apostrophes (ASCII, right single quotation mark, modifier letter). */
const APOSTROPHE = /['\u2019\u02BC]/gu;

/**
 * The voice a `-v` argument names, without its variant and language family (`trk/ky+f3` -> `ky`).
 */
export function espeakVoiceBase(voiceArgument: string): string {
  return (voiceArgument.split('+')[0] ?? '').split('/').pop()?.toLowerCase() ?? '';
}

/**
 * Shapes `text` for espeak-ng (see the module comment for every rule and why); `voice` (the `-v`
 * argument) adds that voice's own rules. Idempotent: shaping shaped text changes nothing. Never throws.
 */
export function shapeEspeakInput(text: string, voice?: string): string {
  // Kyrgyz (`ky`) dies with SIGSEGV on three Latin letters each followed by an apostrophe anywhere
  // in one run (`b'b'b'`, `b'x b' b'`, even across lines); no other voice does. Kyrgyz is written
  // without apostrophes, so that voice gets none.
  const voiced = voice !== undefined && espeakVoiceBase(voice) === 'ky' ? text.replace(APOSTROPHE, '') : text;
  return voiced
    .replace(LONE_SURROGATE, '')
    .replace(NONCHARACTER, '')
    .normalize('NFC')
    .replace(LINE_BREAK, '\n')
    .replace(CONTROL, ' ')
    .replace(/\u200B/g, ' ')
    .replace(FORMAT, '')
    .replace(/\[(?=\[)/g, '[ ')
    .replace(/\](?=\])/g, '] ')
    .replace(EXCESS_MARKS, '$1')
    .replace(REPEATED, (_run, character: string) => character.repeat(MAX_REPEATED_CHARACTERS))
    .replace(DIGIT_RUN, groupDigits)
    .replace(WORD, cutWord)
    .replace(INITIAL_WITH_LONG_TAIL, '$1 ')
    .replace(DOTTED_CHAIN, breakChain)
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .trim();
}
