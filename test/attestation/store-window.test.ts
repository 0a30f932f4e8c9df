// A durable store keeps a bounded window of records in memory (memoryRecords) and reads older ones
// back from its log through a sparse seq -> offset index: every read beyond the window equals what
// was written, records not yet written are never dropped, a reopened long log keeps only the
// window, and a record changed on disk under the store is caught, not served.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAttestationLog } from '../../src/attestation/durable-log.js';
import { canonicalJson } from '../../src/attestation/canonical-json.js';
import type { AttestationError } from '../../src/attestation/errors.js';
import { AttestationStore } from '../../src/attestation/store.js';
import { InputError } from '../../src/errors.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('attestation-window-');
function tempLog(): string {
  const dir = tempDir();
  return join(dir, 'log.jsonl');
}

/** `count` requests (utterance lifecycles over a few named streams, some denials) on `registrar`. */
function run(registrar: AudioRegistrar, count: number): void {
  const steps = ['start', 'synthesize', 'play', 'interrupt', 'stop'];
  for (let index = 0; index < count; index += 1) {
    const lifecycle = Math.floor(index / steps.length);
    registrar.requestAsHost({ action: steps[index % steps.length] ?? 'start', actor: index % 11 === 0 ? 'agent:b' : 'agent:a', target: `s-${lifecycle}` });
  }
}

function registrarOn(store: AttestationStore): AudioRegistrar {
  const registrar = new AudioRegistrar({ store, core: new ReferenceCore() });
  registrar.registerActor('agent:a');
  registrar.registerActor('agent:b');
  return registrar;
}

