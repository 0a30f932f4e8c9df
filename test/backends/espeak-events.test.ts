/**
 * The measured espeak path: build/espeak-events (libespeak-ng's own word and phoneme events) gives
 * the same audio as the espeak-ng program, word timings that sit on the audio's onsets, visemes
 * from measured phonemes; without the helper the backend falls back to estimated timings.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../src/audio/wav.js';
import { DEFAULT_ESPEAK_EVENTS_HELPER, espeakEventsArgs, isEspeakEventsHelperBuilt, measuredWordTimings, runEspeakEventsHelper } from '../../src/backends/espeak-events.js';
import { runEspeakProcess } from '../../src/backends/espeak-process.js';
import { EspeakBackend } from '../../src/backends/espeak.js';
import { espeakTimings } from '../../src/backends/espeak-timings.js';
import type { EspeakEvent } from '../../src/backends/espeak-events.js';
import { OVR_VISEMES } from '../../src/backends/visemes.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import type { AudioChunk } from '../../src/engine/speech-types.js';
import { segment } from '../helpers/synthesis.js';
import { checkWordOnsets } from '../helpers/word-onsets.js';
import { collect } from './espeak-signal.js';

const built = isEspeakEventsHelperBuilt();
if (!built) {
  process.stderr.write(`[espeak-events.test] SKIPPED: ${DEFAULT_ESPEAK_EVENTS_HELPER} is not built (apt-get install libespeak-ng-dev, then node scripts/build.mjs --helper)\n`);
}

// .ci/run installs libespeak-ng-dev and sets this: there, a missing helper fails instead of skipping.
it.runIf(process.env.VOICE_SOUNDBOARD_REQUIRE_ESPEAK_EVENTS === '1')('the events helper is built where libespeak-ng-dev is installed (CI)', () => {
  expect(built, `${DEFAULT_ESPEAK_EVENTS_HELPER} was not built`).toBe(true);
});

/** Words that start with a strong sound, separated by commas (espeak-ng pauses at each). */
const LIST = 'Red, green, blue, yellow, orange, purple, black, white, Bob, Mary, Kevin, Dennis.';
const ONSETS = { toleranceMs: 15, minPauseMs: 40, threshold: 0.01 };

