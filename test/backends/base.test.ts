/**
 * BaseBackend's retries, timeouts, cancellation and metrics, exercised through a tiny real
 * subclass whose attempts follow a script (this tests the base class; nothing is mocked).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BaseBackend, DEFAULT_BACKEND_POLICY, type BackendCapabilities, type BackendPolicy, type VoiceInfo } from '../../src/backends/backend.js';
import { AbortError, BackendError } from '../../src/errors.js';
import { NEUTRAL_PROSODY, type EngineOutput, type SynthesisOptions, type SynthesisSegment } from '../../src/graph/engine-output.js';
import { nextTurn, settledFlag, waitUntil } from '../helpers/waiting.js';

type Attempt = (signal: AbortSignal, attemptIndex: number) => AsyncIterable<EngineOutput>;

class ScriptedBackend extends BaseBackend {
  readonly name = 'scripted';
  readonly capabilities: BackendCapabilities = { streaming: true, wordTimings: false, phonemes: false, remote: false };
  readonly attemptSignals: AbortSignal[] = [];

  constructor(
    private readonly script: Attempt[],
    policy: Partial<BackendPolicy> = {},
  ) {
    super(policy);
  }

  async voices(): Promise<VoiceInfo[]> {
    return [];
  }

  protected synthesizeOnce(_segment: SynthesisSegment, _options: SynthesisOptions, signal: AbortSignal): AsyncIterable<EngineOutput> {
    const index = this.attemptSignals.length;
    this.attemptSignals.push(signal);
    const attempt = this.script[Math.min(index, this.script.length - 1)];
    if (!attempt) throw new Error('no script');
    return attempt(signal, index);
  }
}

const SEGMENT: SynthesisSegment = { text: 'hello', prosody: { ...NEUTRAL_PROSODY } };
/** 100 ms of mono audio at 16 kHz. */
const chunk = (): EngineOutput => ({ pcm: new Float32Array(1600), sampleRateHz: 16000, channels: 1, metadata: {} });

const succeed: Attempt = () => (async function* () { yield chunk(); yield chunk(); })();
const failTransient: Attempt = () => (async function* () { yield* []; throw new BackendError('scripted', 'HTTP_503', 'service unavailable', { retryable: true }); })();
const failPermanent: Attempt = () => (async function* () { yield* []; throw new BackendError('scripted', 'HTTP_401', 'bad key'); })();
const waitForAbort: Attempt = (signal) =>
  (async function* () {
    await new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('attempt saw abort')), { once: true }));
    yield chunk();
  })();

/** The delays of every timer set from now on (the timers still run); restored after each test. */
function recordTimerDelays(): () => number[] {
  const spy = vi.spyOn(globalThis, 'setTimeout');
  return () => spy.mock.calls.map(([, delayMs]) => delayMs ?? 0);
}
afterEach(() => {
  vi.restoreAllMocks();
});

async function drain(stream: AsyncIterable<EngineOutput>): Promise<EngineOutput[]> {
  const chunks: EngineOutput[] = [];
  for await (const item of stream) chunks.push(item);
  return chunks;
}

