/**
 * The watermark detector's search. The mark lives in the linear (complex) spectrum, so the frame
 * grid must be found to a fraction of a sample: resample to 12.8 kHz (40 ms frames are 512
 * samples there), then
 *
 * 1. **Scan** every grid offset at quarter-sample steps at once: the projection of every frame at
 *    every offset is one FFT cross-correlation of the clip with the key's spreading vector (one
 *    per quarter-sample shift), normalised by the band energy of the same frame (a sliding sum of
 *    the band-passed clip). Each offset × message phase is scored by how closely its frames sit
 *    on their lattices (soft values combined over every repetition of each bit, the sync bits
 *    with their expected signs).
 * 2. **Decode** only the CANDIDATES best-scored (offset, phase) pairs, recomputed exactly (the
 *    clip shifted by the fractional offset in the frequency domain, then an FFT per frame): the
 *    keyed sync word must match (at most one bit off) and the keyed CRC-24 must check, on the hard
 *    decisions or, with a perfect sync word, after flipping any of the LIST_DECODING_BITS least
 *    reliable data bits (list decoding).
 *
 * False positives: only CANDIDATES × 2^LIST_DECODING_BITS codewords per clip and key are tested,
 * each passing a keyed CRC-24 with probability 2^-24, so at most 4 · 32 · 2^-24 ≈ 7.6·10^-6 per
 * clip and key (whatever the sync word does); bench/watermark-robustness.ts confirms the model
 * with shortened CRCs. Cost: linear-log in the length; about 4 FFTs of the whole clip per key.
 */
import { resample } from '../audio/resampler.js';
import { fft, ifft, nextPowerOfTwo } from './watermark-fft.js';
import { checkedPayload, encode, viterbi, type ViterbiResult } from './watermark-code.js';
import {
  END_BIN,
  FIRST_BIN,
  MARKED_BINS,
  MESSAGE_BITS,
  normalisedProjection,
  STEP,
  type WatermarkKeyMaterial,
} from './watermark-layout.js';

/** The detector's analysis rate: 40 ms = 512 samples. */
export const ANALYSIS_RATE_HZ = 12_800;
const FRAME = 512;
/** Sub-sample grid offsets scanned per sample (a quarter sample is 20 µs at 12.8 kHz). */
const FRACTIONS = 4;
/** Grid offsets decoded exactly per clip and key (every message phase at each). */
const OFFSETS = 3;
/** Codewords (best Viterbi metrics) whose CRC is checked per clip and key: the false-positive budget. */
export const CANDIDATES = 4;
/** Frames quieter than this under the clip's loud frames carry no weight (pauses, noise floor). */
const RELIABLE_BELOW_LOUD_DB = 25;
/** The shortest clip searched: 3 s (75 frames; the code corrects the missing rest of a message only when the audio is clean). */
export const MIN_FRAMES = 75;

/** What the search found. */
export interface WatermarkSearch {
  present: boolean;
  payload: number | null;
  confidence: number;
  /** Why nothing could be found, when the clip itself is the reason (too short, silent). */
  reason?: string;
}

/** Per-bit soft values of one candidate: sum of cos(2π(p - dither)/STEP) over its frames, and how many frames carried each bit. */
interface SoftBits {
  soft: Float64Array;
  weight: Float64Array;
}

/**
 * One clip ready to be searched with any number of keys: its 12.8 kHz resampling, spectrum and
 * band-energy sums are computed once (they do not depend on the key).
 */
export class WatermarkScanner {
  readonly #length: number;
  readonly #size: number;
  readonly #spectrumRe: Float64Array;
  readonly #spectrumIm: Float64Array;
  /** Prefix sums of the band-passed clip's squared samples (the band energy of any frame). */
  readonly #bandEnergySum: Float64Array;
  /** Band energy a frame needs to count (RELIABLE_BELOW_LOUD_DB under the loud frames). */
  readonly #reliableEnergy: number;

