// REVIEW (adversarial): Ctrl-C (SIGINT) or SIGTERM during `speak -o out.wav --attestations log`
// kills the CLI without ending the stream: the temp file `.out.wav.<pid>.<hex>.tmp` stays next to
// the target (README: "no partial file on failure"), and the durable log ends with the stream's
// `play` — no stop/fail — so `audit verify` accepts a log where the stream plays forever.
// Expected to FAIL until the CLI turns SIGINT/SIGTERM into an abort (stream stopped or failed,
// attested; temp file removed) and exits 130/143.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { waitUntil } from '../helpers/waiting.js';

const bin = resolve(import.meta.dirname, '..', '..', 'bin', 'voice-soundboard.js');
const dir = mkdtempSync(join(tmpdir(), 'review-sigint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TEXT = Array.from({ length: 300 }, (_, index) => `Sentence number ${index + 1} is here to take some time.`).join(' ');

it.each(['SIGINT', 'SIGTERM'] as const)('%s during speak -o leaves no temp file and an ended stream in the log', async (signal) => {
  const work = mkdtempSync(join(dir, `${signal}-`));
  const child = spawn(process.execPath, [bin, 'speak', TEXT, '-o', 'out.wav', '--attestations', 'log.jsonl', '-q'], { cwd: work, env: { ...process.env, VOICE_SOUNDBOARD_AUDIO_BACKEND: 'null' } });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  await waitUntil(() => readdirSync(work).some((name) => name.endsWith('.tmp')), 'the temp file to appear');
  await waitUntil(() => existsSync(join(work, 'log.jsonl')) && readFileSync(join(work, 'log.jsonl'), 'utf8').includes('"synthesize"'), 'synthesis to be attested');
  child.kill(signal);
  await exited;
  expect(readdirSync(work).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  const actions = readFileSync(join(work, 'log.jsonl'), 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { action: string }).action);
  expect(['stop', 'fail', 'interrupt']).toContain(actions.at(-1));
}, 60_000);
