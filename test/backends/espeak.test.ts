import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, BackendError, InputError } from '../../src/errors.js';
import type { EngineOutput } from '../../src/graph/engine-output.js';
import { EspeakBackend, ESPEAK_SAMPLE_RATE_HZ } from '../../src/backends/espeak.js';
import { segment } from '../helpers/synthesis.js';
import { processExists, waitUntil } from '../helpers/waiting.js';
import { collect, durationMs, expectSpeechLikeFox, FOX, medianF0Hz, rms } from './espeak-signal.js';

describe('espeak backend through the system program', () => {
  const backend = new EspeakBackend({ mode: 'process' });
  afterAll(() => backend.close());

  it('uses the system program', async () => {
    expect(await backend.path()).toBe('process');
    expect(await backend.health()).toMatchObject({ backend: 'espeak', status: 'ok', detail: 'system espeak-ng program' });
  });

  it('produces speech: plausible duration, energy well above silence, speech-like zero crossings', async () => {
    const audio = await collect(backend.synthesize(segment(FOX)));
    expect(audio.sampleRateHz).toBe(ESPEAK_SAMPLE_RATE_HZ);
    expect(audio.chunks.every((chunk) => chunk.channels === 1)).toBe(true);
    const f0 = expectSpeechLikeFox(audio);
    expect(f0).toBeLessThan(200);
  });

  it('attaches IPA and estimated word timings in order, inside the audio', async () => {
    const audio = await collect(backend.synthesize(segment(FOX)));
    const metadata = audio.chunks[0]?.metadata;
    expect(metadata?.phonemes).toContain('kwˈɪk');
    expect(metadata?.phonemes).not.toMatch(/\u200d/);
    const timings = metadata?.wordTimings ?? [];
    expect(timings.map((timing) => timing.word)).toEqual(['The', 'quick', 'brown', 'fox', 'jumps', 'over', 'the', 'lazy', 'dog']);
    for (let index = 1; index < timings.length; index++) {
      expect(timings[index]?.startMs).toBeGreaterThanOrEqual(timings[index - 1]?.endMs ?? Infinity);
    }
    expect(timings[0]?.startMs).toBeGreaterThanOrEqual(0);
    expect(timings.at(-1)?.endMs).toBeLessThanOrEqual(durationMs(audio));
  });

  it('streams long text sentence by sentence, with estimated word timings relative to each chunk', async () => {
    const text = 'First sentence here. Second one follows! Is this the third? Yes; the fourth.';
    const audio = await collect(backend.synthesize(segment(text)));
    expect(audio.chunks).toHaveLength(5);
    const secondChunk = audio.chunks[1];
    const second = secondChunk?.metadata.wordTimings ?? [];
    const secondChunkMs = ((secondChunk?.pcm.length ?? 0) / ESPEAK_SAMPLE_RATE_HZ) * 1000;
    expect(second[0]?.word).toBe('Second');
    // On the chunk's own clock: inside the chunk, not after the first chunk (the old sentence-relative clock).
    expect(second[0]?.startMs).toBeGreaterThanOrEqual(0);
    expect(second[0]?.startMs).toBeLessThan(secondChunkMs / 2);
    expect(second.at(-1)?.endMs).toBeLessThanOrEqual(secondChunkMs);
    expect(audio.chunks.flatMap((chunk) => chunk.metadata.wordTimings ?? []).every((timing) => timing.source === 'estimated')).toBe(true);
  });

  it('speaks faster at rate 2 (clearly shorter audio)', async () => {
    const normal = await collect(backend.synthesize(segment(FOX)));
    const fast = await collect(backend.synthesize(segment(FOX, { prosody: { rate: 2 } })));
    expect(durationMs(fast)).toBeLessThan(durationMs(normal) * 0.7);
  });

  it('raises f0 when pitch goes up 6 semitones, and a female variant is higher still than the default', async () => {
    const neutral = await collect(backend.synthesize(segment(FOX)));
    const higher = await collect(backend.synthesize(segment(FOX, { prosody: { pitchSemitones: 6 } })));
    const neutralF0 = medianF0Hz(neutral.pcm, neutral.sampleRateHz);
    expect(medianF0Hz(higher.pcm, higher.sampleRateHz)).toBeGreaterThan(neutralF0 * 1.2);
    const female = await collect(backend.synthesize(segment(FOX), { voice: 'en-us+f3' }));
    expect(medianF0Hz(female.pcm, female.sampleRateHz)).toBeGreaterThan(neutralF0 * 1.3);
  });

  it('applies volumeDb as gain: -12 dB is a quarter of the RMS', async () => {
    const neutral = await collect(backend.synthesize(segment(FOX)));
    const quiet = await collect(backend.synthesize(segment(FOX, { prosody: { volumeDb: -12 } })));
    expect(rms(quiet.pcm) / rms(neutral.pcm)).toBeCloseTo(10 ** (-12 / 20), 2);
  });

  it('picks the voice from the segment language', async () => {
    const audio = await collect(backend.synthesize(segment('Guten Tag', { language: 'de-DE' })));
    expect(audio.chunks[0]?.metadata.phonemes).toBe('ɡˈuːtən tˈɑːk');
  });

  it('rejects an unknown voice or variant with VOICE_UNKNOWN, without retrying', async () => {
    const before = backend.metrics();
    for (const voice of ['xx-nope', 'en-us+nope']) {
      const error = await collect(backend.synthesize(segment('hello'), { voice })).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BackendError);
      expect(error).toMatchObject({ code: 'VOICE_UNKNOWN', backend: 'espeak', retryable: false });
      expect((error as Error).message).toContain(JSON.stringify(voice));
    }
    const after = backend.metrics();
    expect(after.failures - before.failures).toBe(2);
    expect(after.retries).toBe(before.retries);
  });

  it('rejects a language espeak-ng has no voice for', async () => {
    const error = await collect(backend.synthesize(segment('hello', { language: 'qq-ZZ' }))).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'LANGUAGE_UNSUPPORTED' });
  });

  it('rejects at once when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(collect(backend.synthesize(segment(FOX), {}, controller.signal))).rejects.toBeInstanceOf(AbortError);
  });

  it('lists voices with BCP-47 languages and genders, each with a female variant', async () => {
    const voices = await backend.voices();
    expect(voices.length).toBeGreaterThan(100);
    expect(voices).toContainEqual(expect.objectContaining({ id: 'en-us', backend: 'espeak', gender: 'male', languages: ['en-US', 'en'] }));
    expect(voices).toContainEqual(expect.objectContaining({ id: 'en-us+f3', gender: 'female', name: 'English (America) (female)' }));
    expect(voices).toContainEqual(expect.objectContaining({ id: 'de', languages: expect.arrayContaining(['de']) }));
  });

  it('yields nothing for blank text', async () => {
    expect((await collect(backend.synthesize(segment('   \n ')))).chunks).toHaveLength(0);
  });
});

