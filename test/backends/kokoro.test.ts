import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KokoroBackend, KOKORO_SAMPLE_RATE_HZ } from '../../src/backends/kokoro.js';
import { espeakToKokoro } from '../../src/backends/kokoro-g2p.js';
import { KOKORO_MAX_TOKENS, tokenizeKokoroPhonemes } from '../../src/backends/kokoro-vocab.js';
import { phonemizeKeepingPunctuation } from '../../src/backends/phoneme-text.js';
import { phonemize } from '../../src/backends/phonemize.js';
import { AbortError, BackendError, InputError } from '../../src/errors.js';
import type { EngineOutput } from '../../src/graph/engine-output.js';
import { describeOnnxBackendContract } from '../helpers/onnx-backend-contract.js';
import { buildKokoroTestModel, buildPiperTestModel, FILL_VALUE, ID_SCALE, ID_SUM_SCALE, KOKORO_HEADER_SAMPLES } from '../helpers/onnx-model.js';
import { collect, segment } from '../helpers/synthesis.js';
import { npy, zip } from '../helpers/voice-files.js';
import { nextTurn, settledFlag, watchCalls, type CallWatch } from '../helpers/waiting.js';

const SAMPLES_PER_TOKEN = 10;

/** Watches a backend's ONNX runs (its protected `runModel`, wrapped on this instance): how many started, and this thread's event-loop turns while one executed. */
function watchInference(backend: KokoroBackend): CallWatch {
  type RunModel = (...args: unknown[]) => Promise<Float32Array>;
  const target = backend as unknown as { runModel: RunModel };
  const { watch, wrapped } = watchCalls(target.runModel.bind(backend));
  target.runModel = wrapped;
  return watch;
}

const ROWS = 510;
const STYLE_DIM = 256;

/** A voice pack whose row r starts with (r + 1) * step, so the output reveals which row was used. */
function voicePack(step: number): Float32Array {
  const pack = new Float32Array(ROWS * STYLE_DIM);
  for (let row = 0; row < ROWS; row++) pack[row * STYLE_DIM] = (row + 1) * step;
  return pack;
}

/** What the test model wrote into a chunk: its input ids (count, sum, ends) and the style value. */
function decode(chunk: EngineOutput, speed = 1) {
  const tokenCount = Math.round((chunk.pcm.length * speed) / SAMPLES_PER_TOKEN) - 2;
  return {
    tokenCount,
    style: chunk.pcm[0] as number,
    idSum: Math.round((chunk.pcm[1] as number) / ID_SUM_SCALE),
    firstId: Math.round((chunk.pcm[2] as number) / ID_SCALE),
    lastId: Math.round((chunk.pcm[3] as number) / ID_SCALE),
  };
}

/** A sentence's Kokoro symbols as the backend makes them: tied espeak IPA, punctuation kept, misaki's American mapping. */
async function englishSymbols(text: string): Promise<string> {
  return espeakToKokoro(await phonemizeKeepingPunctuation(text, 'en-US', (words, language, signal) => phonemize(words, language, signal, { ties: true })), 'en-US');
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

let dir: string;
let modelPath: string;
let voicesDir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vsb-kokoro-'));
  modelPath = join(dir, 'kokoro.onnx');
  await writeFile(modelPath, buildKokoroTestModel({ samplesPerToken: SAMPLES_PER_TOKEN }));
  voicesDir = join(dir, 'voices');
  await mkdir(voicesDir);
  await writeFile(join(voicesDir, 'af_test.bin'), voicePack(0.001));
  await writeFile(join(voicesDir, 'bm_test.npy'), npy(voicePack(0.0005), [ROWS, 1, STYLE_DIM]));
  await writeFile(join(voicesDir, 'notes.txt'), 'not a voice');
});