describe('BaseBackend', () => {
  it('passes chunks through and counts calls and audio', async () => {
    const backend = new ScriptedBackend([succeed]);
    expect(await drain(backend.synthesize(SEGMENT))).toHaveLength(2);
    const metrics = backend.metrics();
    expect(metrics).toMatchObject({ calls: 1, failures: 0, retries: 0 });
    expect(metrics.audioMs).toBeCloseTo(200);
    expect(metrics.lastFirstChunkMs).toBeGreaterThanOrEqual(0);
  });

  it('retries retryable failures before audio, with growing backoff, then succeeds', async () => {
    const timerDelays = recordTimerDelays();
    const firstChunkTimeoutMs = 45_000; // told apart from the backoff timers by its length
    const backend = new ScriptedBackend([failTransient, failTransient, succeed], { maxRetries: 2, retryBaseMs: 40, firstChunkTimeoutMs });
    expect(await drain(backend.synthesize(SEGMENT))).toHaveLength(2);
    expect(backend.metrics()).toMatchObject({ calls: 1, retries: 2, failures: 0 });
    expect(backend.attemptSignals).toHaveLength(3);
    const delays = timerDelays();
    expect(delays.filter((delayMs) => delayMs === firstChunkTimeoutMs)).toHaveLength(3); // one per attempt
    const backoffsMs = delays.filter((delayMs) => delayMs !== firstChunkTimeoutMs);
    // jitter is ±25 %: first wait 30–50 ms, second 60–100 ms
    expect(backoffsMs).toHaveLength(2);
    expect(backoffsMs[0]).toBeGreaterThanOrEqual(30);
    expect(backoffsMs[0]).toBeLessThanOrEqual(50);
    expect(backoffsMs[1]).toBeGreaterThanOrEqual(60);
    expect(backoffsMs[1]).toBeLessThanOrEqual(100);
  });

  it('gives up after maxRetries and throws the last failure', async () => {
    const backend = new ScriptedBackend([failTransient], { maxRetries: 2, retryBaseMs: 1 });
    await expect(drain(backend.synthesize(SEGMENT))).rejects.toMatchObject({ code: 'HTTP_503', retryable: true });
    expect(backend.attemptSignals).toHaveLength(3);
    expect(backend.metrics()).toMatchObject({ calls: 1, retries: 2, failures: 1 });
  });

  it('does not retry a non-retryable failure', async () => {
    const backend = new ScriptedBackend([failPermanent, succeed], { maxRetries: 3, retryBaseMs: 1 });
    await expect(drain(backend.synthesize(SEGMENT))).rejects.toMatchObject({ code: 'HTTP_401' });
    expect(backend.attemptSignals).toHaveLength(1);
  });

  it('does not retry once audio was yielded (the listener already heard it)', async () => {
    const partial: Attempt = () =>
      (async function* () {
        yield chunk();
        throw new BackendError('scripted', 'HTTP_503', 'dropped', { retryable: true });
      })();
    const backend = new ScriptedBackend([partial, succeed], { maxRetries: 3, retryBaseMs: 1 });
    const received: EngineOutput[] = [];
    await expect(
      (async () => {
        for await (const item of backend.synthesize(SEGMENT)) received.push(item);
      })(),
    ).rejects.toMatchObject({ code: 'HTTP_503' });
    expect(received).toHaveLength(1);
    expect(backend.attemptSignals).toHaveLength(1);
  });

  it('times out an attempt with no first chunk, aborting its signal, and retries the timeout', async () => {
    const backend = new ScriptedBackend([waitForAbort, succeed], { maxRetries: 1, retryBaseMs: 1, firstChunkTimeoutMs: 50 });
    expect(await drain(backend.synthesize(SEGMENT))).toHaveLength(2);
    expect(backend.attemptSignals[0]?.aborted).toBe(true);
    expect(backend.attemptSignals[0]?.reason).toMatchObject({ code: 'BACKEND_TIMEOUT' });
    expect(backend.metrics().retries).toBe(1);
  });

  it('reports BACKEND_TIMEOUT when no retry is left', async () => {
    const backend = new ScriptedBackend([waitForAbort], { maxRetries: 0, firstChunkTimeoutMs: 30 });
    const error = await drain(backend.synthesize(SEGMENT)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ code: 'BACKEND_TIMEOUT', retryable: true, message: 'scripted: no audio within 30 ms' });
  });

  it('applies the timeout only to the first chunk', async () => {
    const slowAfterFirst: Attempt = () =>
      (async function* () {
        yield chunk();
        await new Promise((resolve) => setTimeout(resolve, 80));
        yield chunk();
      })();
    const backend = new ScriptedBackend([slowAfterFirst], { maxRetries: 0, firstChunkTimeoutMs: 30 });
    expect(await drain(backend.synthesize(SEGMENT))).toHaveLength(2);
  });

  it('turns caller cancellation into AbortError, aborts the attempt and never retries it', async () => {
    const backend = new ScriptedBackend([waitForAbort, succeed], { maxRetries: 3, retryBaseMs: 1 });
    const controller = new AbortController();
    const pending = drain(backend.synthesize(SEGMENT, {}, controller.signal)).catch((caught: unknown) => caught);
    await waitUntil(() => backend.attemptSignals.length === 1, 'the attempt to start');
    controller.abort();
    const error = await pending;
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toMatchObject({ code: 'ABORTED' });
    expect(backend.attemptSignals).toHaveLength(1);
    expect(backend.attemptSignals[0]?.aborted).toBe(true);
  });

  it('stops waiting in a backoff as soon as the caller aborts', async () => {
    const timerDelays = recordTimerDelays();
    const backend = new ScriptedBackend([failTransient, succeed], { maxRetries: 1, retryBaseMs: 10_000 });
    const controller = new AbortController();
    const pending = drain(backend.synthesize(SEGMENT, {}, controller.signal)).catch((caught: unknown) => caught);
    const outcome = settledFlag(pending);
    // The backoff (7.5–12.5 s with jitter) has started once its timer is set.
    await waitUntil(() => timerDelays().some((delayMs) => delayMs >= 7500 && delayMs <= 12_500), 'the backoff to start');
    controller.abort();
    await nextTurn(); // settled by abort() itself, not by the end of the backoff
    expect(outcome.settled).toBe(true);
    expect(await pending).toBeInstanceOf(AbortError);
    expect(backend.attemptSignals).toHaveLength(1);
  });

  it('rejects at once when the signal is already aborted, without an attempt', async () => {
    const backend = new ScriptedBackend([succeed]);
    const controller = new AbortController();
    controller.abort();
    await expect(drain(backend.synthesize(SEGMENT, {}, controller.signal))).rejects.toBeInstanceOf(AbortError);
    expect(backend.attemptSignals).toHaveLength(0);
  });

  it('stops after the current chunk when aborted while the consumer holds one', async () => {
    const backend = new ScriptedBackend([succeed]);
    const controller = new AbortController();
    const received: EngineOutput[] = [];
    await expect(
      (async () => {
        for await (const item of backend.synthesize(SEGMENT, {}, controller.signal)) {
          received.push(item);
          controller.abort();
        }
      })(),
    ).rejects.toBeInstanceOf(AbortError);
    expect(received).toHaveLength(1);
  });

  it('wraps unknown errors as BACKEND_FAILED with the cause, not retryable', async () => {
    const cause = new TypeError('boom');
    const throws: Attempt = () => (async function* () { yield* []; throw cause; })();
    const backend = new ScriptedBackend([throws, succeed], { maxRetries: 2, retryBaseMs: 1 });
    const error = await drain(backend.synthesize(SEGMENT)).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'BACKEND_FAILED', retryable: false, message: 'scripted: boom', cause });
    expect(backend.attemptSignals).toHaveLength(1);
  });

  it('refuses work after close() and reports itself unavailable', async () => {
    const backend = new ScriptedBackend([succeed]);
    expect(await backend.health()).toMatchObject({ status: 'ok' });
    await backend.close();
    await backend.close();
    await expect(drain(backend.synthesize(SEGMENT))).rejects.toMatchObject({ code: 'BACKEND_CLOSED' });
    expect(await backend.health()).toMatchObject({ status: 'unavailable' });
  });

  it('has the documented default policy', () => {
    expect(DEFAULT_BACKEND_POLICY).toEqual({ maxRetries: 2, retryBaseMs: 200, firstChunkTimeoutMs: 30_000 });
    expect(Object.isFrozen(DEFAULT_BACKEND_POLICY)).toBe(true);
  });
});
