// REVIEW (adversarial): `speak -o /dev/stdout` is documented (README, issue 9) as a write-through
// target. When stdout is redirected to a regular file (`>> all.pcm`), /dev/stdout is a symlink to
// that file and openOutputTarget replaces the file atomically at its realpath: the file gets a new
// inode, whatever it held before is gone (an append `>>` becomes a replace) and hard links to it
// are split off. Expected to FAIL until /dev/stdout, /dev/fd/N and /proc/self/fd/N are written
// through (the process's own fd), like `-o -`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const bin = resolve(import.meta.dirname, '..', '..', 'bin', 'voice-soundboard.js');
const dir = mkdtempSync(join(tmpdir(), 'review-devstdout-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('-o /dev/stdout with stdout appended to a file appends (same inode, earlier bytes kept)', () => {
  const file = join(dir, 'all.pcm');
  writeFileSync(file, 'EARLIER-CONTENT\n');
  const inode = statSync(file).ino;
  execFileSync('sh', ['-c', `"${process.execPath}" "${bin}" speak "Hi." -o /dev/stdout -f pcm -q >> "${file}"`], { env: { ...process.env, VOICE_SOUNDBOARD_AUDIO_BACKEND: 'null' } });
  expect(readFileSync(file).subarray(0, 16).toString('latin1')).toBe('EARLIER-CONTENT\n');
  expect(statSync(file).ino).toBe(inode);
});
