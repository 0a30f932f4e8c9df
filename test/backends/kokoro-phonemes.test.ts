/**
 * Kokoro phonemization as trained: the ids fed to the model for 23 golden sentences (English US/GB,
 * French, German, Spanish) equal the ids of the reference symbols (phoneme-goldens.ts, written from
 * misaki's published rules) through Kokoro's published vocabulary; the language comes from the
 * caller, else the voice. Plus the mapping rules one by one, from misaki's own documentation.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeKokoroVoice, KokoroBackend, kokoroSegmentLanguage } from '../../src/backends/kokoro.js';
import { espeakToKokoro, espeakToMisakiEnglish, kokoroEspeakLanguage, kokoroPhonemeSet } from '../../src/backends/kokoro-g2p.js';
import { KOKORO_VOCAB } from '../../src/backends/kokoro-vocab.js';
import { removeLanguageFlags } from '../../src/backends/phonemize.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { buildKokoroEchoModel, echoedIds } from '../helpers/onnx-model.js';
import { collect, segment } from '../helpers/synthesis.js';
import { PHONEME_GOLDENS } from './phoneme-goldens.js';

/** Kokoro's tokenizer as published (kokoro-onnx `Tokenizer.tokenize`): each symbol's id, symbols outside the vocabulary skipped; pad 0 at both ends. */
function referenceIds(symbols: string): number[] {
  return [0, ...[...symbols].flatMap((symbol) => (KOKORO_VOCAB.has(symbol) ? [KOKORO_VOCAB.get(symbol) as number] : [])), 0];
}

let dir: string;
let backend: KokoroBackend;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vsb-kokoro-phonemes-'));
  const modelPath = join(dir, 'echo.onnx');
  await writeFile(modelPath, buildKokoroEchoModel());
  const voicesDir = join(dir, 'voices');
  await mkdir(voicesDir);
  for (const voice of ['af_golden', 'bf_golden', 'ff_golden', 'ef_golden']) await writeFile(join(voicesDir, `${voice}.bin`), new Float32Array(256));
  backend = new KokoroBackend({ modelPath, voicesPath: voicesDir });
});

afterAll(async () => {
  await backend.close();
  await rm(dir, { recursive: true, force: true });
});

/** Synthesizes a golden sentence as the engine sends it: the compiler's default en-US unless a language is given. */
async function fedIds(text: string, voice: string, language?: string): Promise<number[]> {
  const chunks = await collect(backend.synthesize(segment(text, { voice, language: language ?? 'en-US', ...(language === undefined ? { languageIsDefault: true } : {}) })));
  expect(chunks).toHaveLength(1);
  return echoedIds(chunks[0]?.pcm ?? new Float32Array());
}

describe('Kokoro golden phoneme ids', () => {
  it('has at least 20 sentences across English, French, German and Spanish, all in the published vocabulary', () => {
    expect(PHONEME_GOLDENS.length).toBeGreaterThanOrEqual(20);
    expect(new Set(PHONEME_GOLDENS.map((golden) => golden.espeakVoice.slice(0, 2)))).toEqual(new Set(['en', 'fr', 'de', 'es']));
    for (const golden of PHONEME_GOLDENS) expect([...golden.kokoro].filter((symbol) => !KOKORO_VOCAB.has(symbol)), golden.text).toEqual([]);
  });

  for (const golden of PHONEME_GOLDENS) {
    it(`${golden.kokoroVoice}${golden.kokoroLanguage ? ` (${golden.kokoroLanguage})` : ''}: ${golden.text}`, async () => {
      expect(await fedIds(golden.text, golden.kokoroVoice, golden.kokoroLanguage)).toEqual(referenceIds(golden.kokoro));
    });
  }

  it('catches raw espeak IPA (the planted violation: no misaki mapping) for every English golden', () => {
    for (const golden of PHONEME_GOLDENS.filter((entry) => entry.espeakVoice.startsWith('en'))) {
      expect(referenceIds(golden.espeakIpa.replaceAll('^', ''))).not.toEqual(referenceIds(golden.kokoro));
    }
  });

  it("speaks the caller's language over the voice's: a French voice asked for en-US gets misaki's English symbols", async () => {
    const english = PHONEME_GOLDENS[0];
    expect(await fedIds(english?.text ?? '', 'ff_golden', 'en-US')).toEqual(referenceIds(english?.kokoro ?? ''));
    // Planted: the same French voice with the default language reads it with French rules.
    expect(await fedIds(english?.text ?? '', 'ff_golden')).not.toEqual(referenceIds(english?.kokoro ?? ''));
  });
});

