/**
 * The per-language normalisation interface: what a language module implements.
 */

/** `say-as interpret-as` values the compiler understands (SSML). */
export const SAY_AS_KINDS = ['cardinal', 'number', 'ordinal', 'characters', 'spell-out', 'verbatim', 'digits', 'date', 'time', 'telephone', 'currency'] as const;

/** One `say-as interpret-as` value. */
export type SayAsKind = (typeof SAY_AS_KINDS)[number];

/** Turns written text of one language into speakable words. */
export interface LanguageNormalizer {
  /** Primary language subtag this module serves, e.g. `en`. */
  readonly language: string;
  /** Expands numbers, dates, times, currency, abbreviations, URLs... `languageTag` selects regional variants. */
  normalize(text: string, languageTag: string): string;
  /**
   * Reads `text` as `kind` (SSML say-as); `format` is say-as `format` (e.g. `mdy` for dates).
   * Returns undefined when `text` cannot be read that way.
   */
  interpretAs(kind: SayAsKind, text: string, format: string | undefined, languageTag: string): string | undefined;
}

/** Collapses runs of whitespace to one space and trims. */
export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
