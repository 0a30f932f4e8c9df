/**
 * `voice-soundboard dialogue` against hostile paths: subtitles go through the same output
 * targets as audio (a dangling symlink is refused, never followed to create a file elsewhere; a
 * directory is a clear usage error), and a script that never ends (`/dev/zero`) or is too long
 * is refused after a bounded read, never read into memory whole.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dialogueCommand } from '../../src/cli/dialogue.js';
import { rejection } from '../helpers/errors.js';
import { runCommand } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'vs-dialogue-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const failure = (args: string[]) => rejection(runCommand(dialogueCommand, args));

describe('voice-soundboard dialogue with hostile paths', () => {
  it('refuses a dangling symlink as --srt/--vtt (nothing created where it points) and a directory', async () => {
    const script = join(dir, 'ok.txt');
    writeFileSync(script, 'Alice: Hi.\nBob: Hello.');
    for (const flag of ['--srt', '--vtt']) {
      const planted = join(dir, `elsewhere${flag}`);
      const link = join(dir, `link${flag}`);
      symlinkSync(planted, link);
      const error = await failure([script, '-o', join(dir, `out${flag}.wav`), flag, link, '-q']);
      expect(error.code).toBe('OUTPUT_DANGLING_SYMLINK');
      expect(existsSync(planted)).toBe(false);
      expect(existsSync(join(dir, `out${flag}.wav`))).toBe(false);
    }
    mkdirSync(join(dir, 'subs'));
    expect((await failure([script, '-o', join(dir, 'out-dir.wav'), '--srt', join(dir, 'subs'), '-q'])).code).toBe('OUTPUT_IS_DIRECTORY');
  }, 60_000);

  it('keeps a symlinked --srt a symlink and writes its target whole', async () => {
    const script = join(dir, 'ok2.txt');
    writeFileSync(script, 'Alice: Hi.\nBob: Hello.');
    const target = join(dir, 'real.srt');
    writeFileSync(target, 'old');
    const link = join(dir, 'pointer.srt');
    symlinkSync(target, link);
    const run = await runCommand(dialogueCommand, [script, '-o', join(dir, 'ok2.wav'), '--srt', link, '-q']);
    expect(run.code).toBe(0);
    expect(readFileSync(target, 'utf8')).toMatch(/^1\n\d\d:\d\d:\d\d,\d{3} --> /);
  }, 60_000);

  it('refuses /dev/zero and an over-long script after a bounded read (SCRIPT_INVALID)', async () => {
    const error = await failure(['/dev/zero', '-o', join(dir, 'zero.wav'), '-q']);
    expect(error.code).toBe('SCRIPT_INVALID');
    expect(error.message).toMatch(/longer than/);
    const long = join(dir, 'long.txt');
    writeFileSync(long, `Alice: ${'a'.repeat(10 * 1024 * 1024)}\n`);
    const tooLong = await failure([long, '-o', join(dir, 'long.wav'), '-q']);
    expect(tooLong.code).toBe('SCRIPT_INVALID');
    expect(existsSync(join(dir, 'long.wav'))).toBe(false);
  }, 60_000);
});
