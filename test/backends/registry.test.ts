import { describe, expect, it } from 'vitest';
import { BackendRegistry, BUILTIN_BACKEND_NAMES, createBackend, type BackendDescriptor } from '../../src/backends/registry.js';
import { EspeakBackend } from '../../src/backends/espeak.js';
import { isEspeakEventsHelperBuilt } from '../../src/backends/espeak-events.js';
import { BackendError, InputError } from '../../src/errors.js';
import { NEUTRAL_PROSODY } from '../../src/graph/engine-output.js';
import { collect, rms } from './espeak-signal.js';

/** A descriptor whose code is missing, like an optional backend whose dependency is not installed. */
const ghost: BackendDescriptor = {
  name: 'ghost',
  description: 'a backend whose module does not exist',
  remote: false,
  load: async () => {
    const specifier = './definitely-not-a-backend.js';
    return (await import(specifier)) as never;
  },
};

describe('BackendRegistry', () => {
  it('knows the built-in backends by name', () => {
    expect(new BackendRegistry().names()).toEqual(['espeak', 'kokoro', 'piper', 'openai', 'elevenlabs', 'azure']);
    expect(BUILTIN_BACKEND_NAMES).toEqual(new BackendRegistry().names());
  });

  it('creates espeak by name with validated options, and it speaks', async () => {
    const backend = await createBackend('espeak', { mode: 'process' });
    expect(backend).toBeInstanceOf(EspeakBackend);
    const audio = await collect(backend.synthesize({ text: 'Created by name.', prosody: { ...NEUTRAL_PROSODY } }));
    expect(rms(audio.pcm)).toBeGreaterThan(0.03);
    await backend.close();
  });

  it('rejects bad options with an InputError naming backend and field', async () => {
    const error = await createBackend('espeak', { mode: 'gpu' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ field: 'espeak.mode' });
    expect((error as Error).message).toContain('received "gpu"');
  });

  it('rejects an unknown name, listing the known ones', async () => {
    const error = await createBackend('festival').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ code: 'BACKEND_UNKNOWN', field: 'backend' });
    expect((error as Error).message).toContain('espeak, kokoro, piper, openai, elevenlabs, azure');
    await expect(createBackend('')).rejects.toThrow(/expected a backend name/);
  });

  it('loads other backends lazily by name (openai with a validated option)', async () => {
    const backend = await createBackend('openai', { apiKey: 'sk-test' });
    expect(backend.name).toBe('openai');
    expect(backend.capabilities.remote).toBe(true);
    await backend.close();
    await expect(createBackend('openai', { apiKey: 42 })).rejects.toMatchObject({ field: 'openai.apiKey' });
  });

  it('reports a backend whose code is missing as not available, and espeak keeps working', async () => {
    const registry = new BackendRegistry();
    registry.register(ghost);
    const error = await registry.create('ghost').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ code: 'BACKEND_UNAVAILABLE', backend: 'ghost' });
    expect((error as Error).message).toMatch(/^ghost: not available: /);
    const espeak = await registry.create('espeak', { mode: 'process' });
    expect(await espeak.health()).toMatchObject({ status: 'ok' });
  });

  it('lists availability: espeak ready, model backends need options, missing code unavailable', async () => {
    const registry = new BackendRegistry();
    registry.register(ghost);
    const rows = await registry.list();
    expect(rows.map((row) => row.name)).toEqual(['espeak', 'kokoro', 'piper', 'openai', 'elevenlabs', 'azure', 'ghost']);
    const byName = new Map(rows.map((row) => [row.name, row]));
    // auto mode: the events helper when it is built (measured word timings), else the program.
    const espeakDetail = isEspeakEventsHelperBuilt() ? 'espeak-ng events helper (measured word timings)' : 'system espeak-ng program';
    expect(byName.get('espeak')).toMatchObject({ status: 'ready', remote: false, detail: espeakDetail });
    expect(byName.get('kokoro')).toMatchObject({ status: 'needs-options', detail: 'needs modelPath and voicesPath' });
    expect(byName.get('ghost')).toMatchObject({ status: 'unavailable', detail: expect.stringMatching(/^not available: /) });
    for (const cloud of ['openai', 'elevenlabs', 'azure']) {
      expect(byName.get(cloud)?.remote).toBe(true);
      // ready with credentials in the environment, needs-options without; never unavailable (the code is there)
      expect(['ready', 'needs-options']).toContain(byName.get(cloud)?.status);
    }
  });

  it('refuses a duplicate or malformed descriptor', () => {
    const registry = new BackendRegistry();
    expect(() => registry.register({ ...ghost, name: 'espeak' })).toThrow(/already registered/);
    expect(() => registry.register({ ...ghost, name: 'Bad Name' })).toThrow(InputError);
    expect(() => registry.register({ ...ghost, load: 'nope' } as never)).toThrow(/descriptor\.load/);
  });
});
