// Regression test (review 2): `speak -o F` used to replace a file its user write-protected
// (chmod 444): the temp file + rename(2) needs only the directory's write bit, so a file the shell
// (`> F`: Permission denied) and cp refuse to overwrite was destroyed. Now the file is probed
// write-only first: OUTPUT_NOT_WRITABLE, exit 1, the file and its directory as they were. Root
// ignores permission bits through CAP_DAC_OVERRIDE, so as root the real CLI runs without that
// capability (setpriv drops it from the bounding set): same uid, so it still reaches a checkout
// in a private (0700) directory, but the file's mode is in force as for any user.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, expect, it } from 'vitest';

const BIN = resolve('bin/voice-soundboard.js');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

it('speak -o on a read-only file refuses (like the shell) and leaves it as it was', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vs-cli-readonly-'));
  dirs.push(dir);
  chmodSync(dir, 0o777);
  const file = join(dir, 'keep.wav');
  writeFileSync(file, 'precious');
  chmodSync(file, 0o444);
  const root = process.getuid?.() === 0;
  const asUser = (cmd: string, args: string[]) => (root ? spawnSync('setpriv', ['--bounding-set=-dac_override,-dac_read_search', cmd, ...args]) : spawnSync(cmd, args));
  // Planted: the shell refuses to write it (the permission bits are in force for this user).
  expect(asUser('sh', ['-c', `echo x > ${file}`]).status).not.toBe(0);
  const run = asUser(process.execPath, [BIN, 'speak', 'hello', '-o', file]);
  expect(readFileSync(file, 'utf8')).toBe('precious');
  expect(run.status).toBe(1);
  expect(run.stderr.toString()).toContain(`-o/--output: did not write ${file}`);
  expect(run.stderr.toString()).toContain('OUTPUT_NOT_WRITABLE');
  expect(readdirSync(dir)).toEqual(['keep.wav']); // no temp file was made
  // Negative control: the same user may write it once the bit is back, so the refusal above is the permission.
  chmodSync(file, 0o644);
  const allowed = asUser(process.execPath, [BIN, 'speak', 'hello', '-o', file]);
  expect(allowed.status).toBe(0);
  expect(readFileSync(file).subarray(0, 4).toString()).toBe('RIFF');
}, 60_000);
