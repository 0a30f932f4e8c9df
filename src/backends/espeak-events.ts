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
 * Word timings from the engine's events (`source: 'reported'`), one per whitespace-separated word
 * of the text that espeak-ng spoke: an event belongs to the word at (or next after) its character
 * position, and consecutive events of one word (a number read as several words) are merged. A word
 * starts at its first phoneme (else its word event) and ends where its last phoneme ends (the next
 * phoneme, pause or clause end). Words are stripped of surrounding punctuation, as
 * `estimateWordTimings` does; SSML tags are not words. Times are in ms from the start of the run.
 */
export function measuredWordTimings(text: string, events: readonly EspeakEvent[]): WordTiming[] {
  // Tags blanked out, positions kept (espeak-ng counts characters of the text as given).
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
  const groups = phonemesByWord(events);
  const words = events.filter((event): event is Extract<EspeakEvent, { t: 'word' }> => event.t === 'word');
  const timings: WordTiming[] = [];
  let lastToken = -1;
  words.forEach((event, index) => {
    const token = tokens.findIndex((candidate) => candidate.end > event.pos - 1);
    const word = tokens[token]?.word ?? '';
    const own = groups[index] ?? [];
    const startMs = own[0]?.startMs ?? event.ms;
    const endMs = own.at(-1)?.endMs ?? startMs;
    const previous = timings.at(-1);
    if (token === lastToken && previous) previous.endMs = Math.max(previous.endMs, endMs);
    else if (token >= 0 && word !== '') timings.push({ word, startMs, endMs, source: 'reported' });
    if (token >= 0) lastToken = token;
  });
  return timings;
}
