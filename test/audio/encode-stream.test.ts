import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeAudioStream } from '../../src/audio/encode-stream.js';
import { encodeAudio } from '../../src/audio/encode.js';
import { decodeWav } from '../../src/audio/wav.js';
import { AbortError, AudioError, InputError } from '../../src/errors.js';
import { makeTempDir, requireFfmpeg, runFfmpeg, sine } from './tools.js';
import { rejection } from '../helpers/errors.js';
import { waitUntil } from '../helpers/waiting.js';

const temp = makeTempDir('vs-encode-stream-');
beforeAll(() => requireFfmpeg());
afterAll(() => temp.cleanup());

const RATE_HZ = 22050;

function split(pcm: Float32Array, chunkSamples: number): Float32Array[] {
  const chunks: Float32Array[] = [];
  for (let start = 0; start < pcm.length; start += chunkSamples) chunks.push(pcm.slice(start, start + chunkSamples));
  return chunks;
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of stream) parts.push(part);
  return new Uint8Array(Buffer.concat(parts));
}


describe('encodeAudioStream', () => {
  it('streams WAV with an open-ended header that decodeWav and ffmpeg read to the end', async () => {
    const pcm = sine(500, 0.4, 1, RATE_HZ, 2);
    for (const format of ['wav', 'wav-f32'] as const) {
      const bytes = await collect(encodeAudioStream(split(pcm, 1000), { sampleRateHz: RATE_HZ, channels: 2 }, format));
      const decoded = decodeWav(bytes);
      expect(decoded).toMatchObject({ sampleRateHz: RATE_HZ, channels: 2, format: format === 'wav' ? 's16' : 'f32' });
      expect(decoded.pcm.length).toBe(pcm.length);
      const { stdout } = runFfmpeg(['-f', 'wav', '-i', 'pipe:0', '-f', 'f32le', '-acodec', 'pcm_f32le', 'pipe:1'], bytes);
      expect(stdout.byteLength / 4).toBe(pcm.length);
    }
  });

  it('streams raw PCM identical to the one-shot encoder', async () => {
    const pcm = sine(300, 0.9, 0.2, RATE_HZ);
    for (const format of ['pcm', 'pcm-f32'] as const) {
      const streamed = await collect(encodeAudioStream(split(pcm, 333), { sampleRateHz: RATE_HZ, channels: 1 }, format));
      expect(streamed).toEqual(await encodeAudio(pcm, { sampleRateHz: RATE_HZ, channels: 1 }, format));
    }
  });

  it('yields mp3 while the input is still open (a real stream, not a buffer)', async () => {
    let sawOutput: () => void = () => undefined;
    const outputSeen = new Promise<void>((resolve) => (sawOutput = resolve));
    let inputFinished = false;
    async function* input(): AsyncGenerator<Float32Array> {
      for (const chunk of split(sine(440, 0.5, 5, RATE_HZ), RATE_HZ / 10)) yield chunk;
      // Hold the input open until output has arrived (fails by timeout if the encoder buffers everything).
      await Promise.race([outputSeen, new Promise((resolve) => setTimeout(resolve, 20_000))]);
      yield sine(440, 0.5, 0.5, RATE_HZ);
      inputFinished = true;
    }
    let firstOutputBeforeEnd: boolean | undefined;
    const parts: Uint8Array[] = [];
    for await (const part of encodeAudioStream(input(), { sampleRateHz: RATE_HZ, channels: 1 }, 'mp3')) {
      if (firstOutputBeforeEnd === undefined) firstOutputBeforeEnd = !inputFinished;
      parts.push(part);
      sawOutput();
    }
    expect(firstOutputBeforeEnd).toBe(true);
    const { stderr } = runFfmpeg(['-i', 'pipe:0', '-f', 'null', '-'], new Uint8Array(Buffer.concat(parts)));
    expect(stderr).toMatch(/Audio: mp3, 22050 Hz, mono/);
    expect(stderr).toMatch(/time=00:00:05\.[45]/);
  });

  it('releases the input when the consumer stops early', async () => {
    let inputClosed = false;
    async function* input(): AsyncGenerator<Float32Array> {
      try {
        for (;;) yield sine(440, 0.5, 0.5, RATE_HZ);
      } finally {
        inputClosed = true;
      }
    }
    for await (const _part of encodeAudioStream(input(), { sampleRateHz: RATE_HZ, channels: 1 }, 'opus')) break;
    await waitUntil(() => inputClosed, 'the input to be released');
  });

  it('rejects a bad chunk naming its index', async () => {
    const error = await rejection(
      collect(encodeAudioStream([new Float32Array(2), new Float32Array(3)], { sampleRateHz: RATE_HZ, channels: 2 }, 'wav')),
    );
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(/^chunks\.1: expected a sample count divisible by channels \(2\)/);
  });

  it('says what to install when ffmpeg is missing, before yielding anything', async () => {
    const stream = encodeAudioStream([new Float32Array(10)], { sampleRateHz: RATE_HZ, channels: 1 }, 'mp3', {
      ffmpegPath: join(temp.dir, 'no-ffmpeg'),
    });
    const error = await rejection(stream.next());
    expect(error).toBeInstanceOf(AudioError);
    expect(error.code).toBe('ENCODER_UNAVAILABLE');
    expect(error.message).toMatch(/^mp3 needs ffmpeg: apt-get install ffmpeg/);
  });

  it('reports an encoder failure and honours the AbortSignal', async () => {
    const failing = join(temp.dir, 'ffmpeg-failing');
    writeFileSync(failing, '#!/bin/sh\ncase "$*" in *-encoders*) echo " A....D libmp3lame  MP3";; *) cat >/dev/null; echo "bad stream" >&2; exit 2;; esac\n');
    chmodSync(failing, 0o755);
    const error = await rejection(
      collect(encodeAudioStream([new Float32Array(1000)], { sampleRateHz: RATE_HZ, channels: 1 }, 'mp3', { ffmpegPath: failing })),
    );
    expect(error.code).toBe('FFMPEG_FAILED');
    expect(error.message).toMatch(/exit status 2.*bad stream/s);

    const controller = new AbortController();
    let chunksRead = 0;
    async function* endless(): AsyncGenerator<Float32Array> {
      for (;;) {
        yield sine(440, 0.5, 0.1, RATE_HZ);
        chunksRead += 1;
        if (chunksRead === 5) controller.abort(); // mid-stream: the encoder has been fed for a while
      }
    }
    const aborted = await rejection(
      collect(encodeAudioStream(endless(), { sampleRateHz: RATE_HZ, channels: 1 }, 'mp3', { signal: controller.signal })),
    );
    expect(aborted).toBeInstanceOf(AbortError);
  });
});
