// Regression test (review finding 11): Ctrl-C (SIGINT) or SIGTERM during `speak -o out.wav
// --attestations log` used to kill the CLI without ending the stream: the temp file
// `.out.wav.<pid>.<hex>.tmp` stayed next to the target and the durable log ended at the stream's
// `play`. Now the signal aborts the engine call: the stream is stopped ('aborted by the caller',
// attested; `fail` with that reason if no audio was played yet), the temp file removed, the log still verifies, and the exit code is 130 / 143.
// Review 2: SIGHUP (the terminal closed, ssh dropped) was not handled and left the same debris; it
// now stops the same way (exit 129). A second signal exits at once, but never in the middle of the
// in-place copy into a hard-linked output (that would leave the user's file truncated).
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { waitUntil } from '../helpers/waiting.js';

const bin = resolve(import.meta.dirname, '..', '..', 'bin', 'voice-soundboard.js');
const dir = mkdtempSync(join(tmpdir(), 'vs-cli-signal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TEXT = Array.from({ length: 300 }, (_, index) => `Sentence number ${index + 1} is here to take some time.`).join(' ');

interface LogRecord {
  action: string;
  parameters?: { reason?: string };
}

it.each([
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const)('%s during speak -o: the stream ends attested as aborted, no temp file, exit %i', async (signal, exitCode) => {
  const work = mkdtempSync(join(dir, `${signal}-`));
  const child = spawn(process.execPath, [bin, 'speak', TEXT, '-o', 'out.wav', '--attestations', 'log.jsonl', '-q'], { cwd: work, env: { ...process.env, VOICE_SOUNDBOARD_AUDIO_BACKEND: 'null' } });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  await waitUntil(() => readdirSync(work).some((name) => name.endsWith('.tmp')), 'the temp file to appear');
  await waitUntil(() => existsSync(join(work, 'log.jsonl')) && readFileSync(join(work, 'log.jsonl'), 'utf8').includes('"synthesize"'), 'synthesis to be attested');
  child.kill(signal);
  expect(await exited).toBe(exitCode);
  expect(readdirSync(work).sort()).toEqual(['log.jsonl']);
  const records = readFileSync(join(work, 'log.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as LogRecord);
  // `stop` once playing; before any audio reached the stream's sink the lifecycle table allows only `fail`.
  expect(['stop', 'fail']).toContain(records.at(-1)?.action);
  expect(records.at(-1)?.parameters?.reason).toBe('aborted by the caller');
  expect(stderr).toContain(`interrupted by ${signal}`);
  const verify = await promisify(execFile)(process.execPath, [bin, 'audit', 'verify', join(work, 'log.jsonl')]);
  expect(verify.stdout).toMatch(/^ok:/);
}, 60_000);

it('negative control: SIGKILL (no handler can run) leaves exactly the debris the checks above look for', async () => {
  const work = mkdtempSync(join(dir, 'SIGKILL-'));
  const child = spawn(process.execPath, [bin, 'speak', TEXT, '-o', 'out.wav', '--attestations', 'log.jsonl', '-q'], { cwd: work, env: { ...process.env, VOICE_SOUNDBOARD_AUDIO_BACKEND: 'null' } });
  const exited = new Promise<NodeJS.Signals | null>((done) => child.on('exit', (_code, signal) => done(signal)));
  await waitUntil(() => readdirSync(work).some((name) => name.endsWith('.tmp')), 'the temp file to appear');
  await waitUntil(() => existsSync(join(work, 'log.jsonl')) && readFileSync(join(work, 'log.jsonl'), 'utf8').includes('"synthesize"'), 'synthesis to be attested');
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  expect(readdirSync(work).filter((name) => name.endsWith('.tmp'))).toHaveLength(1);
  const last = JSON.parse(readFileSync(join(work, 'log.jsonl'), 'utf8').trim().split('\n').at(-1) ?? '{}') as LogRecord;
  expect(['stop', 'fail']).not.toContain(last.action);
}, 60_000);

// A child that writes SIZE bytes to a file with two hard links (so commit() copies in place) and,
// once the copy has truncated the file (its size is below SIZE), either sends itself SIGINT twice
// under watchInterrupts() or (the planted violation) exits right there.
const SIZE = 16 << 20;
const dist = (path: string) => pathToFileURL(resolve(import.meta.dirname, '..', '..', 'dist', path)).href;
const COPY_SCRIPT = `
import { statSync } from 'node:fs';
import { openOutputTarget } from '${dist('audio/output-target.js')}';
import { watchInterrupts } from '${dist('cli/speak-guards.js')}';
const [file, mode] = process.argv.slice(1);
const interrupts = watchInterrupts();
const target = await openOutputTarget(file);
const chunk = new Uint8Array(1 << 20).fill(7);
for (let i = 0; i < ${SIZE} / chunk.length; i++) await target.write(chunk);
let committed = false;
void target.commit().then(() => (committed = true));
setInterval(() => undefined, 1000); // alive until a signal's exit; the parent's deadline ends a hang
const poll = () => {
  if (committed) process.exit(4); // the copy was never seen under way
  if (statSync(file).size >= ${SIZE}) return setImmediate(poll);
  if (mode === 'exit') process.exit(3);
  let seen = 0; // runs after watchInterrupts' own handler: was the copy still going at the second?
  process.on('SIGINT', () => void (++seen === 2 && process.stdout.write(committed ? 'after-copy' : 'mid-copy')));
  interrupts.signal.addEventListener('abort', () => process.kill(process.pid, 'SIGINT'));
  process.kill(process.pid, 'SIGINT');
};
setImmediate(poll);
`;

function copyInterrupted(mode: 'signals' | 'exit'): { status: number | null; stdout: string; size: number; linkedSize: number } {
  const work = mkdtempSync(join(dir, `copy-${mode}-`));
  const file = join(work, 'out.raw');
  writeFileSync(file, Buffer.alloc(SIZE + 1, 1)); // longer than the new audio: the copy must truncate first
  linkSync(file, join(work, 'other-link.raw'));
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', COPY_SCRIPT, file, mode], { timeout: 50_000 });
  return { status: run.status, stdout: run.stdout.toString(), size: statSync(file).size, linkedSize: statSync(join(work, 'other-link.raw')).size };
}

it('a second signal during the in-place copy into a hard-linked output waits for the copy: the file is whole', () => {
  const run = copyInterrupted('signals');
  expect(run.stdout).toBe('mid-copy');
  expect(run.status).toBe(130);
  expect(run.size).toBe(SIZE);
  expect(run.linkedSize).toBe(SIZE);
}, 60_000);

it('negative control: exiting during that copy (what an immediate second signal did) leaves the file truncated', () => {
  const run = copyInterrupted('exit');
  expect(run.status).toBe(3);
  expect(run.size).toBeLessThan(SIZE);
}, 60_000);
