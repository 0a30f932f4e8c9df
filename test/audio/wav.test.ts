import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeWav, encodeWav, wavStreamHeader, type WavSampleFormat } from '../../src/audio/wav.js';
import { InputError } from '../../src/errors.js';
import { espeakWav, makeTempDir, requireFfmpeg, runFfmpeg, sine } from './tools.js';

const temp = makeTempDir('vs-wav-');
beforeAll(() => requireFfmpeg());
afterAll(() => temp.cleanup());

function expectWavError(bytes: Uint8Array, message: RegExp): void {
  let caught: unknown;
  try {
    decodeWav(bytes);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(InputError);
  expect((caught as InputError).code).toBe('WAV_INVALID');
  expect((caught as InputError).message).toMatch(message);
}

/** Builds a RIFF file from raw chunks (id, body) with pad bytes after odd bodies. */
function riff(chunks: Array<[string, Uint8Array]>, riffSizeOverride?: number): Uint8Array {
  const parts: number[] = [];
  for (const [id, body] of chunks) {
    for (const ch of id) parts.push(ch.charCodeAt(0));
    const size = body.length;
    parts.push(size & 0xff, (size >> 8) & 0xff, (size >> 16) & 0xff, (size >>> 24) & 0xff, ...body);
    if (size & 1) parts.push(0);
  }
  const out = new Uint8Array(12 + parts.length);
  const view = new DataView(out.buffer);
  out.set([0x52, 0x49, 0x46, 0x46], 0);
  view.setUint32(4, riffSizeOverride ?? out.length - 8, true);
  out.set([0x57, 0x41, 0x56, 0x45], 8);
  out.set(parts, 12);
  return out;
}

function fmtBody(tag: number, channels: number, rateHz: number, bits: number, extra?: Uint8Array): Uint8Array {
  const body = new Uint8Array(16 + (extra ? 2 + extra.length : 0));
  const view = new DataView(body.buffer);
  const align = channels * (bits / 8);
  view.setUint16(0, tag, true);
  view.setUint16(2, channels, true);
  view.setUint32(4, rateHz, true);
  view.setUint32(8, rateHz * align, true);
  view.setUint16(12, align, true);
  view.setUint16(14, bits, true);
  if (extra) {
    view.setUint16(16, extra.length, true);
    body.set(extra, 18);
  }
  return body;
}

/** WAVEFORMATEXTENSIBLE tail: valid bits, channel mask, sub-format GUID starting with `subTag`. */
function extensibleTail(validBits: number, subTag: number): Uint8Array {
  const tail = new Uint8Array(22);
  const view = new DataView(tail.buffer);
  view.setUint16(0, validBits, true);
  view.setUint32(2, 0x3, true);
  view.setUint16(6, subTag, true);
  tail.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 8);
  return tail;
}

