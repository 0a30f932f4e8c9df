// Regression tests (review findings 3, 10, 13) for what `speak` refuses or writes through:
// - `-o /dev/stdout` with stdout appended to a file (`>>`) used to replace that file (new inode,
//   earlier bytes lost): now the process's own descriptor is written (as `-o -`), also for
//   /dev/fd/N and a symlink to /dev/stdout;
// - `-o X --attestations X` (or a symlink / hard link to it) used to lose the log and exit 0: now a
//   usage error naming both flags, nothing written;
// - `-o -` with stdout closed used to "write standard output" to Node's /dev/null and exit 0;
// - `--device nope` exited 1 without naming --device; `voices -b kokoro` without --model exited 0.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, linkSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

const bin = resolve(import.meta.dirname, '..', '..', 'bin', 'voice-soundboard.js');
const dir = mkdtempSync(join(tmpdir(), 'vs-cli-guards-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, VOICE_SOUNDBOARD_AUDIO_BACKEND: 'null' };
let counter = 0;
const fresh = () => {
  const path = join(dir, `case-${counter++}`);
  execFileSync('mkdir', [path]);
  return path;
};

async function speak(args: string[]): Promise<{ code: number; err: string }> {
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await main(['speak', 'Hello.', ...args], { stdout: new PassThrough(), stderr, stdin: Readable.from([]) });
  return { code, err };
}

/** Runs the binary through sh (for redirections); returns exit code and stderr. */
function shell(script: string): { code: number | null; err: string } {
  const result = spawnSync('sh', ['-c', script], { env, encoding: 'utf8' });
  return { code: result.status, err: result.stderr };
}

describe('-o naming one of the process\'s own descriptors writes through on it', () => {
  it('-o /dev/stdout with stdout appended to a file appends (same inode, earlier bytes kept)', () => {
    const file = join(fresh(), 'all.pcm');
    writeFileSync(file, 'EARLIER-CONTENT\n');
    const inode = statSync(file).ino;
    for (let round = 1; round <= 2; round++) {
      expect(shell(`"${process.execPath}" "${bin}" speak "Hi." -o /dev/stdout -f pcm -q >> "${file}"`).code).toBe(0);
      expect(readFileSync(file).subarray(0, 16).toString('latin1')).toBe('EARLIER-CONTENT\n');
      expect(statSync(file).ino).toBe(inode);
    }
    const once = (statSync(file).size - 16) / 2;
    expect(once).toBeGreaterThan(1000); // two rounds appended, the same length each
    expect(Number.isInteger(once)).toBe(true);
  });

  it('/dev/fd/3 opened for append and a symlink to /dev/stdout are written through, never replaced', () => {
    const work = fresh();
    const file = join(work, 'fd3.pcm');
    writeFileSync(file, 'KEEP');
    const fd = openSync(file, 'a');
    try {
      const run = spawnSync(process.execPath, [bin, 'speak', 'Hi.', '-o', '/dev/fd/3', '-f', 'pcm', '-q'], { env, stdio: ['ignore', 'ignore', 'pipe', fd] });
      expect(run.status).toBe(0);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(file).subarray(0, 4).toString('latin1')).toBe('KEEP');
    expect(statSync(file).size).toBeGreaterThan(1000);
    const out = join(work, 'via-link.pcm');
    writeFileSync(out, 'HEAD');
    const inode = statSync(out).ino;
    symlinkSync('/dev/stdout', join(work, 'link.pcm'));
    expect(shell(`"${process.execPath}" "${bin}" speak "Hi." -o "${join(work, 'link.pcm')}" -f pcm -q >> "${out}"`).code).toBe(0);
    expect(readFileSync(out).subarray(0, 4).toString('latin1')).toBe('HEAD');
    expect(statSync(out).ino).toBe(inode);
    expect(readdirSync(work).sort()).toEqual(['fd3.pcm', 'link.pcm', 'via-link.pcm']);
  });

  it('-o /dev/stderr gets the audio alone: no progress or summary lines mixed in (negative control: the same run to stdout prints them)', () => {
    const text = 'One sentence here. Another one there. And a third to report progress on.';
    const toStdout = spawnSync(process.execPath, [bin, 'speak', text, '-o', '-', '-f', 'pcm'], { env });
    expect(toStdout.stderr.toString()).toMatch(/voice-soundboard speak: wrote standard output/);
    const toStderr = spawnSync(process.execPath, [bin, 'speak', text, '-o', '/dev/stderr', '-f', 'pcm'], { env });
    expect(toStderr.status).toBe(0);
    expect(toStderr.stderr.equals(toStdout.stdout)).toBe(true);
  });

  it('-o - or -o /dev/stdout with stdout closed fails OUTPUT_CLOSED (negative control: > /dev/null is fine)', () => {
    for (const output of ['-', '/dev/stdout']) {
      const closed = shell(`"${process.execPath}" "${bin}" speak "Hi." -o ${output} -f pcm -q >&-`);
      expect(closed.code).toBe(1);
      expect(closed.err).toMatch(/closed.*\[OUTPUT_CLOSED\]/);
      expect(shell(`"${process.execPath}" "${bin}" speak "Hi." -o ${output} -f pcm -q > /dev/null`).code).toBe(0);
    }
  });
});

describe('-o and --attestations naming one file', () => {
  it('the same path is a usage error naming both flags, never a lost log; nothing is written', async () => {
    const work = fresh();
    const same = join(work, 'same.wav');
    const { code, err } = await speak(['-o', same, '--attestations', same]);
    expect(code).toBe(2);
    expect(err).toMatch(/-o\/--output and --attestations/);
    expect(existsSync(same)).toBe(false);
    expect(readdirSync(work)).toEqual([]);
  });

  it('a symlink or a hard link to an existing log is the same file: refused, the log unchanged', async () => {
    const work = fresh();
    const log = join(work, 'log.jsonl');
    expect((await speak(['-o', join(work, 'first.wav'), '--attestations', log, '-q'])).code).toBe(0);
    const before = readFileSync(log);
    symlinkSync(log, join(work, 'sym.wav'));
    linkSync(log, join(work, 'hard.wav'));
    symlinkSync(join(work, 'not-yet.wav'), join(work, 'dangling.jsonl'));
    for (const [output, attestations] of [
      [join(work, 'sym.wav'), log],
      [join(work, 'hard.wav'), log],
      [log, join(work, 'sym.wav')],
      [join(work, 'not-yet.wav'), join(work, 'dangling.jsonl')],
    ] as const) {
      const { code, err } = await speak(['-o', output, '--attestations', attestations, '-f', 'wav']);
      expect({ code, output }).toEqual({ code: 2, output });
      expect(err).toMatch(/--attestations/);
    }
    expect(readFileSync(log).equals(before)).toBe(true);
    expect(readdirSync(work).sort()).toEqual(['dangling.jsonl', 'first.wav', 'hard.wav', 'log.jsonl', 'sym.wav']);
    // Negative control: different files are fine.
    expect((await speak(['-o', join(work, 'second.wav'), '--attestations', log, '-q'])).code).toBe(0);
  });
});

describe('usage errors name the flag', () => {
  it('--device nope exits 2 naming --device; voices -b kokoro without --model exits 2 naming --model', async () => {
    const device = spawnSync(process.execPath, [bin, 'speak', 'Hi.', '--device', 'nope'], { env, encoding: 'utf8' });
    expect(device.status).toBe(2);
    expect(device.stderr).toMatch(/--device: .*"nope"/);
    const voices = await promisify(execFile)(process.execPath, [bin, 'voices', '-b', 'kokoro'], { env }).catch((error: { code: number; stderr: string }) => error);
    expect(voices).toMatchObject({ code: 2, stderr: expect.stringMatching(/--model is required for kokoro/) });
  });

  it('a missing directory is named as the user wrote it, never as the temp file', async () => {
    const work = fresh();
    const { code, err } = await speak(['-o', join(work, 'nodir', 'x.wav')]);
    expect(code).toBe(1);
    expect(err).toContain(`could not write ${join(work, 'nodir', 'x.wav')}: the directory ${join(work, 'nodir')} does not exist`);
    expect(err).not.toMatch(/\.tmp/);
  });
});
