import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../src/audio/wav.js';
import { main, type CliIo } from '../../src/cli/main.js';

const root = resolve(import.meta.dirname, '..', '..');
const run = promisify(execFile);

function capture(stdinText = ''): { io: CliIo; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return { io: { stdout, stderr, stdin: Readable.from([Buffer.from(stdinText)]) }, out: () => out, err: () => err };
}

describe('voice-soundboard speak', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vs-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a WAV file of speech and says what it wrote', async () => {
    const path = join(dir, 'hello.wav');
    const { io, err } = capture();
    expect(await main(['speak', 'Hello there', '-o', path], io)).toBe(0);
    const wav = decodeWav(readFileSync(path));
    expect(wav.sampleRateHz).toBe(22050);
    expect(wav.pcm.length / wav.sampleRateHz).toBeGreaterThan(0.4);
    expect(err()).toContain(`wrote ${path}`);
  });

  it('reads standard input for -, resamples and normalises loudness', async () => {
    const path = join(dir, 'stdin.wav');
    const { io } = capture('Text from standard input.');
    expect(await main(['speak', '-', '-o', path, '--sample-rate', '16000', '--lufs', '-20', '-q'], io)).toBe(0);
    expect(decodeWav(readFileSync(path)).sampleRateHz).toBe(16000);
  });

  it('shows progress on long input', async () => {
    const text = Array.from({ length: 6 }, (_, i) => `Sentence ${i + 1} of the long input.`).join(' ');
    const { io, err } = capture();
    expect(await main(['speak', text, '-o', join(dir, 'long.wav')], io)).toBe(0);
    expect(err()).toContain('sentence 6/6');
  });

  it('writes raw PCM and compressed formats', async () => {
    const { io } = capture();
    expect(await main(['speak', 'Raw', '-o', join(dir, 'raw.pcm'), '-q'], io)).toBe(0);
    expect(readFileSync(join(dir, 'raw.pcm')).length % 2).toBe(0);
    expect(await main(['speak', 'Compressed', '-o', join(dir, 'out.mp3'), '-q'], io)).toBe(0);
    expect(readFileSync(join(dir, 'out.mp3')).length).toBeGreaterThan(500);
  });

  it('bad flags exit 2 with a message naming the flag; nothing is written', async () => {
    const before = readdirSync(dir).sort();
    const cases: Array<[string[], RegExp]> = [
      [['speak', 'x', '--rate', 'fast'], /--rate: expected a number/],
      [['speak', 'x', '--rate', '9'], /--rate/],
      [['speak', 'x', '--emotion', 'bored'], /--emotion/],
      [['speak', 'x', '--bogus'], /Unknown option '--bogus'/],
      [['speak'], /missing <text>/],
      [['speak', 'x', '-o', join(dir, 'bad.xyz')], /xyz|format/i],
      [['speak', 'x', '-b', 'nope'], /unknown backend "nope"/],
      [['speak', '<speak><oops></speak>', '--ssml', '-o', join(dir, 'bad.wav')], /1:\d+/],
      [['nope'], /unknown command "nope"/],
    ];
    for (const [args, message] of cases) {
      const { io, err } = capture();
      expect(await main(args, io), args.join(' ')).toBe(2);
      expect(err(), args.join(' ')).toMatch(message);
    }
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('a runtime failure exits 1 and leaves no file', async () => {
    const { io, err } = capture();
    const path = join(dir, 'missing-model.wav');
    const code = await main(['speak', 'x', '-b', 'kokoro', '--model', join(dir, 'none.onnx'), '--voices-file', join(dir, 'none.bin'), '-o', path], io);
    expect(code).not.toBe(0);
    expect(err()).toMatch(/none\.onnx/);
    expect(existsSync(path)).toBe(false);
  });

  it('without -o it plays on the default device, and says to write a file when there is none', async () => {
    const result = await run(process.execPath, [join(root, 'bin', 'voice-soundboard.js'), 'speak', 'Hello device'], { cwd: dir }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    // CI machines have no sound card; a machine with one plays the speech and exits 0.
    if (result.code !== 0) {
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('write a file instead: voice-soundboard speak <text> -o out.wav');
      // libasound's own probing noise is silenced (VOICE_SOUNDBOARD_ALSA_DEBUG=1 brings it back).
      expect(result.stderr).not.toContain('ALSA lib');
    }
  });

  it('prints help for each command', async () => {
    for (const command of ['speak', 'voices', 'backends']) {
      const { io, out } = capture();
      expect(await main([command, '--help'], io)).toBe(0);
      expect(out()).toContain(`Usage: voice-soundboard ${command}`);
    }
  });

  it('lists voices and backends', async () => {
    const voices = capture();
    expect(await main(['voices', '--language', 'en', '--json'], voices.io)).toBe(0);
    const listed = JSON.parse(voices.out()) as { voices: Array<{ backend: string; languages: string[] }> };
    expect(listed.voices.length).toBeGreaterThan(3);
    expect(listed.voices.every((voice) => voice.languages.some((language) => language.toLowerCase().startsWith('en')))).toBe(true);
    const backends = capture();
    expect(await main(['backends', '--json'], backends.io)).toBe(0);
    const rows = JSON.parse(backends.out()) as Array<{ name: string; status: string }>;
    expect(rows.find((row) => row.name === 'espeak')?.status).toBe('ready');
    expect(rows.map((row) => row.name)).toEqual(['espeak', 'kokoro', 'piper', 'openai', 'elevenlabs', 'azure']);
  });

  it('the installed bin speaks (the README promise)', async () => {
    const path = join(dir, 'bin.wav');
    const { stderr } = await run(process.execPath, [join(root, 'bin', 'voice-soundboard.js'), 'speak', 'Hello', '-o', path], { cwd: dir });
    expect(stderr).toContain('wrote');
    expect(decodeWav(readFileSync(path)).pcm.length).toBeGreaterThan(5000);
    const version = await run(process.execPath, [join(root, 'bin', 'voice-soundboard.js'), '--version']);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  });
});
