/**
 * Visemes for lip sync, derived from IPA phonemes with timings. The set is the 15 visemes of
 * Oculus (Meta) Lipsync, "Viseme Reference" (developers.meta.com/horizon/documentation/unity/
 * audio-ovrlipsync-viseme-reference; chosen after the MPEG-4 viseme set): `sil PP FF TH DD kk CH SS
 * nn RR aa E ih oh ou`. Its reference lists example phonemes per viseme (PP p b m, FF f v, TH θ ð,
 * DD t d, kk k g, CH tʃ dʒ ʃ, SS s z, nn n l, RR r, aa "car", E "bed", ih "tip", oh "toe", ou "book");
 * `OVR_VISEME_TABLE` extends it to the IPA espeak-ng prints, by place of articulation for
 * consonants and by openness/rounding for vowels (documented in docs/ENGINE.md). A diphthong or
 * long vowel takes its first vowel's viseme; a symbol the table lacks is `DD` (a neutral,
 * slightly open consonant shape).
 */
import type { VisemeEvent, WordTiming, WordTimingSource } from '../graph/engine-output.js';

/** The 15 Oculus Lipsync visemes. */
export const OVR_VISEMES = ['sil', 'PP', 'FF', 'TH', 'DD', 'kk', 'CH', 'SS', 'nn', 'RR', 'aa', 'E', 'ih', 'oh', 'ou'] as const;

/** One of the 15 Oculus Lipsync visemes. */
export type OvrViseme = (typeof OVR_VISEMES)[number];

/** IPA symbols per viseme (multi-symbol entries are matched before single symbols). */
export const OVR_VISEME_TABLE: Readonly<Record<OvrViseme, readonly string[]>> = Object.freeze({
  sil: [],
  PP: ['p', 'b', 'm', 'ɱ', 'ɓ'],
  FF: ['f', 'v', 'ɸ', 'β', 'ʋ'],
  TH: ['θ', 'ð'],
  DD: ['t', 'd', 'ɾ', 'ʈ', 'ɖ', 'ʔ', 'c', 'ɟ'],
  kk: ['k', 'g', 'ɡ', 'ŋ', 'x', 'ɣ', 'q', 'χ', 'h', 'ɦ', 'ħ'],
  CH: ['tʃ', 'dʒ', 'ʃ', 'ʒ', 'tɕ', 'dʑ', 'ɕ', 'ʑ', 'ç', 'ʂ', 'ʐ'],
  SS: ['ts', 'dz', 's', 'z'],
  nn: ['n', 'l', 'ɲ', 'ɫ', 'ʎ', 'ɬ', 'ɳ', 'ɭ', 'ɴ'],
  RR: ['r', 'ɹ', 'ɻ', 'ʀ', 'ʁ', 'ɚ', 'ɝ'],
  aa: ['a', 'ɑ', 'ɐ', 'ʌ', 'ə', 'ɜ', 'ɞ', 'ɶ'],
  E: ['e', 'ɛ', 'æ', 'ø', 'œ', 'ɘ'],
  ih: ['i', 'ɪ', 'j', 'y', 'ʏ', 'ɨ', 'ɥ'],
  oh: ['o', 'ɔ', 'ɒ', 'ɤ', 'ɵ'],
  ou: ['u', 'ʊ', 'w', 'ʉ', 'ɯ', 'ʍ'],
});

const SYMBOLS: ReadonlyArray<readonly [string, OvrViseme]> = (Object.entries(OVR_VISEME_TABLE) as Array<[OvrViseme, readonly string[]]>)
  .flatMap(([viseme, symbols]) => symbols.map((symbol) => [symbol, viseme] as const))
  .sort((a, b) => b[0].length - a[0].length);

/** Stress, length, tie and syllable marks, and combining diacritics: not part of the mouth shape. */
const MARKS = /[ˈˌːˑ.‿͡\u200d\u0300-\u036f]/gu;

/** The viseme of one IPA phoneme (`""` or a pause is `sil`; see the module comment for the rest). */
export function visemeOf(phoneme: string): OvrViseme {
  const bare = phoneme.replace(MARKS, '');
  if (bare === '' || bare === '_') return 'sil';
  return SYMBOLS.find(([symbol]) => bare.startsWith(symbol))?.[1] ?? 'DD';
}

/** Splits an IPA word into phonemes: affricates (`tʃ`, `dʒ`, `ts`, `dz`) stay whole, marks are dropped. */
export function splitIpa(word: string): string[] {
  const bare = word.replace(MARKS, '');
  const phonemes: string[] = [];
  for (let rest = bare; rest !== ''; ) {
    const affricate = ['tʃ', 'dʒ', 'ts', 'dz', 'tɕ', 'dʑ'].find((pair) => rest.startsWith(pair));
    const symbol = affricate ?? [...rest][0] ?? '';
    phonemes.push(symbol);
    rest = rest.slice(symbol.length);
  }
  return phonemes;
}

/**
 * Visemes of timed phonemes, in order: consecutive phonemes with the same viseme are merged, and a
 * gap between phonemes (a pause) becomes `sil`. `source` says whether the phoneme times were
 * measured (`reported`) or spread (`estimated`).
 */
export function visemesFromPhonemes(phonemes: ReadonlyArray<{ phoneme: string; startMs: number; endMs: number }>, source: WordTimingSource): VisemeEvent[] {
  const visemes: VisemeEvent[] = [];
  const push = (viseme: OvrViseme, startMs: number, endMs: number) => {
    const last = visemes.at(-1);
    if (last && last.viseme === viseme && Math.abs(last.endMs - startMs) < 1e-6) last.endMs = endMs;
    else if (endMs > startMs) visemes.push({ viseme, startMs, endMs, source });
  };
  for (const phoneme of phonemes) {
    const last = visemes.at(-1);
    if (last && phoneme.startMs > last.endMs) push('sil', last.endMs, phoneme.startMs);
    push(visemeOf(phoneme.phoneme), phoneme.startMs, phoneme.endMs);
  }
  return visemes;
}

/**
 * Estimated visemes: each word's IPA phonemes spread evenly over that word's span (`source:
 * 'estimated'`). Needs one IPA word per timed word; otherwise returns none.
 */
export function spreadVisemes(ipa: string, wordTimings: readonly WordTiming[]): VisemeEvent[] {
  const ipaWords = ipa.split(/\s+/u).filter((word) => word !== '');
  if (ipaWords.length !== wordTimings.length) return [];
  const phonemes = wordTimings.flatMap((timing, index) => {
    const symbols = splitIpa(ipaWords[index] ?? '');
    const step = (timing.endMs - timing.startMs) / Math.max(1, symbols.length);
    return symbols.map((phoneme, at) => ({ phoneme, startMs: timing.startMs + at * step, endMs: timing.startMs + (at + 1) * step }));
  });
  return visemesFromPhonemes(phonemes, 'estimated');
}
