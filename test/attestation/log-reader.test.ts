// Reading a log as a stream, on real files: records are handed out as the file is read (a
// corruption planted far ahead after the read began is still found), strict and lenient reads,
// every failure an AttestationError whose code and seq are properties (LOG_CORRUPT names the seq
// the record would have had, never a line number), readAttestationLog honest about loading the
// whole log, and durable log options validated with zod.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DurableLog } from '../../src/attestation/durable-log.js';
import { AttestationError } from '../../src/attestation/errors.js';
import { iterateAttestationLog, MAX_LINE_BYTES, readAttestationLog } from '../../src/attestation/log-reader.js';
import { AttestationStore } from '../../src/attestation/store.js';
import { InputError } from '../../src/errors.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';
import { verify } from '../../src/registrar/verify.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('attestation-reader-');
function tempLog(): string {
  const dir = tempDir();
  return join(dir, 'log.jsonl');
}

/** A closed log of `count` requests (lifecycles over fresh streams, so compaction keeps state small). */
async function logOf(count: number): Promise<string> {
  const path = tempLog();
  const { store } = AttestationStore.open(path, { durability: 'group', groupCommitMs: 0 });
  const registrar = new AudioRegistrar({ store, core: new ReferenceCore() });
  registrar.registerActor('agent:a');
  registrar.registerActor('system:runtime');
  let stream: string | null = null;
  for (let index = 0; index < count; index += 1) {
    const step = index % 4;
    if (step === 0) stream = registrar.requestAsHost({ action: 'start', actor: 'agent:a' }).streamId;
    else registrar.requestAsHost({ action: ['synthesize', 'play', 'stop'][step - 1] ?? 'stop', actor: 'system:runtime', target: stream });
  }
  await registrar.close();
  return path;
}

function caught(run: () => unknown): AttestationError {
  try {
    run();
  } catch (error) {
    if (error instanceof AttestationError) return error;
    throw error;
  }
  throw new Error('expected an AttestationError');
}

