/**
 * Loudness targets met on real espeak-ng speech, checked with ffmpeg's ebur128 (-af
 * ebur128=peak=true): the whole-text modes (speak, speakToFile integrated) within 0.5 LU of
 * targetLufs with the true peak at most the -1 dBTP ceiling + 0.1 dB, and the per-sentence mode
 * (stream, speakToFile per-sentence) keeping sentences of very different lengths within 1 LU of
 * each other. Each check is first shown to catch the old behaviour (a gain lowered under the
 * ceiling instead of a limiter).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureLoudness } from '../../src/audio/loudness.js';
import { decodeWav } from '../../src/audio/wav.js';
import type { AudioChunk } from '../../src/engine/speech-types.js';
import { sentenceLoudness } from '../../src/engine/pcm-shaping.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { ffmpegLoudness, makeTempDir, requireFfmpeg } from '../audio/tools.js';

const temp = makeTempDir('vs-loudness-targets-');
let engine: VoiceEngine;
let fileCounter = 0;

beforeAll(() => {
  requireFfmpeg();
  engine = new VoiceEngine();
});
afterAll(async () => {
  await engine.close();
  temp.cleanup();
});

const CEILING_DB = -1;

/** ffmpeg's reading of `pcm`; a sentence shorter than one 400 ms block is read repeated to 2 s (its mean loudness). */
function ffmpegOf(pcm: Float32Array, sampleRateHz: number): { integratedLufs: number; truePeakDb: number } {
  let measured = pcm;
  if (pcm.length < 0.4 * sampleRateHz) {
    measured = new Float32Array(Math.ceil((2 * sampleRateHz) / pcm.length) * pcm.length);
    for (let offset = 0; offset < measured.length; offset += pcm.length) measured.set(pcm, offset);
  }
  return ffmpegLoudness(join(temp.dir, `m${fileCounter++}.wav`), measured, sampleRateHz, 1);
}

/** The old normalisation: the gain to the target, lowered so the true peak stays under the ceiling (no limiter). */
function gainLoweredUnderCeiling(pcm: Float32Array, sampleRateHz: number, targetLufs: number): Float32Array {
  const before = measureLoudness(pcm, { sampleRateHz, channels: 1 });
  const gainDb = Math.min(targetLufs - before.integratedLufs, CEILING_DB - before.truePeakDb);
  return pcm.map((sample) => sample * 10 ** (gainDb / 20));
}

/** True when ffmpeg reads `pcm` within 0.5 LU of the target and under the ceiling + 0.1 dB. */
function meetsTarget(reading: { integratedLufs: number; truePeakDb: number }, targetLufs: number): boolean {
  return Math.abs(reading.integratedLufs - targetLufs) <= 0.5 && reading.truePeakDb <= CEILING_DB + 0.1;
}

const CASES: Array<{ name: string; text: string; voice: string; targetLufs: number }> = [
  { name: 'en-us, -16', voice: 'en-us', targetLufs: -16, text: 'Loudness targets are met by a true peak limiter, and the listener never hears a clipped sample.' },
  { name: 'en-gb, -14', voice: 'en-gb', targetLufs: -14, text: 'Streaming services play speech at about minus fourteen LUFS; quiet voices must be lifted that far.' },
  { name: 'en-us, -23', voice: 'en-us', targetLufs: -23, text: 'Broadcast programmes are normalised to minus twenty three LUFS, which needs no limiting at all.' },
  { name: 'de, -16', voice: 'de', targetLufs: -16, text: 'Die Lautheit wird gemessen und der Spitzenpegel bleibt unter der Grenze von minus einem Dezibel.' },
  { name: 'fr, -14', voice: 'fr-fr', targetLufs: -14, text: 'Le niveau sonore est mesuré, puis le limiteur garde la crête vraie sous le plafond choisi.' },
  {
    name: 'x-loud and x-soft SSML, -14',
    voice: 'en-us',
    targetLufs: -14,
    text: '<speak><prosody volume="x-loud">Attention! Every passenger must leave the platform now.</prosody> <prosody volume="x-soft">thank you</prosody></speak>',
  },
];

