import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KOKORO_VOCAB } from '../../src/backends/kokoro-vocab.js';
import { phonemizeKeepingPunctuation } from '../../src/backends/phoneme-text.js';
import { phonemize } from '../../src/backends/phonemize.js';
import { PiperBackend, piperPhonemeIds, piperPhonemeMap } from '../../src/backends/piper.js';
import { BackendError, InputError } from '../../src/errors.js';
import type { EngineOutput } from '../../src/graph/engine-output.js';
import { describeOnnxBackendContract } from '../helpers/onnx-backend-contract.js';
import { buildKokoroTestModel, buildPiperTestModel, FILL_VALUE, ID_SCALE, ID_SUM_SCALE, PIPER_HEADER_SAMPLES } from '../helpers/onnx-model.js';
import { collect, segment } from '../helpers/synthesis.js';

const SAMPLES_PER_ID = 8;

/** A phoneme_id_map in Piper's layout: specials first, then punctuation and IPA symbols. */
function phonemeIdMap(): Record<string, number[]> {
  const map: Record<string, number[]> = { _: [0], '^': [1], $: [2] };
  let next = 3;
  for (const symbol of KOKORO_VOCAB.keys()) map[symbol] = [next++];
  return map;
}

function config(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    dataset: 'tiny',
    audio: { sample_rate: 22_050, quality: 'low' },
    espeak: { voice: 'en-us' },
    inference: { noise_scale: 0.5, length_scale: 1.5, noise_w: 0.75 },
    phoneme_type: 'espeak',
    phoneme_id_map: phonemeIdMap(),
    num_speakers: 1,
    speaker_id_map: {},
    language: { code: 'en_US' },
    piper_version: '1.0.0',
    ...overrides,
  };
}

/** What the test model wrote into a chunk. */
function decode(chunk: EngineOutput, lengthScale: number, multiSpeaker = false) {
  return {
    idCount: Math.round(chunk.pcm.length / lengthScale / SAMPLES_PER_ID),
    noiseScale: chunk.pcm[0] as number,
    noiseW: chunk.pcm[1] as number,
    idSum: Math.round((chunk.pcm[2] as number) / ID_SUM_SCALE),
    firstId: Math.round((chunk.pcm[3] as number) / ID_SCALE),
    lastId: Math.round((chunk.pcm[4] as number) / ID_SCALE),
    speakerId: multiSpeaker ? Math.round((chunk.pcm[5] as number) / ID_SCALE) : undefined,
  };
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

let dir: string;
let modelPath: string;
let multiPath: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vsb-piper-'));
  modelPath = join(dir, 'en_US-tiny-low.onnx');
  await writeFile(modelPath, buildPiperTestModel({ samplesPerId: SAMPLES_PER_ID }));
  await writeFile(`${modelPath}.json`, JSON.stringify(config()));
  await writeFile(join(dir, 'absent.onnx.json'), JSON.stringify(config()));
  multiPath = join(dir, 'en_GB-many-medium.onnx');
  await writeFile(multiPath, buildPiperTestModel({ samplesPerId: SAMPLES_PER_ID, multiSpeaker: true }));
  await writeFile(
    `${multiPath}.json`,
    JSON.stringify(config({ dataset: 'many', audio: { sample_rate: 16_000 }, language: { code: 'en_GB' }, num_speakers: 3, speaker_id_map: { alice: 0, bob: 1, carol: 2 } })),
  );
});

