/**
 * Word timings and visemes of one espeak-ng chunk, chunk-relative (ms from its first sample):
 * measured from the engine's word and phoneme events when the events helper produced them
 * (`source: 'reported'`), else estimated from the IPA and the audio (`estimated`, see
 * `estimateWordTimings`; visemes spread over each word's span). The estimate's error against the
 * measured times is printed by bench/word-timings.bench.ts.
 */
import type { EngineOutputMetadata } from '../graph/engine-output.js';
import { measuredWordTimings, phonemeTimings, type EspeakEvent } from './espeak-events.js';
import { estimateWordTimings } from './espeak-text.js';
import { spreadVisemes, visemesFromPhonemes } from './visemes.js';

/** `wordTimings` and `visemes` of a chunk: measured from `events` when given, else estimated. */
export function espeakTimings(text: string, ipa: string, pcm: Float32Array, sampleRateHz: number, events: readonly EspeakEvent[] | undefined): Pick<EngineOutputMetadata, 'wordTimings' | 'visemes'> {
  if (events) return { wordTimings: measuredWordTimings(text, events), visemes: visemesFromPhonemes(phonemeTimings(events), 'reported') };
  const wordTimings = estimateWordTimings(text, ipa, pcm, sampleRateHz, 0);
  return { wordTimings, visemes: spreadVisemes(ipa, wordTimings) };
}
