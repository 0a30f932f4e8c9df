import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIO_FORMATS, availableFormats, encodeAudio, formatFromExtension, formatInfo } from '../../src/audio/encode.js';
import { decodeWav } from '../../src/audio/wav.js';
import { AbortError, AudioError, InputError } from '../../src/errors.js';
import { makeTempDir, requireFfmpeg, runFfmpeg, sine } from './tools.js';
import { processExists, waitUntil } from '../helpers/waiting.js';

const temp = makeTempDir('vs-encode-');
beforeAll(() => requireFfmpeg());
afterAll(() => temp.cleanup());

const RATE_HZ = 22050;
const TONE = sine(440, 0.5, 1, RATE_HZ);

/** Decodes any file ffmpeg understands to mono float32 at `RATE_HZ`. */
function decodeWithFfmpeg(bytes: Uint8Array): Float32Array {
  const { stdout } = runFfmpeg(['-i', 'pipe:0', '-f', 'f32le', '-ac', '1', '-ar', String(RATE_HZ), 'pipe:1'], bytes);
  return new Float32Array(stdout.buffer.slice(stdout.byteOffset, stdout.byteOffset + stdout.byteLength));
}

/** Fraction of the signal's power at `frequencyHz` (Goertzel over whole periods). */
function toneFraction(pcm: Float32Array, frequencyHz: number): number {
  let re = 0;
  let im = 0;
  let total = 0;
  for (let i = 0; i < pcm.length; i++) {
    const angle = (2 * Math.PI * frequencyHz * i) / RATE_HZ;
    re += pcm[i]! * Math.cos(angle);
    im += pcm[i]! * Math.sin(angle);
    total += pcm[i]! ** 2;
  }
  return (2 * (re * re + im * im)) / pcm.length / total;
}

