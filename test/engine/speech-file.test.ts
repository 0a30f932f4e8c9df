import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { AudioOutput } from '../../src/audio/output.js';
import { LoudnessMeter } from '../../src/audio/loudness-meter.js';
import { measureLoudness, normalizationGain } from '../../src/audio/loudness.js';
import { decodeWav } from '../../src/audio/wav.js';
import { BaseBackend } from '../../src/backends/backend.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { rejection } from '../helpers/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'vs-speech-file-'));
const engine = new VoiceEngine();
afterAll(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

const TEXT = 'Loudness over a whole text. A second, longer sentence follows the first one. And a third.';

/** A backend yielding `chunks` chunks of `frames` frames per sentence at a level per sentence; it counts what it produced. */
class CountingBackend extends BaseBackend {
  readonly name = 'counting';
  readonly capabilities = { streaming: true, wordTimings: false, phonemes: false, remote: false };
  producedSamples = 0;
  #sentence = 0;
  constructor(
    readonly frames: number,
    readonly chunks: number,
    readonly onChunk: (producedSamples: number) => void = () => undefined,
    readonly failAtSentence = -1,
  ) {
    super();
  }
  async voices() {
    return [];
  }
  protected async *synthesizeOnce() {
    const sentence = this.#sentence++;
    if (sentence === this.failAtSentence) throw new Error('planted backend failure');
    const level = sentence % 2 === 0 ? 0.05 : 0.4;
    for (let c = 0; c < this.chunks; c++) {
      const pcm = Float32Array.from({ length: this.frames }, (_, i) => level * Math.sin((2 * Math.PI * 440 * i) / 24000));
      this.producedSamples += pcm.length;
      this.onChunk(this.producedSamples);
      yield { pcm, sampleRateHz: 24000, channels: 1, metadata: {} };
    }
  }
}

describe('LoudnessMeter', () => {
  it('measures chunk by chunk what measureLoudness measures at once', async () => {
    const { audio, sampleRateHz } = await engine.speak(TEXT);
    const meter = new LoudnessMeter({ sampleRateHz, channels: 1 });
    for (let start = 0; start < audio.length; start += 3001) meter.push(audio.subarray(start, start + 3001));
    const whole = measureLoudness(audio, { sampleRateHz, channels: 1 });
    const streamed = normalizationGain(meter.finish(), -20).before;
    expect(streamed.integratedLufs).toBeCloseTo(whole.integratedLufs, 2);
    expect(streamed.truePeakDb).toBeCloseTo(whole.truePeakDb, 1);
    expect(streamed.blockCount).toBe(whole.blockCount);
  });
});

describe('speakToFile streams sentence by sentence', () => {
  it('integrated loudness (two passes) writes what speak() returns, and leaves no spool file', async () => {
    const path = join(dir, 'integrated.wav');
    const spoken = await engine.speak(TEXT, { targetLufs: -20 });
    const written = await engine.speakToFile(TEXT, path, { targetLufs: -20, audioFormat: 'wav-f32' });
    const decoded = decodeWav(readFileSync(path));
    expect(decoded.pcm.length).toBe(spoken.audio.length);
    let worst = 0;
    for (let i = 0; i < decoded.pcm.length; i++) worst = Math.max(worst, Math.abs(decoded.pcm[i]! - spoken.audio[i]!));
    expect(worst).toBeLessThan(1e-5);
    expect(written.loudness?.integratedLufs).toBeCloseTo(spoken.loudness?.integratedLufs ?? NaN, 2);
    expect(written.loudness?.gainDb).toBeCloseTo(spoken.loudness?.gainDb ?? NaN, 2);
    expect(written).not.toHaveProperty('audio');
    expect(written.attestations.map((attestation) => attestation.action)).toEqual(['start', 'compile', 'synthesize', 'play', 'stop']);
    expect(readdirSync(dir)).toEqual(['integrated.wav']);
    rmSync(path);
  });

  it('per-sentence mode normalises each sentence on its own (negative control: integrated keeps their ratio)', async () => {
    const levels = new VoiceEngine({ backend: new CountingBackend(12_000, 2) });
    try {
      const text = 'Quiet sentence here. Loud sentence here.';
      await levels.speakToFile(text, join(dir, 'per.wav'), { targetLufs: -20, loudnessMode: 'per-sentence', audioFormat: 'wav-f32' });
      await levels.speakToFile(text, join(dir, 'whole.wav'), { targetLufs: -20, audioFormat: 'wav-f32' });
      const halves = (name: string) => {
        const { pcm } = decodeWav(readFileSync(join(dir, name)));
        const half = pcm.length / 2;
        return [pcm.subarray(0, half), pcm.subarray(half)].map((part) => measureLoudness(part, { sampleRateHz: 24000, channels: 1 }).integratedLufs);
      };
      const [perQuiet, perLoud] = halves('per.wav');
      expect(perQuiet).toBeCloseTo(-20, 0);
      expect(perLoud).toBeCloseTo(-20, 0);
      const [wholeQuiet, wholeLoud] = halves('whole.wav');
      expect((wholeLoud ?? 0) - (wholeQuiet ?? 0)).toBeCloseTo(20 * Math.log10(0.4 / 0.05), 0);
    } finally {
      await levels.close();
      for (const name of ['per.wav', 'whole.wav']) rmSync(join(dir, name), { force: true });
    }
  });

  it('holds at most a couple of chunks at once: what was produced but not yet written stays bounded (negative control: the whole text would not)', async () => {
    let consumedBytes = 0;
    let headerBytes = 0;
    let worstHeldSamples = 0;
    const frames = 4800;
    const backend = new CountingBackend(frames, 10, (produced) => {
      worstHeldSamples = Math.max(worstHeldSamples, produced - Math.max(0, consumedBytes - headerBytes) / 2);
    });
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        // The header (with its compliance LIST/INFO chunk) ends after the data chunk's 8 bytes.
        if (headerBytes === 0) headerBytes = chunk.indexOf('data') + 8;
        consumedBytes += chunk.length;
        callback();
      },
    });
    const bounded = new VoiceEngine({ backend });
    try {
      const text = Array.from({ length: 20 }, (_, i) => `Sentence number ${i}.`).join(' ');
      const result = await bounded.speakToFile(text, sink, { audioFormat: 'wav' });
      expect(backend.producedSamples).toBe(20 * 10 * frames);
      // The file holds every produced frame (plus the pauses between sentences).
      expect(headerBytes).toBeGreaterThan(44);
      expect(result.file.bytes).toBe(headerBytes + result.file.frames * 2);
      expect(result.file.frames).toBeGreaterThanOrEqual(backend.producedSamples);
      // The speech of the whole text is 200 chunks; at most the chunk being made, one in the
      // hand-over slot and one being encoded are held.
      expect(worstHeldSamples).toBeLessThanOrEqual(3 * frames);
      expect(backend.producedSamples).toBeGreaterThan(30 * worstHeldSamples);
    } finally {
      await bounded.close();
    }
  });

  it('play: true writes the file and plays the same samples on the device, through the play permit', async () => {
    const output = new AudioOutput({ backend: 'null', sampleRateHz: 22050, channels: 1, capture: true });
    const playing = new VoiceEngine({ output });
    try {
      const path = join(dir, 'played.wav');
      const result = await playing.speakToFile('Heard and written at once.', path, { play: true, audioFormat: 'wav-f32' });
      const file = decodeWav(readFileSync(path)).pcm;
      const captured = output.readCapture();
      const first = captured.findIndex((sample) => sample !== 0);
      expect(first).toBeGreaterThanOrEqual(0);
      const firstInFile = file.findIndex((sample) => sample !== 0);
      const heard = captured.subarray(first, first + file.length - firstInFile);
      expect(heard.length).toBe(file.length - firstInFile);
      let worst = 0;
      for (let i = 0; i < heard.length; i++) worst = Math.max(worst, Math.abs(heard[i]! - file[firstInFile + i]!));
      expect(worst).toBe(0);
      expect(result.attestations.map((attestation) => attestation.action)).toEqual(['start', 'compile', 'synthesize', 'play', 'stop']);
      // Negative control: without play nothing reaches the device.
      await playing.speakToFile('Only written.', path);
      expect(output.readCapture().some((sample) => sample !== 0)).toBe(false);
      rmSync(path);
    } finally {
      await playing.close();
      output.close();
    }
  });

  it('a stream destination gets a streaming WAV header and every frame', async () => {
    const parts: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        parts.push(chunk);
        callback();
      },
    });
    const result = await engine.speakToFile('To a stream.', sink);
    const bytes = Buffer.concat(parts);
    expect(bytes.subarray(0, 4).toString()).toBe('RIFF');
    expect(bytes.readUInt32LE(bytes.indexOf('data') + 4)).toBe(0xffffffff);
    expect(decodeWav(new Uint8Array(bytes)).pcm.length).toBe(result.file.frames);
  });

  it('a failure halfway leaves the old file as it was and no temp or spool file', async () => {
    const path = join(dir, 'kept.wav');
    writeFileSync(path, 'previous');
    for (const options of [{}, { targetLufs: -20 }]) {
      const failing = new VoiceEngine({ backend: new CountingBackend(4800, 2, undefined, 1) });
      try {
        const error = await rejection(failing.speakToFile('First sentence. Second sentence. Third.', path, options));
        expect(error.message).toMatch(/planted backend failure/);
        expect(readFileSync(path, 'utf8')).toBe('previous');
        expect(readdirSync(dir)).toEqual(['kept.wav']);
      } finally {
        await failing.close();
      }
    }
    rmSync(path);
  });

  it('maxInputChars is a real option: longer text is INPUT_TOO_LARGE naming it, before any stream starts', async () => {
    const before = engine.registrar.attestations(1)[0]?.seq;
    const error = await rejection(engine.speakToFile('word '.repeat(50), join(dir, 'long.wav'), { maxInputChars: 100 }));
    expect(error).toMatchObject({ code: 'INPUT_TOO_LARGE' });
    expect(error.message).toContain('maxInputChars (100)');
    expect(engine.registrar.attestations(1)[0]?.seq).toBe(before);
    expect((await engine.speak('Short.', { maxInputChars: 10 })).durationMs).toBeGreaterThan(0);
    expect(readdirSync(dir)).toEqual([]);
  });
});
