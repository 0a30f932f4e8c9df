/**
 * Where the default voices of a conversation's speakers come from: the backend that speaks them.
 * Speakers the cast leaves without a voice get distinct voices from that backend's own list
 * (`voices()`), never names of another backend. A fallback chain lists every member's voices,
 * first member first: only the voices of the first backend listed count (its first member's,
 * which speaks unless it fails). Only ids a cast's `voice` takes count (an empty or over-long id
 * is left out: handed out, it would fail the render on a voice the caller never named). The
 * rule, for one backend's list:
 *
 * - espeak-ng listing the base voices of `DEFAULT_VOICES` (`en-us`, `en-gb`): `DEFAULT_VOICES`,
 *   in that order (its variants, `+f3`, apply to any voice it lists, listed or not);
 * - else two or more voices: its English ones when it has two or more (the compiler reads text
 *   as en-US unless told), else all; genders alternating (female, male, …) where known, so
 *   neighbours differ; otherwise in the backend's order;
 * - one voice: `'prosody'`, speakers differ in pitch and rate instead (the documented one-voice case);
 * - no voice listed, or the listing failed: `'none'`, the backend's own default for every speaker
 *   (a failure that matters, e.g. an unknown backend, is reported by the synthesis itself).
 */
import type { VoiceInfo } from '../backends/backend.js';
import { AbortError } from '../errors.js';
import type { ConversationEngine } from './engine-face.js';
import { castEntrySchema, DEFAULT_VOICES, type SpeakerDefaults } from './turns.js';

/** The name EspeakBackend lists its voices under (`VoiceInfo.backend`): the backend DEFAULT_VOICES are voices of. */
const ESPEAK_BACKEND = 'espeak';

/** Most voices handed out in turn (the `defaultVoices` option's bound). */
const MAX_DEFAULT_VOICES = 64;

function speaksEnglish(voice: VoiceInfo): boolean {
  return voice.languages.some((language) => /^en(?:[-_]|$)/i.test(language));
}

/** `voices` reordered so genders alternate (round robin over the genders, in order of first appearance). */
function alternatingGenders(voices: readonly VoiceInfo[]): VoiceInfo[] {
  const groups = new Map<string, VoiceInfo[]>();
  for (const voice of voices) {
    const gender = voice.gender ?? 'unknown';
    const group = groups.get(gender) ?? [];
    group.push(voice);
    groups.set(gender, group);
  }
  const ordered: VoiceInfo[] = [];
  for (let round = 0; ordered.length < voices.length; round++) {
    for (const group of groups.values()) {
      const voice = group[round];
      if (voice) ordered.push(voice);
    }
  }
  return ordered;
}

/** The defaults a backend offering `voices` gives speakers the cast leaves without one (see the module comment). */
export function defaultsFromVoices(voices: readonly VoiceInfo[]): SpeakerDefaults {
  const primary = voices[0]?.backend;
  const usable = voices.filter((voice) => voice.backend === primary && castEntrySchema.shape.voice.safeParse(voice.id).success);
  const unique = [...new Map(usable.map((voice) => [voice.id, voice])).values()];
  if (unique.length === 0) return 'none';
  if (unique.length === 1) return 'prosody';
  const espeak = new Set(unique.filter((voice) => voice.backend === ESPEAK_BACKEND).map((voice) => voice.id));
  if (DEFAULT_VOICES.every((id) => espeak.has(id.split('+')[0] as string))) return DEFAULT_VOICES;
  const english = unique.filter(speaksEnglish);
  const pool = english.length >= 2 ? english : unique;
  return alternatingGenders(pool)
    .slice(0, MAX_DEFAULT_VOICES)
    .map((voice) => voice.id);
}

/** `work`, or AbortError as soon as `signal` fires (`work` is left to settle on its own). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  const aborted = () => new AbortError('the conversation was aborted while its default voices were listed', { cause: signal.reason });
  if (signal.aborted) return Promise.reject(aborted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(aborted());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * How long a backend's listing is waited for before its speakers get its own default voice
 * (`'none'`): a listing that never answers (a stuck plugin backend, or a fallback chain whose later
 * member hangs: the chain lists every member) must not hang a render or a play.
 */
export const LISTING_DEADLINE_MS = 3000;

/** `work`'s value, or `fallback` once `ms` passed first (the timer never keeps the process alive). */
function withinMs<T>(work: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
    timer.unref();
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * The defaults of each backend in `backends` (undefined = the engine's own), asked of `engine` once
 * each; a listing that fails or takes over LISTING_DEADLINE_MS gives `'none'`; `signal` ends the wait (AbortError).
 */
export async function defaultsOfBackends(engine: Pick<ConversationEngine, 'voices'>, backends: ReadonlySet<string | undefined>, signal?: AbortSignal): Promise<Map<string | undefined, SpeakerDefaults>> {
  const entries = await untilAborted(Promise.all(
    [...backends].map(async (backend): Promise<[string | undefined, SpeakerDefaults]> => {
      try {
        const listed = await withinMs(engine.voices(backend === undefined ? {} : { backend }), LISTING_DEADLINE_MS, null);
        return [backend, listed === null ? 'none' : defaultsFromVoices(listed)];
      } catch {
        return [backend, 'none'];
      }
    }),
  ), signal);
  return new Map(entries);
}