describe('streaming a log', () => {
  it('hands records out as it reads: a line corrupted far ahead after the read began is found there, naming its seq', async () => {
    const path = await logOf(4000); // ~4.5 MB: several 1 MiB chunks
    const text = readFileSync(path, 'utf8');
    const lines = text.split('\n');
    const iterator = iterateAttestationLog(path)[Symbol.iterator]();
    expect(iterator.next().value).toMatchObject({ seq: 1 });
    // Had the reader loaded the log up front, it would never see this.
    lines[3499] = 'x'.repeat(lines[3499]!.length);
    writeFileSync(path, lines.join('\n'));
    let seen = 1;
    const error = caught(() => {
      for (let next = iterator.next(); next.done !== true; next = iterator.next()) seen += 1;
    });
    expect(seen).toBe(3499);
    expect(error).toMatchObject({ code: 'ATTESTATION_LOG_CORRUPT', seq: 3500, path });
    expect(error.message).toContain('the record for seq 3500');
  });

  it('strict (default) throws at a torn tail after yielding what precedes it; lenient ends and reports it', async () => {
    const path = await logOf(10);
    appendFileSync(path, '{"v":"2.9.0","seq":');
    const strict = iterateAttestationLog(path);
    const seqs: number[] = [];
    const error = caught(() => {
      for (const record of strict) seqs.push(record.seq);
    });
    expect(seqs).toHaveLength(10);
    expect(error).toMatchObject({ code: 'ATTESTATION_TORN_TAIL', seq: 11 });
    const lenient = iterateAttestationLog(path, { strict: false });
    expect([...lenient]).toHaveLength(10);
    expect(lenient).toMatchObject({ records: 10, lastSeq: 10, problem: null, tornTail: { file: path, lengthBytes: 19 } });
  });

  it('every failure to read is an AttestationError with code and seq as properties', async () => {
    const path = await logOf(6);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    writeFileSync(path, `${[...lines.slice(0, 3), '{"not":"a record"}', ...lines.slice(4)].join('\n')}\n`);
    const corrupt = caught(() => AttestationStore.open(path));
    expect(corrupt).toMatchObject({ code: 'ATTESTATION_LOG_CORRUPT', seq: 4 });
    expect(corrupt.message).not.toMatch(/line \d/);
    expect(caught(() => AudioRegistrar.openLog(path))).toMatchObject({ code: 'ATTESTATION_LOG_CORRUPT', seq: 4 });
    expect(readAttestationLog(path)).toMatchObject({ records: { length: 3 }, problem: { code: 'ATTESTATION_LOG_CORRUPT', seq: 4 } });
    // The seq is the last good record's + 1, or, before any, the start's + 1 (a log continuing a snapshot).
    writeFileSync(path, `garbage\n${lines.join('\n')}\n`);
    expect(caught(() => [...iterateAttestationLog(path)])).toMatchObject({ code: 'ATTESTATION_LOG_CORRUPT', seq: 1 });
    expect(caught(() => [...iterateAttestationLog(path, { afterSeq: 100 })])).toMatchObject({ code: 'ATTESTATION_LOG_CORRUPT', seq: 101 });
    expect(caught(() => AttestationStore.open(path, { head: { seq: 100, hash: 'a'.repeat(64) } }))).toMatchObject({ code: 'ATTESTATION_LOG_CORRUPT', seq: 101 });
    const missing = join(path, 'nope.jsonl');
    expect(caught(() => [...iterateAttestationLog(missing)])).toMatchObject({ code: 'ATTESTATION_IO', seq: 1, path: missing });
    expect(caught(() => readAttestationLog(missing))).toMatchObject({ code: 'ATTESTATION_IO', seq: 1 });
    expect(caught(() => AttestationStore.open(missing))).toMatchObject({ code: 'ATTESTATION_IO' });
  });

  it('a line longer than any record (MAX_LINE_BYTES) is corruption, not held in memory waiting for its newline', async () => {
    const path = await logOf(2);
    appendFileSync(path, Buffer.alloc(MAX_LINE_BYTES + 1, 0x78));
    expect(caught(() => [...iterateAttestationLog(path)])).toMatchObject({ code: 'ATTESTATION_LOG_CORRUPT', seq: 3 });
  });

  it('readAttestationLog loads the whole log and says so: beyond maxBytes it refuses with ATTESTATION_LOG_TOO_LARGE', async () => {
    const path = await logOf(20);
    expect(readAttestationLog(path).records).toHaveLength(20);
    const error = caught(() => readAttestationLog(path, { maxBytes: 1000 }));
    expect(error).toMatchObject({ code: 'ATTESTATION_LOG_TOO_LARGE', seq: 1 });
    expect(error.message).toContain('iterateAttestationLog');
    expect(() => readAttestationLog(path, { maxBytes: -1 })).toThrow(InputError);
  });

  it('open keeps a window of a long log, and verify over the stream equals verify over the whole array', async () => {
    const path = await logOf(6000);
    const { store, report } = AttestationStore.open(path, { memoryRecords: 100 });
    expect(report.records).toBe(6000);
    expect(store.memorySize).toBeLessThanOrEqual(100);
    await store.close();
    const whole = readAttestationLog(path).records;
    const streamed = verify(iterateAttestationLog(path), { replay: true });
    expect(streamed).toMatchObject({ ok: true, records: 6000 });
    expect(streamed).toEqual(verify(whole, { replay: true }));
    // The same holds for a broken log: one pass reports what the array pass reports.
    const tampered = whole.map((record) => (record.seq === 3000 ? { ...record, message: 'edited' } : record));
    const lines = tampered.map((record) => JSON.stringify(record));
    writeFileSync(path, `${lines.join('\n')}\n`);
    expect(verify(iterateAttestationLog(path))).toEqual(verify(tampered));
    expect(verify(iterateAttestationLog(path)).errors[0]).toMatchObject({ seq: 3000, invariant: 'attestation.hash' });
  });

  it('replay and restore take a stream of records: openLog and AudioRegistrar.replay(iterateAttestationLog(path)) agree', async () => {
    const path = await logOf(500);
    const replayed = AudioRegistrar.replay(iterateAttestationLog(path), { core: new ReferenceCore() });
    const opened = AudioRegistrar.openLog(path, { core: new ReferenceCore() });
    expect(replayed.stateHash()).toBe(opened.registrar.stateHash());
    expect(replayed.attestationStore.lastSeq).toBe(500);
    await opened.registrar.close();
  });
});

describe('durable log options are validated with zod', () => {
  const bad: [string, Record<string, unknown>, string][] = [
    ['an unknown durability mode', { durability: 'sync' }, 'options.durability'],
    ['any other string', { durability: 'FSYNC' }, 'options.durability'],
    ['a negative window', { durability: 'group', groupCommitMs: -5 }, 'options.groupCommitMs'],
    ['a window that is not a number', { durability: 'group', groupCommitMs: '2' }, 'options.groupCommitMs'],
    ['a window for fsync mode', { groupCommitMs: 2 }, 'options.groupCommitMs'],
    ['an unknown option', { durabilty: 'group' }, 'options'],
  ];
  it.each(bad)('%s is an InputError naming the field, from every way of opening a log', (_what, options, field) => {
    for (const open of [() => AttestationStore.open(tempLog(), options), () => DurableLog.open(tempLog(), options), () => AudioRegistrar.openLog(tempLog(), options)]) {
      let error: unknown;
      try {
        open();
      } catch (caughtError) {
        error = caughtError;
      }
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).field).toBe(field);
    }
  });

  it('the modes that exist open as named', async () => {
    const group = AttestationStore.open(tempLog(), { durability: 'group', groupCommitMs: 0 });
    expect(group.store.durability).toBe('group');
    const fsync = AttestationStore.open(tempLog(), { durability: 'fsync' });
    expect(fsync.store.durability).toBe('fsync');
    await Promise.all([group.store.close(), fsync.store.close()]);
  });
});
