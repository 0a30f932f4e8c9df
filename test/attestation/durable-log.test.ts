// The durable attestation log: fsync and group-commit durability, torn-tail detection, tamper
// detection, on real files in a temp dir.
import { appendFileSync, readFileSync, truncateSync, writeFileSync, statSync } from 'node:fs';
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
