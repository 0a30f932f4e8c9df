/**
 * play() settles promptly after an allowed interrupt (issue 10, item 3): synthesis and ring writes
 * abort at once, so the caller (and the next queued play) does not wait out the rest of a long
 * sentence. Counted, never timed: device frames rendered between the interrupt decision and
 * play()'s settlement, frames of the stream's own voice after the cut, and backend chunks
 * synthesized after the cut. Planted: a writer that keeps feeding the rest of the sentence into a
 * ring that discards it (the pre-fix play()) fails the same frame check by seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AudioOutput } from '../../src/audio/output.js';
import { EspeakBackend } from '../../src/backends/espeak.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { CountingBackend } from '../helpers/counting-backend.js';
import { collect, segment } from '../helpers/synthesis.js';
import { waitUntil } from '../helpers/waiting.js';

const RATE_HZ = 48_000;
const PERIOD_FRAMES = 480; // 10 ms
/** One long sentence (~14 s with espeak-ng en-us), cut by the backend into several chunks at commas. */
const LONG_SENTENCE = Array.from({ length: 12 }, (_, index) => `and then the clause number ${index + 1} went on for a while longer`).join(', ') + '.';

/**
 * The goal: one device period + 10 ms (its p50/p99 are measured in bench/, not here). Slack: the
 * null device renders in real time, so these frames count the wall time this test's JS thread
 * takes to see the settlement, which a loaded 2-core machine can stretch (200 ms was exceeded
 * once in a full run); 1.5 s still fails the pre-fix play(), which waited out the rest of the
 * sentence (5.27 s in the issue; 4 s in the planted test below).
 */
const SLACK_FRAMES = Math.round(1.5 * RATE_HZ);
const GOAL_FRAMES = PERIOD_FRAMES + Math.round(0.01 * RATE_HZ);

/** Why `framesAfterCut` (device frames from the decision to settlement) breaks the goal, or null. */
function settleViolation(framesAfterCut: number): string | null {
  return framesAfterCut <= GOAL_FRAMES + SLACK_FRAMES ? null : `settled ${framesAfterCut} device frames after the cut (goal ${GOAL_FRAMES} + slack ${SLACK_FRAMES})`;
}

describe('play() after an allowed interrupt', () => {
  let output: AudioOutput;
  let backend: CountingBackend;
  let engine: VoiceEngine;
  beforeAll(() => {
    output = new AudioOutput({ backend: 'null', sampleRateHz: RATE_HZ, periodFrames: PERIOD_FRAMES, channels: 1 });
    backend = new CountingBackend(new EspeakBackend({ maxChunkChars: 120 }));
    engine = new VoiceEngine({ backend, output });
  });
  afterAll(async () => {
    await engine.close();
    await backend.close();
    output.close();
  });

  it('settles within one period + 10 ms (+ wake slack) of device frames, a long sentence 1 s in; nothing synthesized after the cut but the chunk in flight', async () => {
    const playing = engine.play(LONG_SENTENCE);
    await waitUntil(() => engine.activeStreams().some((id) => engine.registrar.getState(id)?.state === 'playing'), 'the stream to play');
    const streamId = engine.activeStreams()[0] as string;
    const startFrames = output.stats().deviceFrames;
    await waitUntil(() => output.stats().deviceFrames - startFrames >= RATE_HZ, 'one second of the sentence on the device');
    const yieldedAtCut = backend.yielded;
    const cutFrames = output.stats().deviceFrames;
    expect(engine.interrupt(streamId, { reason: 'test' }).allowed).toBe(true);
    const result = await playing;
    const settledFrames = output.stats().deviceFrames;

    expect(result.interrupted).toBe(true);
    expect(settleViolation(settledFrames - cutFrames)).toBeNull();
    // The stream's own voice after the cut: the period in the callback and the fade, no more.
    const heard = result.heard;
    expect(heard?.cutAtMs).not.toBeNull();
    expect((heard?.playedMs ?? 0) - (heard?.cutAtMs ?? 0)).toBeLessThanOrEqual(((PERIOD_FRAMES + output.fadeFrames) / RATE_HZ) * 1000 + 0.001);
    // The sentence was far from its end (more than 8 s left), and at most the chunk in flight was synthesized after the cut.
    expect(backend.yielded - yieldedAtCut).toBeLessThanOrEqual(1);
    const reference = new EspeakBackend({ maxChunkChars: 120 });
    const full = await collect(reference.synthesize(segment(LONG_SENTENCE))).finally(() => reference.close());
    const fullMs = (full.reduce((sum, chunk) => sum + chunk.pcm.length, 0) / 22_050) * 1000;
    expect(fullMs - (heard?.cutAtMs ?? 0)).toBeGreaterThan(8000);
    expect(backend.yielded).toBeLessThan(full.length);
  }, 60_000);

  it('planted: a writer that keeps feeding the rest into a ring that discards it (pre-fix play()) fails the same check', async () => {
    const restFrames = 4 * RATE_HZ;
    const voice = output.openVoice({ gainDb: -120 });
    try {
      const cutFrames = output.stats().deviceFrames;
      await voice.writeAll(new Float32Array(restFrames).fill(0.1));
      await voice.drain();
      const violation = settleViolation(output.stats().deviceFrames - cutFrames);
      expect(violation).toMatch(/^settled \d+ device frames after the cut/);
    } finally {
      voice.close();
    }
  }, 60_000);
});
