import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { espeakProsody, estimateWordTimings, splitIntoChunks } from '../../src/backends/espeak-text.js';
import { findEspeakVoice, findEspeakVoiceForLanguage, parseEspeakVariants, parseEspeakVoices, resolveEspeakRequest } from '../../src/backends/espeak-voices.js';

const VOICES = ` Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  de              --/M      German             gmw/de
 5  en-029          --/M      English_(Caribbean) gmw/en-029           (en 10)
 2  en-gb           --/M      English_(Great_Britain) gmw/en               (en 2)
 2  en-us           --/M      English_(America)  gmw/en-US            (en 3)
 5  yue             --/M      Chinese_(Cantonese) sit/yue              (zh-yue 5)(zh 8)
 5  yue             --/M      Chinese_(Cantonese,_latin_as_Jyutping) sit/yue-Latn-jyutping (zh-yue 5)(zh 8)
`;
const VARIANTS = `Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  variant         --/M      Adam               !v/adam
 5  variant         --/F      f3                 !v/f3
`;

describe('espeak voice list', () => {
  const list = { voices: parseEspeakVoices(VOICES), variants: parseEspeakVariants(VARIANTS) };

  it('parses ids, names, genders and languages by priority; a repeated language is named by its file', () => {
    expect(list.voices.map((voice) => voice.id)).toEqual(['de', 'en-029', 'en-gb', 'en-us', 'yue', 'sit/yue-Latn-jyutping']);
    expect(list.voices[2]).toMatchObject({ name: 'English (Great Britain)', languages: ['en-gb', 'en'], gender: 'male' });
    expect(list.voices[4]?.languages).toEqual(['yue', 'zh-yue', 'zh']);
    expect(list.variants).toEqual([
      { id: 'adam', gender: 'male' },
      { id: 'f3', gender: 'female' },
    ]);
  });

  it('finds voices case-insensitively, with or without a known variant', () => {
    // espeak-ng is given the voice's file: 1.51 cannot select some voices by name (chr-US-Qaaa-x-west).
    expect(findEspeakVoice(list, 'EN-US')?.argument).toBe('gmw/en-US');
    expect(findEspeakVoice(list, 'en-us+F3')).toMatchObject({ argument: 'gmw/en-US+f3', variant: { gender: 'female' } });
    expect(findEspeakVoice(list, 'en-us+nope')).toBeUndefined();
    expect(findEspeakVoice(list, 'en-us+f3+adam')).toBeUndefined();
    expect(findEspeakVoice(list, 'fr')).toBeUndefined();
  });

  it('maps BCP-47 languages to the preferred voice', () => {
    expect(findEspeakVoiceForLanguage(list, 'en-US')?.id).toBe('en-us');
    expect(findEspeakVoiceForLanguage(list, 'en')?.id).toBe('en-gb'); // priority 2 beats 3 and 10
    expect(findEspeakVoiceForLanguage(list, 'de_CH')?.id).toBe('de');
    expect(findEspeakVoiceForLanguage(list, 'zh-yue')?.id).toBe('yue');
    expect(findEspeakVoiceForLanguage(list, 'fr-FR')).toBeUndefined();
  });

  it('resolves a request to a voice or names the part at fault', () => {
    expect(resolveEspeakRequest(list, { voice: 'de+f3', language: 'fr' }, 'en-us').voice?.argument).toBe('gmw/de+f3');
    expect(resolveEspeakRequest(list, { language: 'en' }, 'en-us').voice?.argument).toBe('gmw/en');
    expect(resolveEspeakRequest(list, {}, 'en-us').voice?.argument).toBe('gmw/en-US');
    expect(resolveEspeakRequest(list, { voice: 'klingon' }, 'en-us').problem).toMatchObject({ part: 'voice', code: 'VOICE_UNKNOWN' });
    expect(resolveEspeakRequest(list, { language: 'tlh' }, 'en-us').problem).toMatchObject({ part: 'language', code: 'LANGUAGE_UNSUPPORTED' });
    expect(resolveEspeakRequest(list, {}, 'nope').problem).toMatchObject({ part: 'voice', code: 'VOICE_UNKNOWN' });
  });
});

