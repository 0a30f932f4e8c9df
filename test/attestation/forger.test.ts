// Audit 18a, the forger: someone who holds the log, its sidecar, the manifest and the PUBLIC key,
// but not the private key, tries to get a history other than the one written accepted by the
// writer (reopen with signing) or by the verifier, or to make a reader crash, hang or grow without
// bound instead of failing with a coded AttestationError. Real registrars, real files in a temp
// dir; a read that could block is run in a child process with a generous deadline.
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/attestation/canonical-json.js';
import { checkpointPath, DIGEST_BYTES } from '../../src/attestation/checkpoint.js';
import { MAX_CHECKPOINT_LINE_BYTES } from '../../src/attestation/checkpoint-file.js';
import { AttestationError } from '../../src/attestation/errors.js';
import { iterateAttestationLog } from '../../src/attestation/log-reader.js';
import { recordHash, type Attestation } from '../../src/attestation/record.js';
import { keyIdOf } from '../../src/attestation/signing.js';
import { verifyLog } from '../../src/attestation/verify-log.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHILD = join(ROOT, 'test', 'attestation', 'fixtures', 'read-log.ts');
const keys = generateKeyPairSync('ed25519');
const otherKeys = generateKeyPairSync('ed25519');
const signing = { privateKey: keys.privateKey, everyRecords: 4, everyMs: 0 };
const dir = mkdtempSync(join(tmpdir(), 'forger-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let logNumber = 0;
/** A log written by a registrar with signing on: `count` starts by one agent, closed (so signed through its last record). */
async function signedLog(count: number): Promise<string> {
  logNumber += 1;
  const path = join(dir, `log-${logNumber}.jsonl`);
  const { registrar } = AudioRegistrar.openLog(path, { signing });
  registrar.registerActor('agent:a');
  for (let index = 0; index < count; index += 1) registrar.requestAsHost({ action: 'start', actor: 'agent:a' });
  await registrar.close();
  return path;
}

function recordsOf(path: string): Attestation[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Attestation);
}

/** Renumbers from 1 and recomputes every prevHash and hash (the forger knows the scheme). */
function rechain(records: Attestation[]): Attestation[] {
  let previous = '0'.repeat(64);
  return records.map((record, index) => {
    const body = { ...record, seq: index + 1, prevHash: previous } as Attestation;
    const sealed = { ...body, hash: recordHash(body) };
    previous = sealed.hash;
    return sealed;
  });
}

function text(records: Attestation[]): string {
  return records.map((record) => `${canonicalJson(record)}\n`).join('');
}

/** How a read in a child process ended, or 'deadline' when it had not ended after `deadlineMs`. */
function readInChild(path: string, how: 'verifyLog' | 'iterate' | 'openLog', deadlineMs = 60_000): Promise<{ outcome: string; code?: string | null; seq?: number | null; name?: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, how], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const deadline = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
    child.on('error', reject);
    child.on('exit', () => {
      clearTimeout(deadline);
      const line = stdout.trim().split('\n').at(-1) ?? '';
      if (line.length === 0) resolve({ outcome: 'deadline', name: stderr.slice(0, 500) });
      else resolve(JSON.parse(line) as { outcome: string });
    });
  });
}

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('the writer reopening a signed log', () => {
  it('refuses a sidecar whose last checkpoint names another key: the forger cannot get a re-chained log reopened and signed onward', async () => {
    const path = await signedLog(10);
    // The forger deletes seq 5 and re-chains, then replaces the sidecar with one line: a
    // "checkpoint" of the forged head claiming another key (no valid signature by anyone).
    const forged = rechain(recordsOf(path).filter((record) => record.seq !== 5));
    writeFileSync(path, text(forged));
    const head = forged.at(-1) as Attestation;
    const digests = Buffer.alloc(DIGEST_BYTES * forged.length);
    forged.forEach((record, index) => digests.write(record.hash.slice(0, 2 * DIGEST_BYTES), DIGEST_BYTES * index, 'hex'));
    const fake = { kind: 'checkpoint', v: 1, seq: head.seq, fromSeq: 1, count: head.seq, headHash: head.hash, digests: digests.toString('base64'), time: new Date().toISOString(), keyId: keyIdOf(otherKeys.publicKey), signature: 'AAAA' };
    writeFileSync(checkpointPath(path), `${JSON.stringify(fake)}\n`);

    const error = thrownBy(() => AudioRegistrar.openLog(path, { signing }));
    // Before: it opened, and the writer's next checkpoint (fromSeq 10) signed the forged chain's
    // head; with the fake line removed, verifyLog({ publicKey }) then passed with no unsigned tail.
    expect(error).toBeInstanceOf(AttestationError);
    expect(error).toMatchObject({ code: 'ATTESTATION_CHECKPOINT_INVALID', seq: head.seq });
    expect(readFileSync(checkpointPath(path), 'utf8')).toBe(`${JSON.stringify(fake)}\n`); // nothing signed
  });

  it('a sidecar that is not a regular file (here a directory) is refused on reopen with a code and a seq (it had no seq)', async () => {
    const path = await signedLog(3);
    rmSync(checkpointPath(path));
    mkdirSync(checkpointPath(path));
    const error = thrownBy(() => AudioRegistrar.openLog(path, { signing }));
    expect(error).toBeInstanceOf(AttestationError);
    expect(error).toMatchObject({ code: 'ATTESTATION_IO', seq: 1 });
  });

  it('the verifier refuses a sidecar whose first checkpoint does not start at the chain start (records no digest covers)', async () => {
    const path = await signedLog(10);
    // Drop the first checkpoint (seqs 1..4): the rest still verify by their head hashes, but a
    // sidecar the writer wrote always covers every record from the chain start, one checkpoint after the other.
    const lines = readFileSync(checkpointPath(path), 'utf8').split('\n').filter((line) => line.length > 0);
    writeFileSync(checkpointPath(path), lines.slice(1).map((line) => `${line}\n`).join(''));
    const report = verifyLog(path, { publicKey: keys.publicKey });
    expect(report).toMatchObject({ ok: false, firstBadSeq: 1, errors: [{ seq: 1, invariant: 'checkpoint.gap' }] });
    // A checkpoint dropped between two others.
    writeFileSync(checkpointPath(path), [lines[0], lines[2]].map((line) => `${line ?? ''}\n`).join(''));
    expect(verifyLog(path, { publicKey: keys.publicKey })).toMatchObject({ ok: false, firstBadSeq: 5, errors: [{ seq: 5, invariant: 'checkpoint.gap' }] });
  });
});

