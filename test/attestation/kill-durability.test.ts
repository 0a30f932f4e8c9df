// kill -9 while appending, on real files and real processes: a child appends to a durable log and
// reports every record it takes as acknowledged (fsync: on return; group: when `durable`
// resolved); the parent kills it with SIGKILL at a random moment, reopens the log (cutting a torn
// tail off) and checks that every acknowledged record is there, byte for byte the one acknowledged
// (its hash), and that the log verifies. Rounds reuse the log, so each child also reopens what the
// previous kill left, and the segmented rounds rotate every few records, so kills land mid-rotation.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { iterateAttestationLog } from '../../src/attestation/log-reader.js';
import { AttestationStore } from '../../src/attestation/store.js';
import { verify } from '../../src/registrar/verify.js';

const ROUNDS = 8;
const SEGMENT_BYTES = 8192;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/kill-appender.ts', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Runs the appender until it has acknowledged `acknowledgements` records, kills it with SIGKILL, and returns every acknowledgement it sent (seq → hash). */
function appendThenKill(path: string, durability: 'fsync' | 'group' | 'early', segmentBytes: number | null, acknowledgements: number): Promise<Map<number, string>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, durability, segmentBytes === null ? '-' : String(segmentBytes)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const acknowledged = new Map<number, string>();
    let buffered = '';
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [seq, hash] = line.split(' ');
        if (seq !== 'ready') acknowledged.set(Number(seq), hash ?? '');
      }
      if (!killed && acknowledged.size >= acknowledgements) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal === 'SIGKILL') resolve(acknowledged);
      else reject(new Error(`the appender exited (${code ?? signal ?? '?'}) before it was killed: ${stderr}`));
    });
  });
}

describe('kill -9 loses no acknowledged record', () => {
  it.each(['fsync', 'group'] as const)(`%s mode: ${ROUNDS} rounds of kill -9 at a random moment, single file and segmented`, async (durability) => {
    const dir = mkdtempSync(join(tmpdir(), 'kill-durability-'));
    dirs.push(dir);
    let checked = 0;
    for (const segmentBytes of [null, SEGMENT_BYTES]) {
      const path = join(dir, segmentBytes === null ? 'single.jsonl' : 'segmented');
      for (let round = 0; round < ROUNDS / 2; round += 1) {
        const acknowledged = await appendThenKill(path, durability, segmentBytes, 5 + Math.floor(Math.random() * 150));
        const { store, report } = AttestationStore.open(path, { repairTornTail: true, memoryRecords: 64 });
        try {
          for (const [seq, hash] of acknowledged) {
            expect(seq).toBeLessThanOrEqual(store.lastSeq);
            expect(store.bySeq(seq)?.hash).toBe(hash);
            checked += 1;
          }
          expect(report.records).toBe(store.lastSeq);
        } finally {
          await store.close();
        }
        expect(verify(iterateAttestationLog(path))).toMatchObject({ ok: true, errors: [] });
      }
    }
    expect(checked).toBeGreaterThan(0);
  }, 240_000);

  it('the check catches a planted loss: group-mode records taken as acknowledged on return are lost by kill -9', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kill-durability-'));
    dirs.push(dir);
    const path = join(dir, 'early.jsonl');
    const acknowledged = await appendThenKill(path, 'early', null, 50);
    const { store } = AttestationStore.open(path, { repairTornTail: true });
    const lost = [...acknowledged.keys()].filter((seq) => seq > store.lastSeq);
    await store.close();
    expect(lost.length).toBeGreaterThanOrEqual(50); // nothing was committed: every "acknowledged" record is gone
  });
});
