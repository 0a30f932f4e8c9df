import { afterAll, describe, expect, it } from 'vitest';
import { BaseBackend, type BackendCapabilities, type VoiceInfo } from '../../src/backends/backend.js';
import { VoiceCatalogue } from '../../src/backends/catalogue.js';
import { EspeakBackend } from '../../src/backends/espeak.js';
import { BackendRegistry, BUILTIN_BACKENDS, type BackendDescriptor } from '../../src/backends/registry.js';
import { BackendError, InputError } from '../../src/errors.js';
import type { EngineOutput } from '../../src/graph/engine-output.js';

/** A small real backend with a fixed voice list (styles, genders, regional languages). */
class StudioBackend extends BaseBackend {
  readonly name = 'studio';
  readonly capabilities: BackendCapabilities = { streaming: false, wordTimings: false, phonemes: false, remote: false };
  listings = 0;
  failNext = false;

  async voices(): Promise<VoiceInfo[]> {
    this.listings += 1;
    if (this.failNext) {
      this.failNext = false;
      throw new BackendError('studio', 'HTTP_503', 'voice list unavailable', { retryable: true });
    }
    return [
      { id: 'ava', backend: 'studio', name: 'Ava', languages: ['en-US'], gender: 'female', styles: ['cheerful', 'calm'] },
      { id: 'oliver', backend: 'studio', name: 'Oliver', languages: ['en-GB'], gender: 'male', styles: ['Newscast'] },
      { id: 'lea', backend: 'studio', name: 'Léa', languages: ['fr-FR'], gender: 'female' },
    ];
  }

  protected synthesizeOnce(): AsyncIterable<EngineOutput> {
    return (async function* () {
      yield* [];
    })();
  }
}

describe('VoiceCatalogue', () => {
  const espeak = new EspeakBackend({ mode: 'process' });
  afterAll(() => espeak.close());

  it('lists every backend’s voices', async () => {
    const catalogue = new VoiceCatalogue([espeak, new StudioBackend()]);
    const voices = await catalogue.voices();
    expect(voices.some((voice) => voice.backend === 'espeak' && voice.id === 'de')).toBe(true);
    expect(voices.filter((voice) => voice.backend === 'studio')).toHaveLength(3);
  });

  it('filters by language: a primary subtag matches all regions', async () => {
    const catalogue = new VoiceCatalogue([espeak, new StudioBackend()]);
    const english = await catalogue.voices({ language: 'en' });
    expect(english.length).toBeGreaterThan(5);
    for (const voice of english) expect(voice.languages.some((language) => language.toLowerCase().startsWith('en'))).toBe(true);
    expect(english.map((voice) => voice.id)).toEqual(expect.arrayContaining(['en-us', 'en-gb', 'ava', 'oliver']));
    expect(english.map((voice) => voice.id)).not.toContain('lea');
  });

  it('ranks exact regional matches before voices for the broader language', async () => {
    const catalogue = new VoiceCatalogue([espeak, new StudioBackend()]);
    const ids = (await catalogue.voices({ language: 'en_us' })).map((voice) => voice.id);
    expect(ids.indexOf('ava')).toBeLessThan(ids.indexOf('en-gb'));
    expect(ids.indexOf('en-us')).toBeLessThan(ids.indexOf('en-gb'));
    expect(ids).not.toContain('oliver'); // en-GB only: neither equal nor broader than en-US
  });

  it('filters by gender, style (case-insensitive) and backend together', async () => {
    const catalogue = new VoiceCatalogue([espeak, new StudioBackend()]);
    const female = await catalogue.voices({ language: 'fr', gender: 'female' });
    expect(female.map((voice) => voice.id)).toEqual(expect.arrayContaining(['lea', 'fr-fr+f3']));
    expect(female.every((voice) => voice.gender === 'female')).toBe(true);
    expect((await catalogue.voices({ style: 'newscast' })).map((voice) => voice.id)).toEqual(['oliver']);
    const onlyEspeak = await catalogue.voices({ backend: 'espeak', language: 'de' });
    expect(onlyEspeak.length).toBeGreaterThan(0);
    expect(onlyEspeak.every((voice) => voice.backend === 'espeak')).toBe(true);
    expect(await catalogue.voices({ backend: 'nobody' })).toEqual([]);
  });

  it('keeps other backends’ voices when one listing fails, reports it, and asks again next time', async () => {
    const studio = new StudioBackend();
    studio.failNext = true;
    const catalogue = new VoiceCatalogue([studio, espeak]);
    const first = await catalogue.search({ language: 'en-US' });
    expect(first.failures).toEqual([{ backend: 'studio', message: 'studio: voice list unavailable' }]);
    expect(first.voices.some((voice) => voice.id === 'en-us')).toBe(true);
    const second = await catalogue.search({ language: 'en-US' });
    expect(second.failures).toEqual([]);
    expect(second.voices[0]?.id).toBe('ava');
    expect(studio.listings).toBe(2);
  });

  it('caches each backend’s list for cacheTtlMs', async () => {
    let nowMs = 0;
    const studio = new StudioBackend();
    const catalogue = new VoiceCatalogue([studio], { cacheTtlMs: 1000, nowMs: () => nowMs });
    await catalogue.voices();
    nowMs = 999;
    await catalogue.voices({ gender: 'male' });
    expect(studio.listings).toBe(1);
    nowMs = 1000;
    await catalogue.voices();
    expect(studio.listings).toBe(2);
    catalogue.refresh();
    await catalogue.voices();
    expect(studio.listings).toBe(3);
  });

  it('rejects a bad filter with an InputError naming the field', async () => {
    const catalogue = new VoiceCatalogue([]);
    await expect(catalogue.voices({ gender: 'robot' as 'male' })).rejects.toThrow(InputError);
    await expect(catalogue.voices({ gender: 'robot' as 'male' })).rejects.toMatchObject({ field: 'filter.gender' });
    await expect(catalogue.voices({ language: 'english please' })).rejects.toThrow(/filter\.language: expected a BCP-47 language/);
    await expect(catalogue.voices({ colour: 'blue' } as never)).rejects.toThrow(InputError);
  });

  it('builds from a registry: creates ready backends and those given options, reports the rest', async () => {
    const ghost: BackendDescriptor = { name: 'ghost', description: 'missing', remote: false, load: () => Promise.reject(new Error('module not installed')) };
    // Local backends only: with credentials in the environment the cloud ones would list voices over the network.
    const registry = new BackendRegistry(BUILTIN_BACKENDS.filter((descriptor) => !descriptor.remote));
    registry.register(ghost);
    const catalogue = await VoiceCatalogue.fromRegistry(registry, { espeak: { mode: 'process' } });
    try {
      const result = await catalogue.search({ language: 'en-GB' });
      expect(result.voices.some((voice) => voice.backend === 'espeak' && voice.id === 'en-gb')).toBe(true);
      const failed = new Map(result.failures.map((failure) => [failure.backend, failure.message]));
      expect(failed.get('kokoro')).toBe('needs-options: needs modelPath and voicesPath');
      expect(failed.get('ghost')).toBe('unavailable: not available: module not installed');
      expect(catalogue.backends().map((backend) => backend.name)).toContain('espeak');
    } finally {
      await Promise.all(catalogue.backends().map((backend) => backend.close()));
    }
  });
});
