import { afterAll, describe, expect, it } from 'vitest';
import { BaseBackend, type BackendCapabilities, type VoiceInfo } from '../../src/backends/backend.js';
import { EspeakBackend } from '../../src/backends/espeak.js';
import { FallbackChain, FallbackExhaustedError, type FallbackResult } from '../../src/backends/fallback.js';
import { AbortError, BackendError, InputError } from '../../src/errors.js';
import { NEUTRAL_PROSODY, type EngineOutput, type SynthesisOptions, type SynthesisSegment } from '../../src/graph/engine-output.js';
import { collect, rms } from './espeak-signal.js';

const HELLO: SynthesisSegment = { text: 'Hello from the fallback chain.', prosody: { ...NEUTRAL_PROSODY } };

/** A small real backend whose one attempt does what the test scripts (the base class is real). */
class ScriptedBackend extends BaseBackend {
  readonly capabilities: BackendCapabilities = { streaming: true, wordTimings: false, phonemes: false, remote: false };
  readonly seenVoices: Array<string | undefined> = [];

  constructor(
    readonly name: string,
    private readonly attempt: (signal: AbortSignal) => AsyncIterable<EngineOutput>,
  ) {
    super({ maxRetries: 0 });
  }

  async voices(): Promise<VoiceInfo[]> {
    return [{ id: `${this.name}-voice`, backend: this.name, name: this.name, languages: ['en'] }];
  }

  protected synthesizeOnce(_segment: SynthesisSegment, options: SynthesisOptions, signal: AbortSignal): AsyncIterable<EngineOutput> {
    this.seenVoices.push(options.voice);
    return this.attempt(signal);
  }
}

const tone = (): EngineOutput => ({ pcm: new Float32Array(2205).fill(0.25), sampleRateHz: 22050, channels: 1, metadata: {} });

async function readAll(result: FallbackResult): Promise<EngineOutput[]> {
  const chunks: EngineOutput[] = [];
  for await (const chunk of result.chunks) chunks.push(chunk);
  return chunks;
}

describe('FallbackChain with real espeak backends', () => {
  const broken = new EspeakBackend({ mode: 'process', binaryPath: '/nonexistent/espeak-ng' });
  const real = new EspeakBackend({ mode: 'process' });
  afterAll(() => Promise.all([broken.close(), real.close()]));

  it('serves from the next backend and reports which one served and why the first failed', async () => {
    const degraded: unknown[] = [];
    const chain = new FallbackChain(
      [
        { backend: broken, label: 'espeak-missing' },
        { backend: real, label: 'espeak-system' },
      ],
      { onDegraded: (report) => degraded.push(report) },
    );
    const result = await chain.open(HELLO);
    expect(result.backend).toBe('espeak-system');
    expect(result.degraded).toBe(true);
    expect(result.failures).toEqual([
      expect.objectContaining({ backend: 'espeak-missing', code: 'ESPEAK_NOT_FOUND', retryable: false, message: expect.stringContaining('apt-get install espeak-ng') }),
    ]);
    const chunks = await readAll(result);
    expect(chunks.length).toBeGreaterThan(0);
    expect(rms(chunks[0]?.pcm ?? new Float32Array())).toBeGreaterThan(0.03);
    expect(degraded).toEqual([{ backend: 'espeak-system', degraded: true, failures: result.failures }]);
    expect(chain.lastResult()).toMatchObject({ backend: 'espeak-system', degraded: true });
    expect(chain.metrics()).toMatchObject({ calls: 1, retries: 1, failures: 0 });
    expect(chain.metrics().audioMs).toBeGreaterThan(1000);
  });

  it('is not degraded when the first backend works', async () => {
    const chain = new FallbackChain([real, broken]);
    const result = await chain.open(HELLO);
    expect(result).toMatchObject({ backend: 'espeak', degraded: false, failures: [] });
    await readAll(result);
  });

  it('works as a SpeechBackend (synthesize yields the serving backend’s audio)', async () => {
    const chain = new FallbackChain([broken, real]);
    const audio = await collect(chain.synthesize(HELLO));
    expect(rms(audio.pcm)).toBeGreaterThan(0.03);
    expect(chain.lastResult()?.failures[0]?.code).toBe('ESPEAK_NOT_FOUND');
  });

  it('reports every failure when all backends fail', async () => {
    const chain = new FallbackChain([
      { backend: broken, label: 'first' },
      { backend: real, voice: 'no-such-voice', label: 'second' },
    ]);
    const error = await chain.open(HELLO).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FallbackExhaustedError);
    expect(error).toMatchObject({ code: 'ALL_BACKENDS_FAILED', backend: 'fallback' });
    expect((error as FallbackExhaustedError).failures.map((failure) => [failure.backend, failure.code])).toEqual([
      ['first', 'ESPEAK_NOT_FOUND'],
      ['second', 'VOICE_UNKNOWN'],
    ]);
    expect((error as Error).message).toContain('first (ESPEAK_NOT_FOUND)');
    expect(chain.metrics().failures).toBe(1);
  });

  it('health is degraded when only a later backend is available', async () => {
    expect(await new FallbackChain([broken, real]).health()).toMatchObject({ status: 'degraded' });
    expect(await new FallbackChain([real]).health()).toMatchObject({ status: 'ok' });
    expect(await new FallbackChain([broken]).health()).toMatchObject({ status: 'unavailable' });
  });
});

