/**
 * Text and timing helpers of the espeak backend: cutting text into sentence-sized chunks (so the
 * first audio arrives after one sentence, not the whole text), mapping prosody to espeak-ng's
 * parameters, and estimating word timings.
 */
import type { Prosody, WordTiming } from '../graph/engine-output.js';
import { dbToGain } from './gain.js';

/** espeak-ng's default speaking rate, in words per minute (`-s`). */
export const ESPEAK_DEFAULT_WPM = 175;
/** espeak-ng's slowest rate, in words per minute. */
export const ESPEAK_MIN_WPM = 80;
/** espeak-ng's fastest rate without the sonic library (absent from the WASM build), in words per minute. */
export const ESPEAK_MAX_WPM = 450;
/** espeak-ng's neutral pitch (`-p`, 0–99). */
export const ESPEAK_DEFAULT_PITCH = 50;
/**
 * Pitch units per semitone. Measured on en-us (median f0 of a sentence): p 25 -> 82 Hz, 50 -> 101 Hz,
 * 75 -> 131 Hz, 99 -> 170 Hz, i.e. 5.5–7 units per semitone; 6 is used, so ±8 semitones fit in 0–99.
 */
export const ESPEAK_PITCH_UNITS_PER_SEMITONE = 6;

/** espeak-ng parameters for a prosody. */
export interface EspeakProsodyParameters {
  /** `-s`: words per minute, 175 × rate, clamped to 80–450. */
  wordsPerMinute: number;
  /** `-p`: 50 + 6 per semitone, clamped to 0–99. */
  pitch: number;
  /** Linear gain applied to the PCM: 10^(volumeDb / 20). */
  gain: number;
}

/** Maps a segment's prosody to espeak-ng parameters (see `EspeakProsodyParameters`). */
export function espeakProsody(prosody: Prosody): EspeakProsodyParameters {
  const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));
  return {
    wordsPerMinute: Math.round(clamp(ESPEAK_DEFAULT_WPM * prosody.rate, ESPEAK_MIN_WPM, ESPEAK_MAX_WPM)),
    pitch: Math.round(clamp(ESPEAK_DEFAULT_PITCH + ESPEAK_PITCH_UNITS_PER_SEMITONE * prosody.pitchSemitones, 0, 99)),
    gain: dbToGain(prosody.volumeDb),
  };
}

/**
 * Cuts text into chunks of whole sentences (ending in . ! ? ; or a line break), each at most
 * `maxChunkChars` long when possible: a longer sentence is cut after a comma or, failing that, a
 * space. Blank chunks are dropped; the chunks' concatenation keeps every non-space character.
 */
export function splitIntoChunks(text: string, maxChunkChars: number): string[] {
  const sentences = text
    .split(/(?<=[.!?;。！？])\s+|\n+/u)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence !== '');
  const chunks: string[] = [];
  for (const sentence of sentences) {
    let rest = sentence;
    while (rest.length > maxChunkChars) {
      const window = rest.slice(0, maxChunkChars);
      const comma = Math.max(window.lastIndexOf(', '), window.lastIndexOf('، '));
      const space = window.lastIndexOf(' ');
      const cut = comma > maxChunkChars / 3 ? comma + 1 : space > 0 ? space : maxChunkChars;
      chunks.push(rest.slice(0, cut).trim());
      rest = rest.slice(cut).trim();
    }
    if (rest !== '') chunks.push(rest);
  }
  return chunks;
}

/**
 * Turns espeak-ng's `--ipa=3` output into one line of IPA: clauses (printed on separate lines)
 * joined with one space, and the zero-width joiners it puts inside diphthongs removed (`oʊ`, not
 * `o\u200dʊ`), since phoneme vocabularies (Kokoro, Piper) have no such symbol.
 */
export function cleanEspeakIpa(stdout: string): string {
  return stdout
    .replace(/\u200d/g, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' ');
}

/** Stress, length and syllable marks that are not phonemes of their own. */
const NON_PHONEME_MARKS = /[ˈˌːˑ.\u200d\u0300-\u036f]/gu;

/**
 * Estimates word timings for one chunk of audio (espeak-ng reports no per-word times for its own
 * voices: `--pho` is only filled for MBROLA voices). The span from the first to the last sample
 * above 1 % of full scale is shared among the words in proportion to their phoneme count (from
 * the IPA of the same run, when it has one word per text word) or else their letter count.
 * Pauses between words are not modelled. Times are offset by `offsetMs`; each is marked `estimated`.
 */
export function estimateWordTimings(text: string, ipa: string, pcm: Float32Array, sampleRateHz: number, offsetMs: number): WordTiming[] {
  const words = text
    .split(/\s+/u)
    .map((word) => word.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ''))
    .filter((word) => word !== '');
  if (words.length === 0) return [];
  const ipaWords = ipa.split(/\s+/u).filter((word) => word !== '');
  const weights =
    ipaWords.length === words.length
      ? ipaWords.map((word) => Math.max(1, [...word.replace(NON_PHONEME_MARKS, '')].length))
      : words.map((word) => Math.max(1, [...word].length));
  const threshold = 0.01;
  let first = 0;
  while (first < pcm.length && Math.abs(pcm[first] ?? 0) < threshold) first += 1;
  let last = pcm.length - 1;
  while (last > first && Math.abs(pcm[last] ?? 0) < threshold) last -= 1;
  if (first >= pcm.length) return [];
  const startMs = offsetMs + (first / sampleRateHz) * 1000;
  const spanMs = ((last + 1 - first) / sampleRateHz) * 1000;
  const totalWeight = weights.reduce((sum, weight) => sum + weight, 0);
  const timings: WordTiming[] = [];
  let cursor = 0;
  words.forEach((word, index) => {
    const weight = weights[index] ?? 1;
    timings.push({ word, startMs: startMs + (cursor / totalWeight) * spanMs, endMs: startMs + ((cursor + weight) / totalWeight) * spanMs, source: 'estimated' });
    cursor += weight;
  });
  return timings;
}
