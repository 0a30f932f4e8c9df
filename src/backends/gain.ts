/**
 * Volume for every backend: a segment's `prosody.volumeDb` as a linear gain, applied to PCM in
 * place so the EngineOutput contract (samples in [-1, 1]) holds without clipping: where the
 * gained signal's true peak would pass VOLUME_CEILING_DB, the true-peak limiter (audio/limiter.ts)
 * turns the gain down smoothly around those peaks instead of cutting samples off.
 */
import { limitTruePeak } from '../audio/limiter.js';
import { samplePeak } from '../audio/true-peak.js';

/** True-peak ceiling of backend output after its volume, in dBTP (the engine's default `truePeakLimitDb`). */
export const VOLUME_CEILING_DB = -1;
/**
 * Largest ratio of an interpolated point to the samples around it (the 8x interpolator's L1
 * norm is about 1.6): below ceiling / this, a sample peak proves the true peak is under the
 * ceiling without interpolating.
 */
const INTERPOLATION_BOUND = 2;

/** `10^(dB/20)`: the linear gain of a loudness offset in dB (0 dB = 1). */
export function dbToGain(volumeDb: number): number {
  return 10 ** (volumeDb / 20);
}

/**
 * Multiplies every sample by `gain` in place and returns `samples`; where that would put the true
 * peak over VOLUME_CEILING_DB, the look-ahead true-peak limiter applies the gain instead (no
 * sample is clamped, nothing clips). NaN (a broken model) becomes silence rather than poisoning
 * the mixer downstream. `samples` is interleaved with `channels` channels at `sampleRateHz`.
 */
export function applyGainInPlace(samples: Float32Array, gain: number, sampleRateHz: number, channels = 1): Float32Array {
  for (let index = 0; index < samples.length; index++) if (Number.isNaN(samples[index])) samples[index] = 0;
  const ceiling = dbToGain(VOLUME_CEILING_DB);
  if (samplePeak(samples) * gain <= ceiling / INTERPOLATION_BOUND) {
    for (let index = 0; index < samples.length; index++) samples[index] = (samples[index] as number) * gain;
    return samples;
  }
  samples.set(limitTruePeak(samples, { sampleRateHz, channels, gainDb: 20 * Math.log10(gain), ceilingDb: VOLUME_CEILING_DB }).pcm);
  return samples;
}