describe('whole-text loudness through the limiter, read by ffmpeg', () => {
  for (const testCase of CASES) {
    it(`speak(): ${testCase.name} within 0.5 LU, true peak <= ${CEILING_DB} dBTP + 0.1`, async () => {
      const raw = await engine.speak(testCase.text, { voice: testCase.voice });
      const result = await engine.speak(testCase.text, { voice: testCase.voice, targetLufs: testCase.targetLufs });
      const reading = ffmpegOf(result.audio, result.sampleRateHz);
      expect(reading.integratedLufs).toBeGreaterThan(testCase.targetLufs - 0.5);
      expect(reading.integratedLufs).toBeLessThan(testCase.targetLufs + 0.5);
      expect(reading.truePeakDb).toBeLessThanOrEqual(CEILING_DB + 0.1);
      expect(result.loudness?.truePeakDb).toBeLessThanOrEqual(CEILING_DB + 0.01);
      expect(Math.abs((result.loudness?.integratedLufs ?? NaN) - testCase.targetLufs)).toBeLessThan(0.1);
      // What it did is reported: -23 needs no limiter, the others lift espeak's peaks over the ceiling.
      expect(result.loudness?.limited).toBe(testCase.targetLufs !== -23);
      if (result.loudness?.limited) expect(result.loudness.peakReductionDb).toBeGreaterThan(0);
      // The gain applied: the plain gain to the target, more when the limiter took some loudness back.
      const plainGainDb = testCase.targetLufs - measureLoudness(raw.audio, { sampleRateHz: raw.sampleRateHz, channels: 1 }).integratedLufs;
      if (result.loudness?.limited) expect(result.loudness.gainDb).toBeGreaterThan(plainGainDb);
      else expect(result.loudness?.gainDb).toBeCloseTo(plainGainDb, 2);
    });
  }

  it('a loud target needs heavy limiting, and the old gain-under-the-ceiling misses it (planted)', async () => {
    const raw = await engine.speak(CASES[1]!.text, { voice: 'en-gb' });
    const result = await engine.speak(CASES[1]!.text, { voice: 'en-gb', targetLufs: -14 });
    expect(result.loudness?.peakReductionDb).toBeGreaterThan(6);
    const planted = ffmpegOf(gainLoweredUnderCeiling(raw.audio, raw.sampleRateHz, -14), raw.sampleRateHz);
    expect(meetsTarget(planted, -14)).toBe(false);
    expect(meetsTarget(ffmpegOf(result.audio, result.sampleRateHz), -14)).toBe(true);
  });

  it('speakToFile (integrated, two passes over the spool) meets the target in the file ffmpeg reads', async () => {
    for (const testCase of [CASES[1]!, CASES[5]!]) {
      const path = join(temp.dir, `file${fileCounter++}.wav`);
      const written = await engine.speakToFile(testCase.text, path, { voice: testCase.voice, targetLufs: testCase.targetLufs, audioFormat: 'wav-f32' });
      const decoded = decodeWav(readFileSync(path));
      const reading = ffmpegOf(decoded.pcm, decoded.sampleRateHz);
      expect(meetsTarget(reading, testCase.targetLufs)).toBe(true);
      expect(written.loudness?.limited).toBe(true);
      expect(written.loudness?.truePeakDb).toBeLessThanOrEqual(CEILING_DB + 0.01);
      // The same gain speak() found in memory, within the search's tolerance.
      const spoken = await engine.speak(testCase.text, { voice: testCase.voice, targetLufs: testCase.targetLufs });
      expect(written.loudness?.gainDb).toBeCloseTo(spoken.loudness?.gainDb ?? NaN, 1);
    }
  });
});

