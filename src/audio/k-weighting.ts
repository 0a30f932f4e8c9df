/**
 * The K-weighting pre-filter of ITU-R BS.1770-4: a high-shelf ("stage 1", head effects) followed
 * by a high-pass ("stage 2", RLB). BS.1770 lists coefficients for 48 kHz only; here both stages are
 * derived for any rate from the analog prototype the 48 kHz tables come from (centre frequency,
 * gain and Q fitted to those tables, then the bilinear transform with pre-warping), so at 48 kHz
 * they reproduce the published coefficients.
 */

/** One second-order IIR section, normalised so that a0 = 1. */
export interface BiquadCoefficients {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

/** Stage 1 high-shelf prototype: centre frequency (Hz), gain (dB) and Q. */
const SHELF_CENTRE_HZ = 1681.974450955533;
const SHELF_GAIN_DB = 3.999843853973347;
const SHELF_Q = 0.7071752369554196;
/** Stage 2 high-pass prototype: corner frequency (Hz) and Q. */
const HIGH_PASS_CORNER_HZ = 38.13547087602444;
const HIGH_PASS_Q = 0.5003270373238773;

/** The two K-weighting biquads (shelf, then high-pass) for `sampleRateHz`. */
export function kWeightingCoefficients(sampleRateHz: number): [BiquadCoefficients, BiquadCoefficients] {
  const shelfK = Math.tan((Math.PI * SHELF_CENTRE_HZ) / sampleRateHz);
  const highGain = 10 ** (SHELF_GAIN_DB / 20);
  const bandGain = highGain ** 0.4996667741545416;
  const shelfNorm = 1 + shelfK / SHELF_Q + shelfK * shelfK;
  const shelf: BiquadCoefficients = {
    b0: (highGain + (bandGain * shelfK) / SHELF_Q + shelfK * shelfK) / shelfNorm,
    b1: (2 * (shelfK * shelfK - highGain)) / shelfNorm,
    b2: (highGain - (bandGain * shelfK) / SHELF_Q + shelfK * shelfK) / shelfNorm,
    a1: (2 * (shelfK * shelfK - 1)) / shelfNorm,
    a2: (1 - shelfK / SHELF_Q + shelfK * shelfK) / shelfNorm,
  };
  const passK = Math.tan((Math.PI * HIGH_PASS_CORNER_HZ) / sampleRateHz);
  const passNorm = 1 + passK / HIGH_PASS_Q + passK * passK;
  const highPass: BiquadCoefficients = {
    b0: 1,
    b1: -2,
    b2: 1,
    a1: (2 * (passK * passK - 1)) / passNorm,
    a2: (1 - passK / HIGH_PASS_Q + passK * passK) / passNorm,
  };
  return [shelf, highPass];
}

/**
 * Squares of the K-weighted signal of one channel of interleaved `pcm`, written to `out`
 * (length = frames). Filter state starts at zero. Computed in double precision.
 */
export function kWeightedSquares(
  pcm: Float32Array,
  channels: number,
  channel: number,
  sampleRateHz: number,
  out: Float64Array,
): void {
  const [s, h] = kWeightingCoefficients(sampleRateHz);
  // Transposed direct form II state of each stage.
  let s1 = 0;
  let s2 = 0;
  let h1 = 0;
  let h2 = 0;
  const frames = out.length;
  for (let i = 0; i < frames; i++) {
    const x = pcm[i * channels + channel]!;
    const shelved = s.b0 * x + s1;
    s1 = s.b1 * x - s.a1 * shelved + s2;
    s2 = s.b2 * x - s.a2 * shelved;
    const weighted = h.b0 * shelved + h1;
    h1 = h.b1 * shelved - h.a1 * weighted + h2;
    h2 = h.b2 * shelved - h.a2 * weighted;
    out[i] = weighted * weighted;
  }
}
