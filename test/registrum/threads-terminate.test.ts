// worker.terminate() on a thread deciding on a shared registrar, mid-request: the process lives on
// (a native call interrupted by the termination must not abort it: every thread, the writer and
// its uncommitted batch would go with it), and the log stays the registrar's: gap-free, verified,
// and replayed to the state the live writer had. Run in a child process (fixtures/terminate-host.ts),
// since what is tested is whether the process survives.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { iterateAttestationLog } from '../../src/attestation/log-reader.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { verify } from '../../src/registrar/verify.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HOST = fileURLToPath(new URL('./fixtures/terminate-host.ts', import.meta.url));
/** Rounds of two workers terminated mid-request (before the fix, a run of 20 aborted nearly always). */
const ROUNDS = 20;
const directory = mkdtempSync(join(tmpdir(), 'vs-terminate-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

interface HostRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runHost(path: string): Promise<HostRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', HOST, path, String(ROUNDS)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const run: HostRun = { code: null, signal: null, stdout: '', stderr: '' };
    child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ ...run, code, signal }));
  });
}

describe('terminating a worker mid-request', () => {
  it(`${ROUNDS} rounds of worker.terminate() on threads deciding (and waiting for the writer): the process lives, the log verifies and replays to the live state`, async () => {
    const path = join(directory, 'log.jsonl');
    const run = await runHost(path);
    expect(run.stderr).not.toMatch(/terminate called|Napi::Error|FATAL ERROR/);
    expect({ code: run.code, signal: run.signal }).toEqual({ code: 0, signal: null });
    const reported = JSON.parse(run.stdout.trim()) as { rounds: number; stateHash: string; lastSeq: number };
    expect(reported.rounds).toBe(ROUNDS);
    expect(verify(iterateAttestationLog(path))).toMatchObject({ ok: true, records: reported.lastSeq, errors: [] });
    const { registrar } = AudioRegistrar.openLog(path);
    try {
      expect(registrar.attestationStore.lastSeq).toBe(reported.lastSeq);
      expect(registrar.stateHash()).toBe(reported.stateHash);
    } finally {
      await registrar.close();
    }
  }, 600_000);
});
