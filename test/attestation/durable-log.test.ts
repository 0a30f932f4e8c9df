// The durable attestation log: fsync and group-commit durability, torn-tail detection, tamper
// detection, on real files in a temp dir.
import { execFileSync } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AttestationError } from '../../src/attestation/errors.js';
import { readAttestationLog } from '../../src/attestation/durable-log.js';
import { AttestationStore } from '../../src/attestation/store.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';
import { verify } from '../../src/registrar/verify.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('attestation-');
function tempLog(): string {
  const dir = tempDir();
  return join(dir, 'log.jsonl');
}

function registrarOn(store: AttestationStore): AudioRegistrar {
  const registrar = new AudioRegistrar({ store, core: new ReferenceCore() });
  registrar.registerActor('agent:a');
  return registrar;
}

describe('durable attestation log', () => {
  it('fsync mode: each record is on disk when request() returns', async () => {
    const path = tempLog();
    const { store, report } = AttestationStore.open(path, { durability: 'fsync' });
    expect(report).toEqual({ records: 0, tornTail: null });
    expect(store.durability).toBe('fsync');
    const registrar = registrarOn(store);
    const result = registrar.requestAsHost({ action: 'start', actor: 'agent:a', target: 's1' });
    const onDisk = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(onDisk).toHaveLength(1);
    expect(JSON.parse(onDisk[0] ?? '')).toEqual(JSON.parse(JSON.stringify(result.attestation)));
    await expect(result.durable).resolves.toBeUndefined();
    await registrar.close();
  });

  it('group mode: records are acknowledged (durable resolves) only once their batch is written', async () => {
    const path = tempLog();
    const { store } = AttestationStore.open(path, { durability: 'group', groupCommitMs: 20 });
    const registrar = registrarOn(store);
    const results = Array.from({ length: 5 }, (_, index) => registrar.requestAsHost({ action: 'start', actor: 'agent:a', target: `s${index}` }));
    expect(statSync(path).size).toBe(0);
    let acknowledged = 0;
    for (const result of results) void result.durable.then(() => (acknowledged += 1));
    await Promise.all(results.map((result) => result.durable));
    expect(acknowledged).toBe(5);
    expect(readFileSync(path, 'utf8').trimEnd().split('\n')).toHaveLength(5);
    const more = registrar.requestAsHost({ action: 'compile', actor: 'agent:a', target: 's0' });
    await registrar.flush();
    await more.durable;
    expect(readFileSync(path, 'utf8').trimEnd().split('\n')).toHaveLength(6);
    await registrar.close();
    await registrar.close();
  });

  it('a torn tail is detected and reported, never replayed; repairTornTail cuts it off', async () => {
    const path = tempLog();
    const { store } = AttestationStore.open(path);
    const registrar = registrarOn(store);
    for (const target of ['s1', 's2', 's3']) registrar.requestAsHost({ action: 'start', actor: 'agent:a', target });
    await registrar.close();
    const whole = readFileSync(path);
    const cut = whole.length - 40;
    truncateSync(path, cut);
    const lastComplete = whole.subarray(0, cut).lastIndexOf(0x0a) + 1;
    expect(readAttestationLog(path).tornTail).toEqual({ file: path, offsetBytes: lastComplete, lengthBytes: cut - lastComplete });
    let error: AttestationError | undefined;
    try {
      AttestationStore.open(path);
    } catch (caught) {
      error = caught as AttestationError;
    }
    expect(error?.code).toBe('ATTESTATION_TORN_TAIL');
    expect(error?.seq).toBe(3); // the record that was being written
    expect(error?.message).toMatch(/ends in a torn record .* after seq 2; it is not replayed/);
    const repaired = AttestationStore.open(path, { repairTornTail: true });
    expect(repaired.report).toEqual({ records: 2, tornTail: { file: path, offsetBytes: lastComplete, lengthBytes: cut - lastComplete } });
    expect(statSync(path).size).toBe(lastComplete);
    const resumed = AudioRegistrar.replay(repaired.store.all(), { store: repaired.store, core: new ReferenceCore() });
    expect(resumed.requestAsHost({ action: 'start', actor: 'agent:a', target: 's3' }).attestation.seq).toBe(3);
    await resumed.close();
    expect(verify(readAttestationLog(path).records).ok).toBe(true);
  });

  it('tampering is detected on open (chain broken) and by verify', async () => {
    const path = tempLog();
    const { store } = AttestationStore.open(path);
    const registrar = registrarOn(store);
    for (const target of ['s1', 's2', 's3']) registrar.requestAsHost({ action: 'start', actor: 'agent:a', target });
    await registrar.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    lines[1] = (lines[1] ?? '').replace('"decision":"allowed"', '"decision":"denied"');
    writeFileSync(path, lines.join('\n'));
    expect(() => AttestationStore.open(path)).toThrow(expect.objectContaining({ code: 'ATTESTATION_CHAIN_BROKEN', seq: 2 }));
    expect(verify(readAttestationLog(path).records).errors[0]).toMatchObject({ seq: 2, invariant: 'attestation.hash' });
  });

  it('a complete line that is not a record is corruption, not a torn tail', () => {
    const path = tempLog();
    writeFileSync(path, '');
    appendFileSync(path, '{"not":"a record"}\n');
    expect(() => AttestationStore.open(path)).toThrow(expect.objectContaining({ code: 'ATTESTATION_LOG_CORRUPT' }));
    writeFileSync(path, 'garbage\n');
    expect(readAttestationLog(path).problem).toMatchObject({ code: 'ATTESTATION_LOG_CORRUPT', seq: 1, message: expect.stringMatching(/the record for seq 1 \(at byte 0\) is not JSON/) });
  });

  it('an unreadable path is an ATTESTATION_IO error naming it', () => {
    expect(() => readAttestationLog('/nonexistent/dir/log.jsonl')).toThrow(expect.objectContaining({ code: 'ATTESTATION_IO', path: '/nonexistent/dir/log.jsonl' }));
    expect(() => AttestationStore.open('/nonexistent/dir/log.jsonl')).toThrow(expect.objectContaining({ code: 'ATTESTATION_IO' }));
  });
});

