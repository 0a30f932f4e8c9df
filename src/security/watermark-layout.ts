/**
 * The watermark's shared layout (embedder and detector must agree on every number here) and its
 * keyed material: the time-frequency tiles, the message (sync + payload + CRC), and the per-bit
 * spreading vector and dither derived from the key with HMAC-SHA-256.
 *
 * Layout: frames of 40 ms on a grid from the stream's first sample; in each frame, the energies of
 * BAND_EDGES_HZ's bands (300 Hz to 5.6 kHz, under the detector's 12.8 kHz analysis rate's passband, about critical-band wide, so codecs that code band
 * energies keep them). Frame f carries message bit f mod MESSAGE_BITS by quantising the projection
 * of its bands' log energies on a keyed ±1 vector (spread-transform dither modulation): gain- and
 * resampling-invariant, and the host does not interfere with the decision (the embedder knows it).
 */
import { createHmac } from 'node:crypto';

/** Frame length in seconds: 40 ms is a whole number of samples at 8/11.025/16/22.05/24/32/44.1/48 kHz. */
export const FRAME_SECONDS = 0.04;
/** DFT bin spacing in Hz (1 / FRAME_SECONDS). */
export const BIN_HZ = 25;
/** Band edges in Hz; band j covers [edge j, edge j+1). */
export const BAND_EDGES_HZ: readonly number[] = [300, 450, 600, 750, 900, 1050, 1200, 1400, 1600, 1800, 2000, 2250, 2500, 2800, 3200, 3600, 4000, 4400, 4800, 5200, 5600];
/** Number of bands per frame. */
export const BAND_COUNT = BAND_EDGES_HZ.length - 1;
/**
 * Frames per block: one block carries one message bit. One frame measured best (longer blocks
 * gave no less codec error per tile and lose more at chunk edges); the code handles more.
 */
export const FRAMES_PER_BLOCK = 1;
/** Tiles (frame, band) per block: the length of a spreading vector. */
export const TILES = BAND_COUNT * FRAMES_PER_BLOCK;
/** First and last-plus-one DFT bin touched. */
export const FIRST_BIN = (BAND_EDGES_HZ[0] ?? 0) / BIN_HZ;
export const END_BIN = (BAND_EDGES_HZ[BAND_COUNT] ?? 0) / BIN_HZ;
/** Lowest output rate the mark supports (its top band must sit under Nyquist). */
export const MIN_RATE_HZ = 16_000;
/** Message: 16 sync bits, 32 payload bits, 16 CRC bits; one bit per block, repeated (2.56 s per round). */
export const SYNC_BITS = 16;
export const PAYLOAD_BITS = 32;
export const CRC_BITS = 16;
export const MESSAGE_BITS = SYNC_BITS + PAYLOAD_BITS + CRC_BITS;
/**
 * Quantiser step of the projection, in dB: the robustness/strength trade-off. With the power
 * budget (watermark-embed.ts) 5.5 dB survives MP3 64 kbps (bench/watermark-robustness.ts).
 */
export const STEP_DB = 5.5;
/** Log-energy floor relative to the frame's mean band energy (keeps near-empty bands stable). */
export const RELATIVE_FLOOR = 1e-3;
/** Absolute energy floor (digital silence). */
export const ABSOLUTE_FLOOR = 1e-12;

