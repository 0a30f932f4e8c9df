// Regression tests (review finding 4, TOCTOU): the output path is looked at when it is opened but
// placed at the end, after the whole synthesis. Whatever appears or is swapped in at the path in
// between is left alone (OUTPUT_CHANGED, temp file removed): a FIFO at a new path, a symlink in
// place of a regular file, a replaced hard-linked file, a write-through node swapped before its
// open. Also: a regular file with other hard links is updated in place (no link split off).
import { execFileSync } from 'node:child_process';
import { linkSync, lstatSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AudioFileWriter } from '../../src/audio/file-writer.js';
import { openOutputTarget, openThrough } from '../../src/audio/output-target.js';
import { decodeWav } from '../../src/audio/wav.js';
import { rejection } from '../helpers/errors.js';
import { freshDirs, makeTempDir } from './tools.js';

const temp = makeTempDir('vs-races-');
afterAll(() => temp.cleanup());
const freshDir = freshDirs(temp.dir);
const pcm = new Float32Array(800).map((_, i) => Math.sin(i / 10) / 2);

describe('what appears at the path while the audio is made is never replaced', () => {
  it('a FIFO created at a "new" path is kept (link(2), not rename): OUTPUT_CHANGED, no temp left', async () => {
    const dir = freshDir();
    const path = join(dir, 'out.wav');
    const target = await openOutputTarget(path); // nothing there yet: kind 'new'
    expect(target.kind).toBe('new');
    await target.write(new Uint8Array(44));
    execFileSync('mkfifo', [path]); // someone else's FIFO appears during synthesis
    expect(await rejection(target.commit())).toMatchObject({ code: 'OUTPUT_CHANGED' });
    expect(lstatSync(path).isFIFO()).toBe(true);
    expect(readdirSync(dir)).toEqual(['out.wav']);
  });

  it('negative control: with nothing appearing, the new path gets the file and no temp is left', async () => {
    const dir = freshDir();
    const target = await openOutputTarget(join(dir, 'out.wav'));
    await target.write(new Uint8Array([1, 2, 3]));
    await target.commit();
    expect([...readFileSync(join(dir, 'out.wav'))]).toEqual([1, 2, 3]);
    expect(statSync(join(dir, 'out.wav')).nlink).toBe(1);
    expect(readdirSync(dir)).toEqual(['out.wav']);
  });

  it('a symlink swapped in for a regular file is kept: OUTPUT_CHANGED, its target untouched', async () => {
    const dir = freshDir();
    const path = join(dir, 'out.wav');
    writeFileSync(path, 'old');
    const target = await openOutputTarget(path); // a regular file: kind 'file'
    expect(target.kind).toBe('file');
    await target.write(new Uint8Array(44));
    rmSync(path);
    symlinkSync(join(dir, 'elsewhere.wav'), path);
    expect(await rejection(target.commit())).toMatchObject({ code: 'OUTPUT_CHANGED' });
    expect(lstatSync(path).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path)).toBe(join(dir, 'elsewhere.wav'));
    expect(readdirSync(dir)).toEqual(['out.wav']);
  });

  it('a regular file replaced by another regular file (new inode) is kept as the other left it', async () => {
    const dir = freshDir();
    const path = join(dir, 'out.wav');
    writeFileSync(path, 'old');
    const writer = await AudioFileWriter.open(path, { sampleRateHz: 8000, channels: 1 });
    await writer.write(pcm);
    // Moved away, not removed: a removed file's inode could be reused by the new one.
    renameSync(path, join(dir, 'moved.wav'));
    writeFileSync(path, 'theirs');
    expect(await rejection(writer.close())).toMatchObject({ code: 'OUTPUT_CHANGED' });
    expect(readFileSync(path, 'utf8')).toBe('theirs');
    expect(readdirSync(dir).sort()).toEqual(['moved.wav', 'out.wav']);
  });

  it('a write-through open checks the node it opened against the look (planted stale looks)', async () => {
    const dir = freshDir();
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const fifoLook = await lstat(fifo);
    // The FIFO was swapped for /dev/null (a character device) between the look and the open.
    expect(await rejection(openThrough('/dev/null', 'fifo', fifoLook, true))).toMatchObject({ code: 'OUTPUT_CHANGED' });
    // A symlink put where the look saw none is not followed (O_NOFOLLOW).
    symlinkSync('/dev/null', join(dir, 'swapped'));
    expect(await rejection(openThrough(join(dir, 'swapped'), 'character-device', await lstat('/dev/null'), false))).toMatchObject({ code: 'OUTPUT_CHANGED' });
    // Negative control: the look matches, the open succeeds.
    const ok = await openThrough('/dev/null', 'character-device', await lstat('/dev/null'), false);
    await ok.write(new Uint8Array(4));
    await ok.commit();
  });
});

describe('a regular file with other hard links is updated in place', () => {
  it('every link sees the new audio, the inode and the link count stay (direct and through a symlink)', async () => {
    const dir = freshDir();
    const file = join(dir, 'speech.wav');
    writeFileSync(file, 'old', { mode: 0o640 });
    linkSync(file, join(dir, 'other-name.wav'));
    symlinkSync(file, join(dir, 'link.wav'));
    const inode = statSync(file).ino;
    for (const path of [file, join(dir, 'link.wav')]) {
      const writer = await AudioFileWriter.open(path, { sampleRateHz: 8000, channels: 1 });
      await writer.write(pcm);
      await writer.close();
      expect(statSync(file)).toMatchObject({ ino: inode, nlink: 2 });
      expect(decodeWav(new Uint8Array(readFileSync(join(dir, 'other-name.wav')))).pcm.length).toBe(800);
      expect(statSync(file).mode & 0o777).toBe(0o640);
      expect(readdirSync(dir).sort()).toEqual(['link.wav', 'other-name.wav', 'speech.wav']);
    }
  });

  it('a failure before the commit leaves the linked file as it was; a swapped file is refused', async () => {
    const dir = freshDir();
    const file = join(dir, 'speech.wav');
    writeFileSync(file, 'old');
    linkSync(file, join(dir, 'other-name.wav'));
    const aborted = await AudioFileWriter.open(file, { sampleRateHz: 8000, channels: 1 });
    await aborted.write(pcm);
    await aborted.abort();
    expect(readFileSync(join(dir, 'other-name.wav'), 'utf8')).toBe('old');
    const swapped = await AudioFileWriter.open(file, { sampleRateHz: 8000, channels: 1 });
    await swapped.write(pcm);
    rmSync(file);
    writeFileSync(file, 'theirs');
    expect(await rejection(swapped.close())).toMatchObject({ code: 'OUTPUT_CHANGED' });
    expect(readFileSync(file, 'utf8')).toBe('theirs');
    expect(readFileSync(join(dir, 'other-name.wav'), 'utf8')).toBe('old');
    expect(readdirSync(dir).sort()).toEqual(['other-name.wav', 'speech.wav']);
  });
});
