/**
 * WAV (RIFF/WAVE) encoding and decoding to and from interleaved float32 PCM.
 * Decoding accepts integer PCM (8/16/24/32-bit), IEEE float (32/64-bit), WAVE_FORMAT_EXTENSIBLE,
 * unknown and odd-sized chunks (with their pad byte) and streaming headers whose data size is a
 * placeholder (0, 0xFFFFFFFF, or espeak-ng's 0x7FFFF000): those are read to the end of the input.
 */
import { z } from 'zod';
import { InputError } from '../errors.js';
import { parseInput } from '../validation.js';
import { floatToInt } from './pcm.js';

/** Sample encodings a WAV file can hold here: unsigned 8-bit, signed 16/24/32-bit, float 32/64-bit. */
export type WavSampleFormat = 'u8' | 's16' | 's24' | 's32' | 'f32' | 'f64';

/** The PCM and format read from a WAV file. */
export interface DecodedWav {
  /** Interleaved float32 samples in [-1, 1] (float files may exceed it). */
  pcm: Float32Array;
  sampleRateHz: number;
  channels: number;
  /** Sample encoding found in the file. */
  format: WavSampleFormat;
}

/** Options of `encodeWav`. */
export interface EncodeWavOptions {
  sampleRateHz: number;
  channels: number;
  /** Sample encoding to write: `s16` (default for most players) or `f32` (lossless). */
  format: WavSampleFormat;
}

/** Zod schema of a sample format name. */
export const wavSampleFormatSchema = z.enum(['u8', 's16', 's24', 's32', 'f32', 'f64']);

/** Zod schema of `EncodeWavOptions`. */
export const encodeWavOptionsSchema = z.object({
  sampleRateHz: z.number().int().min(1).max(0x7fffffff),
  channels: z.number().int().min(1).max(0xffff),
  format: wavSampleFormatSchema,
});

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** Largest value a RIFF size field can hold. */
const MAX_RIFF_BYTES = 0xffffffff;

/** Bytes per sample of each format. */
export const BYTES_PER_SAMPLE: Readonly<Record<WavSampleFormat, number>> = Object.freeze({
  u8: 1,
  s16: 2,
  s24: 3,
  s32: 4,
  f32: 4,
  f64: 8,
});

/** Encodes interleaved float32 PCM as a complete WAV file (integer formats are clamped, no dither). */
export function encodeWav(pcm: Float32Array, options: EncodeWavOptions): Uint8Array {
  parseInput(z.instanceof(Float32Array, { message: 'expected a Float32Array' }), pcm, 'pcm');
  const { sampleRateHz, channels, format } = parseInput(encodeWavOptionsSchema, options, 'options');
  if (pcm.length % channels !== 0) {
    throw new InputError(
      `pcm: expected a sample count divisible by channels (${channels}) (received ${pcm.length} samples)`,
      { field: 'pcm' },
    );
  }
  const dataBytes = pcm.length * BYTES_PER_SAMPLE[format];
  const header = wavHeader({ sampleRateHz, channels, format }, dataBytes);
  if (header.length + dataBytes + (dataBytes & 1) - 8 > MAX_RIFF_BYTES) {
    throw new InputError(`pcm: too long for a WAV file (${dataBytes} data bytes, limit 4 GiB)`, { field: 'pcm' });
  }
  const out = new Uint8Array(header.length + dataBytes + (dataBytes & 1));
  out.set(header, 0);
  writeSamples(pcm, format, out, header.length);
  return out;
}

/**
 * The header of a WAV file holding `dataBytes` bytes of sample data (inner, trusted options).
 * Float formats get an 18-byte fmt chunk and a `fact` chunk, as the RIFF spec asks for non-PCM.
 */
