/**
 * The JSON scene format and the `scene` command: validation errors name the path of the bad
 * field, relative files resolve against the scene file, music decodes from FLAC and Opus through
 * ffmpeg, and the command writes the mix (stereo) in the format asked.
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAudioFile } from '../../src/audio/file-writer.js';
import { decodeWav } from '../../src/audio/wav.js';
import { main } from '../../src/cli/main.js';
import { sceneCommand } from '../../src/cli/scene.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { loadSceneFile, sceneFromJson } from '../../src/scene/scene-file.js';
import { Scene } from '../../src/scene/scene.js';
import { ConstantLevelBackend } from '../helpers/constant-level-backend.js';
import { runCommand } from '../helpers/cli.js';
import { inputFailure } from '../helpers/errors.js';
import { channelOf, toneAmplitude } from './scene-checks.js';

const RATE = 48_000;
const dir = mkdtempSync(join(tmpdir(), 'vs-scene-file-'));
let engine: VoiceEngine;
beforeAll(async () => {
  engine = new VoiceEngine({ backend: new ConstantLevelBackend({ level: 0.3, sampleRateHz: RATE, framesPerSegment: RATE / 2 }) });
  const tone = new Float32Array(2 * RATE);
  for (let index = 0; index < tone.length; index++) tone[index] = 0.4 * Math.sin((2 * Math.PI * 500 * index) / RATE);
  for (const format of ['wav', 'flac', 'opus'] as const) await writeAudioFile(join(dir, `tone.${format}`), tone, { sampleRateHz: RATE, channels: 1, format });
});
afterAll(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('JSON scene validation', () => {
  it('names the path of the bad field', () => {
    const bad = (scene: unknown) => inputFailure(() => sceneFromJson(scene)).message;
    expect(bad({ layers: [{ kind: 'music', file: 'a.wav' }, { kind: 'music', file: 'b.wav', duckAmount: 'loud' }] })).toMatch(/^scene\.layers\.1\.duckAmount: expected a ratio/);
    expect(bad({ effects: [{ atMs: 10, generator: 'explosion' }] })).toMatch(/^scene\.effects\.0\.generator: /);
    expect(bad({ layers: [{ kind: 'dialog', text: 'Hi' }] })).toMatch(/^scene\.layers\.0\.kind: /);
    expect(bad({ layers: [{ kind: 'ambiance', generator: 'rain', file: 'rain.wav' }] })).toMatch(/^scene\.layers\.0: expected exactly one of file, generator or source/);
    expect(bad({ layers: [{ kind: 'dialogue', text: 'Hi', positions: { bob: { x: 3 } } }] })).toMatch(/^scene\.layers\.0\.positions\.bob\.x: /);
    expect(bad({ durationMs: -5 })).toMatch(/^scene\.durationMs: /);
    expect(bad({ layers: [], volume: 1 })).toMatch(/^scene: .*volume/);
  });

  it('a file that is not JSON, or missing, is SCENE_FILE_INVALID; an unreadable source names its layer', async () => {
    writeFileSync(join(dir, 'broken.json'), '{ "layers": [');
    await expect(loadSceneFile(join(dir, 'broken.json'))).rejects.toMatchObject({ code: 'SCENE_FILE_INVALID' });
    await expect(loadSceneFile(join(dir, 'absent.json'))).rejects.toMatchObject({ code: 'SCENE_FILE_INVALID' });
    const scene = new Scene({ durationMs: 500 }).addMusic(join(dir, 'absent.wav'), { name: 'theme' });
    await expect(scene.render(engine)).rejects.toMatchObject({ code: 'SCENE_SOURCE_UNREADABLE', field: 'layers.theme' });
  });

  it('a YAML scene file renders the same bytes as its JSON twin; YAML errors and alias bombs are SCENE_FILE_INVALID', async () => {
    const scene = { seed: 3, durationMs: 600, layers: [{ kind: 'ambiance', generator: 'rain', volume: 0.5 }], effects: [{ atMs: 100, generator: 'beep' }] };
    writeFileSync(join(dir, 'twin.json'), JSON.stringify(scene));
    writeFileSync(join(dir, 'twin.yaml'), 'seed: 3\ndurationMs: 600\nlayers:\n  - kind: ambiance\n    generator: rain\n    volume: 0.5\neffects:\n  - { atMs: 100, generator: beep }\n');
    const fromJson = await (await loadSceneFile(join(dir, 'twin.json'))).render(engine);
    const fromYaml = await (await loadSceneFile(join(dir, 'twin.yaml'))).render(engine);
    expect(Buffer.from(fromYaml.pcm.buffer).equals(Buffer.from(fromJson.pcm.buffer))).toBe(true);
    writeFileSync(join(dir, 'bad.yml'), 'layers:\n  - kind: [unclosed\n');
    await expect(loadSceneFile(join(dir, 'bad.yml'))).rejects.toMatchObject({ code: 'SCENE_FILE_INVALID', message: expect.stringMatching(/is not YAML/) });
    // Billion laughs: each level doubles through aliases; the alias cap refuses it before it grows.
    const levels = ['a: &a [x, x]', ...Array.from({ length: 20 }, (_, index) => `${String.fromCharCode(98 + index)}: &${String.fromCharCode(98 + index)} [*${String.fromCharCode(97 + index)}, *${String.fromCharCode(97 + index)}]`)];
    writeFileSync(join(dir, 'bomb.yaml'), `${levels.join('\n')}\nlayers: []\n`);
    await expect(loadSceneFile(join(dir, 'bomb.yaml'))).rejects.toMatchObject({ code: 'SCENE_FILE_INVALID' });
    // The schema still names the field in YAML.
    writeFileSync(join(dir, 'field.yaml'), 'durationMs: -5\n');
    await expect(loadSceneFile(join(dir, 'field.yaml'))).rejects.toMatchObject({ message: expect.stringMatching(/^scene\.durationMs: /) });
  });

  it('a scene without any length asks for durationMs', async () => {
    await expect(new Scene().addAmbiance('rain').render(engine)).rejects.toMatchObject({ code: 'SCENE_EMPTY' });
  });
});

describe('music from compressed files', () => {
  it('FLAC and Opus decode through ffmpeg to the level the WAV gives (FLAC exactly, Opus within 1 dB)', async () => {
    const level = async (file: string): Promise<number> => {
      const rendered = await new Scene({ durationMs: 1500 }).addMusic(file).render(engine);
      return toneAmplitude(channelOf(rendered.pcm, 0), RATE, 500, RATE / 2, 9600);
    };
    const wav = await level(join(dir, 'tone.wav'));
    expect(wav).toBeCloseTo(0.4 * Math.SQRT1_2, 3);
    expect(await level(join(dir, 'tone.flac'))).toBeCloseTo(wav, 3);
    expect(Math.abs(20 * Math.log10((await level(join(dir, 'tone.opus'))) / wav))).toBeLessThan(1);
  });
});

describe('voice-soundboard scene', () => {
  const sceneJson = {
    seed: 5,
    layers: [
      { kind: 'music', file: 'tone.flac', volume: '-6dB', fadeInMs: 200, fadeOutMs: 300, duckFor: ['dialogue'], duckAmount: -10 },
      { kind: 'ambiance', generator: 'rain', volume: 0.4 },
      { kind: 'dialogue', startMs: 300, cast: { bob: 'en-gb' }, positions: { alice: { x: -0.6 }, bob: { x: 0.6 } }, turns: [{ speaker: 'alice', text: 'Is it raining?' }, { speaker: 'bob', text: 'It is.' }] },
    ],
    effects: [{ atMs: 1000, generator: 'knock', count: 3 }],
  };

  it('renders a scene file (relative paths from its directory) to a stereo file of its length', async () => {
    const path = join(dir, 'scene.json');
    writeFileSync(path, JSON.stringify(sceneJson));
    const out = join(dir, 'scene-out.wav');
    const run = await runCommand(sceneCommand, [path, '-o', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^wrote .*scene-out\.wav \(wav, 2\.\d\d s, 4 layers, 1 effects, 2 turns\)/);
    const wav = decodeWav(readFileSync(out));
    expect(wav.channels).toBe(2);
    expect(wav.sampleRateHz).toBe(48_000);
    // Music (2 s) is the longest source: the scene lasts as long as it.
    expect(wav.pcm.length / 2 / wav.sampleRateHz).toBeCloseTo(2, 2);
  });

  it('renders the example scene file (examples/scenes/night-watch.json) to MP3 through ffmpeg', async () => {
    const out = join(dir, 'night-watch.mp3');
    const run = await runCommand(sceneCommand, [join(import.meta.dirname, '../../examples/scenes/night-watch.json'), '-o', out]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\(mp3, 8\.00 s, 4 layers, 2 effects, 3 turns\)/);
    expect(readFileSync(out).subarray(0, 3).toString('latin1')).toMatch(/^(ID3|\xff)/);
  });

  it('exits 2 naming the field of an invalid scene, and 2 without -o or --play', async () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify({ ...sceneJson, effects: [{ atMs: 'soon', generator: 'knock' }] }));
    const stderr = new PassThrough();
    const errors: string[] = [];
    stderr.on('data', (chunk: Buffer) => errors.push(chunk.toString()));
    const code = await main(['scene', path, '-o', join(dir, 'bad.wav')], { stdout: new PassThrough(), stderr, stdin: new PassThrough() });
    expect(code).toBe(2);
    expect(errors.join('')).toMatch(/^voice-soundboard scene: scene\.effects\.0\.atMs: /);
    const usage = await runCommand(sceneCommand, [path]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('give -o <file>, --play, or both');
  });
});
