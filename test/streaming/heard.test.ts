import { describe, expect, it } from 'vitest';
import type { WordTiming } from '../../src/graph/engine-output.js';
import { HeardLedger, heardOf, MAX_WORD_TIMINGS_PER_CHUNK, joinWordTimings, spreadWords, type Heard, type PlayedChunk } from '../../src/streaming/heard.js';

const RATE_HZ = 1000; // one frame per ms keeps the arithmetic readable

function reported(words: Array<[string, number, number]>): WordTiming[] {
  return words.map(([word, startMs, endMs]) => ({ word, startMs, endMs, source: 'reported' }));
}

/** Two sentences of three words, 100 ms each with 50 ms gaps; a 200 ms pause chunk between them. */
function twoSentences(secondStartFrame = 650): PlayedChunk[] {
  return [
    { startFrame: 0, frames: 450, text: 'Alpha bravo charlie.', wordTimings: reported([['Alpha', 0, 100], ['bravo', 150, 250], ['charlie', 300, 400]]) },
    { startFrame: 450, frames: 200 },
    { startFrame: secondStartFrame, frames: 450, text: 'Delta echo foxtrot.', wordTimings: reported([['Delta', 0, 100], ['echo', 150, 250], ['foxtrot', 300, 400]]) },
  ];
}

function levels(heard: Heard): string[] {
  return heard.words.map((word) => `${word.word}:${word.heard}`);
}

describe('heardOf', () => {
  it('a cut inside a word: earlier words full, that word partial, later ones none, on the stream clock', () => {
    const heard = heardOf(twoSentences(), { playedFrames: 850, cutAtFrames: 845, sampleRateHz: RATE_HZ });
    expect(levels(heard)).toEqual(['Alpha:full', 'bravo:full', 'charlie:full', 'Delta:full', 'echo:partial', 'foxtrot:none']);
    expect(heard.words[4]).toEqual({ word: 'echo', startMs: 800, endMs: 900, heard: 'partial', source: 'reported' });
    expect(heard.text).toBe('Alpha bravo charlie. Delta echo');
    expect(heard.playedMs).toBe(850);
    expect(heard.cutAtMs).toBe(845);
  });

  it('a cut in the gap between words leaves no partial word', () => {
    const heard = heardOf(twoSentences(), { playedFrames: 775, cutAtFrames: 775, sampleRateHz: RATE_HZ });
    expect(levels(heard)).toEqual(['Alpha:full', 'bravo:full', 'charlie:full', 'Delta:full', 'echo:none', 'foxtrot:none']);
    expect(heard.text).toBe('Alpha bravo charlie. Delta');
  });

  it('a natural end: every word full, the whole text, no cut', () => {
    const heard = heardOf(twoSentences(), { playedFrames: 1100, cutAtFrames: null, sampleRateHz: RATE_HZ });
    expect(heard.words.every((word) => word.heard === 'full')).toBe(true);
    expect(heard.text).toBe('Alpha bravo charlie. Delta echo foxtrot.');
    expect(heard.cutAtMs).toBeNull();
  });

  it('negative: an off-by-one-chunk offset misplaces the cut word (the check catches it)', () => {
    const truth = levels(heardOf(twoSentences(), { playedFrames: 845, cutAtFrames: 845, sampleRateHz: RATE_HZ }));
    // Planted bug: the second sentence placed where the pause chunk starts (one chunk early).
    const planted = levels(heardOf(twoSentences(450), { playedFrames: 845, cutAtFrames: 845, sampleRateHz: RATE_HZ }));
    expect(planted).not.toEqual(truth);
    expect(planted).toContain('foxtrot:partial');
  });

  it('a chunk without word timings gets its words spread by letters, marked estimated', () => {
    const heard = heardOf([{ startFrame: 0, frames: 1000, text: 'ab cdef ghij' }], { playedFrames: 500, cutAtFrames: 500, sampleRateHz: RATE_HZ });
    expect(heard.words.map((word) => [word.word, word.startMs, word.endMs, word.heard, word.source])).toEqual([
      ['ab', 0, 200, 'full', 'estimated'],
      ['cdef', 200, 600, 'partial', 'estimated'],
      ['ghij', 600, 1000, 'none', 'estimated'],
    ]);
  });
});

