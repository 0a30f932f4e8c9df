/**
 * Scenes asserted on rendered audio: ducking depth and recovery, effects at their sample offset,
 * the pan law and distance attenuation, click-free loops, same seed → same bytes. Each guarantee
 * has a negative test that plants the violation and shows the check catches it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../../src/audio/wav.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import type { RenderedConversation } from '../../src/conversation/types.js';
import { Scene } from '../../src/scene/scene.js';
import { panGains } from '../../src/scene/levels.js';
import { ConstantLevelBackend } from '../helpers/constant-level-backend.js';
import { channelOf, duckingProblems, largestJump, leftRightDb, onsetAfter, toneAmplitude } from './scene-checks.js';

const RATE = 48_000;
const dir = mkdtempSync(join(tmpdir(), 'vs-scene-'));
let engine: VoiceEngine;

beforeAll(() => {
  engine = new VoiceEngine({ backend: new ConstantLevelBackend({ level: 0.3, sampleRateHz: RATE, framesPerSegment: RATE }), sampleRateHz: RATE });
});
afterAll(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

const frameOf = (ms: number): number => Math.round((ms / 1000) * RATE);

/** A mono WAV of a sine, `seconds` long. */
function sineFile(name: string, frequencyHz: number, seconds: number, amplitude: number, rate = RATE): string {
  const pcm = new Float32Array(Math.round(seconds * rate));
  for (let index = 0; index < pcm.length; index++) pcm[index] = amplitude * Math.sin((2 * Math.PI * frequencyHz * index) / rate);
  const path = join(dir, name);
  writeFileSync(path, encodeWav(pcm, { sampleRateHz: rate, channels: 1, format: 'f32' }));
  return path;
}

/** A conversation of one turn per `{ speaker, startMs }`, each a line the engine speaks (1 s at 0.3). */
async function conversationOf(turns: Array<{ speaker: string; startMs: number }>): Promise<RenderedConversation> {
  const rendered = [];
  for (const [index, turn] of turns.entries()) {
    const result = await engine.speak('Line.', { sampleRateHz: RATE });
    rendered.push({ index, speaker: turn.speaker, voice: 'constant', startMs: turn.startMs, endMs: turn.startMs + result.durationMs, pcm: result.audio, words: [] });
  }
  return { sampleRate: RATE, durationMs: Math.max(...rendered.map((turn) => turn.endMs)), turns: rendered };
}

describe('ducking', () => {
  const TONE = 250; // 192 frames a period: windows of 1920 frames hold whole periods
  const WINDOW = 1920;

  async function duckedScene(music: Parameters<Scene['addMusic']>[1]): Promise<{ left: Float32Array; dialogue: { startMs: number; endMs: number } }> {
    const conversation = await conversationOf([{ speaker: 'alice', startMs: 0 }]);
    const scene = new Scene({ durationMs: 5000 });
    scene.addMusic(sineFile('music.wav', TONE, 6, 0.2), music);
    scene.addDialogue(conversation, { startMs: 2000 });
    const rendered = await scene.render(engine);
    const turn = rendered.turns[0]!;
    return { left: channelOf(rendered.pcm, 0), dialogue: { startMs: turn.startMs, endMs: turn.endMs } };
  }

  function windows(dialogue: { startMs: number; endMs: number }, attackMs: number, afterMs: number) {
    const during: number[] = [];
    for (let from = frameOf(dialogue.startMs + attackMs + 10); from + WINDOW < frameOf(dialogue.endMs); from += WINDOW) during.push(from);
    const after = [frameOf(dialogue.endMs + afterMs), frameOf(dialogue.endMs + afterMs) + 2 * WINDOW];
    return { before: frameOf(1000), during, after, frames: WINDOW };
  }

  for (const duckAmount of [-12, '-12dB', 10 ** (-12 / 20)] as const) {
    it(`dips the music by its duckAmount (${String(duckAmount)}) ± 1 dB while the dialogue speaks and recovers after`, async () => {
      const { left, dialogue } = await duckedScene({ duckFor: ['dialogue'], duckAmount, duckAttackMs: 80, duckHoldMs: 250, duckReleaseMs: 400 });
      const checked = windows(dialogue, 80, 250 + 400 + 20);
      expect(checked.during.length).toBeGreaterThan(10);
      expect(duckingProblems(left, RATE, TONE, checked, -12)).toEqual([]);
    });
  }

  it('negative: music that does not duck is caught by the depth check', async () => {
    const { left, dialogue } = await duckedScene({});
    const problems = duckingProblems(left, RATE, TONE, windows(dialogue, 80, 670), -12);
    expect(problems.length).toBeGreaterThan(10);
    expect(problems[0]).toMatch(/during dialogue .* expected -12 ± 1 dB/);
  });

  it('negative: music still ducked after the dialogue (a release far too long) is caught', async () => {
    const { left, dialogue } = await duckedScene({ duckFor: ['dialogue'], duckAmount: -12, duckReleaseMs: 10_000 });
    expect(duckingProblems(left, RATE, TONE, windows(dialogue, 80, 670), -12).filter((problem) => problem.startsWith('after'))).toHaveLength(2);
  });
});