describe.skipIf(!built)('espeak-ng events helper', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vs-espeak-events-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each([
    ['en-us', 'Hello world, this is a test of the measured path.', ['-v', 'en-us', '-s', '175', '-p', '50']],
    ['de, fast, high', 'Guten Tag, wie geht es dir heute?', ['-v', 'de', '-s', '230', '-p', '70']],
    ['fr female variant', 'Ça va très bien, merci beaucoup.', ['-v', 'fr-fr+f3', '-s', '150', '-p', '40']],
  ])('gives the same audio as the espeak-ng program, sample for sample (%s)', async (_label, text, args) => {
    const wavPath = join(dir, 'program.wav');
    await runEspeakProcess({ binaryPath: 'espeak-ng', args: [...args, '-w', wavPath, '--stdin'], stdinText: text });
    const program = decodeWav(new Uint8Array(await readFile(wavPath)));
    const helper = decodeWav((await runEspeakEventsHelper({ helperPath: DEFAULT_ESPEAK_EVENTS_HELPER, args, text })).wav);
    expect(helper.sampleRateHz).toBe(program.sampleRateHz);
    expect(helper.pcm.length).toBe(program.pcm.length);
    expect(helper.pcm).toEqual(program.pcm);
  });

  it('reports word starts that sit on the audio onsets (within 15 ms), and a planted offset is caught', async () => {
    const run = await runEspeakEventsHelper({ helperPath: DEFAULT_ESPEAK_EVENTS_HELPER, args: ['-v', 'en-us'], text: LIST });
    const { pcm, sampleRateHz } = decodeWav(run.wav);
    const timings = measuredWordTimings(LIST, run.events);
    expect(timings.map((timing) => timing.word)).toEqual(['Red', 'green', 'blue', 'yellow', 'orange', 'purple', 'black', 'white', 'Bob', 'Mary', 'Kevin', 'Dennis']);
    const measured = checkWordOnsets(pcm, sampleRateHz, timings, ONSETS);
    expect(measured.checked).toBe(12);
    expect(measured.violations).toEqual([]);
    // Planted: the same timings 40 ms late, and 40 ms early: the check catches every word.
    for (const shiftMs of [40, -40]) {
      const shifted = timings.map((timing) => ({ ...timing, startMs: timing.startMs + shiftMs, endMs: timing.endMs + shiftMs }));
      expect(checkWordOnsets(pcm, sampleRateHz, shifted, ONSETS).violations.length).toBeGreaterThanOrEqual(10);
    }
  });

  it('merges the several words a number is read as into the number, and maps UTF-8 positions to characters', async () => {
    const text = 'Ça coûte 4,500 euros, e.g. 123 fois.';
    const run = await runEspeakEventsHelper({ helperPath: DEFAULT_ESPEAK_EVENTS_HELPER, args: ['-v', 'fr-fr'], text });
    const words = measuredWordTimings(text, run.events);
    expect(words.map((timing) => timing.word)).toEqual(['Ça', 'coûte', '4,500', 'euros', 'e.g', '123', 'fois']);
    for (let index = 1; index < words.length; index++) expect(words[index]?.startMs).toBeGreaterThanOrEqual(words[index - 1]?.endMs ?? Infinity);
  });

  it('keeps every word when espeak-ng speaks two as one (of the): shared on phoneme boundaries, marked estimated', async () => {
    const text = 'A test of the measured path.';
    const run = await runEspeakEventsHelper({ helperPath: DEFAULT_ESPEAK_EVENTS_HELPER, args: ['-v', 'en-us'], text });
    expect(run.events.filter((event) => event.t === 'word').length).toBe(5); // "of the" is one word event
    const words = measuredWordTimings(text, run.events);
    expect(words.map((timing) => [timing.word, timing.source])).toEqual([
      ['A', 'reported'],
      ['test', 'reported'],
      ['of', 'estimated'],
      ['the', 'estimated'],
      ['measured', 'reported'],
      ['path', 'reported'],
    ]);
    const phonemeEdges = new Set(run.events.filter((event) => event.t !== 'word').map((event) => event.ms));
    expect(phonemeEdges.has(words[2]?.endMs ?? NaN)).toBe(true);
    expect(words[2]?.endMs).toBe(words[3]?.startMs);
    expect(words[2]?.startMs).toBeLessThan(words[2]?.endMs ?? 0);
    expect(words[3]?.startMs).toBeLessThan(words[3]?.endMs ?? 0);
  });

  it('the backend prefers the helper: reported word timings and visemes from measured phonemes, chunk-relative', async () => {
    const backend = new EspeakBackend();
    try {
      expect(await backend.path()).toBe('helper');
      expect(await backend.health()).toMatchObject({ status: 'ok', detail: 'espeak-ng events helper (measured word timings)' });
      const audio = await collect(backend.synthesize(segment('First sentence here. Bob buys fish.')));
      expect(audio.chunks.length).toBe(2);
      const second = audio.chunks[1]?.metadata;
      expect(second?.wordTimings?.map((timing) => [timing.word, timing.source])).toEqual([
        ['Bob', 'reported'],
        ['buys', 'reported'],
        ['fish', 'reported'],
      ]);
      // Chunk-relative: the second chunk's first word starts near its own start, not after the first chunk.
      expect(second?.wordTimings?.[0]?.startMs).toBeLessThan(100);
      const visemes = second?.visemes ?? [];
      expect(visemes.every((viseme) => (OVR_VISEMES as readonly string[]).includes(viseme.viseme) && viseme.source === 'reported' && viseme.endMs > viseme.startMs)).toBe(true);
      for (let index = 1; index < visemes.length; index++) expect(visemes[index]?.startMs).toBeGreaterThanOrEqual(visemes[index - 1]?.endMs ?? Infinity);
      expect(visemes[0]?.viseme).toBe('PP'); // "Bob" starts with b
      const fish = second?.wordTimings?.[2];
      expect(visemes.find((viseme) => viseme.startMs >= (fish?.startMs ?? 0))?.viseme).toBe('FF');
      expect(visemes.at(-1)?.endMs).toBeCloseTo(fish?.endMs ?? 0, 6);
    } finally {
      await backend.close();
    }
  });

  it('refuses output that breaks the protocol (a helper that lies about its sample count, or prints no header)', async () => {
    const liar = join(dir, 'liar.sh');
    await writeFile(liar, `#!/bin/sh\ncat > /dev/null\nprintf '{"sampleRate":22050,"samples":10,"ipa":"","events":[]}\\nabcd'\n`);
    const silent = join(dir, 'silent.sh');
    await writeFile(silent, '#!/bin/sh\ncat > /dev/null\nprintf "garbage"\n');
    await chmod(liar, 0o755);
    await chmod(silent, 0o755);
    await expect(runEspeakEventsHelper({ helperPath: liar, args: [], text: 'x' })).rejects.toMatchObject({ code: 'ESPEAK_FAILED', message: expect.stringContaining('announced 10 samples but wrote 4 bytes') });
    await expect(runEspeakEventsHelper({ helperPath: silent, args: [], text: 'x' })).rejects.toMatchObject({ code: 'ESPEAK_FAILED', message: expect.stringContaining('no valid header line') });
  });

  it('stream() puts every word timing and viseme on the stream clock too: chunk start + chunk-relative time', async () => {
    const engine = new VoiceEngine();
    try {
      const chunks: AudioChunk[] = [];
      for await (const chunk of engine.stream('One sentence first. Then another one. And a third.')) chunks.push(chunk);
      const speech = chunks.filter((chunk) => chunk.kind === 'speech');
      expect(speech.length).toBe(3);
      let lastStreamMs = -1;
      for (const chunk of speech) {
        for (const timing of [...(chunk.metadata.wordTimings ?? []), ...(chunk.metadata.visemes ?? [])]) {
          expect(timing.streamStartMs).toBeCloseTo(chunk.startMs + timing.startMs, 9);
          expect(timing.streamEndMs).toBeCloseTo(chunk.startMs + timing.endMs, 9);
        }
        const words = chunk.metadata.wordTimings ?? [];
        expect(words.length).toBeGreaterThan(0);
        expect(words[0]?.streamStartMs).toBeGreaterThan(lastStreamMs);
        lastStreamMs = words.at(-1)?.streamEndMs ?? lastStreamMs;
        expect(lastStreamMs).toBeLessThanOrEqual(chunk.startMs + chunk.durationMs);
      }
    } finally {
      await engine.close();
    }
  });
});