describe('encodeWav / decodeWav round trip', () => {
  const pcm = new Float32Array([0, 0.5, -0.5, 0.25, -1, 0.999, 0.001, -0.75]);
  const tolerance: Record<WavSampleFormat, number> = { u8: 1 / 128, s16: 1 / 32768, s24: 1 / 8388608, s32: 1e-7, f32: 0, f64: 0 };
  for (const format of ['u8', 's16', 's24', 's32', 'f32', 'f64'] as const) {
    it(`keeps samples, rate and channels in ${format}`, () => {
      const decoded = decodeWav(encodeWav(pcm, { sampleRateHz: 22050, channels: 2, format }));
      expect(decoded.sampleRateHz).toBe(22050);
      expect(decoded.channels).toBe(2);
      expect(decoded.format).toBe(format);
      expect(decoded.pcm.length).toBe(pcm.length);
      for (let i = 0; i < pcm.length; i++) expect(Math.abs(decoded.pcm[i]! - pcm[i]!)).toBeLessThanOrEqual(tolerance[format]);
    });
  }

  it('round-trips any rate, channel count and length within the format precision (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 192000 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 50 }),
        fc.constantFrom('u8', 's16', 's24', 's32', 'f32', 'f64'),
        (sampleRateHz, channels, frames, format) => {
          const pcm = new Float32Array(frames * channels).map((_, i) => Math.sin(i * 1.7) * 0.99);
          const decoded = decodeWav(encodeWav(pcm, { sampleRateHz, channels, format }));
          expect(decoded.sampleRateHz).toBe(sampleRateHz);
          expect(decoded.channels).toBe(channels);
          expect(decoded.pcm.length).toBe(pcm.length);
          for (let i = 0; i < pcm.length; i++) expect(Math.abs(decoded.pcm[i]! - pcm[i]!)).toBeLessThanOrEqual(tolerance[format] + 1e-7);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('writes an open-ended streaming header that decodeWav reads to the end', () => {
    const header = wavStreamHeader({ sampleRateHz: 16000, channels: 1, format: 's16' });
    const view = new DataView(header.buffer);
    expect(header.length).toBe(44);
    expect(view.getUint32(4, true)).toBe(0xffffffff);
    expect(view.getUint32(40, true)).toBe(0xffffffff);
    const file = new Uint8Array(header.length + 4);
    file.set(header);
    file.set([0x00, 0x40, 0x00, 0xc0], header.length);
    expect(Array.from(decodeWav(file).pcm)).toEqual([0.5, -0.5]);
    expect(() => wavStreamHeader({ sampleRateHz: 16000, channels: 0, format: 's16' })).toThrow(/options\.channels/);
  });

  it('pads an odd-length data chunk so the RIFF size stays even', () => {
    const bytes = encodeWav(new Float32Array(3), { sampleRateHz: 8000, channels: 1, format: 'u8' });
    expect(bytes.length % 2).toBe(0);
    expect(new DataView(bytes.buffer).getUint32(4, true)).toBe(bytes.length - 8);
    expect(decodeWav(bytes).pcm.length).toBe(3);
  });

  it('rejects bad options naming the field', () => {
    expect(() => encodeWav(new Float32Array(2), { sampleRateHz: 0, channels: 1, format: 's16' })).toThrow(/options\.sampleRateHz/);
    expect(() => encodeWav(new Float32Array(2), { sampleRateHz: 8000, channels: 1, format: 'mp3' as 's16' })).toThrow(/options\.format/);
    expect(() => encodeWav(new Float32Array(3), { sampleRateHz: 8000, channels: 2, format: 's16' })).toThrow(/divisible by channels \(2\).*3 samples/);
  });
});

describe('interoperability with ffmpeg and espeak-ng', () => {
  it('ffmpeg reads what encodeWav writes (s16 and f32) sample for sample', () => {
    const pcm = sine(440, 0.5, 0.1, 24000, 2);
    for (const format of ['s16', 'f32'] as const) {
      const path = join(temp.dir, `ours-${format}.wav`);
      writeFileSync(path, encodeWav(pcm, { sampleRateHz: 24000, channels: 2, format }));
      const { stdout, stderr } = runFfmpeg(['-i', path, '-f', 'f32le', '-acodec', 'pcm_f32le', '-']);
      expect(stderr).toMatch(/24000 Hz, stereo/);
      const back = new Float32Array(stdout.buffer.slice(stdout.byteOffset, stdout.byteOffset + stdout.byteLength));
      expect(back.length).toBe(pcm.length);
      let maxError = 0;
      for (let i = 0; i < pcm.length; i++) maxError = Math.max(maxError, Math.abs(back[i]! - pcm[i]!));
      expect(maxError).toBeLessThanOrEqual(format === 'f32' ? 0 : 1 / 32768);
    }
  });

  for (const [codec, format] of [
    ['pcm_u8', 'u8'],
    ['pcm_s16le', 's16'],
    ['pcm_s24le', 's24'],
    ['pcm_s32le', 's32'],
    ['pcm_f32le', 'f32'],
    ['pcm_f64le', 'f64'],
  ] as const) {
    it(`decodes ffmpeg's ${codec} WAV (with its LIST chunk) like ffmpeg does`, () => {
      const { stdout: wav } = runFfmpeg(['-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=16000:duration=0.05', '-ac', '2', '-c:a', codec, '-f', 'wav', '-']);
      const decoded = decodeWav(new Uint8Array(wav));
      expect(decoded.format).toBe(format);
      expect(decoded.sampleRateHz).toBe(16000);
      expect(decoded.channels).toBe(2);
      const { stdout } = runFfmpeg(['-f', 'wav', '-i', '-', '-f', 'f32le', '-acodec', 'pcm_f32le', '-'], new Uint8Array(wav));
      const reference = new Float32Array(stdout.buffer.slice(stdout.byteOffset, stdout.byteOffset + stdout.byteLength));
      expect(decoded.pcm.length).toBe(reference.length);
      for (let i = 0; i < reference.length; i++) expect(Math.abs(decoded.pcm[i]! - reference[i]!)).toBeLessThan(1e-6);
    });
  }

  it('reads espeak-ng --stdout output, whose header has a placeholder data size, to the end', () => {
    const wav = espeakWav('hello world');
    expect(new DataView(wav.buffer).getUint32(40, true)).toBeGreaterThan(wav.length); // the placeholder
    const decoded = decodeWav(wav);
    expect(decoded.sampleRateHz).toBe(22050);
    expect(decoded.channels).toBe(1);
    expect(decoded.format).toBe('s16');
    expect(decoded.pcm.length).toBe((wav.length - 44) / 2);
    expect(decoded.pcm.some((s) => Math.abs(s) > 0.05)).toBe(true);
  });
});

describe('decodeWav edge cases', () => {
  const data = new Uint8Array([0x00, 0x40, 0x00, 0xc0]); // s16: 0.5, -0.5

  it('skips unknown and odd-sized chunks with their pad byte', () => {
    const bytes = riff([['junk', new Uint8Array([1, 2, 3])], ['fmt ', fmtBody(1, 1, 8000, 16)], ['LIST', new Uint8Array(5)], ['data', data]]);
    expect(Array.from(decodeWav(bytes).pcm)).toEqual([0.5, -0.5]);
  });

  it('accepts a data chunk before the fmt chunk', () => {
    const bytes = riff([['data', data], ['fmt ', fmtBody(1, 1, 8000, 16)]]);
    expect(Array.from(decodeWav(bytes).pcm)).toEqual([0.5, -0.5]);
  });

  for (const placeholder of [0, 0xffffffff]) {
    it(`reads to the end when the data size is 0x${placeholder.toString(16)}, dropping a partial last frame`, () => {
      const bytes = riff([['fmt ', fmtBody(1, 1, 8000, 16)], ['data', data]], 0xffffffff);
      const withTail = new Uint8Array(bytes.length + 1);
      withTail.set(bytes);
      withTail[bytes.length] = 0x7f;
      new DataView(withTail.buffer).setUint32(40, placeholder, true); // the data chunk size field
      expect(Array.from(decodeWav(withTail).pcm)).toEqual([0.5, -0.5]);
    });
  }

  it('decodes WAVE_FORMAT_EXTENSIBLE integer and float', () => {
    const s24 = riff([['fmt ', fmtBody(0xfffe, 1, 48000, 24, extensibleTail(24, 1))], ['data', new Uint8Array([0, 0, 0x40, 0, 0, 0xc0])]]);
    expect(decodeWav(s24)).toMatchObject({ format: 's24', sampleRateHz: 48000 });
    expect(Array.from(decodeWav(s24).pcm)).toEqual([0.5, -0.5]);
    const f32 = new Uint8Array(new Float32Array([0.25, -2]).buffer);
    const float = riff([['fmt ', fmtBody(0xfffe, 2, 44100, 32, extensibleTail(32, 3))], ['data', f32]]);
    expect(decodeWav(float)).toMatchObject({ format: 'f32', channels: 2 });
    expect(Array.from(decodeWav(float).pcm)).toEqual([0.25, -2]);
  });

  it('names what is wrong', () => {
    expectWavError(new Uint8Array(4), /shorter than a RIFF header/);
    expectWavError(new TextEncoder().encode('RIFX\0\0\0\0WAVE'), /expected "RIFF".*"RIFX".*big-endian/);
    expectWavError(new TextEncoder().encode('RIFF\0\0\0\0AVI '), /expected "WAVE" at byte 8, found "AVI "/);
    expectWavError(riff([['data', data]]), /no "fmt " chunk/);
    expectWavError(riff([['fmt ', fmtBody(1, 1, 8000, 16)]]), /no "data" chunk/);
    expectWavError(riff([['fmt ', fmtBody(0x55, 1, 8000, 16)], ['data', data]]), /unsupported format tag 0x0055/);
    expectWavError(riff([['fmt ', fmtBody(1, 1, 8000, 12)], ['data', data]]), /12 bits per sample/);
    expectWavError(riff([['fmt ', fmtBody(3, 1, 8000, 16)], ['data', data]]), /float PCM with 16 bits/);
    expectWavError(riff([['fmt ', fmtBody(1, 0, 8000, 16)], ['data', data]]), /0 channels/);
    expectWavError(riff([['fmt ', fmtBody(1, 1, 0, 16)], ['data', data]]), /sample rate of 0 Hz/);
    expectWavError(riff([['fmt ', new Uint8Array(10)], ['data', data]]), /"fmt " chunk is 10 bytes, expected at least 16/);
    expectWavError(riff([['fmt ', fmtBody(0xfffe, 1, 8000, 16, new Uint8Array(4))], ['data', data]]), /EXTENSIBLE.*expected 40/);
    const truncated = riff([['fmt ', fmtBody(1, 1, 8000, 16)], ['data', data]]);
    new DataView(truncated.buffer).setUint32(truncated.length - 8, 1000, true);
    expectWavError(truncated, /data chunk declares 1000 bytes but only 4 remain \(file truncated\)/);
  });

  it('rejects input that is not bytes', () => {
    expect(() => decodeWav('RIFF' as unknown as Uint8Array)).toThrow(/bytes: expected a Uint8Array/);
  });
});
