/**
 * WatermarkEmbedder: marks a mono float32 PCM stream, chunk by chunk, with a keyed 32-bit payload
 * (layout in watermark-layout.ts). Streaming-safe and bounded: no latency, no buffering, output
 * length = input length; memory is a few arrays of scratch plus a DFT table per sample rate
 * (cached for the process: about 1.2 MB at 48 kHz).
 *
 * Each 40 ms frame of the grid that starts at the stream's first sample is marked in place when a
 * chunk holds it whole: its complex bins between 125 Hz and 2 kHz (an exact in-frame DFT) get
 * c·w_k·s_k added, where s is the key's spreading vector and w_k follows the host's smoothed
 * spectrum (so the mark sits under the speech, loudest where the speech is), with c solved so the
 * normalised projection lands on the lattice of the frame's message bit. A power budget keeps the
 * mark at least 35 dB under the host over the stream (MAX_MARK_TO_HOST) and under −28 dB in any
 * frame. A frame that straddles two chunks is left as it is (the detector tolerates unmarked
 * frames); engine chunks are sentences or backend blocks of hundreds of ms, so that costs a few
 * percent of frames.
 */
import { codedMessage } from './watermark-code.js';
import {
  BIN_HZ,
  FIRST_BIN,
  FRAME_SECONDS,
  keyMaterial,
  MARKED_BINS,
  MESSAGE_BITS,
  MIN_RATE_HZ,
  SHAPE_HALF_WIDTH,
  SHAPE_KNEE,
  SHAPE_POWER,
  STEP,
  type WatermarkKeyMaterial,
} from './watermark-layout.js';

/** Cosine/sine tables of the in-frame DFT over the marked bins, per frame length. */
interface DftTable {
  frameSamples: number;
  cos: Float32Array;
  sin: Float32Array;
}

const tables = new Map<number, DftTable>();

/** The DFT table for frames of `frameSamples` (cached: about 1.2 MB at 48 kHz). */
export function dftTable(frameSamples: number): DftTable {
  let table = tables.get(frameSamples);
  if (!table) {
    const cos = new Float32Array(MARKED_BINS * frameSamples);
    const sin = new Float32Array(MARKED_BINS * frameSamples);
    for (let i = 0; i < MARKED_BINS; i++) {
      const omega = (2 * Math.PI * (FIRST_BIN + i)) / frameSamples;
      for (let n = 0; n < frameSamples; n++) {
        // The phase reduced modulo the frame keeps float32 tables accurate at any length.
        const phase = (omega * ((n * (FIRST_BIN + i)) % frameSamples)) / (FIRST_BIN + i);
        cos[i * frameSamples + n] = Math.cos(phase);
        sin[i * frameSamples + n] = Math.sin(phase);
      }
    }
    table = { frameSamples, cos, sin };
    tables.set(frameSamples, table);
  }
  return table;
}

/** Frame length in samples at a rate (the rate must be a multiple of 25 Hz). */
export function frameSamplesAt(sampleRateHz: number): number {
  return Math.round(sampleRateHz * FRAME_SECONDS);
}

/** The mark's power budget relative to the host's: -35 dB, so every stream's mark SNR is at least 35 dB. */
export const MAX_MARK_TO_HOST = 10 ** (-35 / 10);
/** The most one frame's mark may have relative to the frame's own power: -28 dB. */
export const MAX_BLOCK_MARK_TO_HOST = 10 ** (-28 / 10);

/** Work arrays of `embedFrame`, allocated once per embedder. */
export interface EmbedScratch {
  re: Float64Array;
  im: Float64Array;
  shape: Float64Array;
  /** The stream's unspent mark energy budget (see MAX_MARK_TO_HOST). */
  credit: number;
}

/** Allocates the scratch arrays of `embedFrame`. */
export function embedScratch(): EmbedScratch {
  return { re: new Float64Array(MARKED_BINS), im: new Float64Array(MARKED_BINS), shape: new Float64Array(MARKED_BINS), credit: 0 };
}

/** The projection after adding c·w·s: (P + c·W) / sqrt(E + 2c·Q + c²·W2). */
function projectionAfter(c: number, sums: { dot: number; energy: number; weight: number; cross: number; weight2: number }): number {
  const energy = sums.energy + 2 * c * sums.cross + c * c * sums.weight2;
  return energy > 0 ? (sums.dot + c * sums.weight) / Math.sqrt(energy) : 0;
}

