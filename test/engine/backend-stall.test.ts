/**
 * A `speakToFile()` without `play` whose backend stops producing audio (never yields again, never
 * ends) is caught as a stalled play is: after `admissionTimeoutMs` with no chunk the runtime
 * fails the stream (attested, reason naming the stall and the option), the call rejects
 * STREAM_FAILED and no file, partial or temp, is left. Also when the backend ignores its abort
 * signal (its call is left pending; the file call settles all the same). Control: the same
 * backend without the stall writes the file. play() on a backend that ignores its abort signal
 * settles too (its admission timeout gives the stream up) and gives its device turn to the next
 * play. A stub backend implementing the SpeechBackend interface; real files in a temp dir; real
 * addon (miniaudio's null device) for play; deadlines only.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { BackendCapabilities, BackendHealth, BackendMetrics, SpeechBackend, VoiceInfo } from '../../src/backends/backend.js';
import { AudioOutput } from '../../src/audio/output.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import type { EngineOutput, SynthesisOptions, SynthesisSegment } from '../../src/graph/engine-output.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const RATE_HZ = 16_000;
/** The stall timeout of these engines (short: the stall is planted, not a slow machine). */
const TIMEOUT_MS = 400;
const newDir = tempDirs('vs-backend-stall-');

/** Yields a quarter second per segment; a segment whose text has "stall" yields `before` chunks, then nothing more, ever (honouring its abort signal unless `deaf`). */
class StallingBackend implements SpeechBackend {
  readonly name = 'stalling';
  readonly capabilities: BackendCapabilities = { streaming: true, wordTimings: false, phonemes: false, remote: false };
  /** Aborts the backend saw on a stalled segment's signal. */
  abortsSeen = 0;
  constructor(private readonly stall: { before: number; deaf: boolean }) {}
  async voices(): Promise<VoiceInfo[]> {
    return [];
  }
  async *synthesize(segment: SynthesisSegment, _options?: SynthesisOptions, signal?: AbortSignal): AsyncIterable<EngineOutput> {
    const stalls = segment.text.includes('stall');
    for (let chunk = 0; chunk < (stalls ? this.stall.before : 1); chunk++) yield { pcm: new Float32Array(RATE_HZ / 4).fill(0.25), sampleRateHz: RATE_HZ, channels: 1, metadata: {} };
    if (!stalls) return;
    await new Promise<void>((resolve) => {
      if (this.stall.deaf) return;
      signal?.addEventListener('abort', () => {
        this.abortsSeen += 1;
        resolve();
      }, { once: true });
    });
  }
  async health(): Promise<BackendHealth> {
    return { backend: this.name, status: 'ok', modelLoaded: true };
  }
  metrics(): BackendMetrics {
    return { calls: 0, failures: 0, retries: 0, audioMs: 0, lastFirstChunkMs: null };
  }
  async close(): Promise<void> {}
}

const engines: VoiceEngine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.close();
});

function engineOn(backend: StallingBackend, close = true): { engine: VoiceEngine; registrar: AudioRegistrar } {
  const registrar = new AudioRegistrar();
  const engine = new VoiceEngine({ registrar, actor: 'agent:assistant', backend, admissionTimeoutMs: TIMEOUT_MS });
  if (close) engines.push(engine);
  return { engine, registrar };
}

/** The runtime's fail of the stream, if any. */
function runtimeFail(registrar: AudioRegistrar): { reason: string } | undefined {
  const fail = registrar.attestationStore.all().find((record) => record.action === 'fail' && record.decision === 'allowed' && record.actor?.id === 'voice-engine');
  return fail ? { reason: String((fail.parameters as { reason?: string }).reason) } : undefined;
}