/** Pids of the synthesis runs (those writing a WAV with `-w`) of a wrapped espeak-ng, in order. */
async function synthesisPids(logPath: string): Promise<number[]> {
  const text = await readFile(logPath, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map(Number);
}

describe('espeak backend aborts (the system program behind a wrapper that logs each synthesis run)', () => {
  let dir = '';
  /** A wrapper that logs the pid of each synthesis run, then runs espeak-ng as that same process. */
  let logging = { binaryPath: '', logPath: '' };
  /** A wrapper whose synthesis runs log their pid and then never finish (`sleep`), as a run stuck mid-chunk. */
  let hanging = { binaryPath: '', logPath: '' };
  const leftovers: number[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'voice-soundboard-espeak-abort-'));
    const wrapper = async (name: string, synthesis: string) => {
      const logPath = join(dir, `${name}.log`);
      const binaryPath = join(dir, name);
      await writeFile(binaryPath, ['#!/bin/sh', `case " $* " in *" -w "*) echo "$$" >> '${logPath}'; ${synthesis};; esac`, 'exec espeak-ng "$@"', ''].join('\n'));
      await chmod(binaryPath, 0o755);
      return { binaryPath, logPath };
    };
    logging = await wrapper('logging-espeak', 'exec espeak-ng "$@"');
    hanging = await wrapper('hanging-espeak', 'exec sleep 600');
  });

  afterAll(async () => {
    for (const pid of leftovers) if (processExists(pid)) process.kill(pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('aborted between chunks: rejects with AbortError, yields no further chunk and starts no further run', async () => {
    const backend = new EspeakBackend({ mode: 'process', binaryPath: logging.binaryPath, firstChunkTimeoutMs: 600_000 });
    try {
      const text = Array.from({ length: 40 }, (_, index) => `This is sentence number ${index + 1} of a long text.`).join(' ');
      const controller = new AbortController();
      const received: EngineOutput[] = [];
      let runsAtAbort = -1;
      const error = await (async () => {
        for await (const chunk of backend.synthesize(segment(text), {}, controller.signal)) {
          received.push(chunk);
          if (received.length === 2) {
            runsAtAbort = (await synthesisPids(logging.logPath)).length;
            controller.abort();
          }
        }
      })().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AbortError);
      expect(received).toHaveLength(2);
      expect(runsAtAbort).toBe(2);
      const pids = await synthesisPids(logging.logPath);
      expect(pids).toHaveLength(2); // none of the other 38 sentences was started
      expect(pids.filter(processExists)).toEqual([]);
    } finally {
      await backend.close();
    }
  });

  it('aborted while a run is executing: rejects with AbortError and kills that process', async () => {
    const backend = new EspeakBackend({ mode: 'process', binaryPath: hanging.binaryPath, maxRetries: 0, firstChunkTimeoutMs: 600_000 });
    try {
      const controller = new AbortController();
      const pending = collect(backend.synthesize(segment(FOX), {}, controller.signal)).catch((caught: unknown) => caught);
      await waitUntil(async () => (await synthesisPids(hanging.logPath)).length === 1, 'the synthesis run to start');
      const [pid = 0] = await synthesisPids(hanging.logPath);
      leftovers.push(pid);
      expect(processExists(pid)).toBe(true); // it would sleep for ten minutes
      controller.abort();
      expect(await pending).toBeInstanceOf(AbortError);
      await waitUntil(() => !processExists(pid), `the aborted run (pid ${pid}) to be killed`);
      expect(await synthesisPids(hanging.logPath)).toHaveLength(1); // no retry of an aborted run
    } finally {
      await backend.close();
    }
  });
});

