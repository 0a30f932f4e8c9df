// kill -9 while appending, on real files and real processes: a child appends to a durable log and
// reports every record it takes as acknowledged (fsync: on return; group: when `durable`
// resolved); the parent kills it with SIGKILL at a random moment, reopens the log (cutting a torn
// tail off) and checks that every acknowledged record is there, byte for byte the one acknowledged
// (its hash), and that the log verifies. Rounds reuse the log, so each child also reopens what the
// previous kill left, and the segmented rounds rotate every few records, so kills land mid-rotation.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { iterateAttestationLog } from '../../src/attestation/log-reader.js';
import { AttestationStore } from '../../src/attestation/store.js';
import { verify } from '../../src/registrar/verify.js';

const ROUNDS = 8;
const SEGMENT_BYTES = 8192;
/** How long an appender that should end by itself (halted) may run: generous, it needs well under a second. */
const RUN_DEADLINE_MS = 30_000;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/kill-appender.ts', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** What an appender said before it ended: records acknowledged (seq → hash), play permits handed out, the halt cause, and how it ended. */
interface AppenderRun {
  acknowledged: Map<number, string>;
  permits: number[];
  halted: string | null;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Runs the appender (under a file size limit of `fileSizeBlocks` KiB when given: writes past it
 * fail with EFBIG) until it has acknowledged `killAfter` records, then kills it with SIGKILL; or,
 * with `killAfter` null, until it exits by itself.
 */
function runAppender(path: string, durability: 'fsync' | 'group' | 'early', segmentBytes: number | null, killAfter: number | null, fileSizeBlocks?: number): Promise<AppenderRun> {
  return new Promise((resolve, reject) => {
    const args = ['--import', 'tsx', CHILD, path, durability, segmentBytes === null ? '-' : String(segmentBytes)];
    const child =
      fileSizeBlocks === undefined
        ? spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn('bash', ['-c', `ulimit -f ${fileSizeBlocks} && exec "$0" "$@"`, process.execPath, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const run: AppenderRun = { acknowledged: new Map(), permits: [], halted: null, code: null, signal: null, stderr: '' };
    let buffered = '';
    let killed = false;
    child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [first, second] = line.split(' ');
        if (first === 'permit') run.permits.push(Number(second));
        else if (first === 'halted') run.halted ??= second ?? '';
        else if (first !== 'ready') run.acknowledged.set(Number(first), second ?? '');
      }
      if (!killed && killAfter !== null && run.acknowledged.size >= killAfter) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    // An appender left to end by itself that does not (a registrar that never halts): killed, and the run fails saying so.
    const deadline = killAfter === null ? setTimeout(() => child.kill('SIGKILL'), RUN_DEADLINE_MS) : null;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (deadline) clearTimeout(deadline);
      run.code = code;
      run.signal = signal;
      if (killAfter !== null && signal !== 'SIGKILL') reject(new Error(`the appender exited (${code ?? signal ?? '?'}) before it was killed: ${run.stderr}`));
      else if (killAfter === null && signal !== null) reject(new Error(`the appender did not end by itself within ${RUN_DEADLINE_MS} ms (halted: ${run.halted ?? 'no'}, ${run.acknowledged.size} acknowledged)`));
      else resolve(run);
    });
  });
}

/** Reopens `path` (cutting a torn tail off) and checks every acknowledged record and every permitted play is on disk, byte for byte the one acknowledged; returns how many were checked. */
async function expectOnDisk(path: string, acknowledged: Map<number, string>, permits: readonly number[] = []): Promise<number> {
  const { store, report } = AttestationStore.open(path, { repairTornTail: true, memoryRecords: 64 });
  try {
    for (const [seq, hash] of acknowledged) {
      expect(seq).toBeLessThanOrEqual(store.lastSeq);
      expect(store.bySeq(seq)?.hash).toBe(hash);
    }
    for (const seq of permits) expect(store.bySeq(seq)?.action).toBe('play');
    expect(report.records).toBe(store.lastSeq);
  } finally {
    await store.close();
  }
  expect(verify(iterateAttestationLog(path))).toMatchObject({ ok: true, errors: [] });
  return acknowledged.size + permits.length;
}

