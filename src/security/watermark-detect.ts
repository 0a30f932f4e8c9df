/**
 * The watermark detector's search: resample to 12.8 kHz (40 ms frames are 512 samples there),
 * measure Hann-windowed band energies, try 16 frame-grid offsets 2.5 ms apart and refine the 3
 * best to 0.6 ms (a misaligned frame blurs its energies), try the 64 message phases at each, so a
 * cropped, shifted or re-encoded clip is found; soft-combine every repetition of each bit; accept
 * a candidate only when its keyed sync word matches (at most one bit off) and its keyed CRC-16
 * checks, either on the hard decisions or, with a perfect sync word, after flipping any of the 5
 * least reliable data bits, erased ones (never carried by a reliable block) first: list decoding.
 *
 * False positives: a random candidate passes with probability 17/2^16 · 2^-16 + 2^-16 · 32 · 2^-16
 * ≈ 1.1·10^-8; 34 offsets × 64 phases make about 2.4·10^-5 per clip and key (measured in
 * bench/watermark-robustness.ts). Cost: linear in the length, about 50 FFTs of 512 per frame.
 */
import { resample } from '../audio/resampler.js';
import {
  BAND_COUNT,
  bandEnergies,
  CRC_BITS,
  crc16,
  END_BIN,
  FIRST_BIN,
  FRAMES_PER_BLOCK,
  logTileEnergies,
  TILES,
  MESSAGE_BITS,
  PAYLOAD_BITS,
  projection,
  STEP_DB,
  SYNC_BITS,
  type WatermarkKeyMaterial,
} from './watermark-layout.js';

/** The detector's analysis rate: 40 ms = 512 samples. */
export const ANALYSIS_RATE_HZ = 12_800;
const FRAME = 512;
/** The periodic Hann window the features are measured through (the embedder's 3-tap equivalent). */
const HANN = Float64Array.from({ length: FRAME }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / FRAME));
/** Coarse grid-offset step, fine step, and how many coarse offsets are refined. */
const COARSE_STEP = 32;
const FINE_STEP = 8;
const REFINED = 3;
/** Frames quieter than this under the clip's loud frames carry no weight (silence, noise floor). */
const RELIABLE_BELOW_LOUD_DB = 30;
/** Sync bits that may be wrong in an accepted candidate. */
const MAX_SYNC_ERRORS = 1;
/** Least reliable (or erased) data bits list decoding may flip (only with a perfect sync word). */
const LIST_DECODING_BITS = 5;

/** What the search found. */
export interface WatermarkSearch {
  present: boolean;
  payload: number | null;
  confidence: number;
}

/** Bit-reversal permutation and twiddles of the 512-point FFT, computed once. */
const BIT_REVERSED = Uint16Array.from({ length: FRAME }, (_, i) => {
  let reversed = 0;
  for (let bit = 0; bit < 9; bit++) reversed |= ((i >> bit) & 1) << (8 - bit);
  return reversed;
});
const TWIDDLE_RE = Float64Array.from({ length: FRAME / 2 }, (_, k) => Math.cos((-2 * Math.PI * k) / FRAME));
const TWIDDLE_IM = Float64Array.from({ length: FRAME / 2 }, (_, k) => Math.sin((-2 * Math.PI * k) / FRAME));

/** In-place radix-2 complex FFT of length 512. */
function fft512(re: Float64Array, im: Float64Array): void {
  for (let i = 0; i < FRAME; i++) {
    const j = BIT_REVERSED[i] ?? 0;
    if (i < j) {
      const r = re[i] ?? 0;
      re[i] = re[j] ?? 0;
      re[j] = r;
      const m = im[i] ?? 0;
      im[i] = im[j] ?? 0;
      im[j] = m;
    }
  }
  for (let size = 2; size <= FRAME; size <<= 1) {
    const half = size >> 1;
    const stride = FRAME / size;
    for (let start = 0; start < FRAME; start += size) {
      for (let k = 0; k < half; k++) {
        const wr = TWIDDLE_RE[k * stride] ?? 0;
        const wi = TWIDDLE_IM[k * stride] ?? 0;
        const a = start + k;
        const b = a + half;
        const br = re[b] ?? 0;
        const bi = im[b] ?? 0;
        const tr = br * wr - bi * wi;
        const ti = br * wi + bi * wr;
        const ar = re[a] ?? 0;
        const ai = im[a] ?? 0;
        re[b] = ar - tr;
        im[b] = ai - ti;
        re[a] = ar + tr;
        im[a] = ai + ti;
      }
    }
  }
}

