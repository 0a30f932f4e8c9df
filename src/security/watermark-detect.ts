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
import {
  CRC_BITS,
  crc24,
  END_BIN,
  FIRST_BIN,
  MARKED_BINS,
  MESSAGE_BITS,
  normalisedProjection,
  PAYLOAD_BITS,
  STEP,
  SYNC_BITS,
  type WatermarkKeyMaterial,
} from './watermark-layout.js';

/** The detector's analysis rate: 40 ms = 512 samples. */
export const ANALYSIS_RATE_HZ = 12_800;
const FRAME = 512;
/** Sub-sample grid offsets scanned per sample (a quarter sample is 20 µs at 12.8 kHz). */
const FRACTIONS = 4;
/** (Offset, phase) candidates decoded per clip and key: the false-positive budget's first factor. */
export const CANDIDATES = 4;
/** Frames quieter than this under the clip's loud frames carry no weight (pauses, noise floor). */
const RELIABLE_BELOW_LOUD_DB = 25;
/** Sync bits that may be wrong in an accepted candidate. */
const MAX_SYNC_ERRORS = 1;
/** Least reliable (or erased) data bits list decoding may flip (only with a perfect sync word). */
export const LIST_DECODING_BITS = 5;
/** The shortest clip searched: one whole message (2.88 s); shorter gives `present: false` with a reason. */
export const MIN_FRAMES = MESSAGE_BITS;

/** What the search found. */
export interface WatermarkSearch {
  present: boolean;
  payload: number | null;
  confidence: number;
  /** Why nothing could be found, when the clip itself is the reason (too short, silent). */
  reason?: string;
}

