/**
 * espeak-ng IPA -> the symbols Kokoro-82M v1.0 was trained on. Kokoro's English training phonemes
 * come from misaki (hexgrad/misaki), whose symbol set folds diphthongs and affricates into single
 * letters (`A` = eɪ, `I` = aɪ, `O` = oʊ, `Q` = əʊ, `W` = aʊ, `Y` = ɔɪ, `ʤ`, `ʧ`), writes the US flap
 * as `T` and adds `ᵊ`. Its other languages (es, fr-fr, hi, it, pt-br) are espeak-ng IPA with a
 * smaller fold. This module re-states misaki's published rules as our own tables:
 *
 * - English: `EspeakFallback` in misaki/espeak.py (the `E2M` table, then the British or American
 *   fix-ups, then `ɾ`->`T` and `ʔ`->`t` for v1.0) and the "From espeak to Misaki" section of
 *   misaki's EN_PHONES.md;
 * - other languages: `EspeakG2P` in misaki/espeak.py (its `e2m` table without the 2.0 additions,
 *   then ties and hyphens removed), which kokoro's KPipeline uses for `e f h i p`.
 *
 * The input is espeak-ng IPA with multi-letter phonemes tied by `^` (phonemize with `ties: true`;
 * a zero-width joiner or U+0361 is taken as a tie too), stress marks kept, language flags removed.
 * The output may still hold symbols outside Kokoro's vocabulary (e.g. German `ʏ`); the tokenizer
 * skips them, as Kokoro's own does. Pure functions, no I/O.
 */
import { PHONEME_TIE } from './phonemize.js';

/** Which misaki rule set a language uses. */
export type KokoroPhonemeSet = 'misaki-en-us' | 'misaki-en-gb' | 'espeak-folded';

/** A replacement applied to the whole string, in table order (as misaki's `str.replace` loop). */
type Replacement = readonly [from: string, to: string];

/**
 * misaki `EspeakFallback.E2M`, in the order misaki applies it (longest key first; equal lengths
 * keep the table's order). `\u0329` is the syllabic mark (n̩), `\u0303` the nasal tilde.
 */
const ENGLISH_FOLD: readonly Replacement[] = [
  ['ʔˌn\u0329', 'ʔn'],
  ['ʔn\u0329', 'ʔn'],
  ['a^ɪ', 'I'],
  ['a^ʊ', 'W'],
  ['d^ʒ', 'ʤ'],
  ['e^ɪ', 'A'],
  ['t^ʃ', 'ʧ'],
  ['ɔ^ɪ', 'Y'],
  ['ə^l', 'ᵊl'],
  ['ʲo', 'jo'],
  ['ʲə', 'jə'],
  ['e', 'A'],
  ['ʲ', ''],
  ['ɚ', 'əɹ'],
  ['r', 'ɹ'],
  ['x', 'k'],
  ['ç', 'k'],
  ['ɐ', 'ə'],
  ['ɬ', 'l'],
  ['\u0303', ''],
];

/**
 * misaki's British fix-ups (after the fold). The first can no longer match once `e` became `A`
 * above; misaki applies it in this order all the same, and so do we (compatibility over intent).
 */
const BRITISH_FIXUPS: readonly Replacement[] = [
  ['e^ə', 'ɛː'],
  ['iə', 'ɪə'],
  ['ə^ʊ', 'Q'],
];

/** misaki's American fix-ups (after the fold): `O`, r-coloured `ɜ`, `iə`, and no length marks. */
const AMERICAN_FIXUPS: readonly Replacement[] = [
  ['o^ʊ', 'O'],
  ['ɜːɹ', 'ɜɹ'],
  ['ɜː', 'ɜɹ'],
  ['ɪə', 'iə'],
  ['ː', ''],
];

/** misaki's last English steps for Kokoro v1.0 (any version but 2.0): `o` (espeak < 1.52) -> `ɔ`, flap -> `T`, glottal stop -> `t`. */
const ENGLISH_FINAL: readonly Replacement[] = [
  ['o', 'ɔ'],
  ['ɾ', 'T'],
  ['ʔ', 't'],
];