describe('a sidecar built to exhaust the reader', () => {
  it('a checkpoint line longer than any checkpoint is refused with a code after reading at most its bound (not read whole, not quadratic)', { timeout: 120_000 }, async () => {
    const path = await signedLog(6);
    // No newline: 64 MiB + 1 of 'a'. Before: each 64 KiB read re-copied the whole partial line
    // (about a minute for this one, hours for 1 GiB) and a line past 512 MiB threw ERR_STRING_TOO_LONG.
    appendFileSync(checkpointPath(path), Buffer.alloc(MAX_CHECKPOINT_LINE_BYTES + 1, 0x61));
    const report = verifyLog(path, { publicKey: keys.publicKey });
    expect(report.ok).toBe(false);
    expect(report.errors).toEqual([expect.objectContaining({ seq: 7, invariant: 'checkpoint.schema' })]);
    const error = thrownBy(() => AudioRegistrar.openLog(path, { signing }));
    expect(error).toBeInstanceOf(AttestationError);
    expect(error).toMatchObject({ code: 'ATTESTATION_CHECKPOINT_CORRUPT' });
    expect((error as AttestationError).seq).toBeTypeOf('number');
  });

  it('a million junk lines: verifyLog answers with a bounded list of problems (it threw a RangeError)', async () => {
    const path = await signedLog(6);
    appendFileSync(checkpointPath(path), 'x\n'.repeat(1_000_000));
    let report: ReturnType<typeof verifyLog> | undefined;
    expect(() => (report = verifyLog(path, { publicKey: keys.publicKey }))).not.toThrow();
    expect(report?.ok).toBe(false);
    expect(report?.firstBadSeq).toBe(7);
    expect(report?.errors.length).toBeLessThanOrEqual(101);
    expect(report?.errors.at(-1)?.message).toMatch(/the rest of .* is not read/);
  });
});

