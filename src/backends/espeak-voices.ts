/**
 * espeak-ng's voice list (`--voices` and `--voices=variant` output, the same from the system
 * program and the WASM build) and the resolution of a voice id or a BCP-47 language to the
 * `-v` argument espeak-ng takes.
 *
 * Voice ids are espeak-ng's language names (`en-us`, `de`, `fr-fr`); when two voices share one
 * (e.g. `yue`), the later ones are named by their file (`sit/yue-Latn-jyutping`). A variant may
 * be appended after `+` (`en-us+f3`, `de+klatt`): it changes timbre and, for f1–f5, gender.
 * espeak-ng is always given the voice's file (`-v gmw/en-US+f3`): 1.51 cannot select
 * `chr-US-Qaaa-x-west` by its name ("voice does not exist"), while every file selects its voice.
 */
import type { VoiceRequest, VoiceRequestProblem } from './backend.js';

/** One voice from espeak-ng's list. */
export interface EspeakVoiceEntry {
  /** Id accepted by the backend and passed to `-v`. */
  id: string;
  /** Display name (`English (America)`). */
  name: string;
  /** The voice file, relative to espeak-ng's voice directory (`gmw/en-US`): what `-v` gets. */
  file: string;
  /** Lowercase BCP-47 languages, the voice's own first, then its other languages by priority. */
  languages: string[];
  gender: 'female' | 'male' | 'neutral';
  /** espeak-ng's priority of this voice for each of its languages (lower is preferred). */
  priorityByLanguage: Record<string, number>;
}

/** One variant from espeak-ng's variant list. */
export interface EspeakVariantEntry {
  /** Name as espeak-ng spells it after `+` (`f3`, `klatt`, `Alex`). */
  id: string;
  gender: 'female' | 'male' | 'neutral';
}

/** The voices and variants an espeak-ng installation offers. */
export interface EspeakVoiceList {
  voices: EspeakVoiceEntry[];
  variants: EspeakVariantEntry[];
}

function parseGender(ageGender: string | undefined): 'female' | 'male' | 'neutral' {
  const letter = ageGender?.split('/')[1];
  if (letter === 'F') return 'female';
  if (letter === 'M') return 'male';
  return 'neutral';
}

function dataLines(text: string): string[][] {
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 5 && /^\d+$/.test(fields[0] ?? ''));
}

/** Parses the table printed by `espeak-ng --voices`. */
export function parseEspeakVoices(text: string): EspeakVoiceEntry[] {
  const entries: EspeakVoiceEntry[] = [];
  const taken = new Set<string>();
  for (const [priority = '5', rawLanguage = '', ageGender, name = '', file = '', ...rest] of dataLines(text)) {
    const language = rawLanguage.toLowerCase();
    const priorityByLanguage: Record<string, number> = { [language]: Number(priority) };
    for (const match of rest.join(' ').matchAll(/\(([^\s()]+)\s+(\d+)\)/g)) {
      const other = (match[1] ?? '').toLowerCase();
      if (!(other in priorityByLanguage)) priorityByLanguage[other] = Number(match[2]);
    }
    const others = Object.keys(priorityByLanguage)
      .filter((other) => other !== language)
      .sort((a, b) => (priorityByLanguage[a] ?? 99) - (priorityByLanguage[b] ?? 99));
    const id = taken.has(language) ? file : language;
    taken.add(id);
    entries.push({ id, file, name: name.replaceAll('_', ' '), languages: [language, ...others], gender: parseGender(ageGender), priorityByLanguage });
  }
  return entries;
}

/** Parses the table printed by `espeak-ng --voices=variant`. */
export function parseEspeakVariants(text: string): EspeakVariantEntry[] {
  return dataLines(text)
    .filter((fields) => fields[1] === 'variant' && (fields[4] ?? '').startsWith('!v/'))
    .map((fields) => ({ id: (fields[4] ?? '').slice(3), gender: parseGender(fields[2]) }));
}

