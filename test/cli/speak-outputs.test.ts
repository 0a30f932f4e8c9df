import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../src/audio/wav.js';
import { main, type CliIo } from '../../src/cli/main.js';
import { progressReporter } from '../../src/cli/progress.js';
import { buildKokoroTestModel } from '../helpers/onnx-model.js';

const root = resolve(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'voice-soundboard.js');
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'vs-cli-out-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture(): { io: CliIo; out: () => Buffer; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  let err = '';
  stdout.on('data', (chunk: Buffer) => out.push(chunk));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return { io: { stdout, stderr, stdin: Readable.from([]) }, out: () => Buffer.concat(out), err: () => err };
}

const LONG = Array.from({ length: 40 }, (_, i) => `This is sentence number ${i + 1} of a long text read to standard output.`).join(' ');

describe('speak -o - streams to standard output progressively', () => {
  it('the first bytes arrive while the child still speaks; all of it decodes (streaming WAV header)', async () => {
    const child = spawn(process.execPath, [bin, 'speak', LONG, '-o', '-', '-q'], { cwd: dir });
    const chunks: Buffer[] = [];
    let aliveAtFirstBytes: boolean | undefined;
    let firstBytes = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      if (aliveAtFirstBytes === undefined) {
        // Paused, the child cannot finish: its megabytes do not fit in the pipe.
        child.stdout.pause();
        aliveAtFirstBytes = child.exitCode === null;
        firstBytes = chunk.length;
        setImmediate(() => child.stdout.resume());
      }
      chunks.push(chunk);
    });
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(code).toBe(0);
    const bytes = Buffer.concat(chunks);
    expect(aliveAtFirstBytes).toBe(true);
    expect(bytes.length).toBeGreaterThan(20 * firstBytes);
    // The header carries the compliance tags (LIST/INFO) before `data`, whose size says "streaming".
    const data = bytes.indexOf('data', 12, 'latin1');
    expect(data).toBeGreaterThan(0);
    expect(bytes.readUInt32LE(data + 4)).toBe(0xffffffff);
    const wav = decodeWav(new Uint8Array(bytes));
    expect(wav.pcm.length).toBe((bytes.length - data - 8) / 2);
    expect(wav.pcm.length / wav.sampleRateHz).toBeGreaterThan(60);
  });

  it('-f pcm writes raw s16le (no header)', async () => {
    const { io, out } = capture();
    expect(await main(['speak', 'Raw to standard output.', '-o', '-', '-f', 'pcm', '-q'], io)).toBe(0);
    expect(out().length % 2).toBe(0);
    expect(out().subarray(0, 4).toString()).not.toBe('RIFF');
    expect(out().length).toBeGreaterThan(20_000);
  });
});

