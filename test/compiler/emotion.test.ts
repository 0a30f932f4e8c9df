import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/compile.js';
import { EMOTIONS, EMOTION_NAMES, PRESETS, PRESET_NAMES } from '../../src/compiler/emotion.js';
import type { SilenceNode, TextNode } from '../../src/graph/speech-graph.js';

const firstText = (input: string, options = {}) => compile(input, options).nodes.find((node): node is TextNode => node.type === 'text');
const pauses = (input: string, options = {}) => compile(input, options).nodes.filter((node): node is SilenceNode => node.type === 'silence').map((node) => node.durationMs);

/**
 * The delivery tables written out independently of src/compiler/emotion.ts: prosody of each
 * emotion and the pause after a sentence (200 ms by default, scaled by the emotion).
 */
const EXPECTED_EMOTIONS = {
  neutral: { prosody: { rate: 1, pitchSemitones: 0, volumeDb: 0 }, sentencePauseMs: 200 },
  joy: { prosody: { rate: 1.1, pitchSemitones: 2, volumeDb: 2 }, sentencePauseMs: 180 },
  sadness: { prosody: { rate: 0.85, pitchSemitones: -2, volumeDb: -3 }, sentencePauseMs: 280 },
  anger: { prosody: { rate: 1.1, pitchSemitones: 1, volumeDb: 5 }, sentencePauseMs: 160 },
  fear: { prosody: { rate: 1.15, pitchSemitones: 3, volumeDb: -1 }, sentencePauseMs: 180 },
  surprise: { prosody: { rate: 1.05, pitchSemitones: 4, volumeDb: 3 }, sentencePauseMs: 200 },
  calm: { prosody: { rate: 0.9, pitchSemitones: -1, volumeDb: -2 }, sentencePauseMs: 260 },
  excited: { prosody: { rate: 1.2, pitchSemitones: 3, volumeDb: 4 }, sentencePauseMs: 150 },
} as const;

/** Each preset's prosody and its pauses after a sentence and after a paragraph, written out. */
const EXPECTED_PRESETS = {
  assistant: { prosody: { rate: 1, pitchSemitones: 0, volumeDb: 0 }, pausesMs: [200, 500] },
  narrator: { prosody: { rate: 0.95, pitchSemitones: -1, volumeDb: 0 }, pausesMs: [350, 800] },
  announcer: { prosody: { rate: 1.05, pitchSemitones: 1, volumeDb: 4 }, pausesMs: [250, 600] },
  whisper: { prosody: { rate: 0.9, pitchSemitones: -2, volumeDb: -12 }, pausesMs: [300, 700] },
} as const;

describe('emotion mapping', () => {
  it('knows exactly the documented emotions', () => {
    expect([...EMOTION_NAMES]).toEqual(['neutral', 'joy', 'sadness', 'anger', 'fear', 'surprise', 'calm', 'excited']);
  });

  it.each(Object.entries(EXPECTED_EMOTIONS))('%s reaches the segment prosody and scales the sentence pause', (name, expected) => {
    expect(firstText('Hello there.', { emotion: name })?.prosody).toEqual(expected.prosody);
    expect(firstText('Hello there.', { emotion: name })?.emotion).toBe(name);
    expect(pauses('One. Two.', { emotion: name })).toEqual([expected.sentencePauseMs]);
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
    expect(nodes.map((node) => node.prosody)).toEqual([
      { rate: 0.9, pitchSemitones: -1, volumeDb: -2 },
      { rate: 1.1, pitchSemitones: 1, volumeDb: 5 },
    ]);
  });
});

describe('presets', () => {
  it('knows exactly the documented presets', () => {
    expect([...PRESET_NAMES]).toEqual(['assistant', 'narrator', 'announcer', 'whisper']);
  });

  it.each(Object.entries(EXPECTED_PRESETS))('%s sets prosody and pauses', (name, expected) => {
    expect(firstText('One.', { preset: name })?.prosody).toEqual(expected.prosody);
    expect(pauses('One. Two.\n\nThree.', { preset: name })).toEqual(expected.pausesMs);
  });

  it('whispers quietly and announces loudly', () => {
    expect(PRESETS.whisper.volumeDb).toBeLessThan(-6);
    expect(PRESETS.announcer.volumeDb).toBeGreaterThan(0);
    expect(PRESETS.narrator.sentencePauseMs).toBeGreaterThan(PRESETS.assistant.sentencePauseMs);
  });

  it('stacks preset, rate option, emotion and SSML prosody: rates multiply, offsets add', () => {
    const node = firstText('<speak><prosody rate="50%" volume="+2dB">x</prosody></speak>', { preset: 'announcer', rate: 2, emotion: 'joy' });
    // rate 1.05 (announcer) x 2 (option) x 1.1 (joy) x 0.5 (SSML); pitch 1 + 2; volume 4 + 2 + 2.
    expect(node?.prosody).toEqual({ rate: 1.155, pitchSemitones: 3, volumeDb: 8 });
  });

  it('clamps the final prosody to the limits (rate 0.25-4, pitch +-24 st, volume -96..+20 dB)', () => {
    const high = firstText('<speak><prosody rate="400%" pitch="+30st" volume="+40dB">x</prosody></speak>', { rate: 4 });
    expect(high?.prosody).toEqual({ rate: 4, pitchSemitones: 24, volumeDb: 20 });
    const low = firstText('<speak><prosody rate="20%" pitch="-30st" volume="-90dB">x</prosody></speak>', { preset: 'whisper', rate: 0.5 });
    expect(low?.prosody).toEqual({ rate: 0.25, pitchSemitones: -24, volumeDb: -96 });
  });
});
