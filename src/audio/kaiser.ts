/**
 * Kaiser-windowed sinc design shared by the resampler and the true-peak oversampler.
 * Formulas (Kaiser's beta and length estimates) are the textbook ones (Oppenheim & Schafer).
 */

/** Zeroth-order modified Bessel function of the first kind, by its power series. */
export function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const quarterXSquared = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= quarterXSquared / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/** Kaiser's beta for a stopband attenuation of `attenuationDb`. */
export function kaiserBeta(attenuationDb: number): number {
  if (attenuationDb > 50) return 0.1102 * (attenuationDb - 8.7);
  if (attenuationDb >= 21) return 0.5842 * (attenuationDb - 21) ** 0.4 + 0.07886 * (attenuationDb - 21);
  return 0;
}

/**
 * Filter length (in samples at the rate the transition is measured at) that a Kaiser window
 * needs for `attenuationDb` over a transition of `transitionCyclesPerSample` (cycles/sample).
 */
export function kaiserLengthSamples(attenuationDb: number, transitionCyclesPerSample: number): number {
  return (attenuationDb - 7.95) / (2.285 * 2 * Math.PI * transitionCyclesPerSample);
}

/** A windowed-sinc low-pass kernel evaluated at any (fractional) offset from its centre. */
export interface SincKernel {
  /** Half-width in samples: the kernel is zero for |offset| >= halfWidthSamples. */
  readonly halfWidthSamples: number;
  /** The kernel's value at `offsetSamples` from its centre. */
  at(offsetSamples: number): number;
}

/**
 * A Kaiser-windowed sinc low-pass with cutoff `cutoffCyclesPerSample` (the -6 dB point, in
 * cycles per sample of the rate it is evaluated at) and unit DC gain when sampled at integers.
 */
export function kaiserSinc(cutoffCyclesPerSample: number, halfWidthSamples: number, beta: number): SincKernel {
  const gain = 2 * cutoffCyclesPerSample;
  const normaliser = 1 / besselI0(beta);
  return {
    halfWidthSamples,
    at(offsetSamples: number): number {
      const ratio = offsetSamples / halfWidthSamples;
      if (ratio <= -1 || ratio >= 1) return 0;
      const x = Math.PI * gain * offsetSamples;
      const sinc = x === 0 ? 1 : Math.sin(x) / x;
      return gain * sinc * besselI0(beta * Math.sqrt(1 - ratio * ratio)) * normaliser;
    },
  };
}
