/**
 * True peak per ITU-R BS.1770-4 Annex 2: the largest absolute value of the signal oversampled
 * 4x (2x from 96 kHz, none from 192 kHz), which catches inter-sample peaks a sample-peak meter
 * misses. The oversampler is the package's band-limited `Resampler`, streamed in blocks so the
 * oversampled signal is never held in memory.
 */
import { Resampler } from './resampler.js';

/** Frames fed to the oversampler per step (bounds the temporary memory). */
const BLOCK_FRAMES = 16384;

/** Oversampling factor BS.1770-4 asks for at `sampleRateHz` (4x below 96 kHz). */
export function truePeakOversampling(sampleRateHz: number): number {
  if (sampleRateHz < 96000) return 4;
  if (sampleRateHz < 192000) return 2;
  return 1;
}

/** Largest absolute sample value over all channels of interleaved `pcm` (linear, 0 when empty). */
export function samplePeak(pcm: Float32Array): number {
  let peak = 0;
  for (let i = 0; i < pcm.length; i++) {
    const magnitude = Math.abs(pcm[i]!);
    if (magnitude > peak) peak = magnitude;
  }
  return peak;
}

/** True peak (linear) over all channels of interleaved `pcm`; never below the sample peak. */
export function truePeak(pcm: Float32Array, sampleRateHz: number, channels: number): number {
  const factor = truePeakOversampling(sampleRateHz);
  let peak = samplePeak(pcm);
  if (factor === 1 || pcm.length === 0) return peak;
  // A gentle filter is enough to locate peaks (70 dB, flat to 0.45 fs) and keeps the cost low.
  const oversampler = new Resampler({
    inputRateHz: sampleRateHz,
    outputRateHz: sampleRateHz * factor,
    channels,
    stopbandAttenuationDb: 70,
    passbandFraction: 0.9,
  });
  const step = BLOCK_FRAMES * channels;
  for (let start = 0; start < pcm.length; start += step) {
    peak = Math.max(peak, samplePeak(oversampler.process(pcm.subarray(start, Math.min(pcm.length, start + step)))));
  }
  return Math.max(peak, samplePeak(oversampler.flush()));
}