export function wavHeader(options: EncodeWavOptions, dataBytes: number): Uint8Array {
  const { sampleRateHz, channels, format } = options;
  const isFloat = format === 'f32' || format === 'f64';
  const bytesPerSample = BYTES_PER_SAMPLE[format];
  const fmtBytes = isFloat ? 18 : 16;
  const factChunkBytes = isFloat ? 12 : 0;
  const headerBytes = 12 + 8 + fmtBytes + factChunkBytes + 8;
  const out = new Uint8Array(headerBytes);
  const view = new DataView(out.buffer);
  const padBytes = dataBytes & 1;
  writeAscii(out, 0, 'RIFF');
  view.setUint32(4, Math.min(MAX_RIFF_BYTES, headerBytes - 8 + dataBytes + padBytes), true);
  writeAscii(out, 8, 'WAVE');
  writeAscii(out, 12, 'fmt ');
  view.setUint32(16, fmtBytes, true);
  view.setUint16(20, isFloat ? WAVE_FORMAT_IEEE_FLOAT : WAVE_FORMAT_PCM, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRateHz, true);
  view.setUint32(28, sampleRateHz * channels * bytesPerSample, true);
  view.setUint16(32, channels * bytesPerSample, true);
  view.setUint16(34, bytesPerSample * 8, true);
  let offset = 36;
  if (isFloat) {
    view.setUint16(36, 0, true); // cbSize: no extension
    writeAscii(out, 38, 'fact');
    view.setUint32(42, 4, true);
    view.setUint32(46, Math.floor(dataBytes / (channels * bytesPerSample)), true);
    offset = 50;
  }
  writeAscii(out, offset, 'data');
  view.setUint32(offset + 4, Math.min(MAX_RIFF_BYTES, dataBytes), true);
  return out;
}

/**
 * The header of a WAV stream of unknown length (for pipes and HTTP): RIFF and data sizes are
 * 0xFFFFFFFF, which `decodeWav`, ffmpeg and common players read as "until the end of the stream".
 */
export function wavStreamHeader(options: EncodeWavOptions): Uint8Array {
  const parsed = parseInput(encodeWavOptionsSchema, options, 'options');
  const header = wavHeader(parsed, 0);
  const view = new DataView(header.buffer);
  view.setUint32(4, MAX_RIFF_BYTES, true);
  view.setUint32(header.length - 4, MAX_RIFF_BYTES, true);
  return header;
}

/** Writes float samples into `out` at `offset` in the given encoding (inner, trusted input). */
export function writeSamples(pcm: Float32Array, format: WavSampleFormat, out: Uint8Array, offset: number): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const n = pcm.length;
  switch (format) {
    case 'u8':
      for (let i = 0; i < n; i++) out[offset + i] = floatToInt(pcm[i]!, 128) + 128;
      break;
    case 's16':
      for (let i = 0; i < n; i++) view.setInt16(offset + i * 2, floatToInt(pcm[i]!, 32768), true);
      break;
    case 's24':
      for (let i = 0; i < n; i++) {
        const value = floatToInt(pcm[i]!, 8388608);
        const at = offset + i * 3;
        out[at] = value & 0xff;
        out[at + 1] = (value >> 8) & 0xff;
        out[at + 2] = (value >> 16) & 0xff;
      }
      break;
    case 's32':
      for (let i = 0; i < n; i++) view.setInt32(offset + i * 4, floatToInt(pcm[i]!, 2147483648), true);
      break;
    case 'f32':
      for (let i = 0; i < n; i++) view.setFloat32(offset + i * 4, pcm[i]!, true);
      break;
    case 'f64':
      for (let i = 0; i < n; i++) view.setFloat64(offset + i * 8, pcm[i]!, true);
      break;
  }
}