describe('espeak backend without the events helper', () => {
  it('falls back to the program with estimated timings and says so in health()', async () => {
    const backend = new EspeakBackend({ helperPath: '/nonexistent/espeak-events' });
    try {
      expect(await backend.path()).toBe('process');
      expect(await backend.health()).toMatchObject({ status: 'ok', detail: 'system espeak-ng program' });
      const audio = await collect(backend.synthesize(segment('Bob buys fish.')));
      const metadata = audio.chunks[0]?.metadata;
      expect(metadata?.wordTimings?.every((timing) => timing.source === 'estimated')).toBe(true);
      expect(metadata?.visemes?.length).toBeGreaterThan(0);
      expect(metadata?.visemes?.every((viseme) => viseme.source === 'estimated')).toBe(true);
    } finally {
      await backend.close();
    }
  });

  it('mode helper without the helper is ESPEAK_NOT_FOUND naming what to install', async () => {
    const backend = new EspeakBackend({ mode: 'helper', helperPath: '/nonexistent/espeak-events' });
    await expect(backend.path()).rejects.toMatchObject({ code: 'ESPEAK_NOT_FOUND', message: expect.stringContaining('libespeak-ng-dev') });
  });

  it('runs the program for options the helper does not know', () => {
    expect(espeakEventsArgs(['--ipa=3', '-v', 'de', '-s', '200', '-p', '50', '-m'])).toEqual(['-v', 'de', '-s', '200', '-p', '50', '--ssml']);
    expect(espeakEventsArgs(['--ipa=3', '-a', '100'])).toBeUndefined();
  });

  it('measured times follow a trimmed start of the audio (trimmedLeadMs), never below 0', () => {
    const events: EspeakEvent[] = [
      { t: 'word', ms: 0, pos: 1, len: 3 },
      { t: 'phoneme', ms: 120, ph: 'b' },
      { t: 'phoneme', ms: 180, ph: 'ɑː' },
      { t: 'phoneme', ms: 300, ph: 'b' },
      { t: 'phoneme', ms: 360, ph: '' },
    ];
    const untrimmed = espeakTimings('Bob', 'bˈɑːb', new Float32Array(0), 22050, events);
    const trimmed = espeakTimings('Bob', 'bˈɑːb', new Float32Array(0), 22050, events, 100);
    expect(untrimmed.wordTimings).toEqual([{ word: 'Bob', startMs: 120, endMs: 360, source: 'reported' }]);
    expect(trimmed.wordTimings).toEqual([{ word: 'Bob', startMs: 20, endMs: 260, source: 'reported' }]);
    expect(trimmed.visemes?.map((viseme) => [viseme.viseme, viseme.startMs, viseme.endMs])).toEqual([
      ['PP', 20, 80],
      ['aa', 80, 200],
      ['PP', 200, 260],
    ]);
    expect(espeakTimings('Bob', 'bˈɑːb', new Float32Array(0), 22050, events, 500).wordTimings?.[0]).toMatchObject({ startMs: 0, endMs: 0 });
  });
});
