/**
 * The watermark detector's search. The mark lives in the linear (complex) spectrum, so the frame
 * grid must be found to a fraction of a sample: resample to 12.8 kHz (40 ms frames are 512
 * samples there), then
 *
 * 1. **Scan** every grid offset at quarter-sample steps at once: the projection of every frame at
 *    every offset is one FFT cross-correlation of the clip with the key's spreading vector (one
 *    per quarter-sample shift), normalised by the band energy of the same frame (a sliding sum of
 *    the band-passed clip). An offset scores by how closely its frames sit on their lattices under
 *    its best message phase; the OFFSETS best are kept.
 * 2. **Decode** those offsets exactly (the clip shifted by the fractional offset in the frequency
 *    domain, then an FFT per frame): every message phase's soft coded bits go through the Viterbi
 *    decoder, and only the CANDIDATES codewords with the best path metrics meet the keyed CRC-24.
 *
 * False positives: at most CANDIDATES codewords per clip and key are checked, each passing the
 * keyed CRC-24 with probability 2^-24, so at most 4 · 2^-24 ≈ 2.4·10^-7 per clip and key;
 * bench/watermark-robustness.ts confirms the per-codeword model with shortened CRCs. Cost:
 * linear-log in the length: per key, 7 FFTs of the whole clip and one per frame at 3 offsets.
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
/** A frame's weight ramps from 0 at RAMP_LOW_DB to 1 at RAMP_HIGH_DB relative to the loud frames (quiet frames are noisier after noise and codecs). */
const RAMP_LOW_DB = -RELIABLE_BELOW_LOUD_DB;
const RAMP_HIGH_DB = -10;
/** Spectral flatness at which a frame counts half (tonalWeight): about that of unvoiced speech. */
const FLATNESS_KNEE = 0.05;
/** The shortest clip searched: 3 s (75 frames; the code corrects the missing rest of a message only when the audio is clean). */
export const MIN_FRAMES = 75;
/** Speech the detector needs to find the mark reliably after MP3 64 kbps, Opus 24 kbps, resampling and noise at 20 dB SNR (measured: docs/WATERMARK.md). */
export const RELIABLE_SPEECH_SECONDS = 12;