describe('Kokoro language through the engine', () => {
  it("reads plain text in a French voice's own language, and in the caller's when one is passed", async () => {
    const french = PHONEME_GOLDENS.find((golden) => golden.kokoroVoice === 'ff_golden') as (typeof PHONEME_GOLDENS)[number];
    const english = PHONEME_GOLDENS[0] as (typeof PHONEME_GOLDENS)[number];
    const engine = new VoiceEngine({ backend });
    const phonemesOf = async (text: string, options: { voice: string; language?: string }) => {
      const seen: string[] = [];
      for await (const chunk of engine.stream(text, options)) if (chunk.kind === 'speech') seen.push(chunk.metadata.phonemes ?? '');
      return seen.join(' ');
    };
    try {
      expect(await phonemesOf(french.text, { voice: 'ff_golden' })).toBe(french.kokoro);
      expect(await phonemesOf(english.text, { voice: 'ff_golden', language: 'en-US' })).toBe(english.kokoro);
      // Planted: the default language is not the caller's; an American voice keeps American English.
      expect(await phonemesOf(english.text, { voice: 'af_golden' })).toBe(english.kokoro);
      expect(await phonemesOf(english.text, { voice: 'ff_golden' })).not.toBe(english.kokoro);
    } finally {
      await engine.close();
    }
  });
});

describe('Kokoro language rule', () => {
  it('maps voice names to languages by their first letter (Kokoro-82M VOICES.md)', () => {
    const cases: Array<[string, string | undefined]> = [
      ['af_heart', 'en-US'], ['bm_george', 'en-GB'], ['ef_dora', 'es'], ['ff_siwis', 'fr-FR'], ['hf_alpha', 'hi'],
      ['if_sara', 'it'], ['jf_alpha', 'ja'], ['pf_dora', 'pt-BR'], ['zf_xiaobei', 'zh'], ['xx_unknown', undefined],
    ];
    for (const [voice, language] of cases) expect(describeKokoroVoice(voice).language, voice).toBe(language);
  });

  it("uses the caller's language, else the voice's, else the default", () => {
    expect(kokoroSegmentLanguage({ language: 'de' }, 'ff_siwis')).toBe('de');
    expect(kokoroSegmentLanguage({ language: 'en-US', languageIsDefault: true }, 'ff_siwis')).toBe('fr-FR');
    expect(kokoroSegmentLanguage({}, 'jf_alpha')).toBe('ja');
    expect(kokoroSegmentLanguage({ language: 'en-US', languageIsDefault: true }, 'custom')).toBe('en-US');
    expect(kokoroSegmentLanguage({}, 'custom')).toBe('en-US');
  });

  it('picks the rule set and espeak dialect: American for en/en-US, British for en-GB and its kin, folded espeak IPA elsewhere', () => {
    expect([kokoroPhonemeSet('en'), kokoroPhonemeSet('en-US'), kokoroPhonemeSet('en-CA')]).toEqual(['misaki-en-us', 'misaki-en-us', 'misaki-en-us']);
    expect([kokoroPhonemeSet('en-GB'), kokoroPhonemeSet('en_AU'), kokoroPhonemeSet('fr-FR')]).toEqual(['misaki-en-gb', 'misaki-en-gb', 'espeak-folded']);
    expect([kokoroEspeakLanguage('en'), kokoroEspeakLanguage('en-IE'), kokoroEspeakLanguage('es')]).toEqual(['en-US', 'en-GB', 'es']);
  });
});

