/**
 * Hostile text in subtitles: a speaker name or a turn's text must never add, end or retime a cue
 * (control characters, blank lines, `-->` lines), in SRT and in WebVTT.
 */
import { describe, expect, it } from 'vitest';
import { Conversation } from '../../src/conversation/conversation.js';
import { toSrt, toVtt } from '../../src/conversation/subtitles.js';
import type { TimelineEntry } from '../../src/conversation/timeline.js';
import { InputError } from '../../src/errors.js';

const entry = (index: number, speaker: string, text: string): TimelineEntry => ({ index, speaker, voice: 'v', startMs: index * 1000, endMs: index * 1000 + 500, text, words: [] });

/** The cue blocks of a subtitle file, each as its lines (any of \r\n, \n, \r, U+2028/9 counts as a line break, as lenient players read it). */
function cues(text: string): string[][] {
  return text
    .split(/(?:\r\n|[\n\r\u2028\u2029]){2,}/)
    .map((block) => block.split(/\r\n|[\n\r\u2028\u2029]/).filter((line) => line !== ''))
    .filter((lines) => lines.length > 0 && lines[0] !== 'WEBVTT');
}

const forged = '\n\n99\n00:00:00,000 --> 09:59:59,000\nFORGED';
const hostile = [entry(0, 'Alice', `hi${forged}`), entry(1, 'Bob', 'a\r\rb\u2028\u2028c --> 00:00:09,000'), entry(2, 'Eve', 'x\u0000y\u001b[31m')];

describe('subtitles from hostile text', () => {
  it('keeps one cue of three lines per turn in SRT, with a timing line only where it belongs', () => {
    const blocks = cues(toSrt(hostile));
    expect(blocks).toHaveLength(3);
    for (const [position, lines] of blocks.entries()) {
      expect(lines).toHaveLength(3);
      expect(lines[0]).toBe(String(position + 1));
      expect(lines[2]).not.toContain('-->');
      expect(lines[2]).not.toMatch(/\p{Cc}/u);
    }
  });

  it('keeps one cue per turn in WebVTT, without control characters', () => {
    const blocks = cues(toVtt(hostile));
    expect(blocks).toHaveLength(3);
    for (const lines of blocks) {
      expect(lines).toHaveLength(3);
      expect(lines[2]).not.toContain('-->');
      expect(lines[2]).not.toMatch(/\p{Cc}/u);
    }
  });

  it('refuses a speaker name with control characters or line breaks (InputError naming the field)', () => {
    for (const speaker of ['Al\nice', 'Bo\rb', 'E\u0000ve', 'Mal\u2028lory', `x${forged}`]) {
      let caught: unknown;
      try {
        new Conversation([{ speaker, text: 'Hello.' }]);
      } catch (error) {
        caught = error;
      }
      expect(caught, JSON.stringify(speaker)).toBeInstanceOf(InputError);
      expect((caught as InputError).message).toMatch(/turns\.0\.speaker/);
    }
    // A cast key is a speaker name too.
    expect(() => new Conversation([{ speaker: 'Alice', text: 'Hi.' }], { cast: { 'Al\nice': { voice: 'en-us' } } })).toThrow(InputError);
    // Names with `:`, dots and accents stay fine.
    expect(new Conversation([{ speaker: 'Dr. Zoë: the elder', text: 'Hi.' }]).turns[0]?.speaker).toBe('Dr. Zoë: the elder');
  });
});