/** One scored (grid offset, message phase) pair. */
interface Candidate {
  /** Grid offset in analysis samples, with a fractional part (a multiple of 1/FRACTIONS). */
  offset: number;
  phase: number;
  score: number;
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
      return { present: false, payload: null, confidence: 0, reason: `too short: the mark needs at least ${(MIN_FRAMES + 1) * 0.04} s of audio (one whole message), and reliable detection after codecs and noise about 10 s of speech` };
    }
    const candidates = this.#scan(material);
    if (candidates.length === 0) return { present: false, payload: null, confidence: 0, reason: 'no audible frames in the marked band' };
    let best: WatermarkSearch | null = null;
    let bestScore = -Infinity;
    for (const candidate of candidates) {
      const bits = this.#exactSoftBits(material, candidate);
      const found = decodeCandidate(bits, material);
      if (found && (!best || found.confidence > best.confidence)) best = found;
      bestScore = Math.max(bestScore, agreement(bits));
    }
    return best ?? { present: false, payload: null, confidence: Math.max(0, Math.min(1, bestScore)) };
  }

  /** Band energy of the frame starting at analysis sample `start` (whole samples), in DFT units (Σ|X_k|² over the band). */
  #frameBandEnergy(start: number): number {
    return (FRAME / 2) * (this.#bandEnergySum[start + FRAME]! - this.#bandEnergySum[start]!);
  }

  /** Step 1: scores every (offset, phase) and keeps the CANDIDATES best. */
  #scan(material: WatermarkKeyMaterial): Candidate[] {
    const frames = Math.floor((this.#length - FRAME) / FRAME);
    const ditherCos = Float64Array.from(material.dither, (d) => Math.cos((2 * Math.PI * d) / STEP));
    const ditherSin = Float64Array.from(material.dither, (d) => Math.sin((2 * Math.PI * d) / STEP));
    const expected = Float64Array.from(material.sync, (bit) => (bit ? -1 : 1));
    const sumCos = new Float64Array(MESSAGE_BITS);
    const sumSin = new Float64Array(MESSAGE_BITS);
    const top: Candidate[] = [];
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
        for (let phase = 0; phase < MESSAGE_BITS; phase++) {
          let score = 0;
          for (let residue = 0; residue < MESSAGE_BITS; residue++) {
            const bit = (residue + phase) % MESSAGE_BITS;
            const soft = sumCos[residue]! * ditherCos[bit]! + sumSin[residue]! * ditherSin[bit]!;
            score += bit < SYNC_BITS ? soft * expected[bit]! : Math.abs(soft);
          }
          if (top.length < CANDIDATES || score > top[top.length - 1]!.score) {
            top.push({ offset: offset + shift, phase, score });
            top.sort((a, b) => b.score - a.score);
            if (top.length > CANDIDATES) top.pop();
          }
        }
      }
    }
    return top;
  }

  /** Step 2: the candidate's soft bits from exact per-frame DFTs of the clip shifted by its (fractional) offset. */
  #exactSoftBits(material: WatermarkKeyMaterial, candidate: Candidate): SoftBits {
    const re = new Float64Array(this.#size);
    const im = new Float64Array(this.#size);
    // y'[n] = y[n + offset]: multiply the spectrum by e^{+2πi·bin·offset/size} (negative bins with their signed index).
    for (let bin = 0; bin < this.#size; bin++) {
      const signed = bin < this.#size / 2 ? bin : bin - this.#size;
      const angle = (2 * Math.PI * signed * candidate.offset) / this.#size;
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      re[bin] = this.#spectrumRe[bin]! * c - this.#spectrumIm[bin]! * s;
      im[bin] = this.#spectrumRe[bin]! * s + this.#spectrumIm[bin]! * c;
    }
    ifft(re, im);
    const soft = new Float64Array(MESSAGE_BITS);
    const weight = new Float64Array(MESSAGE_BITS);
    const frameRe = new Float64Array(FRAME);
    const frameIm = new Float64Array(FRAME);
    const binsRe = new Float64Array(MARKED_BINS);
    const binsIm = new Float64Array(MARKED_BINS);
    const frames = Math.floor((this.#length - FRAME) / FRAME);
    for (let frame = 0; frame < frames; frame++) {
      const start = frame * FRAME;
      if (this.#frameBandEnergy(Math.min(this.#length - FRAME, start + Math.floor(candidate.offset))) < this.#reliableEnergy) continue;
      frameRe.set(re.subarray(start, start + FRAME));
      frameIm.fill(0);
      fft(frameRe, frameIm);
      binsRe.set(frameRe.subarray(FIRST_BIN, END_BIN));
      binsIm.set(frameIm.subarray(FIRST_BIN, END_BIN));
      const projection = normalisedProjection(binsRe, binsIm, material);
      const bit = (frame + candidate.phase) % MESSAGE_BITS;
      soft[bit] = soft[bit]! + Math.cos((2 * Math.PI * (projection - material.dither[bit]!)) / STEP);
      weight[bit] = weight[bit]! + 1;
    }
    return { soft, weight };
  }
}

/** Mean agreement of every bit's repetitions with its decision, in [0, 1]. */
function agreement({ soft, weight }: SoftBits): number {
  let sum = 0;
  for (let bit = 0; bit < MESSAGE_BITS; bit++) sum += Math.abs(soft[bit]!) / Math.max(1, weight[bit]!);
  return sum / MESSAGE_BITS;
}

/** The keyed sync check and the keyed CRC-24 (with list decoding) of one candidate's soft bits. */
function decodeCandidate(bits: SoftBits, material: WatermarkKeyMaterial): WatermarkSearch | null {
  const { soft, weight } = bits;
  let syncErrors = 0;
  for (let bit = 0; bit < SYNC_BITS; bit++) if (soft[bit]! * (material.sync[bit] ? -1 : 1) <= 0) syncErrors++;
  if (syncErrors > MAX_SYNC_ERRORS) return null;
  // A data bit no reliable frame carried (a pause) is an erasure: list decoding tries both values.
  let erasures = 0;
  for (let bit = SYNC_BITS; bit < MESSAGE_BITS; bit++) if (weight[bit] === 0) erasures++;
  const flips = syncErrors === 0 ? LIST_DECODING_BITS : 0;
  if (erasures > flips) return null;
  const payload = decodeChecked(soft, weight, material, flips, CRC_BITS);
  return payload === null ? null : { present: true, payload, confidence: agreement(bits) };
}

/**
 * The payload whose keyed CRC checks, from hard decisions, or (with `flips` > 0) from the hard
 * decisions with any subset of the `flips` least reliable data bits flipped: 2^flips tries, which
 * the false-positive budget accounts for. `checkBits` < CRC_BITS checks only the CRC's first bits
 * (the bench uses it to confirm the false-positive model with a weaker check).
 */
export function decodeChecked(soft: Float64Array, weight: Float64Array, material: WatermarkKeyMaterial, flips: number, checkBits: number): number | null {
  const dataBits = PAYLOAD_BITS + CRC_BITS;
  const hard = new Uint8Array(dataBits);
  for (let i = 0; i < dataBits; i++) hard[i] = soft[SYNC_BITS + i]! < 0 ? 1 : 0;
  const reliability = (i: number): number => Math.abs(soft[SYNC_BITS + i]!) / Math.max(1, weight[SYNC_BITS + i]!);
  const weakest = Array.from({ length: dataBits }, (_, i) => i)
    .sort((a, b) => reliability(a) - reliability(b))
    .slice(0, flips);
  const shift = CRC_BITS - checkBits;
  for (let pattern = 0; pattern < 1 << flips; pattern++) {
    const candidate = Uint8Array.from(hard);
    weakest.forEach((index, i) => {
      if ((pattern >> i) & 1) candidate[index] = 1 - candidate[index]!;
    });
    let payload = 0;
    for (let i = 0; i < PAYLOAD_BITS; i++) payload = ((payload << 1) | candidate[i]!) >>> 0;
    let crc = 0;
    for (let i = 0; i < CRC_BITS; i++) crc = (crc << 1) | candidate[PAYLOAD_BITS + i]!;
    if ((crc ^ material.crcMask) >>> shift === crc24(payload) >>> shift) return payload;
  }
  return null;
}

/** Searches mono PCM for the mark of `material` (one key; see WatermarkScanner for many). */
export function searchWatermark(pcm: Float32Array, sampleRateHz: number, material: WatermarkKeyMaterial): WatermarkSearch {
  return new WatermarkScanner(pcm, sampleRateHz).search(material);
}