/** Reads `frames * channels` samples of `format` from `bytes` at `offset` into float32. */
function readSamples(bytes: Uint8Array, offset: number, sampleCount: number, format: WavSampleFormat): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(sampleCount);
  switch (format) {
    case 'u8':
      for (let i = 0; i < sampleCount; i++) out[i] = (bytes[offset + i]! - 128) / 128;
      break;
    case 's16':
      for (let i = 0; i < sampleCount; i++) out[i] = view.getInt16(offset + i * 2, true) / 32768;
      break;
    case 's24':
      for (let i = 0; i < sampleCount; i++) {
        const at = offset + i * 3;
        // Shift the top byte into bit 31 and back to sign-extend the 24-bit value.
        const value = ((bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16)) << 8) >> 8;
        out[i] = value / 8388608;
      }
      break;
    case 's32':
      for (let i = 0; i < sampleCount; i++) out[i] = view.getInt32(offset + i * 4, true) / 2147483648;
      break;
    case 'f32':
      for (let i = 0; i < sampleCount; i++) out[i] = view.getFloat32(offset + i * 4, true);
      break;
    case 'f64':
      for (let i = 0; i < sampleCount; i++) out[i] = view.getFloat64(offset + i * 8, true);
      break;
  }
  return out;
}

/** Data sizes that streaming writers put in a header they never patch: read to the end instead. */
function isPlaceholderDataSize(declaredBytes: number): boolean {
  return declaredBytes === 0 || declaredBytes >= 0x7fff0000;
}

function wavInvalid(message: string): InputError {
  return new InputError(`wav: ${message}`, { code: 'WAV_INVALID', field: 'wav' });
}

/**
 * Decodes a WAV file to interleaved float32 PCM. Throws `InputError` with code `WAV_INVALID`
 * naming what is wrong (not RIFF/WAVE, missing or bad fmt chunk, unsupported encoding, truncated data).
 */