describeOnnxBackendContract({
  name: 'piper',
  create: (path = modelPath) => new PiperBackend({ modelPath: path }),
  // Its config exists: the missing model must still be what is reported.
  missingModelPath: () => join(dir, 'absent.onnx'),
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('piper phoneme ids', () => {
  it('lays ids out as BOS, PAD, then each phoneme and a PAD, then EOS, applying phoneme_map and skipping unknowns', () => {
    const map = { _: [0], '^': [1], $: [2], a: [5], b: [6, 7], c: [8] };
    expect(piperPhonemeIds('ab', { phoneme_id_map: map })).toEqual({ ids: [1, 0, 5, 0, 6, 7, 0, 2], skippedSymbols: 0 });
    expect(piperPhonemeIds('aZ', { phoneme_id_map: map })).toEqual({ ids: [1, 0, 5, 0, 2], skippedSymbols: 1 });
    expect(piperPhonemeIds('x', { phoneme_id_map: map }, { x: ['a', 'c'] }).ids).toEqual([1, 0, 5, 0, 8, 0, 2]);
  });

  it('decomposes phonemes to NFD code points before mapping them, as piper-phonemize does', () => {
    const map = { _: [0], '^': [1], $: [2], c: [5], '\u0327': [6], '\u00E7': [9], o: [7], '\u0303': [8] };
    // Precomposed ç (U+00E7) and õ (U+00F5) reach the map as base letter + combining mark.
    expect(piperPhonemeIds('\u00E7', { phoneme_id_map: map }).ids).toEqual([1, 0, 5, 0, 6, 0, 2]);
    expect(piperPhonemeIds('\u00F5', { phoneme_id_map: map }).ids).toEqual([1, 0, 7, 0, 8, 0, 2]);
    // Planted violation: without NFD the precomposed symbol would have hit its own id 9.
    expect(piperPhonemeIds('\u00E7', { phoneme_id_map: map }).ids).not.toContain(9);
  });

  it("uses the config's phoneme_map, else piper-phonemize's default map for the espeak voice (pt-br: c -> k)", () => {
    const base = { phoneme_type: 'espeak' as const };
    expect(piperPhonemeMap({ ...base, espeak: { voice: 'pt-br' } })).toEqual({ c: ['k'] });
    expect(piperPhonemeMap({ ...base, espeak: { voice: 'pt-br' }, phoneme_map: { x: ['y'] } })).toEqual({ x: ['y'] });
    expect(piperPhonemeMap({ ...base, espeak: { voice: 'en-us' } })).toBeUndefined();
    expect(piperPhonemeMap({ phoneme_type: 'text', espeak: { voice: 'pt-br' } })).toBeUndefined();
    const map = { _: [0], '^': [1], $: [2], c: [5], k: [6] };
    expect(piperPhonemeIds('c', { phoneme_id_map: map }, piperPhonemeMap({ ...base, espeak: { voice: 'pt-br' } })).ids).toEqual([1, 0, 6, 0, 2]);
  });
});

describe('PiperBackend synthesis', () => {
  it("runs the voice at its own sample rate with the config's scales and Piper's id layout", async () => {
    const backend = new PiperBackend({ modelPath });
    const chunks = await collect(backend.synthesize(segment('Hello world.')));
    expect(chunks).toHaveLength(1);
    const [chunk] = chunks as [EngineOutput];
    expect(chunk.sampleRateHz).toBe(22_050);
    expect(chunk.channels).toBe(1);
    expect(chunk.metadata.phonemes).toBe(`${await phonemize('Hello world', 'en-us')}.`);
    const { ids } = piperPhonemeIds(chunk.metadata.phonemes ?? '', config() as never);
    expect(chunk.pcm.length).toBe(Math.floor(ids.length * SAMPLES_PER_ID * 1.5));
    const seen = decode(chunk, 1.5);
    expect(seen.idCount).toBe(ids.length);
    expect(seen.idSum).toBe(sum(ids));
    expect(seen.firstId).toBe(1);
    expect(seen.lastId).toBe(2);
    expect(seen.noiseScale).toBeCloseTo(0.5, 6);
    expect(seen.noiseW).toBeCloseTo(0.75, 6);
    expect(chunk.pcm[PIPER_HEADER_SAMPLES]).toBe(FILL_VALUE);
    expect(backend.inferenceRuns).toBe(1);
    await backend.close();
  });

  it('divides length_scale by the prosody rate and applies option overrides', async () => {
    const backend = new PiperBackend({ modelPath, lengthScale: 1, noiseScale: 0.25, noiseW: 0.125 });
    const [normal] = (await collect(backend.synthesize(segment('Speed test.')))) as [EngineOutput];
    const [fast] = (await collect(backend.synthesize(segment('Speed test.', { prosody: { rate: 2 } })))) as [EngineOutput];
    const idCount = decode(normal, 1).idCount;
    expect(normal.pcm.length).toBe(idCount * SAMPLES_PER_ID);
    expect(fast.pcm.length).toBe((idCount * SAMPLES_PER_ID) / 2);
    expect(decode(normal, 1)).toMatchObject({ noiseScale: 0.25, noiseW: 0.125 });
  });

  it('runs once per sentence, keeping every phoneme id', async () => {
    const text = 'First one. Then another! And a third?';
    const backend = new PiperBackend({ modelPath });
    const chunks = await collect(backend.synthesize(segment(text)));
    expect(chunks).toHaveLength(3);
    expect(backend.inferenceRuns).toBe(3);
    const sentences = ['First one.', 'Then another!', 'And a third?'];
    for (const [index, chunk] of chunks.entries()) {
      const expected = piperPhonemeIds(await phonemizeKeepingPunctuation(sentences[index] as string, 'en-us', phonemize), config() as never).ids;
      expect(decode(chunk, 1.5)).toMatchObject({ idCount: expected.length, idSum: sum(expected) });
    }
  });

  it('feeds the speaker id of a multi-speaker voice and lists its speakers', async () => {
    const backend = new PiperBackend({ modelPath: multiPath, speaker: 'carol' });
    expect(await backend.voices()).toEqual(
      ['alice', 'bob', 'carol'].map((speaker) => ({
        id: `en_GB-many-medium:${speaker}`,
        backend: 'piper',
        name: `many (${speaker})`,
        languages: ['en-GB'],
        sampleRateHz: 16_000,
      })),
    );
    const [byDefault] = (await collect(backend.synthesize(segment('Hi.')))) as [EngineOutput];
    const [byId] = (await collect(backend.synthesize(segment('Hi.'), { voice: 'en_GB-many-medium:bob' }))) as [EngineOutput];
    const [byNumber] = (await collect(backend.synthesize(segment('Hi.', { voice: '0' })))) as [EngineOutput];
    expect(byDefault.sampleRateHz).toBe(16_000);
    expect([byDefault, byId, byNumber].map((chunk) => decode(chunk, 1.5, true).speakerId)).toEqual([2, 1, 0]);
    const error = await collect(backend.synthesize(segment('Hi.'), { voice: 'dave' })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as BackendError).code).toBe('BACKEND_VOICE_UNKNOWN');
    expect((error as BackendError).message).toContain('alice, bob, carol');
  });

  it('lists a single-speaker voice by its file name and uses text phonemes for phoneme_type "text"', async () => {
    const textPath = join(dir, 'xx-text.onnx');
    await writeFile(textPath, buildPiperTestModel({ samplesPerId: SAMPLES_PER_ID }));
    await writeFile(`${textPath}.json`, JSON.stringify(config({ phoneme_type: 'text', dataset: undefined, language: undefined })));
    const backend = new PiperBackend({ modelPath: textPath });
    expect(await backend.voices()).toEqual([{ id: 'xx-text', backend: 'piper', name: 'xx-text', languages: ['en-us'], sampleRateHz: 22_050 }]);
    const [chunk] = (await collect(backend.synthesize(segment('abc.')))) as [EngineOutput];
    expect(chunk.metadata.phonemes).toBe('abc.');
    expect(decode(chunk, 1.5).idCount).toBe(piperPhonemeIds('abc.', config() as never).ids.length);
  });
});

describe('PiperBackend errors', () => {
  it('validates options with an InputError naming the field', () => {
    try {
      new PiperBackend({ modelPath, lengthScale: -1 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).field).toBe('piper.lengthScale');
    }
    expect(() => new PiperBackend({ modelPath: '' })).toThrow(InputError);
  });

  it('names the missing config file, from load and from health', async () => {
    const missingConfig = join(dir, 'no-config.json');
    const backend = new PiperBackend({ modelPath, configPath: missingConfig });
    await expect(backend.load()).rejects.toMatchObject({ code: 'BACKEND_CONFIG_NOT_FOUND', message: expect.stringContaining(missingConfig) });
    const health = await backend.health();
    expect(health).toMatchObject({ status: 'unavailable', modelLoaded: false });
    expect(health.detail).toContain(missingConfig);
  });

  it('explains a malformed config: not JSON, a missing field, specials missing from the id map', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['not-json.json', '{"audio": ', /is not JSON/],
      ['no-rate.json', JSON.stringify(config({ audio: {} })), /config\.audio\.sample_rate/],
      ['no-map.json', JSON.stringify(config({ phoneme_id_map: undefined })), /config\.phoneme_id_map/],
      ['no-bos.json', JSON.stringify(config({ phoneme_id_map: { _: [0], $: [2] } })), /expected entries for "_", "\^" and "\$"/],
      ['bad-type.json', JSON.stringify(config({ phoneme_type: 'pinyin' })), /config\.phoneme_type/],
    ];
    for (const [name, content, reason] of cases) {
      const path = join(dir, name);
      await writeFile(path, content);
      const error = await new PiperBackend({ modelPath, configPath: path }).load().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BackendError);
      expect(error).toMatchObject({ code: 'BACKEND_CONFIG_INVALID' });
      expect((error as BackendError).message).toContain(path);
      expect((error as BackendError).message).toMatch(reason);
    }
  });

  it('rejects a model that is not Piper-shaped', async () => {
    const kokoroShaped = join(dir, 'kokoro-shaped.onnx');
    await writeFile(kokoroShaped, buildKokoroTestModel({ samplesPerToken: 4 }));
    await writeFile(`${kokoroShaped}.json`, JSON.stringify(config()));
    await expect(new PiperBackend({ modelPath: kokoroShaped }).load()).rejects.toMatchObject({
      code: 'BACKEND_MODEL_INVALID',
      message: expect.stringMatching(/not a Piper model: expected input "input"/),
    });
  });

});
