/**
 * Nothing of a stream reaches its consumer after an allowed interrupt, stop or fail, or a halt
 * (audit 17c). A backend that speaks each sentence in pieces, held between pieces by the test: the
 * decision is made while a sentence is half synthesized, then the backend is let go (it obeys its
 * abort signal and ends). Before the fix the run still handed out what it held of that sentence:
 * with `targetLufs` (stream() normalises per sentence) the gathered pieces as one chunk, without it
 * the resampler's tail; stream() yielded it, speak() returned it in its audio and speakToFile()
 * wrote it, all after the decision that ended the stream. Counted in chunks and samples, no clock.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeWav } from '../../src/audio/wav.js';
import { BaseBackend, type BackendCapabilities, type VoiceInfo } from '../../src/backends/backend.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import type { EngineOutput, SynthesisOptions, SynthesisSegment } from '../../src/graph/engine-output.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { waitUntil } from '../helpers/waiting.js';

const BACKEND_RATE_HZ = 22_050;
const PIECE_FRAMES = 4410; // 200 ms at the backend's rate

/** Speaks each sentence as `pieces` pieces of a 220 Hz tone; in the sentence naming "held", after the first piece it waits for `release()` (or its abort). */
class HeldBackend extends BaseBackend {
  readonly name = 'held';
  readonly capabilities: BackendCapabilities = { streaming: true, wordTimings: false, phonemes: false, remote: false };
  piecesYielded = 0;
  /** The held sentence waits for `release()`. */
  holding = false;
  #release: (() => void) | undefined;
  #held: Promise<void> = new Promise((resolve) => (this.#release = resolve));

  constructor(readonly pieces = 4) {
    super();
  }

  async voices(): Promise<VoiceInfo[]> {
    return [];
  }

  release(): void {
    this.#release?.();
  }

  protected async *synthesizeOnce(segment: SynthesisSegment, _options: SynthesisOptions, signal: AbortSignal): AsyncIterable<EngineOutput> {
    for (let piece = 0; piece < this.pieces; piece += 1) {
      if (piece === 1 && segment.text.includes('held')) {
        // Asked for the next piece: the engine has taken the first one in (handed out, or gathered).
        this.holding = true;
        await Promise.race([this.#held, new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))]);
      }
      // An obedient backend: nothing more once aborted.
      if (signal.aborted) return;
      const pcm = new Float32Array(PIECE_FRAMES).map((_, index) => 0.3 * Math.sin((2 * Math.PI * 220 * (this.piecesYielded * PIECE_FRAMES + index)) / BACKEND_RATE_HZ));
      this.piecesYielded += 1;
      yield { pcm, sampleRateHz: BACKEND_RATE_HZ, channels: 1, metadata: {} };
    }
  }
}

const engines: VoiceEngine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.close();
});

type Decision = 'interrupt' | 'stop' | 'fail' | 'halt';

/** A registrar, a user owning the streams' engine (so every decision is hers to make), the held backend. */
function setUp(): { engine: VoiceEngine; backend: HeldBackend; decide: (streamId: string, decision: Decision) => void } {
  const registrar = new AudioRegistrar();
  const alice = registrar.registerActor('user:alice', { sessions: ['den'] });
  const bob = registrar.registerActor('user:bob', { sessions: ['den'] });
  const backend = new HeldBackend();
  const engine = new VoiceEngine({ registrar, actor: alice, backend, sampleRateHz: 24_000 });
  engines.push(engine);
  const decide = (streamId: string, decision: Decision): void => {
    if (decision === 'halt') {
      // The one halt a request can cause: a user's override replacing another user's (accessibility_bypass).
      expect(registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'den' } }).allowed).toBe(true);
      registrar.request({ action: 'enable_override', actor: bob, metadata: { scope: 'session', scopeId: 'den' } });
      expect(registrar.halted).toBe(true);
      return;
    }
    const result = registrar.request({ action: decision, actor: alice, target: streamId, reason: 'test' });
    expect(result.allowed).toBe(true);
  };
  return { engine, backend, decide };
}

/** The first sentence plays whole; the second is held half synthesized while the decision is made. */
const TEXT = 'The first sentence is spoken whole. The second one is held in the middle. A third is never reached.';

/** Samples of the chunks `consume` got, before and after the decision (made while the second sentence is held, then the backend is let go). */
async function around(decision: Decision | null, consume: (engine: VoiceEngine, take: (pcm: Float32Array) => void) => Promise<unknown>): Promise<{ before: number; after: number; outcome: unknown }> {
  const { engine, backend, decide } = setUp();
  const counts = { before: 0, after: 0 };
  let decided = false;
  const running = consume(engine, (pcm) => (counts[decided ? 'after' : 'before'] += pcm.length)).catch((error: unknown) => error);
  await waitUntil(() => backend.holding, 'the held sentence half synthesized, its first piece taken in');
  const streamId = engine.activeStreams()[0] as string;
  if (decision) decide(streamId, decision);
  decided = true;
  backend.release();
  const outcome = await running;
  return { ...counts, outcome };
}

const streamed = (options: { targetLufs?: number }) => async (engine: VoiceEngine, take: (pcm: Float32Array) => void): Promise<void> => {
  for await (const chunk of engine.stream(TEXT, options)) take(chunk.pcm);
};

describe('after an allowed decision ends a stream, its consumer gets nothing more', () => {
  for (const targetLufs of [undefined, -18]) {
    const label = targetLufs === undefined ? 'without targetLufs (the resampler tail)' : 'with targetLufs (the gathered sentence)';
    for (const decision of ['interrupt', 'stop', 'fail', 'halt'] as const) {
      it(`stream() ${label}: no sample after ${decision}`, async () => {
        const { before, after } = await around(decision, streamed(targetLufs === undefined ? {} : { targetLufs }));
        expect(before).toBeGreaterThan(0);
        expect(after).toBe(0);
      });
    }
  }

  it('speak(): the audio holds only what was synthesized before the interrupt', async () => {
    // What stream() hands out before the decision is exactly what was delivered then.
    const { before } = await around('interrupt', streamed({}));
    const { outcome } = await around('interrupt', (engine) => engine.speak(TEXT));
    const result = outcome as { audio: Float32Array; interrupted?: boolean };
    expect(result.interrupted).toBe(true);
    expect(result.audio.length).toBe(before);
  });

  it('speakToFile() per-sentence: the file holds only the sentences delivered before the interrupt', async () => {
    const { before } = await around('interrupt', streamed({ targetLufs: -18 }));
    const path = join(mkdtempSync(join(tmpdir(), 'after-decision-')), 'out.wav');
    const { outcome } = await around('interrupt', (engine) => engine.speakToFile(TEXT, path, { targetLufs: -18, loudnessMode: 'per-sentence' }));
    expect(outcome).toMatchObject({ interrupted: true });
    expect(decodeWav(new Uint8Array(readFileSync(path))).pcm.length).toBe(before);
  });
});