describeOnnxBackendContract({
  name: 'kokoro',
  create: (path = modelPath) => new KokoroBackend({ modelPath: path, voicesPath: voicesDir }),
  missingModelPath: () => join(dir, 'nope', 'kokoro.onnx'),
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('KokoroBackend synthesis', () => {
  it('produces 24 kHz PCM sized by the token count, with padded ids, the style row for that count and the phonemes', async () => {
    const backend = new KokoroBackend({ modelPath, voicesPath: voicesDir, defaultVoice: 'af_test' });
    const chunks = await collect(backend.synthesize(segment('Hello world.', { language: 'en-US' })));
    expect(chunks).toHaveLength(1);
    const [chunk] = chunks as [EngineOutput];
    expect(chunk.sampleRateHz).toBe(KOKORO_SAMPLE_RATE_HZ);
    expect(chunk.channels).toBe(1);
    // Punctuation espeak-ng drops is put back.
    // espeak-ng's həlˈo^ʊ wˈɜːld in misaki's American symbols (o^ʊ -> O, ɜː -> ɜɹ).
    expect(chunk.metadata.phonemes).toBe('həlˈO wˈɜɹld.');
    const tokens = tokenizeKokoroPhonemes(chunk.metadata.phonemes ?? '').ids;
    expect(chunk.pcm.length).toBe((tokens.length + 2) * SAMPLES_PER_TOKEN);
    const seen = decode(chunk);
    expect(seen.tokenCount).toBe(tokens.length);
    expect(seen.idSum).toBe(sum(tokens));
    expect(seen.firstId).toBe(0);
    expect(seen.lastId).toBe(0);
    expect(seen.style).toBeCloseTo(tokens.length * 0.001, 6);
    expect(chunk.pcm[KOKORO_HEADER_SAMPLES]).toBe(FILL_VALUE);
    expect(backend.inferenceRuns).toBe(1);
    expect(backend.metrics().calls).toBe(1);
    expect(backend.metrics().audioMs).toBeCloseTo((chunk.pcm.length / KOKORO_SAMPLE_RATE_HZ) * 1000, 6);
    expect(await backend.health()).toEqual({ backend: 'kokoro', status: 'ok', modelLoaded: true });
    await backend.close();
  });

  it('scales the length by the prosody rate and the speed option, clamped to [0.5, 2]', async () => {
    const backend = new KokoroBackend({ modelPath, voicesPath: voicesDir, speed: 1.25 });
    const [normal] = await collect(backend.synthesize(segment('Testing speed.')));
    const [double] = await collect(backend.synthesize(segment('Testing speed.', { prosody: { rate: 1.6 } })));
    const [clamped] = await collect(backend.synthesize(segment('Testing speed.', { prosody: { rate: 10 } })));
    const [slowest] = await collect(backend.synthesize(segment('Testing speed.', { prosody: { rate: 0.1 } })));
    const padded = decode(normal as EngineOutput, 1.25).tokenCount + 2;
    expect((normal as EngineOutput).pcm.length).toBe(Math.floor((padded * SAMPLES_PER_TOKEN) / 1.25));
    expect((double as EngineOutput).pcm.length).toBe((padded * SAMPLES_PER_TOKEN) / 2);
    expect((clamped as EngineOutput).pcm.length).toBe((padded * SAMPLES_PER_TOKEN) / 2);
    expect((slowest as EngineOutput).pcm.length).toBe(padded * SAMPLES_PER_TOKEN * 2);
    await backend.close();
  });

  it('runs once per sentence and keeps each sentence end mark', async () => {
    const backend = new KokoroBackend({ modelPath, voicesPath: voicesDir });
    const chunks = await collect(backend.synthesize(segment('One thing. Two things! Three things?')));
    expect(chunks.map((chunk) => chunk.metadata.phonemes?.at(-1))).toEqual(['.', '!', '?']);
    expect(backend.inferenceRuns).toBe(3);
    await backend.close();
  });

  it('splits a sentence longer than 510 tokens at clause marks, dropping nothing', async () => {
    const clause = 'the quick brown fox jumps over the lazy dog near the river bank';
    const text = `${Array.from({ length: 40 }, () => clause).join(', ')}.`;
    const expected = tokenizeKokoroPhonemes(await englishSymbols(text));
    expect(expected.ids.length).toBeGreaterThan(3 * KOKORO_MAX_TOKENS);
    const backend = new KokoroBackend({ modelPath, voicesPath: voicesDir, defaultVoice: 'af_test' });
    const chunks = await collect(backend.synthesize(segment(text, { language: 'en-US' })));
    expect(chunks.length).toBe(backend.inferenceRuns);
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    const seen = chunks.map((chunk) => decode(chunk));
    for (const piece of seen) {
      expect(piece.tokenCount).toBeLessThanOrEqual(KOKORO_MAX_TOKENS);
      expect(piece.style).toBeCloseTo(piece.tokenCount * 0.001, 6);
    }
    expect(sum(seen.map((piece) => piece.tokenCount))).toBe(expected.ids.length);
    expect(sum(seen.map((piece) => piece.idSum))).toBe(sum(expected.ids));
    expect(chunks.map((chunk) => chunk.metadata.phonemes).join('')).toBe(expected.symbols.join(''));
    for (const chunk of chunks.slice(0, -1)) expect(chunk.metadata.phonemes?.at(-1)).toBe(',');
  });

  it('cuts at word boundaries when a long run has no punctuation, and honours maxTokensPerRun', async () => {
    const text = Array.from({ length: 12 }, () => 'many words without any punctuation at all').join(' ');
    const expected = tokenizeKokoroPhonemes(await englishSymbols(text));
    const backend = new KokoroBackend({ modelPath, voicesPath: voicesDir, maxTokensPerRun: 100 });
    const chunks = await collect(backend.synthesize(segment(text, { language: 'en-US' })));
    const counts = chunks.map((chunk) => decode(chunk).tokenCount);
    expect(Math.max(...counts)).toBeLessThanOrEqual(100);
    expect(sum(counts)).toBe(expected.ids.length);
    for (const chunk of chunks.slice(0, -1)) expect(chunk.metadata.phonemes?.at(-1)).toBe(' ');
  });

  it('applies the prosody volume as a gain', async () => {
    const backend = new KokoroBackend({ modelPath, voicesPath: voicesDir });
    const [chunk] = await collect(backend.synthesize(segment('Louder.', { prosody: { volumeDb: 6 } })));
    expect((chunk as EngineOutput).pcm[KOKORO_HEADER_SAMPLES]).toBeCloseTo(FILL_VALUE * 10 ** (6 / 20), 5);
  });

  it('accepts the older export whose ids input is called "tokens"', async () => {
    const path = join(dir, 'kokoro-tokens.onnx');
    await writeFile(path, buildKokoroTestModel({ samplesPerToken: SAMPLES_PER_TOKEN, idsInputName: 'tokens' }));
    const backend = new KokoroBackend({ modelPath: path, voicesPath: voicesDir });
    const [chunk] = await collect(backend.synthesize(segment('Hi.')));
    expect(decode(chunk as EngineOutput).tokenCount).toBe(tokenizeKokoroPhonemes((chunk as EngineOutput).metadata.phonemes ?? '').ids.length);
  });

  it('keeps the event loop running during a long inference', async () => {
    const path = join(dir, 'kokoro-busy.onnx');
    await writeFile(path, buildKokoroTestModel({ samplesPerToken: SAMPLES_PER_TOKEN, busyWork: { matrixSize: 800, repeats: 60 } }));
    // An instant phonemizer (the public `phonemizer` option) so the time measured is the run's.
    const phonemizer = async () => 'bˈɪzi';
    const backend = new KokoroBackend({ modelPath: path, voicesPath: voicesDir, intraOpNumThreads: 1, phonemizer });
    await backend.load();
    const watch = watchInference(backend);
    await collect(backend.synthesize(segment('Busy.')));
    expect(backend.inferenceRuns).toBe(1);
    expect(watch.started).toBe(1);
    await backend.close();
    // One run of 60 x 800³ multiply-adds: run on the main thread, as onnxruntime-node does, it lets
    // the loop turn a handful of times at most (around the call); in the worker it turns freely.
    expect(watch.turnsWhileRunning).toBeGreaterThanOrEqual(50);
  });
  it('rejects at once when aborted during a run, and the next call gets its own result', async () => {
    const path = join(dir, 'kokoro-busy-abort.onnx');
    await writeFile(path, buildKokoroTestModel({ samplesPerToken: SAMPLES_PER_TOKEN, busyWork: { matrixSize: 800, repeats: 60 } }));
    const backend = new KokoroBackend({ modelPath: path, voicesPath: voicesDir, intraOpNumThreads: 1, phonemizer: async () => 'bˈɪzi' });
    await backend.load();
    const watch = watchInference(backend);
    const controller = new AbortController();
    const started = watch.nextStart();
    const aborted = collect(backend.synthesize(segment('Busy.'), {}, controller.signal)).catch((caught: unknown) => caught);
    const outcome = settledFlag(aborted);
    await started; // the run is in the model's worker now
    controller.abort();
    // Settled within the microtasks of abort() and one turn of the loop: no waiting for the worker.
    await nextTurn();
    expect(outcome.settled).toBe(true);
    expect(await aborted).toBeInstanceOf(AbortError);
    // The discarded result of the aborted run must not answer the next call.
    const [chunk] = await collect(backend.synthesize(segment('Next.')));
    expect((chunk as EngineOutput).metadata.phonemes).toBe('bˈɪzi.');
    expect(decode(chunk as EngineOutput).tokenCount).toBe(6);
    expect(backend.inferenceRuns).toBe(2);
    await backend.close();
  });
});

describe('KokoroBackend voices', () => {
  it('lists voices from a directory of .bin and .npy files with language and gender from the name', async () => {
    const backend = new KokoroBackend({ modelPath, voicesPath: voicesDir });
    expect(await backend.voices()).toEqual([
      { id: 'af_test', backend: 'kokoro', name: 'af_test', languages: ['en-US'], gender: 'female', sampleRateHz: 24_000 },
      { id: 'bm_test', backend: 'kokoro', name: 'bm_test', languages: ['en-GB'], gender: 'male', sampleRateHz: 24_000 },
    ]);
    const [chunk] = await collect(backend.synthesize(segment('Hello.'), { voice: 'bm_test' }));
    const seen = decode(chunk as EngineOutput);
    expect(seen.style).toBeCloseTo(seen.tokenCount * 0.0005, 6);
  });

  it('reads an .npz archive (numpy savez layout, stored and deflated) whatever its extension', async () => {
    const path = join(dir, 'voices-v1.0.bin');
    await writeFile(
      path,
      zip(
        [
          { name: 'ff_one.npy', data: npy(voicePack(0.0002), [ROWS, 1, STYLE_DIM]), deflate: false },
          { name: 'jm_two.npy', data: npy(voicePack(0.0003), [ROWS, 1, STYLE_DIM]), deflate: true },
        ],
        true,
      ),
    );
    const backend = new KokoroBackend({ modelPath, voicesPath: path });
    const voices = await backend.voices();
    expect(voices.map((voice) => [voice.id, voice.languages, voice.gender])).toEqual([
      ['ff_one', ['fr-FR'], 'female'],
      ['jm_two', ['ja'], 'male'],
    ]);
    const [chunk] = await collect(backend.synthesize(segment('Bonjour.', { language: 'fr-FR' }), { voice: 'jm_two' }));
    const seen = decode(chunk as EngineOutput);
    expect(seen.style).toBeCloseTo(seen.tokenCount * 0.0003, 6);
  });

  it('reads a voices.json of nested arrays', async () => {
    const path = join(dir, 'voices.json');
    const rows = Array.from({ length: 4 }, (_, row) => [Array.from({ length: STYLE_DIM }, (_, column) => (column === 0 ? (row + 1) / 100 : 0))]);
    await writeFile(path, JSON.stringify({ am_json: rows }));
    const backend = new KokoroBackend({ modelPath, voicesPath: path });
    expect((await backend.voices()).map((voice) => voice.id)).toEqual(['am_json']);
    const [chunk] = await collect(backend.synthesize(segment('A long enough sentence.')));
    // Only 4 rows: inputs longer than the pack use its last row.
    expect((chunk as EngineOutput).pcm[0]).toBeCloseTo(0.04, 6);
  });

  it('rejects an unknown voice naming the voices it has', async () => {
    const backend = new KokoroBackend({ modelPath, voicesPath: voicesDir });
    const error = await collect(backend.synthesize(segment('Hi.'), { voice: 'zz_nobody' })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as BackendError).code).toBe('BACKEND_VOICE_UNKNOWN');
    expect((error as BackendError).message).toContain('"zz_nobody"');
    expect((error as BackendError).message).toContain('af_test, bm_test');
  });
});

describe('KokoroBackend errors', () => {
  it('validates options with an InputError naming the field', () => {
    expect(() => new KokoroBackend({ modelPath: '', voicesPath: voicesDir })).toThrow(InputError);
    try {
      new KokoroBackend({ modelPath, voicesPath: voicesDir, speed: 3 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).field).toBe('kokoro.speed');
      expect((error as InputError).message).toContain('received 3');
    }
    expect(() => new KokoroBackend({ modelPath, voicesPath: voicesDir, extra: 1 } as never)).toThrow(/kokoro/);
  });

  it('reports a missing voices path, a file that is not ONNX and a model with the wrong signature', async () => {
    const missingVoices = join(dir, 'missing-voices');
    await expect(new KokoroBackend({ modelPath, voicesPath: missingVoices }).voices()).rejects.toMatchObject({
      code: 'BACKEND_VOICES_NOT_FOUND',
      message: expect.stringContaining(missingVoices),
    });
    const garbage = join(dir, 'garbage.onnx');
    await writeFile(garbage, 'this is not a protobuf');
    await expect(new KokoroBackend({ modelPath: garbage, voicesPath: voicesDir }).load()).rejects.toMatchObject({
      code: 'BACKEND_MODEL_INVALID',
      message: expect.stringContaining(garbage),
    });
    const piperShaped = join(dir, 'piper-shaped.onnx');
    await writeFile(piperShaped, buildPiperTestModel({ samplesPerId: 4 }));
    await expect(new KokoroBackend({ modelPath: piperShaped, voicesPath: voicesDir }).load()).rejects.toMatchObject({
      code: 'BACKEND_MODEL_INVALID',
      message: expect.stringMatching(/not a Kokoro model: expected input "tokens"/),
    });
    await expect(new KokoroBackend({ modelPath: dir, voicesPath: voicesDir }).load()).rejects.toMatchObject({ code: 'BACKEND_MODEL_INVALID' });
  });

  it('rejects malformed voice files with the reason', async () => {
    const cases: Array<[string, Buffer | string, RegExp]> = [
      ['af_short.bin', Buffer.alloc(1000), /not a whole number|multiple of the style size/],
      ['af_f64.npy', npy(new Float32Array(512), [256, 2]).toString('latin1').replace('<f4', '<f8'), /<f8 is not supported/],
      ['broken.json', '{"af_x": [1, "two"]}', /not a \(nested\) array of numbers/],
    ];
    for (const [name, content, reason] of cases) {
      const path = join(dir, name);
      await writeFile(path, typeof content === 'string' ? Buffer.from(content, 'latin1') : content);
      await expect(new KokoroBackend({ modelPath, voicesPath: path }).voices()).rejects.toMatchObject({
        code: 'BACKEND_VOICES_INVALID',
        message: expect.stringMatching(reason),
      });
    }
    const corrupt = zip([{ name: 'af_x.npy', data: npy(voicePack(0.001), [ROWS, 1, STYLE_DIM]), deflate: false }]);
    corrupt[200] = (corrupt[200] as number) ^ 0xff;
    const corruptPath = join(dir, 'corrupt.npz');
    await writeFile(corruptPath, corrupt);
    await expect(new KokoroBackend({ modelPath, voicesPath: corruptPath }).voices()).rejects.toMatchObject({
      code: 'BACKEND_VOICES_INVALID',
      message: expect.stringContaining('CRC'),
    });
  });

});