describe('FallbackChain rules', () => {
  it('never falls back from cancellation: an aborted caller ends the chain and the next backend is not tried', async () => {
    const controller = new AbortController();
    let firstWaiting: () => void = () => undefined;
    const firstIsWaiting = new Promise<void>((resolve) => (firstWaiting = resolve));
    const first = new ScriptedBackend('slow', (signal) =>
      (async function* () {
        const aborted = new Promise((_, reject) => signal.addEventListener('abort', () => reject(new AbortError()), { once: true }));
        firstWaiting();
        await aborted;
        yield tone();
      })(),
    );
    const second = new ScriptedBackend('second', () => (async function* () { yield tone(); })());
    const chain = new FallbackChain([first, second]);
    const opening = chain.open(HELLO, {}, controller.signal);
    await firstIsWaiting; // the first backend is at work: the abort lands mid-attempt
    controller.abort();
    await expect(opening).rejects.toBeInstanceOf(AbortError);
    expect(first.metrics().calls).toBe(1);
    expect(second.metrics().calls).toBe(0);
  });

  it('never falls back from an AbortError a backend raises on its own', async () => {
    const first = new ScriptedBackend('aborting', () => (async function* () { yield* []; throw new AbortError('stopped by the backend'); })());
    const second = new ScriptedBackend('second', () => (async function* () { yield tone(); })());
    await expect(new FallbackChain([first, second]).open(HELLO)).rejects.toThrow('stopped by the backend');
    expect(second.metrics().calls).toBe(0);
  });

  it('treats a backend that ends without audio as a failure, not as silence', async () => {
    const silent = new ScriptedBackend('silent', () => (async function* () { yield* []; })());
    const second = new ScriptedBackend('second', () => (async function* () { yield tone(); })());
    const result = await new FallbackChain([silent, second]).open(HELLO);
    expect(result.backend).toBe('second');
    expect(result.failures).toEqual([expect.objectContaining({ backend: 'silent', code: 'NO_AUDIO' })]);
  });

  it('stays with the serving backend when it fails after audio started', async () => {
    const flaky = new ScriptedBackend('flaky', () =>
      (async function* () {
        yield tone();
        throw new BackendError('flaky', 'CONNECTION_RESET', 'connection reset', { retryable: true });
      })(),
    );
    const second = new ScriptedBackend('second', () => (async function* () { yield tone(); })());
    const result = await new FallbackChain([flaky, second]).open(HELLO);
    expect(result.backend).toBe('flaky');
    await expect(readAll(result)).rejects.toMatchObject({ code: 'CONNECTION_RESET' });
    expect(second.metrics().calls).toBe(0);
  });

  it('gives each backend its own voice, or the caller’s when none is set', async () => {
    const first = new ScriptedBackend('first', () => (async function* () { yield* []; throw new BackendError('first', 'DOWN', 'down'); })());
    const second = new ScriptedBackend('second', () => (async function* () { yield tone(); })());
    await readAll(await new FallbackChain([first, { backend: second, voice: 'second-voice' }]).open(HELLO, { voice: 'caller-voice' }));
    expect(first.seenVoices).toEqual(['caller-voice']);
    expect(second.seenVoices).toEqual(['second-voice']);
  });

  it('stops the serving backend when the consumer leaves early', async () => {
    let finished = false;
    const long = new ScriptedBackend('long', () =>
      (async function* () {
        try {
          for (let index = 0; index < 100; index++) yield tone();
        } finally {
          finished = true;
        }
      })(),
    );
    const result = await new FallbackChain([long]).open(HELLO);
    for await (const _chunk of result.chunks) break;
    expect(finished).toBe(true);
  });

  it('lists the voices of all members and combines capabilities conservatively', async () => {
    const a = new ScriptedBackend('a', () => (async function* () { yield tone(); })());
    const espeak = new EspeakBackend({ mode: 'process' });
    const chain = new FallbackChain([espeak, a]);
    const voices = await chain.voices();
    expect(voices.some((voice) => voice.backend === 'espeak')).toBe(true);
    expect(voices.some((voice) => voice.id === 'a-voice')).toBe(true);
    expect(chain.capabilities).toEqual({ streaming: true, wordTimings: false, phonemes: false, remote: false });
    await chain.close();
    await expect(collect(espeak.synthesize(HELLO))).rejects.toMatchObject({ code: 'BACKEND_CLOSED' });
  });

  it('rejects an empty or malformed chain with InputError', () => {
    expect(() => new FallbackChain([])).toThrow(InputError);
    expect(() => new FallbackChain([])).toThrow(/at least one backend/);
    expect(() => new FallbackChain([{ backend: 'espeak' } as never])).toThrow(/fallback\.backends\.0/);
  });
});
