/**
 * Word timings from a character alignment, as services such as ElevenLabs return it (`characters`,
 * `character_start_times_seconds`, `character_end_times_seconds`: parallel arrays, seconds from
 * the start of the audio). Words are runs of non-space characters; a word's time is from its
 * first letter or digit to its last (surrounding punctuation neither names nor times it), in ms,
 * `source: 'reported'`. Runs with no letter or digit are dropped.
 */
import { z } from 'zod';
import type { WordTiming } from '../graph/engine-output.js';

/** Zod schema of a character alignment (the three arrays must have the same length). */
export const characterAlignmentSchema = z
  .object({
    characters: z.array(z.string()),
    character_start_times_seconds: z.array(z.number().min(0)),
    character_end_times_seconds: z.array(z.number().min(0)),
  })
  .refine((alignment) => alignment.character_start_times_seconds.length === alignment.characters.length && alignment.character_end_times_seconds.length === alignment.characters.length, {
    message: 'characters, character_start_times_seconds and character_end_times_seconds must have the same length',
  });

/** A validated character alignment. */
export type CharacterAlignment = z.output<typeof characterAlignmentSchema>;

/** Word timings (ms, reported) from a character alignment; see the module comment. */
export function wordsFromCharacterAlignment(alignment: CharacterAlignment): WordTiming[] {
  const timings: WordTiming[] = [];
  let word = '';
  let first = -1;
  let last = -1;
  const flush = () => {
    const trimmed = word.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
    if (trimmed !== '' && first >= 0) {
      timings.push({
        word: trimmed,
        startMs: (alignment.character_start_times_seconds[first] ?? 0) * 1000,
        endMs: (alignment.character_end_times_seconds[last] ?? 0) * 1000,
        source: 'reported',
      });
    }
    word = '';
    first = -1;
    last = -1;
  };
  alignment.characters.forEach((character, index) => {
    if (/^\s*$/u.test(character)) {
      flush();
      return;
    }
    word += character;
    if (/[\p{L}\p{N}]/u.test(character)) {
      if (first < 0) first = index;
      last = index;
    }
  });
  flush();
  return timings;
}
