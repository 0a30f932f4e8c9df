import { execFileSync, spawn } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AudioFileWriter, writeAudioFile } from '../../src/audio/file-writer.js';
import { openOutputTarget } from '../../src/audio/output-target.js';
import { decodeWav } from '../../src/audio/wav.js';
import { rejection } from '../helpers/errors.js';
import { freshDirs, makeTempDir } from './tools.js';

const temp = makeTempDir('vs-target-');
afterAll(() => temp.cleanup());

/** A fresh empty directory per test, so leftovers can be checked by listing it. */
const freshDir = freshDirs(temp.dir);

const pcm = new Float32Array(800).map((_, i) => Math.sin(i / 10) / 2);

/** Reads a FIFO to the end in a child process (`cat`), so the writer's open finds a reader. */
function readFifo(path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('cat', [path]);
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`cat exited ${code}`))));
  });
}

/** A character device to write through: a null device node made in the temp dir when allowed (root), else /dev/null itself (which a non-root process cannot replace). */
function nullDevice(dir: string): string {
  const path = join(dir, 'null');
  try {
    execFileSync('mknod', [path, 'c', '1', '3'], { stdio: 'ignore' });
    return path;
  } catch {
    return '/dev/null';
  }
}

describe('output targets never replace what is at the path', () => {
  it('a FIFO is written through (streaming WAV header) and stays a FIFO', async () => {
    const dir = freshDir();
    const fifo = join(dir, 'pipe.wav');
    execFileSync('mkfifo', [fifo]);
    const read = readFifo(fifo);
    const writer = await AudioFileWriter.open(fifo, { sampleRateHz: 8000, channels: 1 });
    await writer.write(pcm);
    await writer.close();
    const bytes = await read;
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(40, true)).toBe(0xffffffff);
    expect(decodeWav(new Uint8Array(bytes)).pcm.length).toBe(800);
    expect(readdirSync(dir)).toEqual(['pipe.wav']);
  });

  it('a symlink to a FIFO is followed, and the link stays a link', async () => {
    const dir = freshDir();
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    symlinkSync(fifo, join(dir, 'link.pcm'));
    const read = readFifo(fifo);
    await writeAudioFile(join(dir, 'link.pcm'), pcm, { sampleRateHz: 8000, channels: 1 });
    expect((await read).length).toBe(1600);
    expect(lstatSync(join(dir, 'link.pcm')).isSymbolicLink()).toBe(true);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('a symlink to a regular file: the file it points at is replaced atomically, the link stays', async () => {
    const dir = freshDir();
    mkdirSync(join(dir, 'real'));
    const real = join(dir, 'real', 'speech.wav');
    writeFileSync(real, 'old', { mode: 0o640 });
    symlinkSync(real, join(dir, 'link.wav'));
    const writer = await AudioFileWriter.open(join(dir, 'link.wav'), { sampleRateHz: 8000, channels: 1 });
    await writer.write(pcm);
    await writer.close();
    expect(lstatSync(join(dir, 'link.wav')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, 'link.wav'))).toBe(real);
    expect(decodeWav(new Uint8Array(readFileSync(real))).pcm.length).toBe(800);
    // A regular file gets the real sizes, and keeps its permission bits.
    const written = readFileSync(real);
    expect(new DataView(written.buffer, written.byteOffset).getUint32(40, true)).toBe(1600);
    expect(statSync(real).mode & 0o777).toBe(0o640);
    expect(readdirSync(join(dir, 'real'))).toEqual(['speech.wav']);
  });

  it('a character device is written through and stays a device', async () => {
    const dir = freshDir();
    const device = nullDevice(dir);
    const file = await writeAudioFile(device, pcm, { sampleRateHz: 8000, channels: 1, format: 'wav' });
    expect(file.bytes).toBe(44 + 1600);
    const writer = await AudioFileWriter.open(device, { sampleRateHz: 8000, channels: 1, format: 'wav' });
    await writer.write(pcm);
    await writer.close();
    expect(statSync(device).isCharacterDevice()).toBe(true);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('a directory, a socket and a dangling symlink are refused with a coded error, nothing written', async () => {
    const dir = freshDir();
    mkdirSync(join(dir, 'sub.wav'));
    const socketPath = join(dir, 'sock.wav');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    symlinkSync(join(dir, 'nowhere.wav'), join(dir, 'dangling.wav'));
    try {
      for (const [path, code] of [
        [join(dir, 'sub.wav'), 'OUTPUT_IS_DIRECTORY'],
        [socketPath, 'OUTPUT_UNSUPPORTED_TYPE'],
        [join(dir, 'dangling.wav'), 'OUTPUT_DANGLING_SYMLINK'],
      ] as const) {
        const error = await rejection(writeAudioFile(path, pcm, { sampleRateHz: 8000, channels: 1 }));
        expect(error).toMatchObject({ name: 'InputError', code, field: 'path' });
        expect(error.message).toContain(path);
        expect(await rejection(AudioFileWriter.open(path, { sampleRateHz: 8000, channels: 1 }))).toMatchObject({ code });
      }
      expect(statSync(join(dir, 'sub.wav')).isDirectory()).toBe(true);
      expect(lstatSync(socketPath).isSocket()).toBe(true);
      expect(lstatSync(join(dir, 'dangling.wav')).isSymbolicLink()).toBe(true);
      expect(readdirSync(dir).sort()).toEqual(['dangling.wav', 'sock.wav', 'sub.wav']);
      expect(readdirSync(join(dir, 'sub.wav'))).toEqual([]);
    } finally {
      server.close();
    }
  });

  it('the kinds are told apart (negative control: a regular file is atomic, a FIFO is not)', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'plain'), 'x');
    const plain = await openOutputTarget(join(dir, 'plain'));
    expect([plain.kind, plain.atomic]).toEqual(['file', true]);
    await plain.discard();
    expect(readFileSync(join(dir, 'plain'), 'utf8')).toBe('x');
    const fresh = await openOutputTarget(join(dir, 'fresh'));
    expect([fresh.kind, fresh.atomic]).toEqual(['new', true]);
    await fresh.discard();
    expect(readdirSync(dir)).toEqual(['plain']);
  });
});