/** Whether files here can be made immutable (`chattr +i`: root on a file system that has the flag), so writes to them fail with EPERM. */
function immutableFiles(): boolean {
  const probe = join(tempDir(), 'probe');
  writeFileSync(probe, '');
  try {
    execFileSync('chattr', ['+i', probe], { stdio: 'ignore' });
    execFileSync('chattr', ['-i', probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const chattr = (flag: '+i' | '-i', path: string) => execFileSync('chattr', [flag, path]);

describe.skipIf(!immutableFiles())('a log the disk stops accepting (made immutable: writes fail with EPERM)', () => {
  it.each([{ durability: 'fsync' }, { durability: 'group', groupCommitMs: 0 }, { durability: 'fsync', segmentBytes: 4096 }, { durability: 'group', groupCommitMs: 0, segmentBytes: 4096 }] as const)(
    '%o: the next write halts the registrar, nothing after it is acknowledged; the log reopens read-only as ATTESTATION_IO, and as it was once writable',
    async (options) => {
      const path = tempLog();
      const { store } = AttestationStore.open(path, options);
      const registrar = registrarOn(store);
      const acknowledged: number[] = [];
      for (let index = 0; index < 12; index += 1) {
        const result = registrar.requestAsHost({ action: index % 2 === 0 ? 'start' : 'compile', actor: 'agent:a', target: `s${index >> 1}` });
        await result.durable;
        acknowledged.push(result.attestation.seq);
      }
      // A segmented log's active segment and its directory (a rotation creates a file there): both refuse writes.
      const locked = 'segmentBytes' in options ? [path, ...readdirSync(path).map((name) => join(path, name))] : [path];
      for (const file of locked) chattr('+i', file);
      try {
        const refused: Promise<unknown>[] = [];
        for (let index = 0; index < 12 && !registrar.halted; index += 1) {
          const result = registrar.requestAsHost({ action: 'start', actor: 'agent:a', target: `late${index}` });
          refused.push(result.durable.then(() => `seq ${result.attestation.seq} durable`, (error: AttestationError) => error.code));
          await Promise.resolve();
        }
        expect(registrar.halted).toBe(true);
        expect(registrar.haltCause?.cause).toBe('attestation_io');
        expect(new Set(await Promise.all(refused))).toEqual(new Set(['ATTESTATION_IO']));
        await registrar.close();
        // Reopened while the file is still immutable: an error naming the code, not a crash.
        expect(() => AttestationStore.open(path, options)).toThrow(expect.objectContaining({ code: 'ATTESTATION_IO' }));
      } finally {
        for (const file of locked) chattr('-i', file);
      }
      const reopened = AttestationStore.open(path, { ...options, repairTornTail: true });
      expect(reopened.store.lastSeq).toBe(acknowledged.length);
      expect(verify([...reopened.store.records()])).toMatchObject({ ok: true });
      await reopened.store.close();
    },
  );
});

describe('attestation store', () => {
  it('rejects a seq that does not follow the head, and a chain that does not continue', () => {
    const store = new AttestationStore();
    const registrar = registrarOn(store);
    registrar.requestAsHost({ action: 'start', actor: 'agent:a', target: 's1' });
    const other = new AttestationStore();
    const record = store.all()[0];
    expect(() => other.adopt([{ ...record!, seq: 2 }])).toThrow(expect.objectContaining({ code: 'ATTESTATION_CHAIN_BROKEN' }));
    expect(() => other.adopt([{ ...record!, prevHash: 'f'.repeat(64) }])).toThrow(expect.objectContaining({ code: 'ATTESTATION_CHAIN_BROKEN', seq: 1 }));
    other.adopt(store.all());
    expect(other.lastHash).toBe(store.lastHash);
  });
});
