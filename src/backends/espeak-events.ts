/**
 * The measured path of espeak-ng: `build/espeak-events`, a small separate program
 * (native/espeak-helper/espeak-events.c, built by scripts/build.mjs when libespeak-ng's headers
 * are installed) that speaks through libespeak-ng's synthesis callback and reports the engine's own
 * word and phoneme events with their audio positions. libespeak-ng is GPL-3: it is only ever run
 * as this separate program, never linked into the addon. Its audio is the `espeak-ng` program's
 * for the same text and `-v -s -p` (same library, same flags; checked sample for sample in
 * test/backends/espeak-events.test.ts), so the helper only adds information.
 *
 * Output protocol (stdout): one JSON line `{ sampleRate, samples, ipa, events }`, then `samples`
 * s16le mono samples. Event times (`ms`) are espeak-ng's `audio_position`: ms from the first sample
 * of the run, i.e. chunk-relative once the run is one chunk.
 */
import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { wavHeader } from '../audio/wav.js';
import { BackendError } from '../errors.js';
import type { WordTiming } from '../graph/engine-output.js';
import { runEspeakProcess } from './espeak-process.js';

/** Where scripts/build.mjs puts the helper (the package's `build/` folder, from src/ or dist/). */
export const DEFAULT_ESPEAK_EVENTS_HELPER = fileURLToPath(new URL('../../build/espeak-events', import.meta.url));

const eventSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('word'), ms: z.number().int(), pos: z.number().int(), len: z.number().int() }),
  z.object({ t: z.literal('phoneme'), ms: z.number().int(), ph: z.string() }),
  z.object({ t: z.enum(['sentence', 'end', 'done']), ms: z.number().int() }),
]);

/** One event as espeak-ng reported it (`ms` = audio_position; `pos`/`len` in characters of the text). */
export type EspeakEvent = z.infer<typeof eventSchema>;

const headerSchema = z.object({ sampleRate: z.number().int().min(1), samples: z.number().int().min(0), ipa: z.string(), events: z.array(eventSchema) });

/** What one run of the helper produced. */
export interface EspeakEventsRun {
  /** A complete s16 mono WAV of the speech (the same bytes the program's `-w` would hold after the header). */
  wav: Uint8Array;
  /** The `--ipa=3` output of the same run. */
  ipa: string;
  events: EspeakEvent[];
}

/** A phoneme with its measured span, in ms from the start of the run. */
export interface PhonemeTiming {
  phoneme: string;
  startMs: number;
  endMs: number;
}

/** Whether the helper at `helperPath` exists and is executable (checked once per path). */
export function isEspeakEventsHelperBuilt(helperPath: string = DEFAULT_ESPEAK_EVENTS_HELPER): boolean {
  let built = builtCache.get(helperPath);
  if (built === undefined) {
    try {
      accessSync(helperPath, constants.X_OK);
      built = true;
    } catch {
      built = false;
    }
    builtCache.set(helperPath, built);
  }
  return built;
}
const builtCache = new Map<string, boolean>();

/**
 * The helper's arguments for the program's arguments the backend passes (`--ipa=3`, `-v`, `-s`,
 * `-p`, `-g`, `-m`), or undefined when one is not understood (the caller then runs the program).
 */
export function espeakEventsArgs(args: readonly string[]): string[] | undefined {
  const out: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    if (arg === '--ipa=3') continue;
    if (arg === '-m') out.push('--ssml');
    else if ((arg === '-v' || arg === '-s' || arg === '-p' || arg === '-g') && index + 1 < args.length) out.push(arg, args[++index] as string);
    else return undefined;
  }
  return out;
}