describe('effects', () => {
  const placements = [
    { atMs: 250, effect: 'click' },
    { atMs: 1001.3, effect: 'beep' },
    { atMs: 1777.7, effect: 'knock' },
    { atMs: 2500.04, effect: 'file' },
    { atMs: 3333.3, effect: 'function' },
  ] as const;

  async function effectsScene(offsetMs: number, rate = RATE): Promise<{ mono: Float32Array; rate: number }> {
    const impulse = new Float32Array(100);
    impulse[0] = 0.9;
    const file = join(dir, `impulse-${rate}.wav`);
    writeFileSync(file, encodeWav(impulse, { sampleRateHz: rate, channels: 1, format: 'f32' }));
    const scene = new Scene({ durationMs: 4000, sampleRate: rate });
    for (const { atMs, effect } of placements) {
      if (effect === 'file') scene.addEffect(atMs + offsetMs, file);
      else if (effect === 'function') scene.addEffect(atMs + offsetMs, ({ sampleRate }) => new Float32Array(sampleRate / 100).fill(0.5));
      else scene.addEffect(atMs + offsetMs, effect);
    }
    const rendered = await scene.render(engine);
    return { mono: channelOf(rendered.pcm, 0), rate };
  }

  function offsetProblems(mono: Float32Array, rate: number): string[] {
    const problems: string[] = [];
    let searchFrom = 0;
    for (const { atMs, effect } of placements) {
      const expected = (atMs / 1000) * rate;
      const onset = onsetAfter(mono, searchFrom);
      const errorMs = ((onset - expected) / rate) * 1000;
      if (Math.abs(errorMs) > 1) problems.push(`${effect} at ${atMs} ms starts ${errorMs.toFixed(3)} ms off`);
      // The next effect's onset is searched after this one has died away.
      searchFrom = Math.round(expected + 0.6 * rate);
    }
    return problems;
  }

  it('each effect (generators, a file, a function) starts at its sample offset ± 1 ms, at 48 and 44.1 kHz', async () => {
    for (const rate of [RATE, 44_100]) {
      const { mono } = await effectsScene(0, rate);
      expect(offsetProblems(mono, rate)).toEqual([]);
    }
  });

  it('a dialogue turn lands at its startMs ± 1 ms, from a conversation at another rate or one that renders itself', async () => {
    const turnAt24k = { index: 0, speaker: 'alice', voice: 'x', startMs: 500, endMs: 1000, pcm: new Float32Array(12_000).fill(0.3), words: [] };
    const conversation: RenderedConversation = { sampleRate: 24_000, durationMs: 1000, turns: [turnAt24k] };
    let renderedWith: unknown;
    const renderable = { render: async (by: unknown) => ((renderedWith = by), conversation) };
    for (const source of [conversation, renderable]) {
      const rendered = await new Scene({ durationMs: 2000 }).addDialogue(source, { startMs: 250 }).render(engine);
      const onset = onsetAfter(channelOf(rendered.pcm, 0), 0);
      expect(Math.abs(onset - frameOf(750))).toBeLessThanOrEqual(48);
      expect(rendered.turns).toEqual([{ layer: 'dialogue-0', speaker: 'alice', startMs: 750, endMs: 1250 }]);
    }
    expect(renderedWith).toBe(engine);
  });

  it('negative: effects 2 ms late are caught', async () => {
    const { mono, rate } = await effectsScene(2);
    expect(offsetProblems(mono, rate)).toHaveLength(placements.length);
  });
});