export function decodeWav(bytes: Uint8Array): DecodedWav {
  parseInput(z.instanceof(Uint8Array, { message: 'expected a Uint8Array' }), bytes, 'bytes');
  if (bytes.byteLength < 12) throw wavInvalid(`file is ${bytes.byteLength} bytes, shorter than a RIFF header (12)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const riff = readAscii(bytes, 0, 4);
  if (riff !== 'RIFF') {
    const hint = riff === 'RIFX' ? ' (big-endian RIFX is not supported)' : riff === 'RF64' ? ' (RF64 is not supported)' : '';
    throw wavInvalid(`expected "RIFF" at byte 0, found ${JSON.stringify(riff)}${hint}`);
  }
  const wave = readAscii(bytes, 8, 4);
  if (wave !== 'WAVE') throw wavInvalid(`expected "WAVE" at byte 8, found ${JSON.stringify(wave)}`);

  let fmt: { format: WavSampleFormat; channels: number; sampleRateHz: number; blockAlignBytes: number } | undefined;
  let data: { offset: number; bytes: number } | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.byteLength) {
    const id = readAscii(bytes, offset, 4);
    const declaredBytes = view.getUint32(offset + 4, true);
    const bodyOffset = offset + 8;
    const remainingBytes = bytes.byteLength - bodyOffset;
    if (id === 'data') {
      // A size of 0 with bytes after it is taken as an unpatched streaming header, not empty audio.
      if (declaredBytes <= remainingBytes && !(declaredBytes === 0 && remainingBytes > 0)) {
        data = { offset: bodyOffset, bytes: declaredBytes };
      } else if (isPlaceholderDataSize(declaredBytes)) {
        data = { offset: bodyOffset, bytes: remainingBytes };
        break; // a streaming header: the data runs to the end of the input
      } else {
        throw wavInvalid(`data chunk declares ${declaredBytes} bytes but only ${remainingBytes} remain (file truncated)`);
      }
    } else if (declaredBytes > remainingBytes) {
      throw wavInvalid(`${JSON.stringify(id)} chunk at byte ${offset} declares ${declaredBytes} bytes but only ${remainingBytes} remain`);
    } else if (id === 'fmt ') {
      fmt = parseFmt(view, bodyOffset, declaredBytes);
    }
    if (data !== undefined && fmt !== undefined) break;
    offset = bodyOffset + declaredBytes + (declaredBytes & 1); // chunks are padded to even sizes
  }
  if (fmt === undefined) throw wavInvalid('no "fmt " chunk found');
  if (data === undefined) throw wavInvalid('no "data" chunk found');
  const frames = Math.floor(data.bytes / fmt.blockAlignBytes);
  const pcm = readSamples(bytes, data.offset, frames * fmt.channels, fmt.format);
  return { pcm, sampleRateHz: fmt.sampleRateHz, channels: fmt.channels, format: fmt.format };
}

function parseFmt(
  view: DataView,
  offset: number,
  sizeBytes: number,
): { format: WavSampleFormat; channels: number; sampleRateHz: number; blockAlignBytes: number } {
  if (sizeBytes < 16) throw wavInvalid(`"fmt " chunk is ${sizeBytes} bytes, expected at least 16`);
  let formatTag = view.getUint16(offset, true);
  const channels = view.getUint16(offset + 2, true);
  const sampleRateHz = view.getUint32(offset + 4, true);
  const blockAlignBytes = view.getUint16(offset + 12, true);
  const bitsPerSample = view.getUint16(offset + 14, true);
  if (formatTag === WAVE_FORMAT_EXTENSIBLE) {
    if (sizeBytes < 40) throw wavInvalid(`WAVE_FORMAT_EXTENSIBLE "fmt " chunk is ${sizeBytes} bytes, expected 40`);
    const validBits = view.getUint16(offset + 18, true);
    // The sub-format GUID starts with the plain format tag (KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT).
    formatTag = view.getUint16(offset + 24, true);
    // Container size decides the layout; valid bits only say how many of them carry signal.
    if (validBits > bitsPerSample) throw wavInvalid(`valid bits (${validBits}) exceed the container (${bitsPerSample})`);
  }
  if (channels === 0) throw wavInvalid('"fmt " chunk says 0 channels');
  if (sampleRateHz === 0) throw wavInvalid('"fmt " chunk says a sample rate of 0 Hz');
  let format: WavSampleFormat;
  if (formatTag === WAVE_FORMAT_PCM) {
    const byBits: Record<number, WavSampleFormat> = { 8: 'u8', 16: 's16', 24: 's24', 32: 's32' };
    const found = byBits[bitsPerSample];
    if (found === undefined) throw wavInvalid(`unsupported integer PCM with ${bitsPerSample} bits per sample (expected 8, 16, 24 or 32)`);
    format = found;
  } else if (formatTag === WAVE_FORMAT_IEEE_FLOAT) {
    if (bitsPerSample !== 32 && bitsPerSample !== 64) {
      throw wavInvalid(`unsupported float PCM with ${bitsPerSample} bits per sample (expected 32 or 64)`);
    }
    format = bitsPerSample === 32 ? 'f32' : 'f64';
  } else {
    throw wavInvalid(
      `unsupported format tag 0x${formatTag.toString(16).padStart(4, '0')} (expected PCM 0x0001, IEEE float 0x0003 or EXTENSIBLE with one of them)`,
    );
  }
  const expectedAlign = channels * BYTES_PER_SAMPLE[format];
  if (blockAlignBytes !== expectedAlign) {
    throw wavInvalid(`block align is ${blockAlignBytes} bytes, expected ${expectedAlign} for ${channels} channel(s) of ${format}`);
  }
  return { format, channels, sampleRateHz, blockAlignBytes };
}

function writeAscii(out: Uint8Array, offset: number, text: string): void {
  for (let i = 0; i < text.length; i++) out[offset + i] = text.charCodeAt(i);
}

function readAscii(bytes: Uint8Array, offset: number, length: number): string {
  let text = '';
  for (let i = 0; i < length && offset + i < bytes.byteLength; i++) text += String.fromCharCode(bytes[offset + i]!);
  return text;
}
