/**
 * The per-language normalisation interface and the table of languages. Adding a language is one
 * module implementing `LanguageNormalizer` plus one entry in `NORMALIZERS`.
 */
import { englishNormalizer } from './english.js';
import { collapseWhitespace, type LanguageNormalizer, type SayAsKind } from './language-normalizer.js';

/** Normaliser used for languages without a module: only collapses whitespace. */
export const passThroughNormalizer: LanguageNormalizer = Object.freeze({
  language: 'und',
  normalize: (text: string) => collapseWhitespace(text),
  interpretAs: (_kind: SayAsKind, text: string) => collapseWhitespace(text),
});

const NORMALIZERS: ReadonlyMap<string, LanguageNormalizer> = new Map([['en', englishNormalizer]]);

/** Primary subtags that have a normaliser module. */
export const NORMALIZED_LANGUAGES: readonly string[] = Object.freeze([...NORMALIZERS.keys()]);

/** The normaliser for a BCP-47 tag (by primary subtag), or the pass-through one. */
export function normalizerFor(languageTag: string): LanguageNormalizer {
  const primary = languageTag.split(/[-_]/)[0]?.toLowerCase() ?? '';
  return NORMALIZERS.get(primary) ?? passThroughNormalizer;
}

/** Normalises `text` for speech in `languageTag` (default `en-US`). */
export function normalizeText(text: string, languageTag = 'en-US'): string {
  return normalizerFor(languageTag).normalize(text, languageTag);
}