/** Log tile energies (dB) and total energy of every block of one grid offset (of 12.8 kHz PCM). */
export function blockFeatures(pcm: Float32Array, offset: number): { logs: Float64Array[]; energyDb: Float64Array } {
  const blocks = Math.max(0, Math.floor((pcm.length - offset) / (FRAME * FRAMES_PER_BLOCK)));
  const re = new Float64Array(FRAME);
  const im = new Float64Array(FRAME);
  const energies = new Float64Array(END_BIN - FIRST_BIN);
  const logs: Float64Array[] = [];
  const energyDb = new Float64Array(blocks);
  const tiles = new Float64Array(TILES);
  for (let block = 0; block < blocks; block++) {
    let total = 0;
    for (let frame = 0; frame < FRAMES_PER_BLOCK; frame++) {
      const start = offset + (block * FRAMES_PER_BLOCK + frame) * FRAME;
      for (let n = 0; n < FRAME; n++) re[n] = (pcm[start + n] ?? 0) * (HANN[n] ?? 0);
      im.fill(0);
      fft512(re, im);
      for (let k = FIRST_BIN; k < END_BIN; k++) {
        const energy = (re[k] ?? 0) ** 2 + (im[k] ?? 0) ** 2;
        energies[k - FIRST_BIN] = energy;
        total += energy;
      }
      bandEnergies(energies, tiles, frame * BAND_COUNT);
    }
    const out = new Float64Array(TILES);
    logTileEnergies(tiles, out);
    logs.push(out);
    energyDb[block] = 10 * Math.log10(total + 1e-20);
  }
  return { logs, energyDb };
}

/**
 * The payload whose keyed CRC checks, from hard decisions, or (with `flips` > 0, allowed only when
 * every sync bit agreed) from the hard decisions with any subset of the `flips` least reliable
 * data bits flipped: list decoding, 2^flips tries, which the false-positive budget accounts for.
 */
function decodeChecked(soft: Float64Array, weight: Float64Array, material: WatermarkKeyMaterial, flips: number): number | null {
  const dataBits = PAYLOAD_BITS + CRC_BITS;
  const hard = new Uint8Array(dataBits);
  for (let i = 0; i < dataBits; i++) hard[i] = (soft[SYNC_BITS + i] ?? 0) < 0 ? 1 : 0;
  const weakest = Array.from({ length: dataBits }, (_, i) => i)
    .sort((a, b) => Math.abs(soft[SYNC_BITS + a] ?? 0) / Math.max(1, weight[SYNC_BITS + a] ?? 0) - Math.abs(soft[SYNC_BITS + b] ?? 0) / Math.max(1, weight[SYNC_BITS + b] ?? 0))
    .slice(0, flips);
  for (let pattern = 0; pattern < 1 << flips; pattern++) {
    const bits = Uint8Array.from(hard);
    weakest.forEach((index, i) => {
      if ((pattern >> i) & 1) bits[index] = 1 - (bits[index] ?? 0);
    });
    let payload = 0;
    for (let i = 0; i < PAYLOAD_BITS; i++) payload = ((payload << 1) | (bits[i] ?? 0)) >>> 0;
    let crc = 0;
    for (let i = 0; i < CRC_BITS; i++) crc = (crc << 1) | (bits[PAYLOAD_BITS + i] ?? 0);
    if ((crc ^ material.crcMask) === crc16(payload)) return payload;
  }
  return null;
}

/** The best reading of one grid offset: its best phase's sync score, and a decoded payload when one checks. */
interface OffsetReading {
  offset: number;
  syncScore: number;
  found: WatermarkSearch | null;
}