/** Sentences of very different lengths (one word to a long sentence). */
const SENTENCES = 'Yes. No. The quick brown fox jumps over the lazy dog near the old river bank. Okay! What time does the very last train to the city leave tonight, and is there a later bus after it? Fine. Thanks a lot.';

async function speechChunks(options: { targetLufs?: number }): Promise<AudioChunk[]> {
  const chunks: AudioChunk[] = [];
  for await (const chunk of engine.stream(SENTENCES, options)) if (chunk.kind === 'speech') chunks.push(chunk);
  return chunks;
}

/** Largest minus smallest reading. */
function spread(levels: number[]): number {
  return Math.max(...levels) - Math.min(...levels);
}

describe('per-sentence loudness keeps sentences together', () => {
  it('stream(): 7 sentences of 1 to 19 words within 1 LU of each other and 0.5 LU of the target (ffmpeg), the planted old normaliser not', async () => {
    const chunks = await speechChunks({ targetLufs: -16 });
    expect(chunks.length).toBe(7);
    const readings = chunks.map((chunk) => ffmpegOf(chunk.pcm, chunk.sampleRateHz));
    expect(spread(readings.map((reading) => reading.integratedLufs))).toBeLessThanOrEqual(1);
    for (const reading of readings) expect(meetsTarget(reading, -16)).toBe(true);
    // Planted: the old per-sentence gain, lowered under the ceiling, on the same raw sentences.
    const raw = await speechChunks({});
    const planted = raw.map((chunk) => ffmpegOf(gainLoweredUnderCeiling(chunk.pcm, chunk.sampleRateHz, -16), chunk.sampleRateHz).integratedLufs);
    expect(spread(planted) > 1 || planted.some((level) => Math.abs(level - -16) > 0.5)).toBe(true);
  });

  it('a sentence shorter than one 400 ms block still reaches the target (measured repeated, its own mean loudness)', async () => {
    const [yes] = await speechChunks({});
    const rate = yes!.sampleRateHz;
    // Only the spoken part, as a backend that trims its silence gives it: well under 400 ms.
    let first = 0;
    let last = yes!.pcm.length - 1;
    while (Math.abs(yes!.pcm[first]!) < 1e-3) first++;
    while (Math.abs(yes!.pcm[last]!) < 1e-3) last--;
    const spoken = yes!.pcm.slice(first, last + 1);
    expect(spoken.length).toBeLessThan(0.4 * rate);
    expect(measureLoudness(spoken, { sampleRateHz: rate, channels: 1 }).integratedLufs).toBe(-Infinity);
    for (const targetLufs of [-23, -16]) {
      const shaped = sentenceLoudness(spoken, rate, { targetLufs, truePeakLimitDb: CEILING_DB });
      expect(meetsTarget(ffmpegOf(shaped, rate), targetLufs)).toBe(true);
      // Planted: left as it was (what a -Infinity measurement used to mean) it misses.
      expect(meetsTarget(ffmpegOf(spoken, rate), targetLufs)).toBe(false);
    }
  });

  it('speakToFile per-sentence writes the same normalised sentences', async () => {
    const path = join(temp.dir, 'per-sentence.wav');
    const written = await engine.speakToFile(SENTENCES, path, { targetLufs: -16, loudnessMode: 'per-sentence', audioFormat: 'wav-f32' });
    const decoded = decodeWav(readFileSync(path));
    const chunks = await speechChunks({ targetLufs: -16 });
    expect(decoded.pcm.length).toBe(Math.round((written.durationMs / 1000) * decoded.sampleRateHz));
    // Every streamed sentence appears in the file sample for sample (same per-sentence processing).
    let at = 0;
    for (const chunk of chunks) {
      const found = decoded.pcm.indexOf(chunk.pcm[Math.floor(chunk.pcm.length / 2)]!, at);
      expect(found).toBeGreaterThanOrEqual(0);
      at = found;
    }
    expect(ffmpegOf(decoded.pcm, decoded.sampleRateHz).truePeakDb).toBeLessThanOrEqual(CEILING_DB + 0.1);
  });
});
