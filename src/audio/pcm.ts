/**
 * PCM sample conversions between float32 (the package's internal format: interleaved, nominal
 * range [-1, 1]) and little-endian integer/float byte streams.
 */
import { z } from 'zod';
import { InputError } from '../errors.js';
import { parseInput } from '../validation.js';

/** Scale between a signed 16-bit sample and float: -32768 maps to exactly -1. */
const S16_SCALE = 32768;

const bytesSchema = z.instanceof(Uint8Array, { message: 'expected a Uint8Array' });
const samplesSchema = z.instanceof(Float32Array, { message: 'expected a Float32Array' });
const chunksSchema = z.array(samplesSchema);

/**
 * Converts signed 16-bit little-endian PCM bytes to float32 samples in [-1, 1).
 * Throws `InputError` (`PCM_INVALID`) when the byte count is odd.
 */
export function s16leToFloat32(bytes: Uint8Array): Float32Array {
  parseInput(bytesSchema, bytes, 'bytes');
  if (bytes.byteLength % 2 !== 0) {
    throw new InputError(`bytes: expected an even number of bytes for s16le PCM (received ${bytes.byteLength})`, {
      code: 'PCM_INVALID',
      field: 'bytes',
    });
  }
  return decodeS16le(bytes);
}

/**
 * Converts float32 samples to signed 16-bit little-endian PCM bytes. Values are scaled by 32768,
 * rounded to nearest and clamped to [-32768, 32767] (no dither); NaN becomes 0.
 */
export function float32ToS16le(samples: Float32Array): Uint8Array {
  parseInput(samplesSchema, samples, 'samples');
  return encodeS16le(samples);
}

/** Converts float32 little-endian PCM bytes to float32 samples (copied, any byte alignment). */
export function f32leToFloat32(bytes: Uint8Array): Float32Array {
  parseInput(bytesSchema, bytes, 'bytes');
  if (bytes.byteLength % 4 !== 0) {
    throw new InputError(
      `bytes: expected a multiple of 4 bytes for f32le PCM (received ${bytes.byteLength})`,
      { code: 'PCM_INVALID', field: 'bytes' },
    );
  }
  return decodeF32le(bytes);
}

/** Converts float32 samples to float32 little-endian PCM bytes (values are not clamped). */
export function float32ToF32le(samples: Float32Array): Uint8Array {
  parseInput(samplesSchema, samples, 'samples');
  return encodeF32le(samples);
}

/** Concatenates PCM chunks into one new Float32Array (an empty list gives an empty array). */
export function concatPcm(chunks: Float32Array[]): Float32Array {
  parseInput(chunksSchema, chunks, 'chunks');
  let totalSamples = 0;
  for (const chunk of chunks) totalSamples += chunk.length;
  const out = new Float32Array(totalSamples);
  let offsetSamples = 0;
  for (const chunk of chunks) {
    out.set(chunk, offsetSamples);
    offsetSamples += chunk.length;
  }
  return out;
}

/** Internal (trusted input): s16le bytes to float32. `bytes.byteLength` must be even. */
export function decodeS16le(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength >> 1);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true) / S16_SCALE;
  return out;
}

/** Internal (trusted input): float32 to s16le bytes with rounding and clamping. */
export function encodeS16le(samples: Float32Array): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) view.setInt16(i * 2, floatToInt(samples[i]!, S16_SCALE), true);
  return out;
}

/** Internal (trusted input): f32le bytes to float32. `bytes.byteLength` must be a multiple of 4. */
export function decodeF32le(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength >> 2);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** Internal (trusted input): float32 to f32le bytes. */
export function encodeF32le(samples: Float32Array): Uint8Array {
  const out = new Uint8Array(samples.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) view.setFloat32(i * 4, samples[i]!, true);
  return out;
}

/**
 * Scales a float sample to a signed integer of full scale `scale` (2^(bits-1)), rounding to
 * nearest and clamping to [-scale, scale - 1]; NaN becomes 0.
 */
export function floatToInt(sample: number, scale: number): number {
  if (Number.isNaN(sample)) return 0;
  const scaled = Math.round(sample * scale);
  if (scaled >= scale) return scale - 1;
  if (scaled < -scale) return -scale;
  return scaled;
}

/** The largest sample magnitude the engine passes on (+30 dBFS): anything beyond is a broken source. */
export const SANE_SAMPLE_LIMIT = 32;

/**
 * `pcm` with NaN and ±Infinity replaced by 0 and magnitudes clamped to ±`SANE_SAMPLE_LIMIT`: a
 * copy when anything changed, the same array when it was already sane (never mutates its input).
 */
export function sanitizePcm(pcm: Float32Array): Float32Array {
  let index = 0;
  while (index < pcm.length && Math.abs(pcm[index]!) <= SANE_SAMPLE_LIMIT) index++;
  if (index === pcm.length) return pcm;
  const out = pcm.slice();
  for (; index < out.length; index++) {
    const sample = out[index]!;
    if (Number.isNaN(sample)) out[index] = 0;
    else if (sample > SANE_SAMPLE_LIMIT) out[index] = sample === Infinity ? 0 : SANE_SAMPLE_LIMIT;
    else if (sample < -SANE_SAMPLE_LIMIT) out[index] = sample === -Infinity ? 0 : -SANE_SAMPLE_LIMIT;
  }
  return out;
}
