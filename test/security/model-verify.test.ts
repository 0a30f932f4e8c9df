import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KokoroBackend } from '../../src/backends/kokoro.js';
import { PiperBackend } from '../../src/backends/piper.js';
import { InputError } from '../../src/errors.js';
import { loadOnnxModel } from '../../src/backends/onnx-session.js';
import { verifyModelFile } from '../../src/security/model-verify.js';
import { rejection } from '../helpers/errors.js';
import { buildKokoroTestModel, buildPiperTestModel } from '../helpers/onnx-model.js';

let dir: string;
let kokoroModel: string;
let voicesDir: string;
let piperModel: string;
let kokoroBytes: Uint8Array;
const keys = generateKeyPairSync('ed25519');
const otherKeys = generateKeyPairSync('ed25519');
const publicPem = keys.publicKey.export({ format: 'pem', type: 'spki' }).toString();
const publicRaw = keys.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const signature = (bytes: Uint8Array, key = keys.privateKey) => sign(null, bytes, key).toString('base64');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vs-model-verify-'));
  kokoroModel = join(dir, 'kokoro.onnx');
  kokoroBytes = buildKokoroTestModel({ samplesPerToken: 4 });
  await writeFile(kokoroModel, kokoroBytes);
  voicesDir = join(dir, 'voices');
  await mkdir(voicesDir);
  await writeFile(join(voicesDir, 'af_test.bin'), new Float32Array(510 * 256));
  piperModel = join(dir, 'tiny.onnx');
  await writeFile(piperModel, buildPiperTestModel({ samplesPerId: 4 }));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('model files verified (modelSha256, Ed25519 modelSignature)', () => {
  it('loads a model whose SHA-256 and signature match (PEM and raw keys)', async () => {
    for (const modelPublicKey of [publicPem, publicRaw]) {
      const backend = new KokoroBackend({ modelPath: kokoroModel, voicesPath: voicesDir, modelSha256: sha256(kokoroBytes).toUpperCase(), modelSignature: signature(kokoroBytes), modelPublicKey });
      await backend.load();
      await backend.close();
    }
  });

  it('refuses a model whose SHA-256 differs, naming both digests', async () => {
    const wrong = '0'.repeat(64);
    const backend = new KokoroBackend({ modelPath: kokoroModel, voicesPath: voicesDir, modelSha256: wrong });
    const error = await rejection(backend.load());
    expect(error.code).toBe('BACKEND_MODEL_UNVERIFIED');
    expect(error.message).toBe(`kokoro: model file ${kokoroModel} has SHA-256 ${sha256(kokoroBytes)}, expected ${wrong} (modelSha256): refusing to load it`);
    expect((await backend.health()).status).toBe('unavailable');
    await backend.close();
  });

  it('refuses a poisoned model: one byte changed after it was pinned and signed', async () => {
    const poisoned = join(dir, 'poisoned.onnx');
    const bytes = Uint8Array.from(kokoroBytes);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
    await writeFile(poisoned, bytes);
    const pinned = new KokoroBackend({ modelPath: poisoned, voicesPath: voicesDir, modelSha256: sha256(kokoroBytes) });
    expect((await rejection(pinned.load())).code).toBe('BACKEND_MODEL_UNVERIFIED');
    const signed = new KokoroBackend({ modelPath: poisoned, voicesPath: voicesDir, modelSignature: signature(kokoroBytes), modelPublicKey: publicPem });
    expect((await rejection(signed.load())).message).toBe(`kokoro: model file ${poisoned} does not carry a valid Ed25519 signature by modelPublicKey (modelSignature): refusing to load it`);
    await Promise.all([pinned.close(), signed.close()]);
  });

  it('refuses a signature by another key (Piper too)', async () => {
    const bytes = buildPiperTestModel({ samplesPerId: 4 });
    const config = { audio: { sample_rate: 22_050 }, espeak: { voice: 'en-us' }, inference: { noise_scale: 0.5, length_scale: 1, noise_w: 0.5 }, phoneme_type: 'espeak', phoneme_id_map: { _: [0], '^': [1], $: [2], a: [3] }, num_speakers: 1, speaker_id_map: {} };
    await writeFile(`${piperModel}.json`, JSON.stringify(config));
    const backend = new PiperBackend({ modelPath: piperModel, modelSignature: signature(bytes, otherKeys.privateKey), modelPublicKey: publicPem });
    const error = await rejection(backend.load());
    expect(error.code).toBe('BACKEND_MODEL_UNVERIFIED');
    await backend.close();
    const good = new PiperBackend({ modelPath: piperModel, modelSignature: signature(bytes), modelPublicKey: publicRaw });
    await good.load();
    await good.close();
  });

  it('validates the pins at construction: hex digest, base64 signature, Ed25519 key, signature with key', () => {
    const base = { modelPath: kokoroModel, voicesPath: voicesDir };
    expect(() => new KokoroBackend({ ...base, modelSha256: 'abc' })).toThrow(/modelSha256: expected 64 hexadecimal digits/);
    expect(() => new KokoroBackend({ ...base, modelSignature: signature(kokoroBytes) })).toThrow('options.modelPublicKey: modelSignature and modelPublicKey go together (give both or neither)');
    expect(() => new KokoroBackend({ ...base, modelSignature: 'bad', modelPublicKey: publicPem })).toThrow(InputError);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(() => new KokoroBackend({ ...base, modelSignature: signature(kokoroBytes), modelPublicKey: rsa })).toThrow('options.modelPublicKey: expected an Ed25519 public key (received rsa)');
    expect(() => new KokoroBackend({ ...base, modelSignature: signature(kokoroBytes), modelPublicKey: 'AAAA' })).toThrow(/expected an Ed25519 public key/);
  });

  it('loads the bytes it verified: a model file swapped after the check is not what runs', async () => {
    const path = join(dir, 'swapped.onnx');
    await writeFile(path, kokoroBytes);
    const verified = await verifyModelFile('kokoro', path, { modelSha256: sha256(kokoroBytes), modelSignature: signature(kokoroBytes), modelPublicKey: publicPem });
    // The swap, between the check and the load: what is on disk now is no model at all.
    await writeFile(path, 'poisoned, not the verified model');
    const model = await loadOnnxModel('kokoro', path, {}, verified);
    try {
      expect(model.outputNames.length).toBeGreaterThan(0);
    } finally {
      await model.release();
    }
    // The control: loading the path itself gets the swapped file, which is refused.
    expect((await rejection(loadOnnxModel('kokoro', path))).code).toBe('BACKEND_MODEL_INVALID');
    // Without pins nothing is read ahead: the runtime opens the file.
    expect(await verifyModelFile('kokoro', path, {})).toBeNull();
  });
});