describe('speak -o never replaces what is at the path', () => {
  it('a FIFO and a symlink to it are written through; a symlink to a file keeps the link; a directory is a usage error', async () => {
    const fifo = join(dir, 'pipe.wav');
    execFileSync('mkfifo', [fifo]);
    symlinkSync(fifo, join(dir, 'to-pipe.wav'));
    for (const path of [fifo, join(dir, 'to-pipe.wav')]) {
      const reader = run('cat', [fifo], { encoding: 'buffer', maxBuffer: 1 << 26 });
      const { io } = capture();
      expect(await main(['speak', 'Into a pipe.', '-o', path, '-q'], io)).toBe(0);
      const { stdout } = await reader;
      expect(decodeWav(new Uint8Array(stdout)).pcm.length).toBeGreaterThan(5000);
      expect(lstatSync(fifo).isFIFO()).toBe(true);
    }
    expect(lstatSync(join(dir, 'to-pipe.wav')).isSymbolicLink()).toBe(true);
    writeFileSync(join(dir, 'real.wav'), 'old');
    symlinkSync(join(dir, 'real.wav'), join(dir, 'to-real.wav'));
    expect(await main(['speak', 'Behind a link.', '-o', join(dir, 'to-real.wav'), '-q'], capture().io)).toBe(0);
    expect(lstatSync(join(dir, 'to-real.wav')).isSymbolicLink()).toBe(true);
    expect(decodeWav(readFileSync(join(dir, 'real.wav'))).pcm.length).toBeGreaterThan(5000);
    mkdirSync(join(dir, 'folder.wav'));
    const refused = capture();
    expect(await main(['speak', 'x', '-o', join(dir, 'folder.wav')], refused.io)).toBe(2);
    expect(refused.err()).toMatch(/-o\/--output: .*folder\.wav is a directory.*\[OUTPUT_IS_DIRECTORY\]/);
    expect(statSync(join(dir, 'folder.wav')).isDirectory()).toBe(true);
    for (const name of ['pipe.wav', 'to-pipe.wav', 'real.wav', 'to-real.wav', 'folder.wav']) rmSync(join(dir, name), { recursive: true });
  });

  it('a character device is written through and stays a device', async () => {
    let device = join(dir, 'null');
    try {
      execFileSync('mknod', [device, 'c', '1', '3'], { stdio: 'ignore' });
    } catch {
      device = '/dev/null'; // not root: /dev/null cannot be replaced anyway
    }
    const { io, err } = capture();
    expect(await main(['speak', 'Into the void.', '-o', device, '-f', 'wav'], io)).toBe(0);
    expect(err()).toContain(`wrote ${device}`);
    expect(statSync(device).isCharacterDevice()).toBe(true);
    if (device !== '/dev/null') rmSync(device);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});

describe('speak --play, progress, attestations', () => {
  it('--play with -o plays (null device) and writes at once', async () => {
    const path = join(dir, 'played.wav');
    const { stderr } = await run(process.execPath, [bin, 'speak', 'Played and written.', '-o', path, '--play'], { cwd: dir, env: { ...process.env, VOICE_SOUNDBOARD_AUDIO_BACKEND: 'null' } });
    expect(stderr).toMatch(/wrote .*played\.wav .*played\)/);
    const wav = decodeWav(readFileSync(path));
    expect(wav.sampleRateHz).toBe(48000); // the device's rate
    expect(wav.pcm.length).toBeGreaterThan(20_000);
    rmSync(path);
  });

  it('--play with -o refuses a --sample-rate other than the device\'s (exit 2, naming the flag) instead of writing the file at another rate', async () => {
    const path = join(dir, 'played-at-22050.wav');
    const failed = await run(process.execPath, [bin, 'speak', 'Played and written.', '-o', path, '--play', '--sample-rate', '22050'], { cwd: dir, env: { ...process.env, VOICE_SOUNDBOARD_AUDIO_BACKEND: 'null' } }).then(
      () => null,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toMatch(/--sample-rate: with play the file is written at the device's rate \(48000 Hz\) \(received 22050\)/);
    expect(existsSync(path)).toBe(false);
  });

  it('progress: one updating line on a terminal, sparse lines elsewhere, none when quiet', () => {
    const lines = (isTTY: boolean, quiet: boolean) => {
      const stream = Object.assign(new PassThrough(), { isTTY });
      let text = '';
      stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
      let now = 0;
      const reporter = progressReporter(stream, { quiet, nowMs: () => now });
      for (let done = 1; done <= 50; done++) {
        now += 1000;
        reporter.onProgress({ done, total: 50, audioMs: done * 2000 });
      }
      reporter.finish();
      stream.end();
      return text;
    };
    const tty = lines(true, false);
    expect(tty.split('\n')).toHaveLength(2); // one line, ended by finish()
    expect(tty.split('\r')).toHaveLength(51);
    expect(tty).toContain('[############------------]  50%  sentence 25/50  ETA 25 s');
    expect(tty).toContain('100%  sentence 50/50  ETA 0 s');
    const plain = lines(false, false);
    expect(plain).not.toContain('\r');
    expect(plain.trim().split('\n')).toHaveLength(11);
    expect(plain).toContain('100% (sentence 50/50, 100.0 s of audio)');
    expect(lines(true, true)).toBe('');
    expect(lines(false, true)).toBe('');
  });

  it('--attestations appends to a durable log that audit verify checks (negative: a tampered log fails)', async () => {
    const log = join(dir, 'speech.jsonl');
    for (const text of ['First utterance.', 'Second utterance.']) {
      const { io, err } = capture();
      expect(await main(['speak', text, '-o', join(dir, 'a.wav'), '--attestations', log], io)).toBe(0);
      expect(err()).toMatch(/appended 5 attestation\(s\)/);
    }
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(10);
    const verify = capture();
    expect(await main(['audit', 'verify', log], verify.io)).toBe(0);
    writeFileSync(log, readFileSync(log, 'utf8').replace('Second', 'Secund').replace('"stop"', '"stap"'));
    expect(await main(['audit', 'verify', log], capture().io)).toBe(1);
    rmSync(log);
    rmSync(join(dir, 'a.wav'));
  });
});

describe('usage errors name the CLI flag and exit 2; runtime errors exit 1', () => {
  it.each([
    [['-o', 'out.xyz'], /-o\/--output: unknown extension "\.xyz"/],
    [['-o', 'x.mp3', '-f', 'wav'], /-f\/--format: "wav" does not match the extension of -o\/--output ".*x\.mp3"/],
    [['-b', 'kokoro', '-o', 'x.wav'], /--model is required for kokoro/],
    [['-b', 'kokoro', '--model', 'm.onnx', '-o', 'x.wav'], /--voices-file is required for kokoro/],
    [['-b', 'piper', '-o', 'x.wav'], /--model is required for piper/],
    [['-v', 'nope', '-o', 'x.wav'], /-v\/--voice: .*unknown voice "nope"/],
    [['-l', 'xx-YY', '-o', 'x.wav'], /-l\/--language: .*xx-YY/],
    [['--max-input-chars', '3', '-o', 'x.wav'], /more than --max-input-chars \(3\)/],
    [['--play'], /--play: needs -o\/--output/],
    [['--device', 'hw:0', '-o', 'x.wav'], /--device: plays nothing with -o unless --play/],
    [['--loudness-mode', 'loud', '-o', 'x.wav'], /--loudness-mode/],
  ])('%j', async (flags, message) => {
    const { io, err } = capture();
    expect(await main(['speak', 'Some text.', ...flags.map((flag) => (flag.includes('.') && !flag.startsWith('-') && flag !== 'm.onnx' ? join(dir, flag) : flag))], io)).toBe(2);
    expect(err()).toMatch(message);
    expect(readdirSync(dir).filter((name) => /^(out|x)\./.test(name))).toEqual([]);
  });

  it('a runtime failure (an unreadable model) exits 1', async () => {
    const { io } = capture();
    expect(await main(['speak', 'x', '-b', 'piper', '--model', join(dir, 'none.onnx'), '-o', join(dir, 'x.wav')], io)).toBe(1);
    expect(existsSync(join(dir, 'x.wav'))).toBe(false);
  });
});

describe('voices', () => {
  it('--language en-GB lists only en-GB voices; en lists every en-*', async () => {
    const gb = capture();
    expect(await main(['voices', '--language', 'en-GB', '--json'], gb.io)).toBe(0);
    const gbVoices = (JSON.parse(gb.out().toString()) as { voices: Array<{ id: string; languages: string[] }> }).voices;
    expect(gbVoices.length).toBeGreaterThan(0);
    for (const voice of gbVoices) expect(voice.languages.some((language) => language.toLowerCase().startsWith('en-gb'))).toBe(true);
    expect(gbVoices.map((voice) => voice.id)).not.toContain('en-us');
    const en = capture();
    expect(await main(['voices', '--language', 'en', '--json'], en.io)).toBe(0);
    const ids = (JSON.parse(en.out().toString()) as { voices: Array<{ id: string }> }).voices.map((voice) => voice.id);
    expect(ids).toEqual(expect.arrayContaining(['en-us', 'en-gb']));
    expect(ids.length).toBeGreaterThan(gbVoices.length);
  });

  it('-b kokoro --model --voices-file and -b piper --model list the model\'s voices', async () => {
    const modelDir = join(dir, 'models');
    mkdirSync(join(modelDir, 'voices'), { recursive: true });
    writeFileSync(join(modelDir, 'kokoro.onnx'), buildKokoroTestModel({ samplesPerToken: 100 }));
    writeFileSync(join(modelDir, 'voices', 'af_test.bin'), Buffer.from(new Float32Array(510 * 256).buffer));
    const kokoro = capture();
    expect(await main(['voices', '-b', 'kokoro', '--model', join(modelDir, 'kokoro.onnx'), '--voices-file', join(modelDir, 'voices'), '--json'], kokoro.io)).toBe(0);
    expect((JSON.parse(kokoro.out().toString()) as { voices: Array<{ id: string; backend: string }> }).voices).toEqual([expect.objectContaining({ id: 'af_test', backend: 'kokoro' })]);
    writeFileSync(join(modelDir, 'tiny.onnx'), 'not read for a listing');
    const config = { dataset: 'tiny', audio: { sample_rate: 22050 }, espeak: { voice: 'en-us' }, phoneme_type: 'espeak', phoneme_id_map: { _: [0], '^': [1], $: [2], a: [3] }, num_speakers: 2, speaker_id_map: { alice: 0, bob: 1 }, language: { code: 'en_GB' } };
    writeFileSync(join(modelDir, 'tiny.onnx.json'), JSON.stringify(config));
    const piper = capture();
    expect(await main(['voices', '-b', 'piper', '--model', join(modelDir, 'tiny.onnx'), '--json'], piper.io)).toBe(0);
    const listed = (JSON.parse(piper.out().toString()) as { voices: Array<{ id: string; languages: string[] }> }).voices;
    expect(listed.map((voice) => voice.id)).toEqual(['tiny:alice', 'tiny:bob']);
    expect(listed[0]?.languages).toEqual(['en-GB']);
    const missing = capture();
    expect(await main(['voices', '--model', join(modelDir, 'tiny.onnx')], missing.io)).toBe(2);
    expect(missing.err()).toMatch(/--backend: model flags need -b\/--backend/);
  });
});