describe('panning', () => {
  async function placedTurn(position: { x: number; y?: number; z?: number }): Promise<Float32Array> {
    const conversation = await conversationOf([{ speaker: 'bob', startMs: 0 }]);
    const scene = new Scene({ durationMs: 1200 });
    scene.addDialogue(conversation, { positions: { bob: { x: position.x, y: position.y ?? 0, z: position.z ?? 0 } } });
    return (await scene.render(engine)).pcm;
  }

  /** Problems of the rendered L/R energy ratio against `law` (0.5 dB). */
  async function panProblems(law: (x: number) => { left: number; right: number }): Promise<string[]> {
    const problems: string[] = [];
    for (const x of [-0.9, -0.5, 0, 0.3, 0.8]) {
      const measured = leftRightDb(await placedTurn({ x }), 100, RATE - 100);
      const { left, right } = law(x);
      const expected = 20 * Math.log10(left / right);
      if (Math.abs(measured - expected) > 0.5) problems.push(`x ${x}: L/R ${measured.toFixed(2)} dB, law says ${expected.toFixed(2)} dB`);
    }
    return problems;
  }

  it('a speaker\'s L/R energy ratio follows the constant-power pan law within 0.5 dB', async () => {
    expect(await panProblems((x) => ({ left: Math.cos(((x + 1) * Math.PI) / 4), right: Math.sin(((x + 1) * Math.PI) / 4) }))).toEqual([]);
  });

  it('negative: a linear pan law does not match the rendered ratios', async () => {
    expect((await panProblems((x) => ({ left: (1 - x) / 2, right: (1 + x) / 2 }))).length).toBeGreaterThanOrEqual(3);
  });

  it('distance attenuates: z = 3 is 1/3 the level (−9.54 dB) of z = 0, total power constant across the pan', async () => {
    const energy = (pcm: Float32Array): number => pcm.subarray(200, 2 * RATE - 200).reduce((sum, sample) => sum + sample * sample, 0);
    const near = energy(await placedTurn({ x: 0 }));
    const far = energy(await placedTurn({ x: 0, z: 3 }));
    const side = energy(await placedTurn({ x: 0.8 }));
    expect(10 * Math.log10(far / near)).toBeCloseTo(-9.54, 1);
    expect(10 * Math.log10(side / near)).toBeCloseTo(0, 2);
    expect(panGains(0).left).toBeCloseTo(Math.SQRT1_2, 10);
  });
});

describe('loops', () => {
  async function loopedTone(loopCrossfadeMs: number): Promise<{ left: Float32Array; source: Float32Array }> {
    // 437 Hz over 0.7 s ends mid-period: the source's ends do not meet.
    const path = sineFile('loop.wav', 437, 0.7, 0.5);
    const scene = new Scene({ durationMs: 5000 });
    scene.addMusic(path, { loop: true, loopCrossfadeMs });
    const rendered = await scene.render(engine);
    const source = new Float32Array(Math.round(0.7 * RATE));
    for (let index = 0; index < source.length; index++) source[index] = 0.5 * Math.SQRT1_2 * Math.sin((2 * Math.PI * 437 * index) / RATE);
    return { left: channelOf(rendered.pcm, 0), source };
  }

  /** Problems: jumps above the source's own (smooth) second difference, doubled, plus a noise floor of 1e-4. */
  function discontinuityProblems(left: Float32Array, source: Float32Array): string[] {
    const limit = 2 * largestJump(source) + 1e-4;
    const largest = largestJump(left);
    return largest > limit ? [`a jump of ${largest.toFixed(4)} (limit ${limit.toFixed(4)})`] : [];
  }

  it('a looped file has no discontinuity above the noise floor at its loop points', async () => {
    const { left, source } = await loopedTone(50);
    expect(left.subarray(frameOf(4900)).some((sample) => Math.abs(sample) > 0.1)).toBe(true); // still playing at the end
    expect(discontinuityProblems(left, source)).toEqual([]);
  });

  it('negative: a loop without crossfade clicks at its loop points, and the check catches it', async () => {
    const { left, source } = await loopedTone(0);
    expect(discontinuityProblems(left, source)).toHaveLength(1);
  });
});

