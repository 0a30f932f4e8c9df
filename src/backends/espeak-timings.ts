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

/**
 * `wordTimings` and `visemes` of a chunk: measured from `events` when given, else estimated from
 * `pcm`. Event times count from the run's first sample: when samples were cut from the start of
 * `pcm` (trimmed silence), pass their duration as `trimmedLeadMs` so measured times stay on `pcm`.
 */
export function espeakTimings(
  text: string,
  ipa: string,
  pcm: Float32Array,
  sampleRateHz: number,
  events: readonly EspeakEvent[] | undefined,
  trimmedLeadMs = 0,
): Pick<EngineOutputMetadata, 'wordTimings' | 'visemes'> {
  if (events) {
    const onChunk = <T extends { startMs: number; endMs: number }>(timing: T): T => ({ ...timing, startMs: Math.max(0, timing.startMs - trimmedLeadMs), endMs: Math.max(0, timing.endMs - trimmedLeadMs) });
    return { wordTimings: measuredWordTimings(text, events).map(onChunk), visemes: visemesFromPhonemes(phonemeTimings(events), 'reported').map(onChunk) };
  }
  const wordTimings = estimateWordTimings(text, ipa, pcm, sampleRateHz, 0);
  return { wordTimings, visemes: spreadVisemes(ipa, wordTimings) };
}
