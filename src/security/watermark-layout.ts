/**
 * The watermark's shared layout (embedder and detector must agree on every number here) and its
 * keyed material, derived from the key with HMAC-SHA-256.
 *
 * Layout: frames of 40 ms on a grid from the stream's first sample (a whole number of samples at
 * every rate that is a multiple of 25 Hz, so DFT bin k is k·25 Hz at any rate). Frame f carries
 * message bit f mod MESSAGE_BITS by spread-transform dither modulation in the *linear* spectrum:
 * the frame's complex DFT bins between FIRST_BIN and END_BIN (125 Hz–2 kHz, where speech has its
 * energy and codecs keep the waveform) are projected on one keyed unit-modulus vector, the
 * projection is divided by the bins' RMS (so a gain changes nothing), and the embedder moves it
 * onto the bit's lattice (step STEP, a keyed dither per message position). The host does not
 * interfere with the decision (the embedder knows it), and the projection sums about 150 real
 * degrees of freedom per frame, so codec and channel noise average out.
 *
 * Message: the 32-bit payload and a keyed CRC-24, convolutionally coded (tail-biting) into 112 bits
 * (one per frame, repeated every 4.48 s; watermark-code.ts).
 */
import { createHmac } from 'node:crypto';

/** Frame length in seconds: 40 ms is a whole number of samples at every multiple of 25 Hz. */
export const FRAME_SECONDS = 0.04;
/** DFT bin spacing in Hz (1 / FRAME_SECONDS). */
export const BIN_HZ = 25;
/** First and last-plus-one DFT bin carrying the mark: 125 Hz to 2 kHz. */
export const FIRST_BIN = 5;
export const END_BIN = 80;
/** Bins per frame carrying the mark (the spreading length, in complex bins). */
export const MARKED_BINS = END_BIN - FIRST_BIN;
/** Lowest output rate the mark supports (16 kHz and up: the detector's analysis band is far under Nyquist). */
export const MIN_RATE_HZ = 16_000;
/** Message: 32 payload bits and a keyed CRC-24, convolutionally coded (watermark-code.ts). */
export const PAYLOAD_BITS = 32;
export const CRC_BITS = 24;
/** Coded bits per message (rate 1/2, tail-biting), one per frame, repeated (112 frames: 4.48 s per round). */
export const MESSAGE_BITS = 2 * (PAYLOAD_BITS + CRC_BITS);
/**
 * Quantiser step of the normalised projection (which is about N(0, 1/2) for a random host): the
 * robustness/strength trade-off, with the power budget in watermark-embed.ts. Measured in
 * bench/watermark-robustness.ts.
 */
export const STEP = 0.5;
/**
 * Perceptual shaping of the mark inside the band: its spectrum follows the host's (smoothed over
 * ±SHAPE_HALF_WIDTH bins) to this power; 0 would be flat, 1 exactly the host's shape. Flatter puts
 * more projection in the same mark energy (0.25 against 0.5: Opus 24 kbps speech 50/50 against
 * 48/50, bench/watermark-robustness.ts); SHAPE_KNEE keeps it under the host where the host is weak.
 */
export const SHAPE_POWER = 0.25;
/**
 * Power, relative to the frame's strongest (smoothed) bin, under which the mark follows the host's
 * shape exactly (as SHAPE_POWER 1 would), so it does not stand out of the host's weak regions:
 * 30 dB (bench/watermark-spectrograms.ts prints how far under the local speech level it sits).
 */
export const SHAPE_KNEE = 10 ** (-30 / 10);
/** Half-width, in bins, of the host spectrum smoothing that shapes the mark. */
export const SHAPE_HALF_WIDTH = 3;

/** The key's material. */
export interface WatermarkKeyMaterial {
  /** The keyed unit-modulus spreading vector: bin FIRST_BIN + i has (spreadRe[i] + i·spreadIm[i]), each ±1/√2. */
  spreadRe: Float64Array;
  spreadIm: Float64Array;
  /** Per message position, a dither in [0, STEP). */
  dither: Float64Array;
  /** XOR mask of the 24 CRC bits (a wrong key fails the check). */
  crcMask: number;
}

/** A deterministic stream of 32-bit words from HMAC-SHA-256(key, label ‖ counter). */
function keyedWords(key: string, label: string, count: number): Uint32Array {
  const words = new Uint32Array(count);
  for (let block = 0; block * 8 < count; block++) {
    const digest = createHmac('sha256', key).update(`${label}:${block}`).digest();
    for (let i = 0; i < 8 && block * 8 + i < count; i++) words[block * 8 + i] = digest.readUInt32LE(i * 4);
  }
  return words;
}

const keyCache = new Map<string, WatermarkKeyMaterial>();

/** Derives the key's spreading vector, dithers and CRC mask (cached for the last few keys). */
export function keyMaterial(key: string): WatermarkKeyMaterial {
  const cached = keyCache.get(key);
  if (cached) return cached;
  const words = keyedWords(key, 'spread-v2', MARKED_BINS);
  const spreadRe = Float64Array.from(words, (word) => ((word & 1) === 0 ? Math.SQRT1_2 : -Math.SQRT1_2));
  const spreadIm = Float64Array.from(words, (word) => ((word & 2) === 0 ? Math.SQRT1_2 : -Math.SQRT1_2));
  const dither = Float64Array.from(keyedWords(key, 'dither-v2', MESSAGE_BITS), (word) => (word / 2 ** 32) * STEP);
  const crcMask = (keyedWords(key, 'crc-v2', 1)[0] ?? 0) & 0xff_ffff;
  const material = { spreadRe, spreadIm, dither, crcMask };
  if (keyCache.size >= 8) keyCache.delete(keyCache.keys().next().value ?? '');
  keyCache.set(key, material);
  return material;
}

/** CRC-24 (the OpenPGP polynomial 0x864CFB, initial value 0xB704CE) of a 32-bit payload (big-endian bytes). */
export function crc24(payload: number): number {
  let crc = 0xb704ce;
  for (let shift = 24; shift >= 0; shift -= 8) {
    crc ^= ((payload >>> shift) & 0xff) << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x100_0000) crc ^= 0x186_4cfb;
    }
  }
  return crc & 0xff_ffff;
}

/**
 * The normalised projection of a frame's bins (re/im of bins FIRST_BIN..END_BIN, in that order) on
 * the key's spreading vector: Σ Re(conj(s_k)·X_k) / sqrt(Σ |X_k|²), 0 for a silent frame.
 */
export function normalisedProjection(re: Float64Array, im: Float64Array, material: WatermarkKeyMaterial): number {
  let dot = 0;
  let energy = 0;
  for (let i = 0; i < MARKED_BINS; i++) {
    dot += material.spreadRe[i]! * re[i]! + material.spreadIm[i]! * im[i]!;
    energy += re[i]! * re[i]! + im[i]! * im[i]!;
  }
  return energy > 0 ? dot / Math.sqrt(energy) : 0;
}