describe('durable store window', () => {
  it('keeps memoryRecords in memory; bySeq, query, records, all and export beyond it equal what was written', async () => {
    const path = tempLog();
    const { store } = AttestationStore.open(path, { durability: 'fsync', memoryRecords: 50 });
    const registrar = registrarOn(store);
    run(registrar, 2600);
    expect(store.size).toBe(2600);
    expect(store.memorySize).toBe(50); // fsync: every record is written, so the window is exact
    expect(store.indexEntries).toBe(Math.ceil(2600 / 1024)); // one entry per 1,024 records
    const written = readAttestationLog(path).records;
    expect(written).toHaveLength(2600);
    // Reads from the log (before the window), across index blocks, and from memory.
    for (const seq of [1, 2, 1023, 1024, 1025, 2048, 2049, 2550, 2551, 2600]) expect(store.bySeq(seq)).toEqual(written[seq - 1]);
    expect(store.bySeq(0)).toBeUndefined();
    expect(store.bySeq(2601)).toBeUndefined();
    expect(store.all()).toEqual(written);
    expect([...store.records(1500)]).toEqual(written.slice(1499));
    expect(store.query({ target: 's-3' })).toEqual(written.filter((record) => record.target === 's-3'));
    expect(store.query({ decision: 'denied', actor: 'agent:b' })).toEqual(written.filter((record) => record.decision === 'denied' && record.actor?.id === 'b'));
    expect(store.export()).toBe(readFileSync(path, 'utf8'));
    expect(store.export()).toBe(written.map((record) => `${canonicalJson(record)}\n`).join(''));
    await registrar.close();
  });

  it('group mode: records not yet written stay in memory whatever the window, and go once written', async () => {
    const path = tempLog();
    const { store } = AttestationStore.open(path, { durability: 'group', groupCommitMs: 20, memoryRecords: 10 });
    const registrar = registrarOn(store);
    run(registrar, 300); // one burst: nothing is written before the event loop turns
    expect(store.memorySize).toBe(300);
    expect(store.bySeq(1)?.seq).toBe(1);
    await registrar.flush();
    run(registrar, 1); // the next append drops what the window no longer needs
    expect(store.memorySize).toBe(10);
    await registrar.flush();
    expect(store.all()).toEqual(readAttestationLog(path).records);
    await registrar.close();
  });

  it('reopening a long log keeps only the window, and openLog replays it and continues the chain', async () => {
    const path = tempLog();
    const first = registrarOn(AttestationStore.open(path, { durability: 'fsync', memoryRecords: 100 }).store);
    run(first, 3100);
    const hash = first.stateHash();
    await first.close();
    const { store, report } = AttestationStore.open(path, { memoryRecords: 40 });
    expect(report.records).toBe(3100);
    expect(store.memorySize).toBe(40);
    expect(store.all()).toEqual(readAttestationLog(path).records);
    await store.close();
    const { registrar } = AudioRegistrar.openLog(path, { core: new ReferenceCore(), memoryRecords: 40 });
    expect(registrar.stateHash()).toBe(hash);
    registrar.registerActor('agent:a');
    const next = registrar.requestAsHost({ action: 'start', actor: 'agent:a', target: 'after-reopen' });
    expect(next.attestation.seq).toBe(3101);
    expect(next.attestation.prevHash).toBe(readAttestationLog(path).records[3099]?.hash);
    expect(registrar.attestationStore.memorySize).toBeLessThanOrEqual(41);
    await registrar.close();
  });

  it('a record changed on disk beyond the window is caught: bySeq reports the log failed, reads throw', async () => {
    const path = tempLog();
    const { store } = AttestationStore.open(path, { durability: 'fsync', memoryRecords: 20 });
    const registrar = registrarOn(store);
    run(registrar, 200);
    const failures: AttestationError[] = [];
    store.onFailure((error) => failures.push(error));
    const text = readFileSync(path, 'utf8');
    // Same length, different content: the index still points at the line, the hash no longer matches.
    writeFileSync(path, text.replace('"decision":"denied"', '"decision":"DENIED"'));
    expect(store.bySeq(5)?.seq).toBe(5); // an untouched line still reads back
    const tampered = readAttestationLog(path).problem?.seq ?? 0; // the seq of the bad line (last good + 1)
    expect(tampered).toBeGreaterThan(0);
    expect(store.bySeq(tampered)).toBeUndefined();
    expect(failures.map((error) => error.code)).toEqual(['ATTESTATION_LOG_CORRUPT']);
    expect(() => store.all()).toThrow(expect.objectContaining({ code: 'ATTESTATION_LOG_CORRUPT' }));
    await registrar.close();
  });

  it('a memory store keeps every record; memoryRecords without a log is an InputError naming the field', () => {
    const store = new AttestationStore();
    run(registrarOn(store), 1500);
    expect(store.memorySize).toBe(1500);
    expect(store.indexEntries).toBe(0);
    expect(() => new AttestationStore({ memoryRecords: 10 })).toThrow(InputError);
    expect(() => new AttestationStore({ memoryRecords: 10 })).toThrow(/memoryRecords/);
    expect(() => AttestationStore.open(tempLog(), { memoryRecords: 0 })).toThrow(/options\.memoryRecords/);
  });

  it("a memory store with retain: 'window' (what recover() rebuilds into) keeps only the last memoryRecords", () => {
    const store = new AttestationStore({ retain: 'window', memoryRecords: 40 });
    run(registrarOn(store), 1500);
    expect(store.memorySize).toBe(40);
    expect(store.lastSeq).toBe(1500);
    expect(store.bySeq(1461)?.seq).toBe(1461);
    expect(store.bySeq(1460)).toBeUndefined(); // forgotten: no log to read it back from
  });

  it('reads beyond the window really come from the log file: with the file emptied they go unanswered', async () => {
    // Had the store kept everything in memory, the first test would pass without its index; here it cannot.
    const path = tempLog();
    const { store } = AttestationStore.open(path, { durability: 'fsync', memoryRecords: 30 });
    const registrar = registrarOn(store);
    run(registrar, 100);
    writeFileSync(path, '');
    expect(store.bySeq(1)).toBeUndefined();
    expect(store.bySeq(100)?.seq).toBe(100); // in memory
    await registrar.close();
  });
});