/** Marks one frame in place; `bit` is the message bit it carries at message position `bitIndex`. */
export function embedFrame(frame: Float32Array, bit: number, bitIndex: number, material: WatermarkKeyMaterial, table: DftTable, scratch: EmbedScratch): void {
  const samples = table.frameSamples;
  const { re, im, shape } = scratch;
  let hostEnergy = 0;
  for (let n = 0; n < samples; n++) hostEnergy += frame[n]! * frame[n]!;
  scratch.credit += MAX_MARK_TO_HOST * hostEnergy;
  // Digital silence (or next to it) carries nothing.
  if (hostEnergy < 1e-9 * samples) return;
  for (let i = 0; i < MARKED_BINS; i++) {
    let sumRe = 0;
    let sumIm = 0;
    const row = i * samples;
    for (let n = 0; n < samples; n++) {
      sumRe += frame[n]! * table.cos[row + n]!;
      sumIm -= frame[n]! * table.sin[row + n]!;
    }
    re[i] = sumRe;
    im[i] = sumIm;
  }
  // The mark's shape: the host's power smoothed over neighbouring bins, to SHAPE_POWER / 2 in amplitude.
  const sums = { dot: 0, energy: 0, weight: 0, cross: 0, weight2: 0 };
  let strongest = 0;
  for (let i = 0; i < MARKED_BINS; i++) {
    let power = 0;
    let count = 0;
    for (let j = Math.max(0, i - SHAPE_HALF_WIDTH); j <= Math.min(MARKED_BINS - 1, i + SHAPE_HALF_WIDTH); j++) {
      power += re[j]! * re[j]! + im[j]! * im[j]!;
      count++;
    }
    shape[i] = power / count + 1e-30;
    strongest = Math.max(strongest, shape[i]!);
  }
  // Above SHAPE_KNEE under the frame's strongest bin the mark follows the host's power to SHAPE_POWER / 2 in
  // amplitude (nearly flat: the most projection per unit of mark energy); below it, exactly the host's shape,
  // so in the band's weak regions the mark stays as far under the host as it is at the knee.
  const knee = strongest * SHAPE_KNEE;
  for (let i = 0; i < MARKED_BINS; i++) {
    const power = shape[i]!;
    shape[i] = power >= knee ? power ** (SHAPE_POWER / 2) : knee ** (SHAPE_POWER / 2) * Math.sqrt(power / knee);
    const along = material.spreadRe[i]! * re[i]! + material.spreadIm[i]! * im[i]!;
    sums.dot += along;
    sums.energy += re[i]! * re[i]! + im[i]! * im[i]!;
    sums.weight += shape[i]!;
    sums.cross += shape[i]! * along;
    sums.weight2 += shape[i]! * shape[i]!;
  }
  if (sums.energy <= 0) return;
  const start = sums.dot / Math.sqrt(sums.energy);
  const centre = material.dither[bitIndex]! + (bit * STEP) / 2;
  // The nearest point of the bit's lattice, reached by Newton steps on c (the projection is smooth and nearly linear in c).
  const target = centre + STEP * Math.round((start - centre) / STEP);
  let c = ((target - start) * Math.sqrt(sums.energy)) / sums.weight;
  for (let round = 0; round < 4; round++) {
    const error = target - projectionAfter(c, sums);
    if (Math.abs(error) < 1e-9) break;
    const h = 1e-6 * Math.max(1e-12, Math.abs(c)) + 1e-12;
    const slope = (projectionAfter(c + h, sums) - projectionAfter(c - h, sums)) / (2 * h);
    if (!(slope > 0)) break;
    c += error / slope;
  }
  // The SNR guarantee: a power budget earns MAX_MARK_TO_HOST of every frame's power and pays for
  // each frame's mark, so at every point the mark so far is at least 35 dB under the host so far;
  // a frame may spend credit earned before it, never more than MAX_BLOCK_MARK_TO_HOST of its own
  // power (the perceptual ceiling). A frame over either limit moves only part of the way.
  let markEnergy = (2 / samples) * c * c * sums.weight2;
  const allowed = Math.min(scratch.credit, MAX_BLOCK_MARK_TO_HOST * hostEnergy);
  if (markEnergy > allowed) {
    c *= Math.sqrt(allowed / markEnergy);
    markEnergy = allowed;
  }
  scratch.credit -= markEnergy;
  // Add c·w_k·s_k to bin k (and its mirror): (2/N)·Re(c·w_k·s_k·e^{2πikn/N}) in time.
  const norm = (2 / samples) * c;
  for (let i = 0; i < MARKED_BINS; i++) {
    const a = norm * shape[i]! * material.spreadRe[i]!;
    const b = norm * shape[i]! * material.spreadIm[i]!;
    const row = i * samples;
    for (let n = 0; n < samples; n++) frame[n] = frame[n]! + a * table.cos[row + n]! - b * table.sin[row + n]!;
  }
}

/** Marks one stream: create one per stream, feed its chunks in order. Not thread-safe. */
export class WatermarkEmbedder {
  readonly #material: WatermarkKeyMaterial;
  readonly #bits: Uint8Array;
  readonly #scratch = embedScratch();
  #sampleRateHz: number | undefined;
  #table: DftTable | undefined;
  /** Samples of the stream seen so far (the frame grid's position). */
  #position = 0;

  /** `key` and `payload` are trusted here (validated by `watermarkOptionsSchema` at the edge). */
  constructor(key: string, payload: number) {
    this.#material = keyMaterial(key);
    this.#bits = codedMessage(payload >>> 0, this.#material);
  }

  /** Marks `pcm` (mono, at `sampleRateHz`, the same rate for the whole stream) and returns a new array of the same length. */
  process(pcm: Float32Array, sampleRateHz: number): Float32Array {
    if (this.#sampleRateHz !== sampleRateHz) {
      // A rate change restarts the grid (the engine keeps one rate per stream).
      this.#sampleRateHz = sampleRateHz;
      this.#table = sampleRateHz % BIN_HZ === 0 && sampleRateHz >= MIN_RATE_HZ ? dftTable(frameSamplesAt(sampleRateHz)) : undefined;
      this.#position = 0;
    }
    const out = Float32Array.from(pcm);
    const table = this.#table;
    if (table) {
      const samples = table.frameSamples;
      const start = this.#position;
      for (let frame = Math.ceil(start / samples); (frame + 1) * samples <= start + pcm.length; frame++) {
        const offset = frame * samples - start;
        const bitIndex = frame % MESSAGE_BITS;
        embedFrame(out.subarray(offset, offset + samples), this.#bits[bitIndex] ?? 0, bitIndex, this.#material, table, this.#scratch);
      }
    }
    this.#position += pcm.length;
    return out;
  }
}
