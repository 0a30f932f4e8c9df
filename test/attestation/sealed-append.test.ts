// fsync mode's one-call append (native/binding/log_append_wrap.cc via durable-log.ts appendSealed):
// the addon hashes a record's canonical text, writes its line and fdatasyncs it. On real files:
// its hash and line are byte for byte what the JS sealing makes (hostile texts included), an
// fsync store's log is the canonical JSON of its records and reopens with every hash recomputed
// in JS; a failed write is ATTESTATION_IO and halts; a planted hash over another text
// than the record's fails verify().
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../src/attestation/canonical-json.js';
import type { Attestation } from '../../src/attestation/record.js';
import { recordText } from '../../src/attestation/record-text.js';
import { AttestationStore } from '../../src/attestation/store.js';
import { nativeBinding } from '../../src/native/loader.js';
import { SEALED_APPEND_OK, SEALED_APPEND_OUT_SLOTS, SEALED_APPEND_WRITE_FAILED } from '../../src/native/log-binding.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';
import { verify } from '../../src/registrar/verify.js';
import { waitUntil } from '../helpers/waiting.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('sealed-append-');

/** Texts a record's halves may hold: multi-byte UTF-8, surrogate pairs, escapes, a line longer than any earlier one. */
const TEXTS: [string, string][] = [
  ['{"a":"plain"', ',"z":1}'],
  ['{"a":"äöü ß é — 中文 한국어"', ',"b":"😀👨‍👩‍👧‍👦🏳️‍🌈"}'],
  ['{"a":"\\u0000\\n\\"\\\\"', ',"b":"\\ud800"}'],
  [`{"a":"${'x'.repeat(20_000)}"`, `,"b":"${'é'.repeat(5000)}"}`],
  ['{', '}'],
];

/** A registrar (reference core) on an `fsync` store at `path`, with `agent:a` registered. */
function fsyncRegistrar(path: string): { store: AttestationStore; registrar: AudioRegistrar } {
  const { store } = AttestationStore.open(path, { durability: 'fsync' });
  const registrar = new AudioRegistrar({ store, core: new ReferenceCore() });
  registrar.registerActor('agent:a');
  return { store, registrar };
}

describe('one-call sealed append (fsync mode)', () => {
  it('hashes head + tail as the JS sealing does and writes head,"hash":"…"tail and a newline, byte for byte', () => {
    const path = join(tempDir(), 'lines.jsonl');
    const fd = openSync(path, 'a');
    const out = new Float64Array(SEALED_APPEND_OUT_SLOTS);
    let expected = '';
    try {
      for (const [head, tail] of TEXTS) {
        const hash = nativeBinding().appendSealedLine(fd, head, tail, out);
        expect(hash).toBe(sha256Hex(head + tail));
        const line = `${head},"hash":"${hash}"${tail}\n`;
        expect([...out]).toEqual([Buffer.byteLength(line, 'utf8'), SEALED_APPEND_OK, 0]);
        expected += line;
      }
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(path, 'utf8')).toBe(expected);
  });

  it('a write to a closed descriptor reports WRITE_FAILED with EBADF and nothing written', () => {
    const fd = openSync(join(tempDir(), 'closed.jsonl'), 'a');
    closeSync(fd);
    const out = new Float64Array(SEALED_APPEND_OUT_SLOTS);
    expect(nativeBinding().appendSealedLine(fd, '{"a":1', '}', out)).toBe(sha256Hex('{"a":1}'));
    expect([...out]).toEqual([0, SEALED_APPEND_WRITE_FAILED, 9]); // EBADF
  });

  it('an fsync store\'s log is, line for line, the canonical JSON of its records (serialised in JS), every hash recomputes in JS, and it reopens', async () => {
    const path = join(tempDir(), 'log.jsonl');
    const { store, registrar } = fsyncRegistrar(path);
    registrar.requestAsHost({ action: 'start', actor: 'agent:a', target: 's1', reason: 'äöü — 中文 😀 "quoted" \\ back\nslash' });
    for (const [head, tail] of TEXTS) registrar.requestAsHost({ action: 'compile', actor: 'agent:a', target: 's1', metadata: { head, tail } });
    registrar.requestAsHost({ action: 'stop', actor: 'agent:ghost', target: 's1' }); // denied: a reason and a message
    const records = store.all();
    expect(records).toHaveLength(TEXTS.length + 2);
    expect(readFileSync(path, 'utf8')).toBe(records.map((record) => `${canonicalJson(record)}\n`).join(''));
    expect(verify(records).ok).toBe(true); // prevHash links and each hash recomputed from the record (JS)
    await registrar.close();
    const reopened = AudioRegistrar.openLog(path, { core: new ReferenceCore() });
    expect(reopened.report.records).toBe(TEXTS.length + 2);
    expect(reopened.registrar.attestationStore.lastHash).toBe(records.at(-1)?.hash);
    await reopened.registrar.close();
  });

  it('a failed write is ATTESTATION_IO naming EBADF on the result, and halts the registrar', async () => {
    const { store, registrar } = fsyncRegistrar(join(tempDir(), 'log.jsonl'));
    registrar.requestAsHost({ action: 'start', actor: 'agent:a', target: 's1' });
    closeSync((store as unknown as { log: { fd: number } }).log.fd); // the next write fails with EBADF
    const failed = registrar.requestAsHost({ action: 'compile', actor: 'agent:a', target: 's1' });
    await expect(failed.durable).rejects.toMatchObject({ code: 'ATTESTATION_IO', seq: 2, message: expect.stringMatching(/EBADF: write failed/) });
    await waitUntil(() => registrar.halted, 'the failed write to halt the registrar');
    expect(failed.attestation.hash).toBe(store.lastHash);
    (store as unknown as { log: { fd: number | null } }).log.fd = null; // closed above already
    await registrar.close();
  });

  it('the hash the addon returns is the JS hash of the record\'s canonical text; a planted one over another text fails verify()', async () => {
    const path = join(tempDir(), 'log.jsonl');
    const { store, registrar } = fsyncRegistrar(path);
    registrar.requestAsHost({ action: 'start', actor: 'agent:a', target: 's1', reason: 'ünïcödé 😀' });
    const record = store.all()[0] as Attestation;
    await registrar.close();
    const { head, tail } = recordText(record, record.prevHash);
    const scratch = openSync(join(tempDir(), 'scratch.jsonl'), 'a');
    const out = new Float64Array(SEALED_APPEND_OUT_SLOTS);
    try {
      expect(nativeBinding().appendSealedLine(scratch, head, tail, out)).toBe(record.hash);
      // A faulty appender that hashed another text (one trailing byte more) than the record's.
      const planted = nativeBinding().appendSealedLine(scratch, head, `${tail} `, out) as string;
      expect(planted).not.toBe(record.hash);
      const report = verify([{ ...record, hash: planted }]);
      expect(report.ok).toBe(false);
      expect(report.errors[0]).toMatchObject({ seq: 1 });
    } finally {
      closeSync(scratch);
    }
  });
});
