import { describe, expect, it } from 'vitest';
import { AbortError, BackendError, InputError } from '../../src/errors.js';
import { phonemize } from '../../src/backends/phonemize.js';

describe('phonemize', () => {
  for (const mode of ['process', 'wasm'] as const) {
    describe(`through ${mode}`, () => {
      it('returns IPA with stress marks and without zero-width joiners', async () => {
        const ipa = await phonemize('Hello world. How are you today?', 'en-US', undefined, { mode });
        expect(ipa).toBe('həlˈoʊ wˈɜːld hˌaʊ ɑːɹ juː tədˈeɪ');
        expect(ipa).not.toMatch(/\u200d/);
      });

      it('matches BCP-47 languages to espeak-ng voices (region, primary subtag)', async () => {
        expect(await phonemize('Guten Tag', 'de-AT', undefined, { mode })).toBe('ɡˈuːtən tˈɑːk');
        // plain `en` resolves to British English (espeak-ng's preferred voice for `en`)
        expect(await phonemize('colour', 'en', undefined, { mode })).toBe('kˈʌlə');
        expect(await phonemize('water', 'en-US', undefined, { mode })).toBe('wˈɔːɾɚ');
      });

      it('keeps ties as ^ when asked (misaki reads them) and removes language-switch flags, keeping their words', async () => {
        expect(await phonemize('Hello, how are you today?', 'en-US', undefined, { mode, ties: true })).toBe('həlˈo^ʊ hˌa^ʊ ɑː^ɹ juː tədˈe^ɪ');
        // espeak-ng reads "weekend" with English rules and prints (en)…(fr) around it.
        expect(await phonemize('le weekend', 'fr-FR', undefined, { mode })).toBe('lə- wiːkˈɛnd');
        expect(await phonemize('le weekend', 'fr-FR', undefined, { mode, ties: true })).toBe('lə- wiːkˈɛnd');
      });

      it('treats text that looks like an option as text', async () => {
        expect(await phonemize('-v hello', 'en-US', undefined, { mode })).toContain('həlˈoʊ');
      });
    });
  }

  it('returns an empty string for blank text', async () => {
    expect(await phonemize('  \n', 'en-US')).toBe('');
  });

  it('rejects a language espeak-ng has no voice for, naming the field', async () => {
    const error = await phonemize('hello', 'qq-ZZ').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ code: 'LANGUAGE_UNSUPPORTED', field: 'language' });
    expect((error as Error).message).toContain('"qq-ZZ"');
  });

  it('rejects bad arguments with InputError', async () => {
    await expect(phonemize('hello', '')).rejects.toThrow(/phonemize\.language/);
    await expect(phonemize(42 as unknown as string, 'en')).rejects.toThrow(/phonemize\.text/);
  });

  it('honours an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(phonemize('hello', 'en-US', controller.signal, { mode: 'process' })).rejects.toBeInstanceOf(AbortError);
  });

  it('says what to install when the forced program is missing', async () => {
    const error = await phonemize('hello', 'en-US', undefined, { mode: 'process', binaryPath: '/nonexistent/espeak-ng' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ code: 'ESPEAK_NOT_FOUND' });
    expect((error as Error).message).toContain('apt-get install espeak-ng');
  });
});
