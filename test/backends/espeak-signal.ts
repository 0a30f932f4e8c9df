/**
 * Signal measurements used by the espeak tests to tell speech from silence or noise: duration,
 * RMS energy, zero-crossing rate and a median f0 estimate (autocorrelation over voiced frames).
 */
import { expect } from 'vitest';
import type { EngineOutput } from '../../src/graph/engine-output.js';

/** All chunks of one synthesis joined, with their format. */
export interface CollectedAudio {
  pcm: Float32Array;
  sampleRateHz: number;
  chunks: EngineOutput[];
}

/** Drains an async iterable of chunks into one buffer (all chunks must share one format). */
export async function collect(stream: AsyncIterable<EngineOutput>): Promise<CollectedAudio> {
  const chunks: EngineOutput[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  const total = chunks.reduce((sum, chunk) => sum + chunk.pcm.length, 0);
  const pcm = new Float32Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    pcm.set(chunk.pcm, offset);
    offset += chunk.pcm.length;
  }
  return { pcm, sampleRateHz: chunks[0]?.sampleRateHz ?? 0, chunks };
}

/** Duration in ms. */
export function durationMs(audio: CollectedAudio): number {
  return (audio.pcm.length / audio.sampleRateHz) * 1000;
}

/** Root mean square over the whole buffer. */
export function rms(pcm: Float32Array): number {
  let sum = 0;
  for (const sample of pcm) sum += sample * sample;
  return Math.sqrt(sum / Math.max(1, pcm.length));
}

/** Sign changes per second, counted over samples above a small noise floor. */
export function zeroCrossingsPerSecond(pcm: Float32Array, sampleRateHz: number): number {
  let crossings = 0;
  let previous = 0;
  for (const sample of pcm) {
    if (Math.abs(sample) < 1e-3) continue;
    if (previous !== 0 && Math.sign(sample) !== Math.sign(previous)) crossings += 1;
    previous = sample;
  }
  return crossings / (pcm.length / sampleRateHz);
}

/** Median fundamental frequency (60–500 Hz) over frames whose RMS exceeds 0.05, in Hz. */
export function medianF0Hz(pcm: Float32Array, sampleRateHz: number): number {
  const frameSamples = 1024;
  const estimates: number[] = [];
  for (let start = 0; start + frameSamples < pcm.length; start += frameSamples / 2) {
    const frame = pcm.subarray(start, start + frameSamples);
    if (rms(frame) < 0.05) continue;
    let bestLag = 0;
    let bestCorrelation = 0;
    for (let lag = Math.floor(sampleRateHz / 500); lag < sampleRateHz / 60; lag++) {
      let correlation = 0;
      for (let index = 0; index + lag < frameSamples; index++) correlation += (frame[index] ?? 0) * (frame[index + lag] ?? 0);
      if (correlation > bestCorrelation) {
        bestCorrelation = correlation;
        bestLag = lag;
      }
    }
    if (bestLag > 0) estimates.push(sampleRateHz / bestLag);
  }
  estimates.sort((a, b) => a - b);
  return estimates[Math.floor(estimates.length / 2)] ?? 0;
}

/** The FOX sentence every espeak test speaks: 9 words. */
export const FOX = 'The quick brown fox jumps over the lazy dog.';

/**
 * Asserts that `audio` of FOX sounds like speech, not silence or noise: 9 words at 175 words per
 * minute is about 3.1 s (espeak adds short pauses at the ends), energy well above silence,
 * speech-like zero crossings and a voiced median f0. Returns the f0 for further checks.
 */
export function expectSpeechLikeFox(audio: CollectedAudio): number {
  expect(durationMs(audio)).toBeGreaterThan(1800);
  expect(durationMs(audio)).toBeLessThan(5000);
  expect(rms(audio.pcm)).toBeGreaterThan(0.03);
  const zcr = zeroCrossingsPerSecond(audio.pcm, audio.sampleRateHz);
  expect(zcr).toBeGreaterThan(300);
  expect(zcr).toBeLessThan(6000);
  const f0 = medianF0Hz(audio.pcm, audio.sampleRateHz);
  expect(f0).toBeGreaterThan(70);
  return f0;
}
