/**
 * play() runs in bounded memory: a chunk written to the device is let go (the native ring holds
 * the samples), so however long the text, the chunks still reachable stay a handful. Counted, not
 * measured: a fixture backend keeps a WeakRef to every chunk it yields and, after a full GC, the
 * test counts the ones still alive. The negative test plants the retention (`retainAudio: true`)
 * and shows the count catches it. RSS figures are in bench/play-memory.ts.
 */
import { setImmediate as nextTask } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { AudioOutput } from '../../src/audio/output.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';
import { SignalBackend } from '../helpers/signal-backend.js';
import { waitUntil } from '../helpers/waiting.js';

setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

const RATE_HZ = 16_000;
/** 50 ms chunks; the voice's ring (500 ms) holds ten of them. */
const CHUNK_FRAMES = 800;
/** One sentence (no pauses between sentences) the backend yields in 40 chunks: 2 s of audio. */
const CHUNKS = 40;
const TEXT = 'One long sentence that the backend yields chunk by chunk.';
/** Chunks yielded before the count is taken mid-play (far more than the ring holds). */
const COUNT_AFTER = 30;
/** The most chunks play() may hold at once: the one being written and the one being produced. */
const BOUND = 3;

const opened = closedAfterEach();

function setup(chunksPerSegment = CHUNKS): { engine: VoiceEngine; backend: SignalBackend; output: AudioOutput } {
  const output = new AudioOutput({ backend: 'null', sampleRateHz: RATE_HZ, channels: 1, periodFrames: 256 });
  const backend = new SignalBackend({ sampleRateHz: RATE_HZ, framesPerChunk: CHUNK_FRAMES, chunksPerSegment, track: true });
  const engine = new VoiceEngine({ backend, output });
  opened.push(output, engine);
  return { engine, backend, output };
}

/** Chunks of `backend` still reachable after a full GC, counted in a later task than any yield. */
async function reachableAfterGc(backend: SignalBackend): Promise<number> {
  await nextTask();
  fullGc();
  return backend.reachableChunks();
}

describe('play() in bounded memory', () => {
  it('lets every chunk go once written: a handful reachable mid-play, none after; the result has no audio', async () => {
    const { engine, backend } = setup();
    const playing = engine.play(TEXT);
    await waitUntil(() => backend.chunks >= COUNT_AFTER, `${COUNT_AFTER} chunks synthesized`);
    const midPlay = await reachableAfterGc(backend);
    const result = await playing;
    expect(midPlay).toBeLessThanOrEqual(BOUND);
    expect(await reachableAfterGc(backend)).toBe(0);
    expect(result.audio).toBeUndefined();
    expect(backend.chunks).toBe(CHUNKS);
    expect(result.durationMs).toBeCloseTo((backend.samples / RATE_HZ) * 1000, 6);
    expect(result.heard?.cutAtMs).toBeNull();
  });

  it('negative: retainAudio keeps every chunk, and the count catches it', async () => {
    const { engine, backend } = setup();
    const playing = engine.play(TEXT, { retainAudio: true });
    await waitUntil(() => backend.chunks >= COUNT_AFTER, `${COUNT_AFTER} chunks synthesized`);
    const midPlay = await reachableAfterGc(backend);
    const result = await playing;
    expect(midPlay).toBeGreaterThanOrEqual(COUNT_AFTER);
    expect(midPlay).toBeGreaterThan(BOUND);
    expect(result.audio.length).toBe(backend.samples);
  });

  it('marks, heard and duration are the same with and without retainAudio', async () => {
    const ssml = '<speak>One two.<mark name="middle"/> Three four.<mark name="end"/></speak>';
    const plain = await setup(2).engine.play(ssml);
    const kept = await setup(2).engine.play(ssml, { retainAudio: true });
    expect(plain.marks.map((mark) => mark.name)).toEqual(['middle', 'end']);
    expect(plain.marks).toEqual(kept.marks);
    expect(plain.durationMs).toBeCloseTo(kept.durationMs, 6);
    expect(plain.durationMs).toBeCloseTo((kept.audio.length / RATE_HZ) * 1000, 6);
    expect(plain.heard?.text).toBe(kept.heard?.text);
    expect(plain.heard?.playedMs).toBeCloseTo(kept.heard?.playedMs ?? -1, 6);
  });

  it('retainAudio is an option of play() only: speak() refuses it, naming the field', async () => {
    const { engine } = setup();
    await expect(engine.speak('Hi.', { retainAudio: true } as never)).rejects.toMatchObject({ name: 'InputError', message: expect.stringContaining('retainAudio') });
    await expect(engine.play('Hi.', { retainAudio: 'yes' } as never)).rejects.toMatchObject({ name: 'InputError', message: expect.stringContaining('retainAudio') });
  });
});
