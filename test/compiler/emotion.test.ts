import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/compile.js';
import { EMOTIONS, EMOTION_NAMES, PRESETS, PROSODY_LIMITS, clampProsody, combineProsody } from '../../src/compiler/emotion.js';
import type { SilenceNode, TextNode } from '../../src/graph/speech-graph.js';

const firstText = (input: string, options = {}) => compile(input, options).nodes.find((node): node is TextNode => node.type === 'text');
const pauses = (input: string, options = {}) => compile(input, options).nodes.filter((node): node is SilenceNode => node.type === 'silence').map((node) => node.durationMs);

describe('emotion mapping', () => {
  it.each(EMOTION_NAMES.map((name) => [name]))('%s reaches the segment prosody', (name) => {
    const profile = EMOTIONS[name];
    expect(firstText('Hello there.', { emotion: name })?.prosody).toEqual({ rate: profile.rate, pitchSemitones: profile.pitchSemitones, volumeDb: profile.volumeDb });
    expect(firstText('Hello there.', { emotion: name })?.emotion).toBe(name);
  });

  it('moves prosody in the expected direction', () => {
    expect(EMOTIONS.joy.pitchSemitones).toBeGreaterThan(0);
    expect(EMOTIONS.sadness.rate).toBeLessThan(1);
    expect(EMOTIONS.sadness.pitchSemitones).toBeLessThan(0);
    expect(EMOTIONS.anger.volumeDb).toBeGreaterThan(EMOTIONS.joy.volumeDb);
    expect(EMOTIONS.excited.rate).toBeGreaterThan(EMOTIONS.joy.rate);
    expect(EMOTIONS.calm.rate).toBeLessThan(1);
    expect(EMOTIONS.surprise.pitchSemitones).toBeGreaterThan(EMOTIONS.joy.pitchSemitones);
  });

  it('scales the pauses after a sentence by the emotion', () => {
    expect(pauses('One. Two.')).toEqual([200]);
    expect(pauses('One. Two.', { emotion: 'sadness' })).toEqual([280]);
    expect(pauses('One. Two.', { emotion: 'excited' })).toEqual([150]);
    expect(pauses('{sadness}One.{/sadness} Two.')).toEqual([280]);
  });

  it('applies a markup span over the options emotion for its text only', () => {
    const nodes = compile('Plain. {anger}Loud.{/anger}', { emotion: 'calm' }).nodes.filter((node): node is TextNode => node.type === 'text');
    expect(nodes.map((node) => node.emotion)).toEqual(['calm', 'anger']);
    expect(nodes[1]?.prosody.volumeDb).toBe(EMOTIONS.anger.volumeDb);
  });
});

describe('presets', () => {
  it.each(Object.entries(PRESETS))('%s sets prosody and pauses', (name, preset) => {
    expect(firstText('One.', { preset: name })?.prosody).toEqual({ rate: preset.rate, pitchSemitones: preset.pitchSemitones, volumeDb: preset.volumeDb });
    expect(pauses('One. Two.\n\nThree.', { preset: name })).toEqual([preset.sentencePauseMs, preset.paragraphPauseMs]);
  });

  it('whispers quietly and announces loudly', () => {
    expect(PRESETS.whisper.volumeDb).toBeLessThan(-6);
    expect(PRESETS.announcer.volumeDb).toBeGreaterThan(0);
    expect(PRESETS.narrator.sentencePauseMs).toBeGreaterThan(PRESETS.assistant.sentencePauseMs);
  });

  it('stacks preset, rate option, emotion and SSML prosody', () => {
    const node = firstText('<speak><prosody rate="50%" volume="+2dB">x</prosody></speak>', { preset: 'announcer', rate: 2, emotion: 'joy' });
    const expected = clampProsody(combineProsody(combineProsody(combineProsody(PRESETS.announcer, { rate: 2, pitchSemitones: 0, volumeDb: 0 }), EMOTIONS.joy), { rate: 0.5, pitchSemitones: 0, volumeDb: 2 }));
    expect(node?.prosody).toEqual(expected);
    expect(node?.prosody).toEqual({ rate: 1.155, pitchSemitones: 3, volumeDb: 8 });
  });

  it('clamps the final prosody to the limits', () => {
    const node = firstText('<speak><prosody rate="400%" pitch="+30st" volume="+40dB">x</prosody></speak>', { rate: 4 });
    expect(node?.prosody).toEqual({ rate: PROSODY_LIMITS.rate.max, pitchSemitones: PROSODY_LIMITS.pitchSemitones.max, volumeDb: PROSODY_LIMITS.volumeDb.max });
  });
});