describe('fades and custom layers', () => {
  it('fadeInMs / fadeOutMs shape a layer\'s start and end (raised cosine); a custom layer plays its function\'s sound', async () => {
    const scene = new Scene({ durationMs: 3000 });
    scene.addMusic(sineFile('fade.wav', 250, 3, 0.2), { fadeInMs: 1000, fadeOutMs: 1000 });
    scene.addLayer({ kind: 'custom', name: 'hum', startMs: 1000, endMs: 2000, source: ({ frames, sampleRate }) => Float32Array.from({ length: frames }, (_, index) => 0.1 * Math.sin((2 * Math.PI * 1000 * index) / sampleRate)) });
    const left = channelOf((await scene.render(engine)).pcm, 0);
    const level = (ms: number, hz = 250): number => toneAmplitude(left, RATE, hz, frameOf(ms), 1920);
    const full = 0.2 * Math.SQRT1_2;
    // Raised cosine: (1 − cos(π·t/T))/2 of full level at t (averaged over the 40 ms window).
    expect(level(480) / full).toBeCloseTo(0.5, 1);
    expect(level(1200) / full).toBeCloseTo(1, 2);
    expect(level(2480) / full).toBeCloseTo(0.5 * (1 - Math.cos(Math.PI * 0.5)), 1);
    expect(level(2900) / full).toBeLessThan(0.05);
    expect(level(1500, 1000)).toBeCloseTo(0.1 * Math.SQRT1_2, 3);
    expect(level(2100, 1000)).toBeLessThan(1e-3);
  });
});

describe('determinism', () => {
  function richScene(seed: number): Scene {
    const scene = new Scene({ seed, durationMs: 3000 });
    scene.addAmbiance('rain', { volume: 0.5 });
    scene.addAmbiance('wind', { volume: '-6dB', fadeInMs: 300, position: { x: -0.4 } });
    scene.addAmbiance('room-tone');
    scene.addDialogue('A line.', { startMs: 400, position: { x: 0.5 } });
    for (const [index, effect] of (['beep', 'chime', 'click', 'whoosh', 'knock'] as const).entries()) scene.addEffect(200 + 500 * index, effect, { position: { x: index / 5 - 0.5 } });
    return scene;
  }

  it('the same seed renders the same bytes (in memory and to a file); another seed does not', async () => {
    const first = await richScene(7).render(engine);
    const again = await richScene(7).render(engine);
    const other = await richScene(8).render(engine);
    expect(Buffer.from(again.pcm.buffer).equals(Buffer.from(first.pcm.buffer))).toBe(true);
    expect(Buffer.from(other.pcm.buffer).equals(Buffer.from(first.pcm.buffer))).toBe(false);
    await richScene(7).renderToFile(engine, join(dir, 'a.wav'));
    await richScene(7).renderToFile(engine, join(dir, 'b.wav'));
    expect(readFileSync(join(dir, 'a.wav')).equals(readFileSync(join(dir, 'b.wav')))).toBe(true);
  });

  it('crowd babble and café, made with espeak-ng voices, are deterministic too', async () => {
    const espeak = new VoiceEngine();
    try {
      const render = async (seed: number) => {
        const scene = new Scene({ seed, durationMs: 2500 });
        scene.addAmbiance('crowd');
        scene.addAmbiance('cafe', { startMs: 500 });
        return (await scene.render(espeak)).pcm;
      };
      const first = await render(3);
      expect(Buffer.from((await render(3)).buffer).equals(Buffer.from(first.buffer))).toBe(true);
      expect(Buffer.from((await render(4)).buffer).equals(Buffer.from(first.buffer))).toBe(false);
      // Babble is speech at low level: audible, well below full scale.
      const peak = first.reduce((max, sample) => Math.max(max, Math.abs(sample)), 0);
      expect(peak).toBeGreaterThan(0.01);
      expect(peak).toBeLessThan(0.5);
    } finally {
      await espeak.close();
    }
  });
});