/** Every frame's normalised projection at one grid offset (NaN: too quiet) and how much it counts, in [0, 1]. */
interface FrameProjections {
  projections: Float64Array;
  reliability: Float64Array;
}

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
  /** Band energy of the clip's loud frames (the 90th percentile). */
  readonly #loudEnergy: number;
  /** Frames loud enough to count (the clip's speech, roughly), on the grid from its first sample. */
  readonly #speechFrames: number;

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
    this.#loudEnergy = Math.max(loud, 1e-12);
    this.#reliableEnergy = Math.max(loud * 10 ** (-RELIABLE_BELOW_LOUD_DB / 10), 1e-12);
    this.#speechFrames = energies.filter((energy) => energy >= this.#reliableEnergy).length;
  }

  /** Searches for the mark of `material`: the scan, then the exact decoding of the best candidates. */
  search(material: WatermarkKeyMaterial): WatermarkSearch {
    if (Math.floor(this.#length / FRAME) - 1 < MIN_FRAMES) {
      return { present: false, payload: null, confidence: 0, reason: `too short: the detector needs at least ${MIN_FRAMES * 0.04} s of audio (${RELIABLE_SPEECH_SECONDS} s of speech to find the mark reliably after codecs and noise)` };
    }
    const candidates = this.candidates(material);
    if (candidates.length === 0) return { present: false, payload: null, confidence: 0, reason: 'no audible frames in the marked band' };
    let confidence = 0;
    for (const candidate of candidates) {
      const payload = checkedPayload(candidate.info, material);
      if (payload !== null) return { present: true, payload, confidence: candidate.agreement };
      confidence = Math.max(confidence, candidate.agreement);
    }
    const speechSeconds = this.#speechFrames * 0.04;
    if (speechSeconds < RELIABLE_SPEECH_SECONDS) {
      const reason = `not found in ${speechSeconds.toFixed(1)} s of speech: after codecs and noise the detector needs about ${RELIABLE_SPEECH_SECONDS} s`;
      return { present: false, payload: null, confidence, reason };
    }
    return { present: false, payload: null, confidence };
  }

  /**
   * The CANDIDATES decoded information words with the best Viterbi metrics (best first) and how
   * well each agrees with the audio, before the CRC check (the bench counts CRC passes on them).
   */
  candidates(material: WatermarkKeyMaterial): Array<{ info: Uint8Array; agreement: number }> {
    const ranked: Array<{ bits: SoftBits; decoded: ViterbiResult }> = [];
    for (const offset of this.#scan(material)) {
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
    return ranked.map(({ bits, decoded }) => ({ info: decoded.info, agreement: codewordAgreement(bits, decoded.info) }));
  }

  /** Band energy of the frame starting at analysis sample `start` (whole samples), in DFT units (Σ|X_k|² over the band). */
  #frameBandEnergy(start: number): number {
    return (FRAME / 2) * (this.#bandEnergySum[start + FRAME]! - this.#bandEnergySum[start]!);
  }

  /** Step 1: scores every grid offset (its best message phase) and keeps the OFFSETS best. */
  #scan(material: WatermarkKeyMaterial): number[] {
    const frames = Math.floor((this.#length - FRAME) / FRAME);
    // Twice over, so bit = residue + phase needs no modulo.
    const ditherCos = Float64Array.from({ length: 2 * MESSAGE_BITS }, (_, j) => Math.cos((2 * Math.PI * material.dither[j % MESSAGE_BITS]!) / STEP));
    const ditherSin = Float64Array.from({ length: 2 * MESSAGE_BITS }, (_, j) => Math.sin((2 * Math.PI * material.dither[j % MESSAGE_BITS]!) / STEP));
    const sumCos = new Float64Array(MESSAGE_BITS);
    const sumSin = new Float64Array(MESSAGE_BITS);
    const top: Array<{ offset: number; score: number }> = [];
    const correlationRe = new Float64Array(this.#size);
    const correlationIm = new Float64Array(this.#size);
    const correlations = Array.from({ length: FRACTIONS }, () => new Float64Array(0));
    for (let pair = 0; pair < FRACTIONS; pair += 2) {
      // Two real templates in one complex FFT, and both correlations from one complex IFFT (each is real).
      correlationRe.fill(0);
      correlationIm.fill(0);
      correlationRe.set(projectionTemplate(material, pair / FRACTIONS));
      correlationIm.set(projectionTemplate(material, (pair + 1) / FRACTIONS));
      fft(correlationRe, correlationIm);
      const productRe = new Float64Array(this.#size);
      const productIm = new Float64Array(this.#size);
      for (let bin = 0; bin < this.#size; bin++) {
        const mirror = (this.#size - bin) % this.#size;
        const zr = correlationRe[bin]!;
        const zi = correlationIm[bin]!;
        const wr = correlationRe[mirror]!;
        const wi = correlationIm[mirror]!;
        const aRe = (zr + wr) / 2;
        const aIm = (zi - wi) / 2;
        const bRe = (zi + wi) / 2;
        const bIm = (wr - zr) / 2;
        const yr = this.#spectrumRe[bin]!;
        const yi = this.#spectrumIm[bin]!;
        // Y·conj(Ta) + i·Y·conj(Tb)
        const pRe = yr * aRe + yi * aIm;
        const pIm = yi * aRe - yr * aIm;
        const qRe = yr * bRe + yi * bIm;
        const qIm = yi * bRe - yr * bIm;
        productRe[bin] = pRe - qIm;
        productIm[bin] = pIm + qRe;
      }
      ifft(productRe, productIm);
      correlations[pair] = productRe;
      correlations[pair + 1] = productIm;
    }
    for (let fraction = 0; fraction < FRACTIONS; fraction++) {
      const shift = fraction / FRACTIONS;
      const correlation = correlations[fraction]!;
      for (let offset = 0; offset < FRAME; offset++) {
        sumCos.fill(0);
        sumSin.fill(0);
        let used = 0;
        for (let frame = 0; frame < frames; frame++) {
          const start = offset + frame * FRAME;
          const energy = this.#frameBandEnergy(start);
          if (energy < this.#reliableEnergy) continue;
          const theta = (2 * Math.PI * correlation[start]!) / Math.sqrt(energy) / STEP;
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
            score += Math.abs(sumCos[residue]! * ditherCos[residue + phase]! + sumSin[residue]! * ditherSin[residue + phase]!);
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
  #exactProjections(material: WatermarkKeyMaterial, offset: number): FrameProjections {
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
    const reliability = new Float64Array(frames);
    const frameRe = new Float64Array(FRAME);
    const frameIm = new Float64Array(FRAME);
    for (let frame = 0; frame < frames; frame++) {
      const start = frame * FRAME;
      if (this.#frameBandEnergy(start + Math.floor(offset)) < this.#reliableEnergy) continue;
      frameRe.set(re.subarray(start, start + FRAME));
      frameIm.fill(0);
      fft(frameRe, frameIm);
      const bandRe = frameRe.subarray(FIRST_BIN, END_BIN);
      const bandIm = frameIm.subarray(FIRST_BIN, END_BIN);
      reliability[frame] = frameReliability(this.#frameBandEnergy(start + Math.floor(offset)) / this.#loudEnergy) * tonalWeight(bandRe, bandIm);
      projections[frame] = normalisedProjection(bandRe, bandIm, material);
    }
    return { projections, reliability };
  }
}

/** How much a frame's soft value counts, from its band energy relative to the clip's loud frames: a ramp from RAMP_LOW_DB to RAMP_HIGH_DB. */
function frameReliability(relativeEnergy: number): number {
  const db = 10 * Math.log10(relativeEnergy + 1e-30);
  return Math.min(1, Math.max(0, (db - RAMP_LOW_DB) / (RAMP_HIGH_DB - RAMP_LOW_DB)));
}

/**
 * How much a frame's soft value counts for its spectral shape: 1 / (1 + flatness / FLATNESS_KNEE).
 * Codecs at low rates keep tonal frames' waveform and replace noise-like frames' fine structure
 * (measured in bench/watermark-opus-channel.ts).
 */
export function tonalWeight(re: Float64Array, im: Float64Array): number {
  return 1 / (1 + spectralFlatness(re, im) / FLATNESS_KNEE);
}

/** The geometric over the arithmetic mean of the bins' powers: near 0 for voiced speech and notes, about 0.56 for noise. */
export function spectralFlatness(re: Float64Array, im: Float64Array): number {
  let sum = 0;
  let logSum = 0;
  for (let i = 0; i < re.length; i++) {
    const power = re[i]! * re[i]! + im[i]! * im[i]! + 1e-30;
    sum += power;
    logSum += Math.log(power);
  }
  return Math.exp(logSum / re.length) / (sum / re.length);
}

/**
 * The time-domain template of a frame's projection at a sub-sample shift: p = Σ_n y[n]·t[n] for
 * the frame starting `shift` samples later (the spreading vector rotated by the shift's phase).
 */
function projectionTemplate(material: WatermarkKeyMaterial, shift: number): Float64Array {
  const template = new Float64Array(FRAME);
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
  return template;
}

/** The soft coded bits of one message phase: each frame's cos(2π(p − dither)/STEP) summed into the bit it carries. */
function softBits({ projections, reliability }: FrameProjections, phase: number, material: WatermarkKeyMaterial): SoftBits {
  const soft = new Float64Array(MESSAGE_BITS);
  const weight = new Float64Array(MESSAGE_BITS);
  for (let frame = 0; frame < projections.length; frame++) {
    const projection = projections[frame]!;
    if (Number.isNaN(projection)) continue;
    const bit = (frame + phase) % MESSAGE_BITS;
    soft[bit] = soft[bit]! + reliability[frame]! * Math.cos((2 * Math.PI * (projection - material.dither[bit]!)) / STEP);
    weight[bit] = weight[bit]! + reliability[frame]!;
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
