/**
 * A Conversation as a scene's dialogue layer: the scene places each turn where the conversation's
 * timeline says and pans each speaker to the cast's position, measured on the rendered stereo mix.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Conversation } from '../../src/conversation/conversation.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { Scene } from '../../src/scene/scene.js';
import { leftRightDb } from './scene-checks.js';

const engine = new VoiceEngine();
afterAll(() => engine.close());

describe('Scene with a Conversation', () => {
  it('places the turns on the conversation timeline and pans each speaker to its cast position', async () => {
    const conversation = new Conversation(
      [
        { speaker: 'Alice', text: 'Did you hear that?' },
        { speaker: 'Bob', text: 'Only the wind.', gapMs: 400 },
      ],
      { cast: { alice: { position: { x: -1, y: 0, z: 0 } }, bob: { position: { x: 1, y: 0, z: 0 } } } },
    );
    const rendered = await new Scene({ seed: 1, sampleRate: 48_000 }).addDialogue(conversation, { startMs: 500 }).render(engine);
    const timeline = conversation.timeline();
    expect(rendered.turns.map((turn) => turn.speaker)).toEqual(['Alice', 'Bob']);
    rendered.turns.forEach((turn, index) => {
      expect(Math.abs(turn.startMs - (500 + timeline[index]!.startMs))).toBeLessThanOrEqual(1);
      expect(Math.abs(turn.endMs - (500 + timeline[index]!.endMs))).toBeLessThanOrEqual(1);
    });
    const frame = (ms: number): number => Math.round((ms / 1000) * rendered.sampleRate);
    const [alice, bob] = rendered.turns;
    // Hard left (x = −1) and hard right (x = +1): the other channel is silent under the pan law.
    expect(leftRightDb(rendered.pcm, frame(alice!.startMs), frame(alice!.endMs))).toBeGreaterThan(40);
    expect(leftRightDb(rendered.pcm, frame(bob!.startMs), frame(bob!.endMs))).toBeLessThan(-40);
  });
});
