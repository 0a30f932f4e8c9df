/**
 * Scene limits: a render whose buses would not fit the mix budget is refused (SCENE_TOO_LARGE)
 * before anything is allocated, with or without durationMs, while a scene within it renders;
 * a one-sample looped source and an empty one render without breaking the mix; a Conversation
 * as dialogue needs an engine that streams turns (clear InputError otherwise); each scripted turn's
 * stream names its layer, turn, speaker and voice in the registrar log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conversation } from '../../src/conversation/conversation.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { MAX_SCENE_MIX_BYTES } from '../../src/scene/render.js';
import { Scene } from '../../src/scene/scene.js';
import { ConstantLevelBackend } from '../helpers/constant-level-backend.js';
import { inputRejection } from '../helpers/errors.js';

const RATE = 48_000;
let engine: VoiceEngine;
beforeAll(() => {
  engine = new VoiceEngine({ backend: new ConstantLevelBackend({ level: 0.3, sampleRateHz: RATE, framesPerSegment: RATE }), sampleRateHz: RATE });
});
afterAll(async () => engine.close());


describe('scene limits', () => {
  it('refuses a one-hour 192 kHz scene of many layers before allocating its buses', async () => {
    const scene = new Scene({ durationMs: 3_600_000, sampleRate: 192_000 });
    for (let index = 0; index < 8; index++) scene.addAmbiance('rain', { name: `rain${index}`, duckFor: ['dialogue'] });
    const error = await inputRejection(scene.render(engine));
    expect(error.code).toBe('SCENE_TOO_LARGE');
    expect(error.message).toMatch(/^scene: rendering 3600\.0 s at 192000 Hz with 8 layers needs \d+\.\d GiB/);
  });

  it('refuses it too when the length comes from the layers (endMs), not durationMs', async () => {
    const scene = new Scene({ sampleRate: 192_000 });
    for (let index = 0; index < 8; index++) scene.addAmbiance('wind', { name: `wind${index}`, endMs: 3_600_000 });
    expect((await inputRejection(scene.render(engine))).code).toBe('SCENE_TOO_LARGE');
  });

  it('the budget holds a one-hour 48 kHz scene of four layers and effects, not a 192 kHz one of eight', () => {
    // 1 h at 48 kHz, four layers and effects: 6 stereo buses of float32.
    expect(3_600_000 * 48 * 8 * 6).toBeLessThanOrEqual(MAX_SCENE_MIX_BYTES);
    expect(3_600_000 * 192 * 8 * 10).toBeGreaterThan(MAX_SCENE_MIX_BYTES);
  });

  it('loops a one-sample source and an empty one without NaN or gaps', async () => {
    const one = await new Scene({ durationMs: 500 }).addLayer({ kind: 'custom', source: () => new Float32Array([0.5]), loop: true }).render(engine);
    expect(one.pcm.every((sample) => Number.isFinite(sample))).toBe(true);
    expect(Math.min(...one.pcm.subarray(0, 2000))).toBeGreaterThan(0);
    const empty = await new Scene({ durationMs: 200 }).addLayer({ kind: 'custom', source: () => new Float32Array(0), loop: true }).render(engine);
    expect(empty.pcm.every((sample) => sample === 0)).toBe(true);
  });

  it('a Conversation as dialogue with an engine that cannot stream turns is an InputError naming the layer', async () => {
    const conversation = new Conversation([{ speaker: 'Alice', text: 'Hi.' }]);
    const speakOnly = { speak: (text: string, options?: { sampleRateHz?: number }) => engine.speak(text, options) };
    const error = await inputRejection(new Scene({ durationMs: 500 }).addDialogue(conversation).render(speakOnly));
    expect(error.message).toMatch(/conversation: rendering a conversation needs an engine that streams turns/);
  });
});

describe('scene dialogue in the registrar log', () => {
  it("each scripted turn's stream names its layer, turn, speaker and voice in its start metadata", async () => {
    const scene = new Scene({ durationMs: 3000 }).addLayer({
      kind: 'dialogue',
      name: 'gate',
      cast: { guard: 'en-gb' },
      turns: [
        { speaker: 'guard', text: 'Halt!' },
        { speaker: 'stranger', text: 'A friend.', voice: 'en-us' },
      ],
    });
    const before = engine.registrar.attestations(100_000).length;
    await scene.render(engine);
    const starts = engine.registrar
      .attestations(100_000)
      .slice(before)
      .filter((record) => record.action === 'start')
      .map((record) => record.parameters.metadata as Record<string, unknown>);
    expect(starts.map(({ sceneLayer, sceneTurn, speaker, voice }) => ({ sceneLayer, sceneTurn, speaker, voice }))).toEqual([
      { sceneLayer: 'gate', sceneTurn: 0, speaker: 'guard', voice: 'en-gb' },
      { sceneLayer: 'gate', sceneTurn: 1, speaker: 'stranger', voice: 'en-us' },
    ]);
  });
});

describe('scene effects limits', () => {
  it('thousands of long effects are refused (SCENE_TOO_LARGE naming the effect) once their sounds pass the budget', async () => {
    const scene = new Scene({ durationMs: 1000 });
    // 60 s beeps at 48 kHz: 11.5 MB each; 1,000 of them asked 11 GB before the budget.
    for (let index = 0; index < 1000; index++) scene.addEffect(index, 'beep', { durationMs: 60_000 });
    const error = await inputRejection(scene.render(engine));
    expect(error.code).toBe('SCENE_TOO_LARGE');
    expect(error.message).toMatch(/^scene\.effects\.(9\d|1\d\d): /);
  }, 120_000);

  it('negative: a thousand short effects render', async () => {
    const scene = new Scene({ durationMs: 2000 });
    for (let index = 0; index < 1000; index++) scene.addEffect(index, 'click');
    expect((await scene.render(engine)).effects).toHaveLength(1000);
  }, 120_000);
});