describe('espeak prosody mapping', () => {
  it('maps neutral prosody to espeak-ng defaults', () => {
    expect(espeakProsody({ rate: 1, pitchSemitones: 0, volumeDb: 0 })).toEqual({ wordsPerMinute: 175, pitch: 50, gain: 1 });
  });

  it('scales and clamps rate and pitch, and turns dB into linear gain', () => {
    expect(espeakProsody({ rate: 2, pitchSemitones: 4, volumeDb: -6 })).toEqual({ wordsPerMinute: 350, pitch: 74, gain: 10 ** (-6 / 20) });
    expect(espeakProsody({ rate: 0.1, pitchSemitones: -20, volumeDb: 0 })).toMatchObject({ wordsPerMinute: 80, pitch: 0 });
    expect(espeakProsody({ rate: 10, pitchSemitones: 20, volumeDb: 0 })).toMatchObject({ wordsPerMinute: 450, pitch: 99 });
  });
});

describe('splitIntoChunks', () => {
  it('cuts at sentence ends and line breaks', () => {
    expect(splitIntoChunks('One. Two!  Three?\nFour; five', 300)).toEqual(['One.', 'Two!', 'Three?', 'Four;', 'five']);
  });

  it('does not cut inside numbers or abbreviations without a following space', () => {
    expect(splitIntoChunks('It costs 3.50 dollars.', 300)).toEqual(['It costs 3.50 dollars.']);
  });

  it('cuts a long sentence after a comma, else at a space', () => {
    const chunks = splitIntoChunks('alpha beta gamma, delta epsilon zeta eta theta iota kappa', 30);
    expect(chunks).toEqual(['alpha beta gamma,', 'delta epsilon zeta eta theta', 'iota kappa']);
  });

  it('keeps every non-space character, in order, within the length limit when words allow', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z]{1,12}[.,!?]?$/), { maxLength: 60 }), fc.integer({ min: 20, max: 80 }), (words, maxChunkChars) => {
        const text = words.join(' ');
        const chunks = splitIntoChunks(text, maxChunkChars);
        expect(chunks.join('').replace(/\s/g, '')).toBe(text.replace(/\s/g, ''));
        for (const chunk of chunks) {
          expect(chunk.length).toBeLessThanOrEqual(maxChunkChars);
          expect(chunk.trim()).toBe(chunk);
          expect(chunk).not.toBe('');
        }
      }),
    );
  });
});

describe('estimateWordTimings', () => {
  const sampleRateHz = 1000;
  // 100 ms of silence, 600 ms of sound, 300 ms of silence
  const pcm = new Float32Array(1000);
  pcm.fill(0.5, 100, 700);

  it('shares the audible span by phoneme count when the IPA has one word per text word', () => {
    // h a ɪ = 3 phonemes, ð ɛ ɹ z = 4 (stress marks do not count); letters would give 2 : 5
    const timings = estimateWordTimings('Hi, there!', 'hˈaɪ ðˈɛɹz', pcm, sampleRateHz, 50);
    expect(timings).toEqual([
      { word: 'Hi', startMs: 150, endMs: 150 + 600 * (3 / 7), source: 'estimated' },
      { word: 'there', startMs: 150 + 600 * (3 / 7), endMs: 750, source: 'estimated' },
    ]);
  });

  it('falls back to letter counts when words and IPA words differ in number', () => {
    const timings = estimateWordTimings('in 1999', 'ɪn nˈaɪntiːn nˈaɪnti nˈaɪn', pcm, sampleRateHz, 0);
    expect(timings.map((timing) => timing.word)).toEqual(['in', '1999']);
    expect(timings[0]?.endMs).toBeCloseTo(100 + 600 * (2 / 6));
  });

  it('returns nothing for silence or wordless text', () => {
    expect(estimateWordTimings('hello', 'həlˈoʊ', new Float32Array(100), sampleRateHz, 0)).toEqual([]);
    expect(estimateWordTimings(' ... ', '', pcm, sampleRateHz, 0)).toEqual([]);
  });
});