describe('a record nested too deep', () => {
  it('is ATTESTATION_LOG_CORRUPT at its seq for every reader (it was a raw RangeError)', async () => {
    const path = await signedLog(6);
    const lines = readFileSync(path, 'utf8').split('\n');
    const record = JSON.parse(lines[3] ?? '') as Attestation;
    const depth = 100_000;
    lines[3] = JSON.stringify({ ...record, metadata: { deep: '@@' } }).replace('"@@"', `${'['.repeat(depth)}${']'.repeat(depth)}`);
    writeFileSync(path, lines.join('\n'));
    const corrupt = expect.objectContaining({ code: 'ATTESTATION_LOG_CORRUPT', seq: 4 });
    expect(thrownBy(() => [...iterateAttestationLog(path)])).toEqual(corrupt);
    expect(thrownBy(() => AudioRegistrar.replay(iterateAttestationLog(path)))).toEqual(corrupt);
    expect(thrownBy(() => AudioRegistrar.openLog(path, { signing }))).toEqual(corrupt);
    expect(verifyLog(path, { publicKey: keys.publicKey })).toMatchObject({ ok: false, firstBadSeq: 4, errors: [expect.objectContaining({ seq: 4, invariant: 'attestation.schema' })] });
  });
});

describe('a segmented log whose segment is not a regular file', () => {
  async function segmentedLog(): Promise<{ path: string; active: string; firstSeq: number }> {
    logNumber += 1;
    const path = join(dir, `segmented-${logNumber}`);
    const { registrar } = AudioRegistrar.openLog(path, { segmentBytes: 4096 });
    registrar.registerActor('agent:a');
    for (let index = 0; index < 40; index += 1) registrar.requestAsHost({ action: 'start', actor: 'agent:a' });
    await registrar.close();
    const manifest = JSON.parse(readFileSync(join(path, 'manifest.json'), 'utf8')) as { segments: { name: string; firstSeq: number }[] };
    const active = manifest.segments.at(-1) as { name: string; firstSeq: number };
    return { path, active: join(path, active.name), firstSeq: active.firstSeq };
  }

  it('a FIFO in place of the active segment is ATTESTATION_NOT_A_FILE for verify, iterate and open (they blocked forever)', { timeout: 240_000 }, async () => {
    const { path, active, firstSeq } = await segmentedLog();
    rmSync(active);
    execFileSync('mkfifo', [active]);
    for (const how of ['iterate', 'openLog'] as const) {
      expect(await readInChild(path, how), how).toMatchObject({ outcome: 'error', code: 'ATTESTATION_NOT_A_FILE', seq: firstSeq });
    }
    expect(await readInChild(path, 'verifyLog')).toMatchObject({ outcome: 'error', seq: firstSeq });
  });

  it('a FIFO as an extra segment file or as the manifest is refused with a code (reading either blocked forever)', { timeout: 240_000 }, async () => {
    const extra = await segmentedLog();
    execFileSync('mkfifo', [join(extra.path, '000099.jsonl')]);
    expect(await readInChild(extra.path, 'iterate')).toMatchObject({ outcome: 'error', code: 'ATTESTATION_NOT_A_FILE', seq: expect.any(Number) });
    const manifest = await segmentedLog();
    rmSync(join(manifest.path, 'manifest.json'));
    execFileSync('mkfifo', [join(manifest.path, 'manifest.json')]);
    expect(await readInChild(manifest.path, 'openLog')).toMatchObject({ outcome: 'error', code: 'ATTESTATION_MANIFEST_INVALID' });
  });

  it('a symlink in place of a segment (say, to another log\'s file) is ATTESTATION_NOT_A_FILE: the writer never appends through one', async () => {
    const { path, active, firstSeq } = await segmentedLog();
    const elsewhere = join(dir, `elsewhere-${logNumber}.jsonl`);
    writeFileSync(elsewhere, readFileSync(active));
    rmSync(active);
    symlinkSync(elsewhere, active);
    const refused = expect.objectContaining({ code: 'ATTESTATION_NOT_A_FILE', seq: firstSeq });
    expect(thrownBy(() => [...iterateAttestationLog(path)])).toEqual(refused);
    expect(thrownBy(() => AudioRegistrar.openLog(path))).toEqual(refused);
    expect(readFileSync(elsewhere)).toEqual(readFileSync(active)); // nothing appended through it
    expect(existsSync(active)).toBe(true);
  });
});