/** Writes an executable shell script standing in for an ffmpeg build and returns its path. */
function fakeFfmpeg(name: string, body: string): string {
  const path = join(temp.dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('encodeAudio in-process formats', () => {
  it('wav is 16-bit and wav-f32 is float, both decodable', async () => {
    const wav = decodeWav(await encodeAudio(TONE, { sampleRateHz: RATE_HZ, channels: 1 }, 'wav'));
    expect(wav).toMatchObject({ format: 's16', sampleRateHz: RATE_HZ, channels: 1 });
    const f32 = decodeWav(await encodeAudio(TONE, { sampleRateHz: RATE_HZ, channels: 1 }, 'wav-f32'));
    expect(f32.format).toBe('f32');
    expect(f32.pcm).toEqual(TONE);
  });

  it('pcm is raw s16le and pcm-f32 raw f32le', async () => {
    const s16 = await encodeAudio(new Float32Array([0.5, -1]), { sampleRateHz: 8000, channels: 2 }, 'pcm');
    expect(Array.from(s16)).toEqual([0x00, 0x40, 0x00, 0x80]);
    const f32 = await encodeAudio(new Float32Array([0.5]), { sampleRateHz: 8000, channels: 1 }, 'pcm-f32');
    expect(Array.from(f32)).toEqual([0, 0, 0, 0x3f]);
  });

  it('validates its arguments naming the field', async () => {
    await expect(encodeAudio(TONE, { sampleRateHz: RATE_HZ, channels: 1 }, 'wma' as 'wav')).rejects.toThrow(/format: /);
    await expect(encodeAudio(TONE, { sampleRateHz: -1, channels: 1 }, 'wav')).rejects.toThrow(/pcmFormat\.sampleRateHz/);
    await expect(encodeAudio(new Float32Array(3), { sampleRateHz: 8000, channels: 2 }, 'wav')).rejects.toThrow(InputError);
    await expect(encodeAudio(TONE, { sampleRateHz: 8000, channels: 1 }, 'mp3', { bitrateKbps: 1 })).rejects.toThrow(/options\.bitrateKbps/);
  });
});

describe('encodeAudio through ffmpeg', () => {
  const cases = [
    { format: 'mp3', magic: (b: Uint8Array) => (b[0] === 0x49 && b[1] === 0x44 && b[2] === 0x33) || (b[0] === 0xff && (b[1]! & 0xe0) === 0xe0) },
    { format: 'opus', magic: (b: Uint8Array) => Buffer.from(b.subarray(0, 64)).toString('latin1').includes('OpusHead') },
    { format: 'ogg', magic: (b: Uint8Array) => Buffer.from(b.subarray(0, 64)).toString('latin1').includes('vorbis') },
    { format: 'flac', magic: (b: Uint8Array) => Buffer.from(b.subarray(0, 4)).toString('latin1') === 'fLaC' },
    { format: 'aac', magic: (b: Uint8Array) => b[0] === 0xff && (b[1]! & 0xf6) === 0xf0 },
  ] as const;
  for (const { format, magic } of cases) {
    it(`${format}: right container, about 1 s long, still a 440 Hz tone`, async () => {
      const bytes = await encodeAudio(TONE, { sampleRateHz: RATE_HZ, channels: 1 }, format);
      expect(magic(bytes)).toBe(true);
      const decoded = decodeWithFfmpeg(bytes);
      expect(decoded.length / RATE_HZ).toBeGreaterThan(0.95);
      expect(decoded.length / RATE_HZ).toBeLessThan(1.15);
      // The middle half second: encoder delay and padding sit at the ends.
      expect(toneFraction(decoded.subarray(Math.round(0.25 * RATE_HZ), Math.round(0.75 * RATE_HZ)), 440)).toBeGreaterThan(0.95);
    });
  }

  it('flac is lossless to 24 bits', async () => {
    const decoded = decodeWithFfmpeg(await encodeAudio(TONE, { sampleRateHz: RATE_HZ, channels: 1 }, 'flac'));
    expect(decoded.length).toBe(TONE.length);
    let maxError = 0;
    for (let i = 0; i < TONE.length; i++) maxError = Math.max(maxError, Math.abs(decoded[i]! - TONE[i]!));
    expect(maxError).toBeLessThan(1e-6);
  });

  it('passes on the encoder refusing a bitrate that does not suit the stream', async () => {
    await expect(encodeAudio(TONE, { sampleRateHz: RATE_HZ, channels: 1 }, 'ogg', { bitrateKbps: 400 })).rejects.toMatchObject({
      code: 'FFMPEG_FAILED',
      message: expect.stringMatching(/libvorbis/),
    });
  });

  it('honours bitrateKbps', async () => {
    const low = await encodeAudio(TONE, { sampleRateHz: RATE_HZ, channels: 1 }, 'mp3', { bitrateKbps: 32 });
    const high = await encodeAudio(TONE, { sampleRateHz: RATE_HZ, channels: 1 }, 'mp3', { bitrateKbps: 128 });
    expect(high.length).toBeGreaterThan(low.length * 2);
  });
});

describe('missing or failing encoders', () => {
  it('says what to install when ffmpeg is missing', async () => {
    const ffmpegPath = join(temp.dir, 'no-such-ffmpeg');
    let caught: unknown;
    try {
      await encodeAudio(TONE, { sampleRateHz: RATE_HZ, channels: 1 }, 'mp3', { ffmpegPath });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AudioError);
    expect((caught as AudioError).code).toBe('ENCODER_UNAVAILABLE');
    expect((caught as AudioError).message).toMatch(/^mp3 needs ffmpeg: apt-get install ffmpeg.*no-such-ffmpeg/);
    const formats = await availableFormats({ ffmpegPath });
    expect(formats.map((f) => f.format)).toEqual([...AUDIO_FORMATS]);
    expect(formats.find((f) => f.format === 'wav')).toMatchObject({ available: true });
    expect(formats.find((f) => f.format === 'pcm-f32')).toMatchObject({ available: true });
    const opus = formats.find((f) => f.format === 'opus')!;
    expect(opus.available).toBe(false);
    expect(opus.reason).toMatch(/^opus needs ffmpeg: apt-get install ffmpeg/);
    // In-process formats still work without ffmpeg.
    expect((await encodeAudio(TONE, { sampleRateHz: RATE_HZ, channels: 1 }, 'wav', { ffmpegPath })).length).toBe(44 + TONE.length * 2);
  });

  it('names the encoder an ffmpeg build lacks', async () => {
    const ffmpegPath = fakeFfmpeg('ffmpeg-flac-only', 'echo " A....D flac                 FLAC (Free Lossless Audio Codec)"');
    const formats = await availableFormats({ ffmpegPath });
    expect(formats.find((f) => f.format === 'flac')).toMatchObject({ available: true });
    expect(formats.find((f) => f.format === 'mp3')!.reason).toMatch(/mp3 needs an ffmpeg built with the libmp3lame encoder/);
    await expect(encodeAudio(TONE, { sampleRateHz: RATE_HZ, channels: 1 }, 'mp3', { ffmpegPath })).rejects.toThrow(/libmp3lame/);
  });

  it('reports an ffmpeg failure with its stderr', async () => {
    const ffmpegPath = fakeFfmpeg(
      'ffmpeg-broken',
      'case "$*" in *-encoders*) echo " A....D libmp3lame  MP3";; *) echo "encoder exploded" >&2; exit 3;; esac',
    );
    let caught: unknown;
    try {
      await encodeAudio(TONE, { sampleRateHz: RATE_HZ, channels: 1 }, 'mp3', { ffmpegPath });
    } catch (error) {
      caught = error;
    }
    expect((caught as AudioError).code).toBe('FFMPEG_FAILED');
    expect((caught as AudioError).message).toMatch(/exit status 3.*encoder exploded/s);
  });

  it('cancels a running encode through its AbortSignal: rejects with AbortError and kills ffmpeg', async () => {
    // An ffmpeg that writes its pid once it is running and then never finishes.
    const pidPath = join(temp.dir, 'ffmpeg-slow.pid');
    const ffmpegPath = fakeFfmpeg('ffmpeg-slow', `case "$*" in *-encoders*) echo " A....D libopus  Opus";; *) echo $$ > '${pidPath}.tmp'; mv '${pidPath}.tmp' '${pidPath}'; exec sleep 600;; esac`);
    const readPid = () => Number(readFileSync(pidPath, 'utf8').trim());
    const controller = new AbortController();
    const pending = encodeAudio(TONE, { sampleRateHz: RATE_HZ, channels: 1 }, 'opus', { ffmpegPath, signal: controller.signal }).catch((caught: unknown) => caught);
    await waitUntil(() => {
      try {
        return readPid() > 0;
      } catch {
        return false;
      }
    }, 'the fake ffmpeg to start');
    const pid = readPid();
    try {
      controller.abort();
      expect(await pending).toBeInstanceOf(AbortError);
      await waitUntil(() => !processExists(pid), `the aborted ffmpeg (pid ${pid}) to be killed`);
    } finally {
      if (processExists(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});

describe('formats and extensions', () => {
  it('maps file names and extensions to formats', () => {
    expect(formatFromExtension('out/speech.MP3')).toBe('mp3');
    expect(formatFromExtension('.opus')).toBe('opus');
    expect(formatFromExtension('wav')).toBe('wav');
    expect(formatFromExtension('a.raw')).toBe('pcm');
    expect(formatFromExtension('a.f32')).toBe('pcm-f32');
    expect(formatFromExtension('a.flac')).toBe('flac');
  });

  it('rejects an unknown extension with FORMAT_UNKNOWN', () => {
    let caught: unknown;
    try {
      formatFromExtension('notes.txt');
    } catch (error) {
      caught = error;
    }
    expect((caught as InputError).code).toBe('FORMAT_UNKNOWN');
    expect((caught as InputError).message).toMatch(/unknown audio file extension "\.txt" \(expected one of \.wav/);
    expect(() => formatFromExtension('out.d/speech')).toThrow(/"out\.d\/speech" has no file extension/);
  });

  it('gives each format its extension and MIME type', () => {
    expect(formatInfo('mp3')).toEqual({ extension: '.mp3', mimeType: 'audio/mpeg' });
    expect(formatInfo('wav-f32').extension).toBe('.wav');
    expect(() => formatInfo('xyz' as 'wav')).toThrow(/format: /);
  });

  it('lists every format as available with the installed ffmpeg', async () => {
    const formats = await availableFormats();
    expect(formats.filter((f) => !f.available)).toEqual([]);
  });
});