/** The key's material: per message bit, a ±1 spreading vector over the bands and a dither in [0, STEP_DB). */
export interface WatermarkKeyMaterial {
  /** spreading[bit * BAND_COUNT + band] ∈ {-1, +1}, each row balanced (sum 0). */
  spreading: Float64Array;
  dither: Float64Array;
  /** The 16 sync bits. */
  sync: Uint8Array;
  /** XOR mask of the 16 CRC bits (a wrong key fails the check). */
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

/** Derives the key's spreading vectors, dithers, sync word and CRC mask. */
export function keyMaterial(key: string): WatermarkKeyMaterial {
  const spreading = new Float64Array(MESSAGE_BITS * TILES);
  const words = keyedWords(key, 'spread', MESSAGE_BITS * TILES);
  for (let bit = 0; bit < MESSAGE_BITS; bit++) {
    // Each frame's row is balanced (half +1, half -1, in a keyed order), so a gain change cancels.
    for (let frame = 0; frame < FRAMES_PER_BLOCK; frame++) {
      const row: number[] = Array.from({ length: BAND_COUNT }, (_, band) => (band < BAND_COUNT / 2 ? 1 : -1));
      const base = bit * TILES + frame * BAND_COUNT;
      for (let i = BAND_COUNT - 1; i > 0; i--) {
        const j = (words[base + i] ?? 0) % (i + 1);
        [row[i], row[j]] = [row[j] ?? 0, row[i] ?? 0];
      }
      spreading.set(row, base);
    }
  }
  const ditherWords = keyedWords(key, 'dither', MESSAGE_BITS);
  const dither = Float64Array.from(ditherWords, (word) => (word / 2 ** 32) * STEP_DB);
  const syncWord = keyedWords(key, 'sync', 1)[0] ?? 0;
  const sync = Uint8Array.from({ length: SYNC_BITS }, (_, i) => (syncWord >>> i) & 1);
  const crcMask = (keyedWords(key, 'crc', 1)[0] ?? 0) & 0xffff;
  return { spreading, dither, sync, crcMask };
}

/** CRC-16/CCITT-FALSE of a 32-bit payload (big-endian bytes). */
export function crc16(payload: number): number {
  let crc = 0xffff;
  for (let shift = 24; shift >= 0; shift -= 8) {
    crc ^= ((payload >>> shift) & 0xff) << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The message bits for a payload under a key: sync, payload (MSB first), masked CRC. */
export function messageBits(payload: number, material: WatermarkKeyMaterial): Uint8Array {
  const bits = new Uint8Array(MESSAGE_BITS);
  bits.set(material.sync, 0);
  for (let i = 0; i < PAYLOAD_BITS; i++) bits[SYNC_BITS + i] = (payload >>> (PAYLOAD_BITS - 1 - i)) & 1;
  const crc = crc16(payload) ^ material.crcMask;
  for (let i = 0; i < CRC_BITS; i++) bits[SYNC_BITS + PAYLOAD_BITS + i] = (crc >>> (CRC_BITS - 1 - i)) & 1;
  return bits;
}

/** Band index of each DFT bin in [FIRST_BIN, END_BIN). */
export const BAND_OF_BIN: Uint8Array = (() => {
  const bands = new Uint8Array(END_BIN - FIRST_BIN);
  for (let band = 0; band < BAND_COUNT; band++) {
    for (let bin = (BAND_EDGES_HZ[band] ?? 0) / BIN_HZ; bin < (BAND_EDGES_HZ[band + 1] ?? 0) / BIN_HZ; bin++) bands[bin - FIRST_BIN] = band;
  }
  return bands;
})();

/** Band energies of one frame from its per-bin energies (bins FIRST_BIN..END_BIN), into `out` at `offset`. */
export function bandEnergies(binEnergies: Float64Array, out: Float64Array, offset: number): void {
  for (let band = 0; band < BAND_COUNT; band++) out[offset + band] = 0;
  for (let i = 0; i < binEnergies.length; i++) out[offset + (BAND_OF_BIN[i] ?? 0)]! += binEnergies[i] ?? 0;
}

/** Log tile energies (dB) of a block, with a floor relative to each frame's mean band energy. */
export function logTileEnergies(tileEnergies: Float64Array, out: Float64Array): void {
  for (let frame = 0; frame < FRAMES_PER_BLOCK; frame++) {
    const base = frame * BAND_COUNT;
    let mean = 0;
    for (let band = 0; band < BAND_COUNT; band++) mean += tileEnergies[base + band] ?? 0;
    const floor = (mean / BAND_COUNT) * RELATIVE_FLOOR + ABSOLUTE_FLOOR;
    for (let band = 0; band < BAND_COUNT; band++) out[base + band] = 10 * Math.log10((tileEnergies[base + band] ?? 0) + floor);
  }
}

/** Projection of a block's log tile energies (frame-major) on bit `bit`'s spreading vector (normalised). */
export function projection(logEnergies: Float64Array, bit: number, material: WatermarkKeyMaterial): number {
  let sum = 0;
  const row = bit * TILES;
  for (let tile = 0; tile < TILES; tile++) sum += (material.spreading[row + tile] ?? 0) * (logEnergies[tile] ?? 0);
  return sum / Math.sqrt(TILES);
}