describe('heardOf: sentences in several chunks', () => {
  it('a sentence in two chunks (a backend piece, then a resampler tail without timings) counts each word once', () => {
    const chunks: PlayedChunk[] = [
      { startFrame: 0, frames: 300, text: 'One two.', sentenceKey: 'n1', wordTimings: reported([['One', 0, 100], ['two', 150, 250]]) },
      { startFrame: 300, frames: 10, text: 'One two.', sentenceKey: 'n1' },
      { startFrame: 310, frames: 300, text: 'One two.', sentenceKey: 'n2', wordTimings: reported([['One', 0, 100], ['two', 150, 250]]) },
    ];
    const heard = heardOf(chunks, { playedFrames: 610, cutAtFrames: null, sampleRateHz: RATE_HZ });
    expect(heard.words.map((word) => `${word.word}@${word.startMs}`)).toEqual(['One@0', 'two@150', 'One@310', 'two@460']);
    expect(heard.text).toBe('One two. One two.');
  });

  it('a sentence without timings in two chunks is spread over both', () => {
    const chunks: PlayedChunk[] = [
      { startFrame: 0, frames: 500, text: 'abcd efgh', sentenceKey: 'n1' },
      { startFrame: 500, frames: 500, text: 'abcd efgh', sentenceKey: 'n1' },
    ];
    const heard = heardOf(chunks, { playedFrames: 400, cutAtFrames: 400, sampleRateHz: RATE_HZ });
    expect(heard.words.map((word) => [word.word, word.startMs, word.endMs, word.heard])).toEqual([
      ['abcd', 0, 500, 'partial'],
      ['efgh', 500, 1000, 'none'],
    ]);
  });
});

describe('word timing helpers', () => {
  it('spreadWords ignores punctuation and empty text', () => {
    expect(spreadWords(' … ', 100)).toEqual([]);
    expect(spreadWords('"Hi," she said.', 90).map((word) => word.word)).toEqual(['Hi', 'she', 'said']);
  });

  it('joinWordTimings shifts each part by where it starts', () => {
    expect(joinWordTimings([
      { wordTimings: reported([['one', 0, 50]]), offsetMs: 0 },
      { wordTimings: undefined, offsetMs: 60 },
      { wordTimings: reported([['two', 10, 40]]), offsetMs: 100 },
    ])).toEqual(reported([['one', 0, 50], ['two', 110, 140]]));
    expect(joinWordTimings([{ wordTimings: undefined, offsetMs: 0 }])).toBeUndefined();
  });
});

describe('HeardLedger', () => {
  it('places chunks back to back and clamps played frames to what was added', () => {
    const ledger = new HeardLedger();
    expect(ledger.add(450, 'Alpha bravo charlie.', reported([['Alpha', 0, 100], ['bravo', 150, 250], ['charlie', 300, 400]]))).toBe(0);
    expect(ledger.add(200, undefined, undefined)).toBe(450);
    expect(ledger.totalFrames).toBe(650);
    const heard = ledger.heard({ playedFrames: 5000, cutAtFrames: 4000, sampleRateHz: RATE_HZ });
    expect(heard.playedMs).toBe(650);
    expect(heard.cutAtMs).toBe(650);
    expect(heard.text).toBe('Alpha bravo charlie.');
  });
});

describe('bounds (review finding 12)', () => {
  it('survives a chunk with 300k word timings: appends loop, the words past the bound are dropped and flagged', () => {
    const wordTimings = Array.from({ length: 300_000 }, (_, index) => ({ word: 'w', startMs: index, endMs: index + 1, source: 'reported' as const }));
    const heard = heardOf([{ startFrame: 0, frames: 300_000 * 24, text: 'w', sentenceKey: 'n1', wordTimings }], { playedFrames: 1000, cutAtFrames: 1000, sampleRateHz: 24_000 });
    expect(heard.words).toHaveLength(MAX_WORD_TIMINGS_PER_CHUNK);
    expect(heard.wordsTruncated).toBe(true);
  });

  it('a chunk within the bound is read whole and not flagged (planted: one timing more is)', () => {
    const timings = (count: number) => Array.from({ length: count }, (_, index) => ({ word: 'w', startMs: index, endMs: index + 1, source: 'reported' as const }));
    const at = (count: number) => heardOf([{ startFrame: 0, frames: count * 24, text: 'w', sentenceKey: 'n1', wordTimings: timings(count) }], { playedFrames: 0, cutAtFrames: null, sampleRateHz: 24_000 });
    const within = at(MAX_WORD_TIMINGS_PER_CHUNK);
    expect([within.words.length, within.wordsTruncated]).toEqual([MAX_WORD_TIMINGS_PER_CHUNK, undefined]);
    expect(at(MAX_WORD_TIMINGS_PER_CHUNK + 1).wordsTruncated).toBe(true);
  });
});
