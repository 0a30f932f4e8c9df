import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { decodeWav } from '../src/audio/wav.js';
import { KOKORO_VOCAB } from '../src/backends/kokoro-vocab.js';
import { buildKokoroTestModel, buildPiperTestModel } from './helpers/onnx-model.js';

const root = resolve(import.meta.dirname, '..');
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'vs-examples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function example(name: string, args: string[] = []) {
  return run(process.execPath, ['--import', 'tsx', join('examples', name), ...args], { cwd: root, timeout: 60_000 });
}

describe('examples that need no model file run', () => {
  it('speak-to-file.ts writes speech at the loudness target', async () => {
    const path = join(dir, 'example.wav');
    const { stdout } = await example('speak-to-file.ts', ['Examples are tested.', path]);
    expect(stdout).toContain(`wrote ${path}`);
    expect(stdout).toContain('start(allowed) → compile(allowed) → synthesize(allowed) → play(allowed) → stop(allowed)');
    expect(decodeWav(readFileSync(path)).pcm.length).toBeGreaterThan(10_000);
  });

  it('plugins/run.ts: one plugin per hook kind changes what it should', async () => {
    const { stdout } = await example('plugins/run.ts');
    expect(stdout).toContain('transformText: a beat adds about a second');
    expect(stdout).toContain('onGraph: mutate_graph by plugin:breathe allowed');
    expect(stdout).toContain('onAudio: peak 0.50 of the plain one');
    expect(stdout).toContain('synthesize: plugin-sine-voice at 16000 Hz');
    expect(stdout).toContain('onSchedule: the second play mixed with the first');
  });

  it('stream.ts prints sentence chunks as they arrive', async () => {
    const { stdout } = await example('stream.ts', ['First sentence. Second sentence.']);
    expect(stdout).toMatch(/#0 +\d+ ms of audio {2}"First sentence\."/);
    expect(stdout).toMatch(/"Second sentence\."/);
  });

  it('accessibility-override.ts shows the override winning and a verified log', async () => {
    const { stdout } = await example('accessibility-override.ts');
    expect(stdout).toContain('agent interrupts: denied (accessibility_override)');
    expect(stdout).toContain('alice interrupts: allowed');
    expect(stdout).toMatch(/\d+ attestations, hash chain and invariants verified/);
  });

  it('shared-registrar.ts: four worker threads decide on one registrar; one log verifies and replays', async () => {
    const { stdout } = await example('shared-registrar.ts');
    expect(stdout).toContain('worker 3 sees the override worker 0 enabled: speechRate 0.8');
    expect(stdout).toContain('401 attestations from 4 threads, seq 1..401, one writer');
    expect(stdout).toContain('the workers were told 400 distinct seqs, each one a record of this log');
    expect(stdout).toContain('hash chain and invariants verified; replayed state matches');
  });

  it('two-voice-dialogue.ts writes a two-voice mix and subtitles from its timeline', async () => {
    const path = join(dir, 'dialogue.wav');
    const { stdout } = await example('two-voice-dialogue.ts', [path]);
    expect(stdout).toMatch(/ Alice \(en-us\) +5 words {2}"Did you hear that noise\?"/);
    expect(stdout).toMatch(/ Bob {3}\(en-gb\+m3\) +5 words {2}"It was only the wind\."/);
    expect(stdout).toContain(`wrote ${path}`);
    expect(stdout).toContain('4 turn streams');
    expect(decodeWav(readFileSync(path)).pcm.length).toBeGreaterThan(22_050 * 3);
    expect(readFileSync(join(dir, 'dialogue.srt'), 'utf8')).toMatch(/^1\n00:00:00,000 --> 00:00:0\d,\d{3}\nAlice: Did you hear that noise\?\n/);
  });

  it('kokoro-from-path.ts speaks with a model and voices from disk (a tiny model of Kokoro\'s signature)', async () => {
    const model = join(dir, 'kokoro.onnx');
    const voice = join(dir, 'af_test.bin');
    writeFileSync(model, buildKokoroTestModel({ samplesPerToken: 40 }));
    writeFileSync(voice, Buffer.from(new Float32Array(510 * 256).fill(0.01).buffer));
    const out = join(dir, 'kokoro.wav');
    const { stdout } = await example('kokoro-from-path.ts', [model, voice, '--voice', 'af_test', '--text', 'Hello there.', '--out', out]);
    expect(stdout).toContain(`wrote ${out}`);
    const wav = decodeWav(readFileSync(out));
    expect(wav.sampleRateHz).toBe(24000);
    expect(wav.pcm.length).toBeGreaterThan(40 * 5);
  });

  it('piper-from-path.ts speaks with a voice and its config from disk (a tiny model of Piper\'s signature)', async () => {
    const model = join(dir, 'tiny-piper.onnx');
    writeFileSync(model, buildPiperTestModel({ samplesPerId: 40 }));
    const phonemeIdMap: Record<string, number[]> = { _: [0], '^': [1], $: [2], ' ': [3] };
    let next = 4;
    for (const symbol of KOKORO_VOCAB.keys()) phonemeIdMap[symbol] ??= [next++];
    writeFileSync(`${model}.json`, JSON.stringify({
      audio: { sample_rate: 16000 },
      espeak: { voice: 'en-us' },
      inference: { noise_scale: 0.667, length_scale: 1, noise_w: 0.8 },
      phoneme_type: 'espeak',
      phoneme_id_map: phonemeIdMap,
      num_speakers: 1,
    }));
    const out = join(dir, 'piper.wav');
    const { stdout } = await example('piper-from-path.ts', [model, '--text', 'Hello there.', '--out', out]);
    expect(stdout).toContain(`wrote ${out}`);
    expect(decodeWav(readFileSync(out)).sampleRateHz).toBe(16000);
  });

  it('the model examples explain their arguments when given none', async () => {
    for (const name of ['kokoro-from-path.ts', 'piper-from-path.ts']) {
      const failure = await example(name).then(
        () => null,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure?.code, name).toBe(2);
      expect(failure?.stderr, name).toMatch(/usage: npx tsx examples\//);
    }
  });

  it('scene-to-file.ts renders music, ambiance, two placed speakers and timed effects to a stereo file', async () => {
    const path = join(dir, 'scene.wav');
    const { stdout } = await example('scene-to-file.ts', [path]);
    expect(stdout).toContain(`wrote ${path}: 9.0 s stereo at 48000 Hz`);
    expect(stdout).toMatch(/alice speaks 1500–\d+ ms/);
    expect(stdout).toContain('effect at 4200 ms = frame 201600');
    const wav = decodeWav(readFileSync(path));
    expect(wav.channels).toBe(2);
    expect(wav.pcm.length).toBe(9 * 48_000 * 2);
  });

  it('game-scene.ts plays a scene live on the null backend as one stream, then skips one with an interrupt', async () => {
    const { stdout } = await example('game-scene.ts');
    expect(stdout).toMatch(/played 4\.0 s as stream \S+: start\(allowed\) → compile\(allowed\) → synthesize\(allowed\) → play\(allowed\) → stop\(allowed\)/);
    expect(stdout).toMatch(/skip: interrupt allowed; interrupted true; heard [1-3]\.\d s of 4\.0 s/);
  });
});