describe('espeak -> Kokoro symbol rules (misaki/espeak.py, EN_PHONES.md)', () => {
  it("reproduces misaki's own documented example (EN_PHONES.md: merchantship)", () => {
    expect(espeakToMisakiEnglish('mˈɜːt^ʃəntʃˌɪp', false)).toBe('mˈɜɹʧəntʃˌɪp');
    expect(espeakToMisakiEnglish('mˈɜːt^ʃəntʃˌɪp', true)).toBe('mˈɜːʧəntʃˌɪp');
  });

  it('applies each English rule', () => {
    const us = (ipa: string) => espeakToMisakiEnglish(ipa, false);
    const gb = (ipa: string) => espeakToMisakiEnglish(ipa, true);
    expect([us('a^ɪ'), us('a^ʊ'), us('e^ɪ'), us('ɔ^ɪ'), us('o^ʊ'), gb('ə^ʊ')]).toEqual(['I', 'W', 'A', 'Y', 'O', 'Q']);
    expect([us('d^ʒ'), us('t^ʃ'), us('tʃ')]).toEqual(['ʤ', 'ʧ', 'tʃ']); // only a tied pair is one phoneme
    expect([us('ə^l'), us('bˈʌʔn̩'), us('n̩')]).toEqual(['ᵊl', 'bˈʌtn', 'ᵊn']);
    expect([us('ɚ'), us('r'), us('x'), us('ç'), us('ɐ'), us('ɬ'), us('ɑ̃')]).toEqual(['əɹ', 'ɹ', 'k', 'k', 'ə', 'l', 'ɑ']);
    expect([us('ʲo^ʊ'), us('ʲə'), us('tʲ')]).toEqual(['jO', 'jə', 't']);
    expect([us('bˈʌɾɚ'), us('ɜː'), us('ɜːɹ'), us('ɪə'), us('ɑː'), us('o')]).toEqual(['bˈʌTəɹ', 'ɜɹ', 'ɜɹ', 'iə', 'ɑ', 'ɔ']);
    expect([gb('ɑː'), gb('iə'), gb('e')]).toEqual(['ɑː', 'ɪə', 'A']);
  });

  it('folds other languages as EspeakG2P does (affricates, diphthongs, no ties or hyphens)', () => {
    const fr = (ipa: string) => espeakToKokoro(ipa, 'fr-FR');
    expect([fr('t^s'), fr('d^z'), fr('s^s'), fr('a^ɪ'), fr('ə^ʊ'), fr('ʒə-'), fr('bɔ̃')]).toEqual(['ʦ', 'ʣ', 'S', 'I', 'Q', 'ʒə', 'bɔ̃']);
    // Ties from other phonemizers count too: ZWJ and U+0361.
    expect([espeakToKokoro('t\u200ds', 'de'), espeakToKokoro('t\u0361ʃ', 'es')]).toEqual(['ʦ', 'ʧ']);
    // English-only rules do not apply elsewhere.
    expect([espeakToKokoro('x', 'es'), espeakToKokoro('r', 'es'), espeakToKokoro('e', 'es')]).toEqual(['x', 'r', 'e']);
  });

  it("removes espeak-ng's language flags but keeps the words and real brackets", () => {
    expect(removeLanguageFlags('lə- (^e^n)wiːkˈɛnd(^f^r) e')).toBe('lə- wiːkˈɛnd e');
    expect(removeLanguageFlags('(en)kˈuːl(de)')).toBe('kˈuːl');
    expect(removeLanguageFlags('(ˈa)')).toBe('(ˈa)');
  });
});
