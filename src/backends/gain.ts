/**
 * Volume for every backend: a segment's `prosody.volumeDb` as a linear gain, applied to PCM in
 * place and clamped so the EngineOutput contract (samples in [-1, 1]) holds.
 */

/** `10^(dB/20)`: the linear gain of a loudness offset in dB (0 dB = 1). */
export function dbToGain(volumeDb: number): number {
  return 10 ** (volumeDb / 20);
}

/**
 * Multiplies every sample by `gain` in place, clamps the result to [-1, 1] and returns `samples`.
 * NaN (a broken model) becomes silence rather than poisoning the mixer downstream.
 */
export function applyGainInPlace(samples: Float32Array, gain: number): Float32Array {
  for (let index = 0; index < samples.length; index++) {
    const value = (samples[index] as number) * gain;
    samples[index] = value > 1 ? 1 : value < -1 ? -1 : Number.isNaN(value) ? 0 : value;
  }
  return samples;
}