/** Runs the helper once: speech, IPA and events. Errors as `runEspeakProcess` (BackendError, AbortError). */
export async function runEspeakEventsHelper(run: { helperPath: string; args: readonly string[]; text: string; signal?: AbortSignal | undefined }): Promise<EspeakEventsRun> {
  const { stdout } = await runEspeakProcess({ binaryPath: run.helperPath, args: run.args, stdinText: run.text, signal: run.signal });
  const newline = stdout.indexOf(10);
  const parsed = newline < 0 ? undefined : headerSchema.safeParse(safeJson(stdout.subarray(0, newline).toString('utf8')));
  if (!parsed?.success) throw new BackendError('espeak', 'ESPEAK_FAILED', 'the espeak-events helper wrote no valid header line', { retryable: true });
  const { sampleRate, samples, ipa, events } = parsed.data;
  const audio = stdout.subarray(newline + 1);
  if (audio.byteLength !== samples * 2) throw new BackendError('espeak', 'ESPEAK_FAILED', `the espeak-events helper announced ${samples} samples but wrote ${audio.byteLength} bytes`, { retryable: true });
  const header = wavHeader({ sampleRateHz: sampleRate, channels: 1, format: 's16' }, audio.byteLength);
  const wav = new Uint8Array(header.byteLength + audio.byteLength);
  wav.set(header, 0);
  wav.set(audio, header.byteLength);
  return { wav, ipa, events };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Phonemes with their spans: each from its event to the next event (phoneme, pause `""`, word or clause end). */
export function phonemeTimings(events: readonly EspeakEvent[]): PhonemeTiming[] {
  return phonemesByWord(events).flat();
}

/** Measured phonemes grouped by the word event they follow (phonemes before the first word are dropped). */
function phonemesByWord(events: readonly EspeakEvent[]): PhonemeTiming[][] {
  const groups: PhonemeTiming[][] = [];
  events.forEach((event, index) => {
    if (event.t === 'word') groups.push([]);
    if (event.t !== 'phoneme' || event.ph === '') return;
    const next = events.slice(index + 1).find((later) => later.t !== 'sentence' && later.ms >= event.ms);
    groups.at(-1)?.push({ phoneme: event.ph, startMs: event.ms, endMs: Math.max(event.ms, next?.ms ?? event.ms) });
  });
  return groups;
}

/**
 * Word timings from the engine's events, one per whitespace-separated word of the text that
 * espeak-ng spoke (words are stripped of surrounding punctuation, as `estimateWordTimings` does;
 * SSML tags are not words). An event belongs to the word at (or next after) its character
 * position; consecutive events of one word (a number read as several words) are merged. A word
 * starts at its first phoneme (else its word event) and ends where its last phoneme ends (the next
 * phoneme, pause or clause end): `source: 'reported'`. espeak-ng speaks some short words together
 * with the word before (`of the` is one word event, `ʌvðə`): such a group's measured phonemes are
 * shared among its words in proportion to their letters, boundaries on phoneme boundaries, and
 * those words are `estimated`. Times are in ms from the start of the run.
 */
export function measuredWordTimings(text: string, events: readonly EspeakEvent[]): WordTiming[] {
  const tokens = wordTokens(text);
  const groups = phonemesByWord(events);
  // Each word event's token and measured phonemes; consecutive events of one token merged.
  const entries: Array<{ token: number; startMs: number; phonemes: PhonemeTiming[] }> = [];
  let wordIndex = -1;
  for (const event of events) {
    if (event.t !== 'word') continue;
    wordIndex += 1;
    const token = tokens.findIndex((candidate) => candidate.end > event.pos - 1);
    if (token < 0) continue;
    const own = groups[wordIndex] ?? [];
    const last = entries.at(-1);
    if (last && last.token === token) last.phonemes.push(...own);
    else if (!last || token > last.token) entries.push({ token, startMs: own[0]?.startMs ?? event.ms, phonemes: [...own] });
  }
  const timings: WordTiming[] = [];
  entries.forEach((entry, index) => {
    const until = entries[index + 1]?.token ?? tokens.length;
    const words = tokens.slice(entry.token, until).map((token) => token.word).filter((word) => word !== '');
    if (words.length === 0) return;
    const endMs = Math.max(entry.startMs, entry.phonemes.at(-1)?.endMs ?? entry.startMs);
    if (words.length === 1) {
      timings.push({ word: words[0] as string, startMs: entry.startMs, endMs, source: 'reported' });
      return;
    }
    timings.push(...shareGroup(words, entry.startMs, endMs, entry.phonemes));
  });
  return timings;
}

/** Whitespace-separated words with their character spans (tags blanked out, positions kept). */
function wordTokens(text: string): Array<{ start: number; end: number; word: string }> {
  const characters = [...text.replace(/<[^>]*>/gu, (tag) => ' '.repeat([...tag].length))];
  const tokens: Array<{ start: number; end: number; word: string }> = [];
  for (let index = 0; index < characters.length; ) {
    if (/\s/u.test(characters[index] ?? ' ')) {
      index += 1;
      continue;
    }
    const start = index;
    while (index < characters.length && !/\s/u.test(characters[index] ?? ' ')) index += 1;
    tokens.push({ start, end: index, word: characters.slice(start, index).join('').replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '') });
  }
  return tokens;
}

/** Several words spoken as one: the group's phonemes shared by letter count, each word `estimated`. */
function shareGroup(words: readonly string[], startMs: number, endMs: number, phonemes: readonly PhonemeTiming[]): WordTiming[] {
  const letters = words.map((word) => Math.max(1, [...word].length));
  const total = letters.reduce((sum, count) => sum + count, 0);
  const timings: WordTiming[] = [];
  let cursor = startMs;
  let lettersSoFar = 0;
  words.forEach((word, index) => {
    lettersSoFar += letters[index] ?? 1;
    const last = index === words.length - 1;
    // The boundary: the phoneme edge nearest to the letter-proportional point.
    const target = startMs + (lettersSoFar / total) * (endMs - startMs);
    const edges = phonemes.map((phoneme) => phoneme.endMs).filter((edge) => edge > cursor && edge < endMs);
    const boundary = last ? endMs : edges.reduce((best, edge) => (Math.abs(edge - target) < Math.abs(best - target) ? edge : best), edges[0] ?? target);
    timings.push({ word, startMs: cursor, endMs: boundary, source: 'estimated' });
    cursor = boundary;
  });
  return timings;
}