/** Reads every message phase at one grid offset from its features. */
function readOffset(features: ReturnType<typeof blockFeatures>, offset: number, material: WatermarkKeyMaterial): OffsetReading {
  const reading: OffsetReading = { offset, syncScore: -Infinity, found: null };
  const { logs, energyDb } = features;
  const blocks = logs.length;
  if (blocks < MESSAGE_BITS / 2) return reading;
  const loud = [...energyDb].sort((a, b) => a - b)[Math.floor(blocks * 0.9)] ?? 0;
  // softByBit[block * 64 + bit]: how strongly block `block` says 0 (+1) or 1 (-1) if it carries `bit`.
  const softByBit = new Float64Array(blocks * MESSAGE_BITS);
  for (let block = 0; block < blocks; block++) {
    if ((energyDb[block] ?? -Infinity) < loud - RELIABLE_BELOW_LOUD_DB) continue;
    const blockLogs = logs[block] ?? new Float64Array(TILES);
    for (let bit = 0; bit < MESSAGE_BITS; bit++) {
      const phase = (2 * Math.PI * (projection(blockLogs, bit, material) - (material.dither[bit] ?? 0))) / STEP_DB;
      softByBit[block * MESSAGE_BITS + bit] = Math.cos(phase);
    }
  }
  const soft = new Float64Array(MESSAGE_BITS);
  const weight = new Float64Array(MESSAGE_BITS);
  for (let phase = 0; phase < MESSAGE_BITS; phase++) {
    soft.fill(0);
    weight.fill(0);
    for (let block = 0; block < blocks; block++) {
      const bit = (block + phase) % MESSAGE_BITS;
      const value = softByBit[block * MESSAGE_BITS + bit] ?? 0;
      soft[bit]! += value;
      if (value !== 0) weight[bit]! += 1;
    }
    let syncErrors = 0;
    let syncScore = 0;
    for (let bit = 0; bit < SYNC_BITS; bit++) {
      const value = soft[bit] ?? 0;
      const expected = material.sync[bit] ? -1 : 1;
      if (value * expected <= 0) syncErrors++;
      syncScore += (value * expected) / Math.max(1, weight[bit] ?? 0);
    }
    syncScore /= SYNC_BITS;
    reading.syncScore = Math.max(reading.syncScore, syncScore);
    if (syncErrors > MAX_SYNC_ERRORS) continue;
    // A data bit no reliable block carried (a pause) is an erasure: list decoding tries both values.
    let erasures = 0;
    for (let bit = SYNC_BITS; bit < MESSAGE_BITS; bit++) if ((weight[bit] ?? 0) === 0) erasures++;
    const flips = syncErrors === 0 ? LIST_DECODING_BITS : 0;
    if (erasures > flips) continue;
    const payload = decodeChecked(soft, weight, material, flips);
    if (payload === null) continue;
    // Confidence: the mean agreement of every bit's repetitions with its decision, in [0, 1].
    let agreement = 0;
    for (let bit = 0; bit < MESSAGE_BITS; bit++) agreement += Math.abs(soft[bit] ?? 0) / Math.max(1, weight[bit] ?? 0);
    const confidence = agreement / MESSAGE_BITS;
    if (!reading.found || confidence > reading.found.confidence) reading.found = { present: true, payload, confidence };
  }
  return reading;
}

/**
 * One clip ready to be searched with any number of keys: its 12.8 kHz resampling and the band
 * features of each grid offset are computed once (they do not depend on the key).
 */
export class WatermarkScanner {
  readonly #analysis: Float32Array;
  readonly #features = new Map<number, ReturnType<typeof blockFeatures>>();

  constructor(pcm: Float32Array, sampleRateHz: number) {
    this.#analysis = sampleRateHz === ANALYSIS_RATE_HZ ? pcm : resample(pcm, { inputRateHz: sampleRateHz, outputRateHz: ANALYSIS_RATE_HZ, stopbandAttenuationDb: 60 });
  }

  /**
   * Searches for the mark of `material`: a coarse pass over the grid offsets (every COARSE_STEP
   * samples), then a fine pass (every FINE_STEP) around the REFINED best coarse ones, as a
   * misaligned frame blurs its band energies (a 1.25 ms shift costs about 0.5 dB of projection).
   */
  search(material: WatermarkKeyMaterial): WatermarkSearch {
    const span = FRAME * FRAMES_PER_BLOCK;
    const coarse: OffsetReading[] = [];
    for (let offset = 0; offset < span; offset += COARSE_STEP) coarse.push(readOffset(this.#featuresAt(offset), offset, material));
    const readings = [...coarse];
    const best = [...coarse].sort((a, b) => b.syncScore - a.syncScore).slice(0, REFINED);
    for (const reading of best) {
      for (let delta = -COARSE_STEP + FINE_STEP; delta < COARSE_STEP; delta += FINE_STEP) {
        if (delta % COARSE_STEP === 0) continue;
        const offset = (reading.offset + delta + span) % span;
        readings.push(readOffset(this.#featuresAt(offset), offset, material));
      }
    }
    let found: WatermarkSearch | null = null;
    for (const reading of readings) if (reading.found && (!found || reading.found.confidence > found.confidence)) found = reading.found;
    if (found) return found;
    const syncScore = Math.max(...readings.map((reading) => reading.syncScore));
    return { present: false, payload: null, confidence: Math.max(0, Math.min(1, syncScore)) };
  }

  #featuresAt(offset: number): ReturnType<typeof blockFeatures> {
    let features = this.#features.get(offset);
    if (!features) {
      features = blockFeatures(this.#analysis, offset);
      this.#features.set(offset, features);
    }
    return features;
  }
}

/** Searches mono PCM for the mark of `material` (one key; see WatermarkScanner for many). */
export function searchWatermark(pcm: Float32Array, sampleRateHz: number, material: WatermarkKeyMaterial): WatermarkSearch {
  return new WatermarkScanner(pcm, sampleRateHz).search(material);
}