/** misaki `EspeakG2P.e2m` for Kokoro v1.0 (no 2.0 nasal-vowel letters), in misaki's (sorted) order. */
const ESPEAK_FOLD: readonly Replacement[] = [
  ['a^ɪ', 'I'],
  ['a^ʊ', 'W'],
  ['d^z', 'ʣ'],
  ['d^ʒ', 'ʤ'],
  ['e^ɪ', 'A'],
  ['o^ʊ', 'O'],
  ['s^s', 'S'],
  ['t^s', 'ʦ'],
  ['t^ʃ', 'ʧ'],
  ['ɔ^ɪ', 'Y'],
  ['ə^ʊ', 'Q'],
];

/** Regions whose English Kokoro speaks with its British voices' symbols (misaki `b`); any other English is American (`a`). */
const BRITISH_REGIONS = new Set(['GB', 'UK', 'IE', 'AU', 'NZ', 'ZA', 'IN']);

/** Which rule set a BCP-47 language takes: misaki English (US or GB) or the folded espeak IPA of misaki's EspeakG2P. */
export function kokoroPhonemeSet(language: string): KokoroPhonemeSet {
  const [primary = '', region = ''] = language.replaceAll('_', '-').split('-');
  if (primary.toLowerCase() !== 'en') return 'espeak-folded';
  return BRITISH_REGIONS.has(region.toUpperCase()) ? 'misaki-en-gb' : 'misaki-en-us';
}

/**
 * The language to ask espeak-ng for: for English, the dialect misaki phonemizes with (`en-us` or
 * `en-gb`, so the IPA matches the rule set); any other language as given.
 */
export function kokoroEspeakLanguage(language: string): string {
  switch (kokoroPhonemeSet(language)) {
    case 'misaki-en-us':
      return 'en-US';
    case 'misaki-en-gb':
      return 'en-GB';
    case 'espeak-folded':
      return language;
  }
}

function applyAll(text: string, replacements: readonly Replacement[]): string {
  return replacements.reduce((result, [from, to]) => result.replaceAll(from, to), text);
}

/** Ties from any phonemizer (misaki `^`, espeak-ng's zero-width joiner, U+0361) as `^`. */
function normaliseTies(ipa: string): string {
  return ipa.replace(/[\u200d\u0361]/gu, PHONEME_TIE);
}

/** misaki `EspeakFallback.__call__` for Kokoro v1.0: espeak-ng English IPA -> misaki symbols. */
export function espeakToMisakiEnglish(ipa: string, british: boolean): string {
  let symbols = applyAll(normaliseTies(ipa), ENGLISH_FOLD);
  // A syllabic consonant becomes a small schwa before it (n̩ -> ᵊn); stray syllabic marks go.
  symbols = symbols.replace(/(\S)\u0329/gu, 'ᵊ$1').replaceAll('\u0329', '');
  symbols = applyAll(symbols, british ? BRITISH_FIXUPS : AMERICAN_FIXUPS);
  return applyAll(symbols, ENGLISH_FINAL).replaceAll(PHONEME_TIE, '');
}

/** misaki `EspeakG2P.__call__` for Kokoro v1.0 (es, fr, hi, it, pt-br and, by extension, any espeak language). */
export function espeakToFoldedIpa(ipa: string): string {
  return applyAll(normaliseTies(ipa), ESPEAK_FOLD).replaceAll(PHONEME_TIE, '').replaceAll('-', '');
}

/** espeak-ng IPA (ties as `^`) for `language` -> Kokoro v1.0 training symbols, by the language's rule set. */
export function espeakToKokoro(ipa: string, language: string): string {
  switch (kokoroPhonemeSet(language)) {
    case 'misaki-en-us':
      return espeakToMisakiEnglish(ipa, false);
    case 'misaki-en-gb':
      return espeakToMisakiEnglish(ipa, true);
    case 'espeak-folded':
      return espeakToFoldedIpa(ipa);
  }
}

/** misaki's punctuation for non-English text: guillemets are read as curly quotes (which Kokoro's vocabulary has). */
export function kokoroTextPunctuation(text: string): string {
  return text.replaceAll('«', '\u201C').replaceAll('»', '\u201D');
}
