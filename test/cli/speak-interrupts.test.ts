// Regression test (review finding 11): Ctrl-C (SIGINT) or SIGTERM during `speak -o out.wav
// --attestations log` used to kill the CLI without ending the stream: the temp file
// `.out.wav.<pid>.<hex>.tmp` stayed next to the target and the durable log ended at the stream's
// `play`. Now the signal aborts the engine call: the stream is stopped ('aborted by the caller',
// attested; `fail` with that reason if no audio was played yet), the temp file removed, the log still verifies, and the exit code is 130 / 143.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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