/** A voice id resolved against the list: the `-v` argument and what it stands for. */
export interface ResolvedEspeakVoice {
  /** Argument for `-v`: the voice's file and the variant (`gmw/en-US`, `gmw/en-US+f3`). */
  argument: string;
  voice: EspeakVoiceEntry;
  variant?: EspeakVariantEntry;
}

/**
 * Finds a voice by id (case-insensitive, optionally with `+variant`). Returns undefined when the
 * voice or the variant is unknown (espeak-ng itself silently ignores unknown variants).
 */
export function findEspeakVoice(list: EspeakVoiceList, voiceId: string): ResolvedEspeakVoice | undefined {
  const [base = '', variantName, ...extra] = voiceId.split('+');
  if (extra.length > 0) return undefined;
  const voice = list.voices.find((entry) => entry.id.toLowerCase() === base.toLowerCase());
  if (!voice) return undefined;
  if (variantName === undefined) return { argument: voice.file, voice };
  const variant = list.variants.find((entry) => entry.id.toLowerCase() === variantName.toLowerCase());
  if (!variant) return undefined;
  return { argument: `${voice.file}+${variant.id}`, voice, variant };
}

/**
 * Picks the voice for a BCP-47 language: an exact id (`en-US` -> `en-us`), else the voice that
 * lists the language with the best priority (`en` -> `en-gb`), else the same for the primary
 * subtag (`de-AT` -> `de`). Undefined when espeak-ng has no voice for it.
 */
export function findEspeakVoiceForLanguage(list: EspeakVoiceList, language: string): EspeakVoiceEntry | undefined {
  const wanted = language.toLowerCase().replaceAll('_', '-');
  const candidates = [wanted, wanted.split('-')[0] ?? wanted];
  for (const candidate of candidates) {
    const exact = list.voices.find((entry) => entry.id === candidate);
    if (exact) return exact;
    let best: { entry: EspeakVoiceEntry; rank: number } | undefined;
    for (const entry of list.voices) {
      const rank = entry.priorityByLanguage[candidate];
      if (rank !== undefined && (!best || rank < best.rank)) best = { entry, rank };
    }
    if (best) return best.entry;
  }
  return undefined;
}

/** An espeak-ng voice a request resolves to, or why it resolves to none. */
export type EspeakVoiceResolution = { voice: ResolvedEspeakVoice; problem?: undefined } | { voice?: undefined; problem: VoiceRequestProblem };

/**
 * Resolves what one segment asks for: its voice when it names one (`findEspeakVoice`), else a voice
 * for its language (`findEspeakVoiceForLanguage`), else `defaultVoice`. The same answer is used to
 * refuse a request before synthesis (`checkVoice`) and to pick the `-v` argument during it.
 */
export function resolveEspeakRequest(list: EspeakVoiceList, request: VoiceRequest, defaultVoice: string): EspeakVoiceResolution {
  if (request.voice !== undefined) {
    const found = findEspeakVoice(list, request.voice);
    if (found) return { voice: found };
    const message = `unknown voice ${JSON.stringify(request.voice)}: expected an espeak-ng voice such as "en-us", "de", "fr-fr" or one with a variant such as "en-us+f3" (see voices())`;
    return { problem: { part: 'voice', code: 'VOICE_UNKNOWN', message } };
  }
  if (request.language !== undefined) {
    const entry = findEspeakVoiceForLanguage(list, request.language);
    if (entry) return { voice: { argument: entry.file, voice: entry } };
    const message = `espeak-ng has no voice for language ${JSON.stringify(request.language)}: expected a BCP-47 tag of one of its ${list.voices.length} voices, such as "en-US", "de", "fr-FR" (see voices())`;
    return { problem: { part: 'language', code: 'LANGUAGE_UNSUPPORTED', message } };
  }
  const found = findEspeakVoice(list, defaultVoice);
  if (found) return { voice: found };
  return { problem: { part: 'voice', code: 'VOICE_UNKNOWN', message: `unknown default voice ${JSON.stringify(defaultVoice)} (option defaultVoice)` } };
}