describe('kill -9 loses no acknowledged record', () => {
  it.each(['fsync', 'group'] as const)(`%s mode: ${ROUNDS} rounds of kill -9 at a random moment, single file and segmented`, async (durability) => {
    const dir = mkdtempSync(join(tmpdir(), 'kill-durability-'));
    dirs.push(dir);
    let checked = 0;
    for (const segmentBytes of [null, SEGMENT_BYTES]) {
      const path = join(dir, segmentBytes === null ? 'single.jsonl' : 'segmented');
      for (let round = 0; round < ROUNDS / 2; round += 1) {
        const run = await runAppender(path, durability, segmentBytes, 5 + Math.floor(Math.random() * 150));
        checked += await expectOnDisk(path, run.acknowledged, run.permits);
      }
    }
    expect(checked).toBeGreaterThan(0);
  }, 240_000);

  it('the check catches a planted loss: group-mode records taken as acknowledged on return are lost by kill -9', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kill-durability-'));
    dirs.push(dir);
    const path = join(dir, 'early.jsonl');
    const run = await runAppender(path, 'early', null, 50);
    const { store } = AttestationStore.open(path, { repairTornTail: true });
    const lost = [...run.acknowledged.keys()].filter((seq) => seq > store.lastSeq);
    const onDisk = store.lastSeq;
    await store.close();
    // Nothing was committed: every "acknowledged" record is gone (the message says what was seen, should it not be).
    expect(lost.length, `${run.acknowledged.size} acknowledged, the log holds ${onDisk} records; the appender said: ${run.stderr.slice(0, 2000)}`).toBeGreaterThanOrEqual(50);
  });
});

describe('a write that fails (file size limit: EFBIG, after a short write) halts the registrar and loses nothing acknowledged', () => {
  /** The limit in KiB blocks: some 60 records in a single file. */
  const LIMIT_BLOCKS = 48;

  it.each(['fsync', 'group'] as const)('%s mode, single file: halted on attestation_io, the torn tail reported and repaired, every acknowledged record and permit on disk', async (durability) => {
    const dir = mkdtempSync(join(tmpdir(), 'write-failure-'));
    dirs.push(dir);
    const path = join(dir, 'single.jsonl');
    const run = await runAppender(path, durability, null, null, LIMIT_BLOCKS);
    expect(run.code, run.stderr).toBe(0);
    expect(run.halted).toBe('attestation_io');
    expect(run.acknowledged.size).toBeGreaterThan(10);
    expect(run.permits.length).toBeGreaterThan(2);
    expect(statSync(path).size).toBe(LIMIT_BLOCKS * 1024); // the last write was cut short at the limit
    // A record was half written: opening without repair says so, naming where.
    expect(() => AttestationStore.open(path)).toThrow(expect.objectContaining({ code: 'ATTESTATION_TORN_TAIL' }));
    await expectOnDisk(path, run.acknowledged, run.permits);
    // Nothing after the failure was acknowledged: the acknowledged seqs are a prefix of the log.
    const { store } = AttestationStore.open(path, { repairTornTail: true });
    const lastOnDisk = store.lastSeq;
    await store.close();
    expect(Math.max(...run.acknowledged.keys())).toBeLessThanOrEqual(lastOnDisk);
    expect([...run.acknowledged.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: run.acknowledged.size }, (_, index) => index + 1));
  }, 120_000);

  it.each(['fsync', 'group'] as const)('%s mode, segmented: the manifest cannot be replaced at a rotation (it outgrew the limit): halted, every acknowledged record on disk, the log reopens', async (durability) => {
    const dir = mkdtempSync(join(tmpdir(), 'write-failure-'));
    dirs.push(dir);
    const path = join(dir, 'segmented');
    // Segments of 4 KiB (four records) never reach the 8 KiB limit; the manifest, listing every segment, does.
    const run = await runAppender(path, durability, 4096, null, 8);
    expect(run.code, run.stderr).toBe(0);
    expect(run.halted).toBe('attestation_io');
    expect(run.acknowledged.size).toBeGreaterThan(10);
    await expectOnDisk(path, run.acknowledged, run.permits);
    // The writer goes on after a reopen (no limit now), past the rotation that failed.
    const more = await runAppender(path, durability, 4096, 20);
    await expectOnDisk(path, more.acknowledged, more.permits);
  }, 120_000);
});
