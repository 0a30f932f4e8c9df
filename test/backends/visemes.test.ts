/** The phoneme→viseme table (Oculus Lipsync's 15 visemes) and viseme timing from phonemes. */
import { describe, expect, it } from 'vitest';
import { OVR_VISEME_TABLE, OVR_VISEMES, splitIpa, spreadVisemes, visemeOf, visemesFromPhonemes } from '../../src/backends/visemes.js';

describe('visemes', () => {
  it('maps the reference examples of the Oculus viseme table', () => {
    const examples: Array<[string, string]> = [
      ['', 'sil'], ['p', 'PP'], ['b', 'PP'], ['m', 'PP'], ['f', 'FF'], ['v', 'FF'], ['θ', 'TH'], ['ð', 'TH'], ['t', 'DD'], ['d', 'DD'],
      ['k', 'kk'], ['ɡ', 'kk'], ['tʃ', 'CH'], ['dʒ', 'CH'], ['ʃ', 'CH'], ['s', 'SS'], ['z', 'SS'], ['n', 'nn'], ['l', 'nn'], ['ɹ', 'RR'],
      ['ɑː', 'aa'], ['ɛ', 'E'], ['ɪ', 'ih'], ['oʊ', 'oh'], ['ʊ', 'ou'], ['ˈaɪ', 'aa'], ['ts', 'SS'],
    ];
    expect(examples.map(([phoneme]) => [phoneme, visemeOf(phoneme)])).toEqual(examples);
  });

  it('every table entry is one of the 15 visemes, and no symbol is listed twice', () => {
    expect(Object.keys(OVR_VISEME_TABLE).sort()).toEqual([...OVR_VISEMES].sort());
    const symbols = Object.values(OVR_VISEME_TABLE).flat();
    expect(new Set(symbols).size).toBe(symbols.length);
    expect(visemeOf('ʕ')).toBe('DD'); // not in the table: the neutral consonant shape
  });

  it('splits IPA words into phonemes keeping affricates and dropping marks', () => {
    expect(splitIpa('tʃˈɜːtʃ')).toEqual(['tʃ', 'ɜ', 'tʃ']);
    expect(splitIpa('həlˈo\u200dʊ')).toEqual(['h', 'ə', 'l', 'o', 'ʊ']);
  });

  it('merges equal neighbours and turns gaps into sil', () => {
    const visemes = visemesFromPhonemes(
      [
        { phoneme: 'b', startMs: 10, endMs: 20 },
        { phoneme: 'm', startMs: 20, endMs: 30 },
        { phoneme: 'a', startMs: 30, endMs: 50 },
        { phoneme: 's', startMs: 80, endMs: 100 },
      ],
      'reported',
    );
    expect(visemes).toEqual([
      { viseme: 'PP', startMs: 10, endMs: 30, source: 'reported' },
      { viseme: 'aa', startMs: 30, endMs: 50, source: 'reported' },
      { viseme: 'sil', startMs: 50, endMs: 80, source: 'reported' },
      { viseme: 'SS', startMs: 80, endMs: 100, source: 'reported' },
    ]);
  });

  it('spreads each word’s phonemes over its span (estimated), and gives none when the IPA does not match the words', () => {
    const words = [
      { word: 'Bob', startMs: 0, endMs: 300, source: 'estimated' as const },
      { word: 'fish', startMs: 400, endMs: 700, source: 'estimated' as const },
    ];
    const visemes = spreadVisemes('bˈɑːb fˈɪʃ', words);
    expect(visemes.map((viseme) => viseme.viseme)).toEqual(['PP', 'aa', 'PP', 'sil', 'FF', 'ih', 'CH']);
    expect(visemes.every((viseme) => viseme.source === 'estimated')).toBe(true);
    expect(visemes[0]?.startMs).toBe(0);
    expect(visemes.at(-1)?.endMs).toBe(700);
    expect(spreadVisemes('bˈɑːb', words)).toEqual([]);
  });
});