  constructor(pcm: Float32Array, sampleRateHz: number) {
    const analysis = sampleRateHz === ANALYSIS_RATE_HZ ? pcm : resample(pcm, { inputRateHz: sampleRateHz, outputRateHz: ANALYSIS_RATE_HZ, stopbandAttenuationDb: 60 });
    this.#length = analysis.length;
    this.#size = nextPowerOfTwo(analysis.length + 2 * FRAME);
    this.#spectrumRe = new Float64Array(this.#size);
    this.#spectrumIm = new Float64Array(this.#size);
    this.#spectrumRe.set(analysis);
    fft(this.#spectrumRe, this.#spectrumIm);
    // The band-passed clip (an ideal filter over the marked bins' band) gives every frame's band energy by a sliding sum.
    const bandRe = new Float64Array(this.#size);
    const bandIm = new Float64Array(this.#size);
    const low = Math.ceil(((FIRST_BIN - 0.5) * this.#size) / FRAME);
    const high = Math.floor(((END_BIN - 0.5) * this.#size) / FRAME);
    for (let bin = low; bin <= high; bin++) {
      bandRe[bin] = this.#spectrumRe[bin]!;
      bandIm[bin] = this.#spectrumIm[bin]!;
      bandRe[this.#size - bin] = this.#spectrumRe[this.#size - bin]!;
      bandIm[this.#size - bin] = this.#spectrumIm[this.#size - bin]!;
    }
    ifft(bandRe, bandIm);
    this.#bandEnergySum = new Float64Array(this.#length + 1);
    for (let n = 0; n < this.#length; n++) this.#bandEnergySum[n + 1] = this.#bandEnergySum[n]! + bandRe[n]! * bandRe[n]!;
    const frames = Math.floor(this.#length / FRAME);
    const energies = Array.from({ length: frames }, (_, f) => this.#frameBandEnergy(f * FRAME)).sort((a, b) => a - b);
    const loud = energies[Math.floor(frames * 0.9)] ?? 0;
    this.#reliableEnergy = Math.max(loud * 10 ** (-RELIABLE_BELOW_LOUD_DB / 10), 1e-12);
  }

  /** Searches for the mark of `material`: the scan, then the exact decoding of the best candidates. */
  search(material: WatermarkKeyMaterial): WatermarkSearch {
    if (Math.floor(this.#length / FRAME) - 1 < MIN_FRAMES) {
      return { present: false, payload: null, confidence: 0, reason: `too short: the mark needs at least ${MIN_FRAMES * 0.04} s of audio, and reliable detection after codecs and noise about 10 s of speech` };
    }
    const offsets = this.#scan(material);
    if (offsets.length === 0) return { present: false, payload: null, confidence: 0, reason: 'no audible frames in the marked band' };
    // Every message phase at each offset, ranked by its Viterbi path metric; only the best CANDIDATES meet the CRC.
    const ranked: Array<{ bits: SoftBits; decoded: ViterbiResult }> = [];
    for (const offset of offsets) {
      const projections = this.#exactProjections(material, offset);
      for (let phase = 0; phase < MESSAGE_BITS; phase++) {
        const bits = softBits(projections, phase, material);
        const decoded = viterbi(bits.soft);
        if (ranked.length < CANDIDATES || decoded.metric > ranked[ranked.length - 1]!.decoded.metric) {
          ranked.push({ bits, decoded });
          ranked.sort((x, y) => y.decoded.metric - x.decoded.metric);
          if (ranked.length > CANDIDATES) ranked.pop();
        }
      }
    }
    let confidence = 0;
    for (const { bits, decoded } of ranked) {
      const agreementWithCode = codewordAgreement(bits, decoded.info);
      const payload = checkedPayload(decoded.info, material);
      if (process.env['WM_DEBUG']) console.error(`cand metric ${decoded.metric.toFixed(1)} agree ${agreementWithCode.toFixed(2)} payload ${payload}`);
      if (payload !== null) return { present: true, payload, confidence: agreementWithCode };
      confidence = Math.max(confidence, agreementWithCode);
    }
    return { present: false, payload: null, confidence };
  }

  /** Band energy of the frame starting at analysis sample `start` (whole samples), in DFT units (Σ|X_k|² over the band). */
  #frameBandEnergy(start: number): number {
    return (FRAME / 2) * (this.#bandEnergySum[start + FRAME]! - this.#bandEnergySum[start]!);
  }

  /** Step 1: scores every grid offset (its best message phase) and keeps the OFFSETS best. */
  #scan(material: WatermarkKeyMaterial): number[] {
    const frames = Math.floor((this.#length - FRAME) / FRAME);
    const ditherCos = Float64Array.from(material.dither, (d) => Math.cos((2 * Math.PI * d) / STEP));
    const ditherSin = Float64Array.from(material.dither, (d) => Math.sin((2 * Math.PI * d) / STEP));
    const sumCos = new Float64Array(MESSAGE_BITS);
    const sumSin = new Float64Array(MESSAGE_BITS);
    const top: Array<{ offset: number; score: number }> = [];
    const correlationRe = new Float64Array(this.#size);
    const correlationIm = new Float64Array(this.#size);
    const template = new Float64Array(FRAME);
    for (let fraction = 0; fraction < FRACTIONS; fraction++) {
      const shift = fraction / FRACTIONS;
      // The time-domain template of the projection at this sub-sample shift: p = Σ_n y[n]·t[n].
      template.fill(0);
      for (let i = 0; i < MARKED_BINS; i++) {
        const k = FIRST_BIN + i;
        const angle = (-2 * Math.PI * k * shift) / FRAME;
        const ur = material.spreadRe[i]! * Math.cos(angle) - material.spreadIm[i]! * Math.sin(angle);
        const ui = material.spreadRe[i]! * Math.sin(angle) + material.spreadIm[i]! * Math.cos(angle);
        for (let n = 0; n < FRAME; n++) {
          const phase = (2 * Math.PI * ((k * n) % FRAME)) / FRAME;
          template[n] = template[n]! + ur * Math.cos(phase) - ui * Math.sin(phase);
        }
      }
      // Cross-correlation of the clip with the template, every lag at once: IFFT(Y · conj(T)).
      correlationRe.fill(0);
      correlationIm.fill(0);
      correlationRe.set(template);
      fft(correlationRe, correlationIm);
      for (let bin = 0; bin < this.#size; bin++) {
        const tr = correlationRe[bin]!;
        const ti = -correlationIm[bin]!;
        const yr = this.#spectrumRe[bin]!;
        const yi = this.#spectrumIm[bin]!;
        correlationRe[bin] = yr * tr - yi * ti;
        correlationIm[bin] = yr * ti + yi * tr;
      }
      ifft(correlationRe, correlationIm);
      for (let offset = 0; offset < FRAME; offset++) {
        sumCos.fill(0);
        sumSin.fill(0);
        let used = 0;
        for (let frame = 0; frame < frames; frame++) {
          const start = offset + frame * FRAME;
          const energy = this.#frameBandEnergy(start);
          if (energy < this.#reliableEnergy) continue;
          const theta = (2 * Math.PI * correlationRe[start]!) / Math.sqrt(energy) / STEP;
          const residue = frame % MESSAGE_BITS;
          sumCos[residue] = sumCos[residue]! + Math.cos(theta);
          sumSin[residue] = sumSin[residue]! + Math.sin(theta);
          used++;
        }
        if (used === 0) continue;
        let best = -Infinity;
        for (let phase = 0; phase < MESSAGE_BITS; phase++) {
          let score = 0;
          for (let residue = 0; residue < MESSAGE_BITS; residue++) {
            const bit = (residue + phase) % MESSAGE_BITS;
            score += Math.abs(sumCos[residue]! * ditherCos[bit]! + sumSin[residue]! * ditherSin[bit]!);
          }
          best = Math.max(best, score);
        }
        if (top.length < OFFSETS || best > top[top.length - 1]!.score) {
          top.push({ offset: offset + shift, score: best });
          top.sort((a, b) => b.score - a.score);
          if (top.length > OFFSETS) top.pop();
        }
      }
    }
    return top.map((entry) => entry.offset);
  }

  /** Step 2: every frame's exact normalised projection at a (fractional) grid offset, NaN for frames too quiet to count. */
  #exactProjections(material: WatermarkKeyMaterial, offset: number): Float64Array {
    const re = new Float64Array(this.#size);
    const im = new Float64Array(this.#size);
    // y'[n] = y[n + offset]: multiply the spectrum by e^{+2πi·bin·offset/size} (negative bins with their signed index).
    for (let bin = 0; bin < this.#size; bin++) {
      const signed = bin < this.#size / 2 ? bin : bin - this.#size;
      const angle = (2 * Math.PI * signed * offset) / this.#size;
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      re[bin] = this.#spectrumRe[bin]! * c - this.#spectrumIm[bin]! * s;
      im[bin] = this.#spectrumRe[bin]! * s + this.#spectrumIm[bin]! * c;
    }
    ifft(re, im);
    const frames = Math.floor((this.#length - FRAME) / FRAME);
    const projections = new Float64Array(frames).fill(Number.NaN);
    const frameRe = new Float64Array(FRAME);
    const frameIm = new Float64Array(FRAME);
    for (let frame = 0; frame < frames; frame++) {
      const start = frame * FRAME;
      if (this.#frameBandEnergy(start + Math.floor(offset)) < this.#reliableEnergy) continue;
      frameRe.set(re.subarray(start, start + FRAME));
      frameIm.fill(0);
      fft(frameRe, frameIm);
      projections[frame] = normalisedProjection(frameRe.subarray(FIRST_BIN, END_BIN), frameIm.subarray(FIRST_BIN, END_BIN), material);
    }
    return projections;
  }
}

/** The soft coded bits of one message phase: each frame's cos(2π(p − dither)/STEP) summed into the bit it carries. */
function softBits(projections: Float64Array, phase: number, material: WatermarkKeyMaterial): SoftBits {
  const soft = new Float64Array(MESSAGE_BITS);
  const weight = new Float64Array(MESSAGE_BITS);
  for (let frame = 0; frame < projections.length; frame++) {
    const projection = projections[frame]!;
    if (Number.isNaN(projection)) continue;
    const bit = (frame + phase) % MESSAGE_BITS;
    soft[bit] = soft[bit]! + Math.cos((2 * Math.PI * (projection - material.dither[bit]!)) / STEP);
    weight[bit] = weight[bit]! + 1;
  }
  return { soft, weight };
}

/** How well the soft bits agree with the codeword of `info`, in [-1, 1] (1: every frame exactly on its lattice). */
function codewordAgreement({ soft, weight }: SoftBits, info: Uint8Array): number {
  const codeword = encode(info);
  let sum = 0;
  let frames = 0;
  for (let bit = 0; bit < MESSAGE_BITS; bit++) {
    sum += codeword[bit] ? -soft[bit]! : soft[bit]!;
    frames += weight[bit]!;
  }
  return frames > 0 ? Math.max(0, sum / frames) : 0;
}

/** Searches mono PCM for the mark of `material` (one key; see WatermarkScanner for many). */
export function searchWatermark(pcm: Float32Array, sampleRateHz: number, material: WatermarkKeyMaterial): WatermarkSearch {
  return new WatermarkScanner(pcm, sampleRateHz).search(material);
}