describe('espeak backend errors and options', () => {
  it('says what to install when the forced program is missing', async () => {
    const backend = new EspeakBackend({ mode: 'process', binaryPath: '/nonexistent/espeak-ng' });
    const error = await collect(backend.synthesize(segment('hello'))).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ code: 'ESPEAK_NOT_FOUND' });
    expect((error as Error).message).toContain('apt-get install espeak-ng');
    expect(await backend.health()).toMatchObject({ status: 'unavailable', modelLoaded: false });
  });

  it('says what to install when neither the program nor the WASM build is there', async () => {
    const backend = new EspeakBackend({ mode: 'auto', binaryPath: '/nonexistent/espeak-ng', wasmPackage: 'espeak-ng-not-installed' });
    const error = await collect(backend.synthesize(segment('hello'))).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ code: 'ESPEAK_NOT_FOUND', retryable: false });
    expect((error as Error).message).toBe(
      'espeak: neither the espeak-ng program ("/nonexistent/espeak-ng") nor the espeak-ng WASM build ("espeak-ng-not-installed") is available; install espeak-ng (apt-get install espeak-ng) or the espeak-ng npm package',
    );
    const forcedWasm = new EspeakBackend({ mode: 'wasm', wasmPackage: 'espeak-ng-not-installed' });
    await expect(forcedWasm.path()).rejects.toThrow('the espeak-ng WASM build "espeak-ng-not-installed" could not be loaded');
  });

  it('loads a vendored copy of the WASM build from a path', async () => {
    const vendored = createRequire(import.meta.url).resolve('espeak-ng');
    const backend = new EspeakBackend({ mode: 'wasm', wasmPackage: vendored });
    const audio = await collect(backend.synthesize(segment('Vendored.')));
    expect(await backend.path()).toBe('wasm');
    expect(rms(audio.pcm)).toBeGreaterThan(0.03);
  });

  it('falls back to the WASM build in auto mode when the program is missing', async () => {
    const backend = new EspeakBackend({ mode: 'auto', binaryPath: '/nonexistent/espeak-ng' });
    expect(await backend.path()).toBe('wasm');
  });

  it('validates options with a message naming the field', () => {
    expect(() => new EspeakBackend({ mode: 'gpu' as 'auto' })).toThrow(InputError);
    expect(() => new EspeakBackend({ maxChunkChars: 5 })).toThrow(/espeak\.maxChunkChars/);
    expect(() => new EspeakBackend({ voice: 'en' } as never)).toThrow(/espeak/);
  });

  it('refuses to synthesize after close()', async () => {
    const backend = new EspeakBackend({ mode: 'process' });
    await backend.close();
    await backend.close();
    await expect(collect(backend.synthesize(segment('hello')))).rejects.toMatchObject({ code: 'BACKEND_CLOSED' });
  });
});
