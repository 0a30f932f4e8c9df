/**
 * The watermark detector's search: resample to 12.8 kHz (40 ms frames are 512 samples there),
 * try 16 frame-grid offsets (2.5 ms apart) and 64 message phases, so a cropped, shifted or
 * re-encoded clip is found; soft-combine every repetition of each bit; accept only a candidate
 * whose sync word matches (at most one bit off) and whose keyed CRC-16 checks.
 *
 * False positives: a random candidate passes with probability about 17/2^16 · 2^-16 ≈ 4·10^-9;
 * 1024 candidates per clip make about 4·10^-6 per clip and key (measured in
 * bench/watermark-robustness.ts). Cost: a 512-point FFT per frame and offset, linear in length.
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
const OFFSET_STEP = Number(process.env['WM_OFF'] ?? 32);
/** Frames quieter than this under the clip's loud frames carry no weight (silence, noise floor). */
const RELIABLE_BELOW_LOUD_DB = 30;
/** Sync bits that may be wrong in an accepted candidate. */
const MAX_SYNC_ERRORS = 1;

/** What the search found. */
export interface WatermarkSearch {
  present: boolean;
  payload: number | null;
  confidence: number;
}

/** In-place radix-2 complex FFT of length 512. */
function fft512(re: Float64Array, im: Float64Array): void {
  const n = FRAME;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j] ?? 0, re[i] ?? 0];
      [im[i], im[j]] = [im[j] ?? 0, im[i] ?? 0];
    }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const step = (-2 * Math.PI) / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < size / 2; k++) {
        const wr = Math.cos(step * k);
        const wi = Math.sin(step * k);
        const a = start + k;
        const b = a + size / 2;
        const tr = (re[b] ?? 0) * wr - (im[b] ?? 0) * wi;
        const ti = (re[b] ?? 0) * wi + (im[b] ?? 0) * wr;
        re[b] = (re[a] ?? 0) - tr;
        im[b] = (im[a] ?? 0) - ti;
        re[a]! += tr;
        im[a]! += ti;
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

/** Searches mono PCM for the mark of `material`. */
export function searchWatermark(pcm: Float32Array, sampleRateHz: number, material: WatermarkKeyMaterial): WatermarkSearch {
  const analysis = sampleRateHz === ANALYSIS_RATE_HZ ? pcm : resample(pcm, { inputRateHz: sampleRateHz, outputRateHz: ANALYSIS_RATE_HZ, stopbandAttenuationDb: 60 });
  let best: WatermarkSearch = { present: false, payload: null, confidence: 0 };
  let bestSync = -Infinity;
  const soft = new Float64Array(MESSAGE_BITS);
  const weight = new Float64Array(MESSAGE_BITS);
  for (let offset = 0; offset < FRAME * FRAMES_PER_BLOCK; offset += OFFSET_STEP) {
    const { logs, energyDb } = blockFeatures(analysis, offset);
    const frames = logs.length;
    if (frames < MESSAGE_BITS / 2) continue;
    const loud = [...energyDb].sort((a, b) => a - b)[Math.floor(frames * 0.9)] ?? 0;
    // softByBit[frame * 64 + bit]: how strongly frame `frame` says 0 (+1) or 1 (-1) if it carries `bit`.
    const softByBit = new Float64Array(frames * MESSAGE_BITS);
    for (let frame = 0; frame < frames; frame++) {
      if ((energyDb[frame] ?? -Infinity) < loud - RELIABLE_BELOW_LOUD_DB) continue;
      const frameLogs = logs[frame] ?? new Float64Array(TILES);
      for (let bit = 0; bit < MESSAGE_BITS; bit++) {
        const phase = (2 * Math.PI * (projection(frameLogs, bit, material) - (material.dither[bit] ?? 0))) / STEP_DB;
        softByBit[frame * MESSAGE_BITS + bit] = Math.cos(phase);
      }
    }
    for (let phase = 0; phase < MESSAGE_BITS; phase++) {
      soft.fill(0);
      weight.fill(0);
      for (let frame = 0; frame < frames; frame++) {
        const bit = (frame + phase) % MESSAGE_BITS;
        const value = softByBit[frame * MESSAGE_BITS + bit] ?? 0;
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
      if (syncErrors > MAX_SYNC_ERRORS) {
        if (!best.present && syncScore > bestSync) {
          bestSync = syncScore;
          best = { present: false, payload: null, confidence: Math.max(0, syncScore) };
        }
        continue;
      }
      let payload = 0;
      for (let bit = 0; bit < PAYLOAD_BITS; bit++) payload = (payload << 1) | ((soft[SYNC_BITS + bit] ?? 0) < 0 ? 1 : 0);
      payload >>>= 0;
      let crc = 0;
      for (let bit = 0; bit < CRC_BITS; bit++) crc = (crc << 1) | ((soft[SYNC_BITS + PAYLOAD_BITS + bit] ?? 0) < 0 ? 1 : 0);
      const unobserved = weight.some((count) => count === 0);
      if (unobserved || (crc ^ material.crcMask) !== crc16(payload)) {
        if (!best.present && syncScore > bestSync) {
          bestSync = syncScore;
          best = { present: false, payload: null, confidence: Math.max(0, syncScore) };
        }
        continue;
      }
      // Confidence: the mean agreement of every bit's repetitions with its decision, in [0, 1].
      let agreement = 0;
      for (let bit = 0; bit < MESSAGE_BITS; bit++) agreement += Math.abs(soft[bit] ?? 0) / Math.max(1, weight[bit] ?? 0);
      const confidence = agreement / MESSAGE_BITS;
      if (!best.present || confidence > best.confidence) best = { present: true, payload, confidence };
    }
  }
  return best;
}
