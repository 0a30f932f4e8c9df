import { describe, expect, it } from 'vitest';
import { phonemizeKeepingPunctuation, prepareSentencesAhead, rankSymbolBoundary, splitAtBoundaries, splitSentences } from '../../src/backends/phoneme-text.js';
import { nextTurn } from '../helpers/waiting.js';

describe('sentence and token splitting', () => {
  it('splits sentences after terminal marks and closing quotes, and at blank lines', () => {
    expect(splitSentences('One. "Two?" Three!\n\nFour and five')).toEqual(['One.', '"Two?"', 'Three!', 'Four and five']);
    expect(splitSentences('   ')).toEqual([]);
    expect(splitSentences('Wait. ... Go!')).toEqual(['Wait.', 'Go!']);
  });

  it('phonemizes the words between punctuation and puts the marks back in place', async () => {
    const calls: string[] = [];
    const shout = async (text: string) => (calls.push(text), text.toUpperCase());
    expect(await phonemizeKeepingPunctuation('Well, "yes" (maybe)!', 'en', shout)).toBe('WELL, "YES" (MAYBE)!');
    expect(await phonemizeKeepingPunctuation('"Hi," she said: go\nnow.', 'en', shout)).toBe('"HI," SHE SAID: GO NOW.');
    expect(await phonemizeKeepingPunctuation('Hello,world', 'en', shout)).toBe('HELLO, WORLD');
    expect(calls).toEqual(['Well', 'yes', 'maybe', 'Hi', 'she said', 'go\nnow', 'Hello', 'world']);
  });

  it('cuts after the best boundary that leaves a piece at least a third full, else hard at the limit', () => {
    const symbols = [...'aaaa.bbbbbb cc,dddd'];
    const rank = (index: number) => rankSymbolBoundary(symbols[index] ?? '');
    expect(splitAtBoundaries(symbols.length, 8, rank)).toEqual([5, 12, 19]);
    expect(splitAtBoundaries(10, 4, () => 0)).toEqual([4, 8, 10]);
    expect(splitAtBoundaries(0, 4, () => 0)).toEqual([]);
  });
});

describe('prepareSentencesAhead', () => {
  it('yields each sentence prepared, in order, starting the next one while the current one is consumed', async () => {
    const log: string[] = [];
    const prepare = async (sentence: string) => {
      log.push(`start ${sentence}`);
      return sentence.toUpperCase();
    };

    for await (const prepared of prepareSentencesAhead('One. Two. Three.', prepare)) log.push(`use ${prepared}`);

    expect(log).toEqual(['start One.', 'start Two.', 'use ONE.', 'start Three.', 'use TWO.', 'use THREE.']);
  });

  it('rejects with the failure of the sentence being awaited, and leaves no unhandled rejection behind when the consumer stops', async () => {
    const failing = prepareSentencesAhead('Good. Bad. Never.', async (sentence) => {
      if (sentence === 'Bad.') throw new Error('cannot phonemize Bad.');
      return sentence;
    });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const prepared of failing) seen.push(prepared);
      })(),
    ).rejects.toThrow('cannot phonemize Bad.');
    expect(seen).toEqual(['Good.']);

    // Stopping after the first sentence abandons the failed look-ahead of the second; it must be observed.
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      for await (const prepared of prepareSentencesAhead('Good. Bad.', async (sentence) => (sentence === 'Bad.' ? Promise.reject(new Error('late')) : sentence))) {
        expect(prepared).toBe('Good.');
        break;
      }
      // The look-ahead rejected in a microtask; Node reports a rejection nobody handles once the
      // current callback's microtasks are done, before the next turn of the loop.
      await nextTurn();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });
});