describe('speakToFile() without play, on a backend that stalls', () => {
  it.each([
    ['between two chunks', 1, 'wav'],
    ['before its first audio', 0, 'wav'],
    ['between two chunks, into an encoder (mp3)', 1, 'mp3'],
  ] as const)('%s: the runtime fails the stream (attested), the call rejects STREAM_FAILED, no file is left', async (_when, before, format) => {
    const dir = newDir();
    const backend = new StallingBackend({ before, deaf: false });
    const { engine, registrar } = engineOn(backend);
    const path = join(dir, `out.${format}`);
    const error = await engine.speakToFile('A first sentence. Then a stall here.', path).then(() => null, (failure: unknown) => failure);
    expect(error).toMatchObject({ code: 'STREAM_FAILED' });
    expect(String((error as Error).message)).toContain(`the backend gave no audio for ${TIMEOUT_MS} ms (admissionTimeoutMs)`);
    expect(runtimeFail(registrar)?.reason).toContain(`the backend gave no audio for ${TIMEOUT_MS} ms (admissionTimeoutMs)`);
    // The fail aborted the backend's synthesis, and nothing stayed behind.
    expect(backend.abortsSeen).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
    expect(existsSync(path)).toBe(false);
  }, 60_000);

  it('a backend that ignores its abort signal: the call settles all the same (STREAM_FAILED), no file is left', async () => {
    const dir = newDir();
    // Its synthesis never settles: the engine's close() would wait for it, so this engine is not closed.
    const { engine, registrar } = engineOn(new StallingBackend({ before: 1, deaf: true }), false);
    const error = await engine.speakToFile('A first sentence. Then a stall here.', join(dir, 'out.wav')).then(() => null, (failure: unknown) => failure);
    expect(error).toMatchObject({ code: 'STREAM_FAILED' });
    expect(runtimeFail(registrar)?.reason).toContain('admissionTimeoutMs');
    expect(readdirSync(dir)).toEqual([]);
  }, 60_000);

  it("not counted: the file's end of encoding (integrated loudness: every byte goes out after the last chunk) held past the timeout by its target", async () => {
    const { engine, registrar } = engineOn(new StallingBackend({ before: 1, deaf: false }));
    let bytes = 0;
    let held = false;
    const target = new Writable({
      write(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        if (held) return done();
        held = true;
        // Far longer than the timeout: were the wait on the file counted, the stream would fail here.
        setTimeout(done, TIMEOUT_MS * 4);
      },
    });
    const result = await engine.speakToFile('A first sentence. Then a second one.', target, { targetLufs: -20 });
    expect(held).toBe(true);
    expect(result.file.bytes).toBe(bytes);
    expect(runtimeFail(registrar)).toBeUndefined();
  }, 60_000);

  it('control: the same backend without a stall writes the file, nothing failed', async () => {
    const dir = newDir();
    const { engine, registrar } = engineOn(new StallingBackend({ before: 1, deaf: false }));
    const result = await engine.speakToFile('A first sentence. Then a second one.', join(dir, 'out.wav'));
    expect(result.file.frames).toBeGreaterThanOrEqual(RATE_HZ / 2);
    expect(runtimeFail(registrar)).toBeUndefined();
    expect(readdirSync(dir)).toEqual(['out.wav']);
  }, 60_000);
});

describe('play() on a backend that stalls and ignores its abort signal', () => {
  it('rejects STREAM_FAILED once the admission timeout gave the stream up, and the next play on the device goes', async () => {
    const output = new AudioOutput({ backend: 'null', sampleRateHz: RATE_HZ, channels: 1 });
    const registrar = new AudioRegistrar();
    // Its stalled synthesis never settles: the engine's close() would wait for it, so it is not closed.
    const stalled = new VoiceEngine({ registrar, actor: 'agent:hog', backend: new StallingBackend({ before: 1, deaf: true }), admissionTimeoutMs: TIMEOUT_MS, output });
    const next = new VoiceEngine({ registrar, actor: 'agent:next', backend: new StallingBackend({ before: 1, deaf: false }), output });
    engines.push(next);
    try {
      const error = await stalled.play('A first sentence. Then a stall here.').then(() => null, (failure: unknown) => failure);
      expect(error).toMatchObject({ code: 'STREAM_FAILED' });
      expect(runtimeFail(registrar)?.reason).toContain(`no audio to play for ${TIMEOUT_MS} ms (admissionTimeoutMs)`);
      // The device turn was given back: a play queued behind it on the same device is admitted and ends.
      await expect(next.play('Next in line.')).resolves.toMatchObject({ streamId: expect.any(String) });
    } finally {
      await next.close();
      output.close();
    }
  }, 60_000);
});
