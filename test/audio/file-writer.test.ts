import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AudioFileWriter, writeAudioFile } from '../../src/audio/file-writer.js';
import { decodeWav } from '../../src/audio/wav.js';
import { AudioError, InputError } from '../../src/errors.js';
import { freshDirs, makeTempDir, requireFfmpeg, runFfmpeg, sine } from './tools.js';
import { rejection } from '../helpers/errors.js';

const temp = makeTempDir('vs-writer-');
beforeAll(() => requireFfmpeg());
afterAll(() => temp.cleanup());

/** A fresh empty directory per test, so leftovers can be checked by listing it. */
const freshDir = freshDirs(temp.dir);


describe('AudioFileWriter', () => {
  it('streams chunks into a WAV whose header ffmpeg and decodeWav agree on, leaving only the file', async () => {
    const dir = freshDir();
    const path = join(dir, 'speech.wav');
    const pcm = sine(440, 0.5, 1, 24000, 2);
    const writer = await AudioFileWriter.open(path, { sampleRateHz: 24000, channels: 2 });
    expect(writer.format).toBe('wav');
    for (let start = 0; start < pcm.length; start += 4802) await writer.write(pcm.subarray(start, start + 4802));
    const result = await writer.close();
    expect(result).toEqual({ path, format: 'wav', frames: 24000, bytes: 44 + 24000 * 2 * 2 });
    expect(readdirSync(dir)).toEqual(['speech.wav']);
    const decoded = decodeWav(new Uint8Array(readFileSync(path)));
    expect(decoded).toMatchObject({ sampleRateHz: 24000, channels: 2, format: 's16' });
    expect(decoded.pcm.length).toBe(pcm.length);
    for (let i = 0; i < pcm.length; i++) expect(Math.abs(decoded.pcm[i]! - pcm[i]!)).toBeLessThanOrEqual(1 / 32768);
    const { stderr } = runFfmpeg(['-i', path, '-f', 'null', '-']);
    expect(stderr).toMatch(/Duration: 00:00:01\.00/);
  });

  it('writes f32 WAV and raw s16le / f32le', async () => {
    const dir = freshDir();
    const pcm = new Float32Array([0.5, -0.25, 1.5]);
    for (const [name, format, expectedBytes] of [
      ['a.wav', 'wav-f32', 58 + 12],
      ['a.pcm', 'pcm', 6],
      ['a.f32', 'pcm-f32', 12],
    ] as const) {
      const writer = await AudioFileWriter.open(join(dir, name), { sampleRateHz: 8000, channels: 1, format });
      await writer.write(pcm);
      expect((await writer.close()).bytes).toBe(expectedBytes);
    }
    expect(decodeWav(new Uint8Array(readFileSync(join(dir, 'a.wav')))).pcm).toEqual(pcm);
    expect(Array.from(readFileSync(join(dir, 'a.pcm')))).toEqual([0x00, 0x40, 0x00, 0xe0, 0xff, 0x7f]);
    expect(new Float32Array(new Uint8Array(readFileSync(join(dir, 'a.f32'))).buffer)).toEqual(pcm);
  });

  it('keeps writes in call order without awaiting each', async () => {
    const dir = freshDir();
    const writer = await AudioFileWriter.open(join(dir, 'order.wav'), { sampleRateHz: 8000, channels: 1, format: 'wav-f32' });
    const pending = [1, 2, 3, 4].map((v) => writer.write(new Float32Array(100).fill(v / 10)));
    await Promise.all(pending);
    await writer.close();
    const { pcm } = decodeWav(new Uint8Array(readFileSync(join(dir, 'order.wav'))));
    expect([pcm[0], pcm[100], pcm[200], pcm[399]]).toEqual([0.1, 0.2, 0.3, 0.4].map(Math.fround));
  });

  it('replaces an existing file only when closed', async () => {
    const dir = freshDir();
    const path = join(dir, 'old.wav');
    writeFileSync(path, 'previous');
    const writer = await AudioFileWriter.open(path, { sampleRateHz: 8000, channels: 1 });
    await writer.write(new Float32Array(10));
    expect(readFileSync(path, 'utf8')).toBe('previous');
    await writer.close();
    expect(decodeWav(new Uint8Array(readFileSync(path))).pcm.length).toBe(10);
  });

  it('abort() leaves nothing behind and the target untouched; close() is idempotent', async () => {
    const dir = freshDir();
    const aborted = await AudioFileWriter.open(join(dir, 'gone.wav'), { sampleRateHz: 8000, channels: 1 });
    await aborted.write(new Float32Array(100));
    await aborted.abort();
    await aborted.abort();
    expect(readdirSync(dir)).toEqual([]);
    const error = await rejection(aborted.write(new Float32Array(1)));
    expect(error).toBeInstanceOf(AudioError);
    expect(error.code).toBe('WRITER_CLOSED');
    expect(error.message).toMatch(/the writer is aborted/);

    const closed = await AudioFileWriter.open(join(dir, 'kept.wav'), { sampleRateHz: 8000, channels: 1 });
    const first = await closed.close();
    expect(await closed.close()).toBe(first);
    expect((await rejection(closed.write(new Float32Array(1)))).code).toBe('WRITER_CLOSED');
  });

  it('cleans up its temp file when the final placing fails', async () => {
    const dir = freshDir();
    const target = join(dir, 'taken.wav');
    const writer = await AudioFileWriter.open(target, { sampleRateHz: 8000, channels: 1 });
    // Planted after open (a directory at open is refused up front): the new path is taken meanwhile.
    mkdirSync(join(target, 'inside'), { recursive: true });
    await writer.write(new Float32Array(50));
    const error = await rejection(writer.close());
    expect(error.code).toBe('OUTPUT_CHANGED');
    expect(error.message).toMatch(/did not write .*taken\.wav/);
    expect(readdirSync(dir)).toEqual(['taken.wav']);
    expect(readdirSync(target)).toEqual(['inside']);
  });

  it('fails clearly when the directory does not exist', async () => {
    const error = await rejection(AudioFileWriter.open(join(temp.dir, 'missing-dir', 'x.wav'), { sampleRateHz: 8000, channels: 1 }));
    expect(error.code).toBe('FILE_WRITE_FAILED');
    expect(error.message).toMatch(/ENOENT/);
    // The user's path and its directory, never the temp file's name.
    expect(error.message).toContain(join(temp.dir, 'missing-dir', 'x.wav'));
    expect(error.message).not.toMatch(/\.tmp/);
  });

  it('validates options, formats and chunks', async () => {
    const dir = freshDir();
    await expect(AudioFileWriter.open(join(dir, 'x.wav'), { sampleRateHz: 0, channels: 1 })).rejects.toThrow(/options\.sampleRateHz/);
    await expect(AudioFileWriter.open(join(dir, 'x.mp3'), { sampleRateHz: 8000, channels: 1 })).rejects.toThrow(
      /options\.format: mp3 cannot be streamed/,
    );
    await expect(AudioFileWriter.open(join(dir, 'x.txt'), { sampleRateHz: 8000, channels: 1 })).rejects.toMatchObject({ code: 'FORMAT_UNKNOWN' });
    const writer = await AudioFileWriter.open(join(dir, 'x.wav'), { sampleRateHz: 8000, channels: 2 });
    const error = await rejection(writer.write(new Float32Array(3)));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(/divisible by channels \(2\)/);
    await writer.abort();
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('writeAudioFile', () => {
  it('writes any format picked from the extension', async () => {
    const dir = freshDir();
    const pcm = sine(300, 0.3, 0.5, 16000);
    const wav = await writeAudioFile(join(dir, 'a.wav'), pcm, { sampleRateHz: 16000, channels: 1 });
    expect(wav).toMatchObject({ format: 'wav', frames: 8000, bytes: 44 + 16000 });
    const mp3 = await writeAudioFile(join(dir, 'a.mp3'), pcm, { sampleRateHz: 16000, channels: 1 });
    expect(mp3.format).toBe('mp3');
    expect(runFfmpeg(['-i', join(dir, 'a.mp3'), '-f', 'null', '-']).stderr).toMatch(/Audio: mp3, 16000 Hz, mono/);
    expect(readdirSync(dir).sort()).toEqual(['a.mp3', 'a.wav']);
  });

  it('writes nothing when the encoder is missing', async () => {
    const dir = freshDir();
    const error = await rejection(
      writeAudioFile(join(dir, 'a.opus'), new Float32Array(100), { sampleRateHz: 16000, channels: 1, ffmpegPath: join(dir, 'nope') }),
    );
    expect(error.code).toBe('ENCODER_UNAVAILABLE');
    expect(readdirSync(dir)).toEqual([]);
  });
});
