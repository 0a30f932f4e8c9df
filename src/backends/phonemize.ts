/**
 * Text to IPA through espeak-ng (`-q --ipa=3 -v <voice>`): the system program when installed,
 * else the warm WASM build. Used by the neural backends (Kokoro, Piper) as their phonemizer.
 */
import { z } from 'zod';
import { InputError } from '../errors.js';
import { parseInput } from '../validation.js';
import { openEspeakEngine, type EspeakEngine, type EspeakMode } from './espeak-engine.js';
import { cleanEspeakIpa } from './espeak-text.js';
import { findEspeakVoiceForLanguage } from './espeak-voices.js';

/** Which espeak-ng `phonemize` uses (default: the system program if installed, else WASM). */
export interface PhonemizeOptions {
  mode?: EspeakMode;
  /** Path or PATH name of the system program. */
  binaryPath?: string;
  /**
   * Keep multi-letter phonemes tied with `^` (`a^ɪ`, `t^ʃ`), as misaki's espeak G2P reads them
   * (phonemizer's `tie='^'`), instead of removing espeak-ng's zero-width joiners. Default false.
   */
  ties?: boolean;
}

const argumentsSchema = z.object({
  text: z.string({ message: 'expected a string' }),
  language: z.string({ message: 'expected a BCP-47 language such as "en-US"' }).min(1, 'expected a BCP-47 language such as "en-US"'),
  options: z
    .object({
      mode: z.enum(['auto', 'process', 'wasm']).optional(),
      binaryPath: z.string().min(1).optional(),
      ties: z.boolean().optional(),
    })
    .strict()
    .optional(),
});

/** The tie misaki reads between the letters of one phoneme (phonemizer's `tie='^'`). */
export const PHONEME_TIE = '^';

/**
 * espeak-ng's language-switch flags, `(en)` ... `(fr)`, around words it read with another
 * language's rules (ties inside them already removed or made `^`). Removed, keeping the words, as
 * phonemizer's `language_switch='remove-flags'` (misaki) and piper-phonemize do.
 */
const LANGUAGE_FLAG = /\(\^?[a-z](?:\^?[a-z0-9-]){1,10}\^?\)/gu;

/** Removes espeak-ng's `(xx)` language-switch flags from its IPA, keeping the words between them. */
export function removeLanguageFlags(ipa: string): string {
  return ipa.replace(LANGUAGE_FLAG, '');
}

const engines = new Map<string, Promise<EspeakEngine>>();

function engineFor(options: PhonemizeOptions): Promise<EspeakEngine> {
  const key = `${options.mode ?? 'auto'}\u0000${options.binaryPath ?? ''}`;
  let engine = engines.get(key);
  if (!engine) {
    engine = openEspeakEngine({ mode: options.mode ?? 'auto', ...(options.binaryPath ? { binaryPath: options.binaryPath } : {}) });
    engines.set(key, engine);
    engine.catch(() => engines.delete(key));
  }
  return engine;
}

/**
 * Converts `text` to IPA for `language` (BCP-47; matched to an espeak-ng voice: `en-US` ->
 * `en-us`, `en` -> `en-gb`, `de-AT` -> `de`). Clauses espeak-ng prints on separate lines are joined
 * with one space; words are separated by spaces, stress marks (ˈ ˌ) and length marks (ː) kept,
 * the zero-width joiners espeak-ng puts inside diphthongs removed (`oʊ`, not `o‍ʊ`), or made `^`
 * with `options.ties` (`o^ʊ`). Language-switch flags (`(en)`) are removed, their words kept.
 * Punctuation is not preserved (espeak-ng drops it). Empty or blank text gives ''.
 *
 * Throws `InputError` (`LANGUAGE_UNSUPPORTED`, field `language`) when espeak-ng has no voice for
 * the language, `BackendError` `ESPEAK_NOT_FOUND` when neither the program nor the npm package is
 * available, and `AbortError` when `signal` aborts.
 */
export async function phonemize(text: string, language: string, signal?: AbortSignal, options: PhonemizeOptions = {}): Promise<string> {
  const parsed = parseInput(argumentsSchema, { text, language, options }, 'phonemize');
  if (parsed.text.trim() === '') return '';
  const engine = await engineFor(parsed.options ?? {});
  const voice = findEspeakVoiceForLanguage(await engine.voiceList(), parsed.language);
  if (!voice) {
    throw new InputError(`language: espeak-ng has no voice for ${JSON.stringify(parsed.language)} (expected a BCP-47 language such as "en-US", "de", "fr-FR")`, {
      code: 'LANGUAGE_UNSUPPORTED',
      field: 'language',
    });
  }
  const { stdout } = await engine.invoke({ args: ['-q', '--ipa=3', '-v', voice.id], text: parsed.text, wav: false, ...(signal ? { signal } : {}) });
  return removeLanguageFlags(cleanEspeakIpa(parsed.options?.ties ? stdout.replaceAll('\u200d', PHONEME_TIE) : stdout)).replace(/ {2,}/gu, ' ').trim();
}
