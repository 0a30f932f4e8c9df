// A memory store seals off the request path (store.ts `stage`): records are staged unsealed and
// sealed in batches. These tests hold it to its contract: every way out of the store or the
// registrar gives the sealed, frozen record (hash filled, chain linked), the chain is the one
// inline sealing makes, a body sealing would refuse is refused when staged, and the staged records
// are sealed when the synchronous run ends even if nobody reads them.
import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../src/attestation/canonical-json.js';
import { GENESIS_HASH, sealRecordWithLine, type Attestation, type AttestationBody } from '../../src/attestation/record.js';
import { AttestationStore, STAGE_BATCH } from '../../src/attestation/store.js';
import { readerOf } from '../../src/engine/registrar-reader.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { verify } from '../../src/registrar/verify.js';

/** Whether a record is sealed as the log holds it: frozen, its hash the SHA-256 of its canonical text, linked after `prevHash`. */
function sealedProblem(record: Attestation, prevHash: string): string | null {
  if (!Object.isFrozen(record)) return `seq ${record.seq}: not frozen`;
  if (record.prevHash !== prevHash) return `seq ${record.seq}: prevHash ${JSON.stringify(record.prevHash)} does not link`;
  const { hash: _hash, ...rest } = record;
  void _hash;
  if (record.hash !== sha256Hex(canonicalJson(rest))) return `seq ${record.seq}: hash ${JSON.stringify(record.hash)} is not the record's`;
  return null;
}

function body(seq: number, extra: Partial<AttestationBody> = {}): AttestationBody {
  return {
    v: '2.9.0', seq, id: `log.${seq}`, timestamp: { wall: '2026-01-01T00:00:00.000Z', monotonicNs: String(seq) },
    actor: { id: 'a', kind: 'agent' }, action: 'start', target: `s${seq}`, decision: 'allowed', reason: null, message: 'm',
    invariants: ['ordering.gap_free'], violations: [], accessibility: false, parent: null, stateBefore: null, stateAfter: 'created',
    version: 1, parameters: {}, metadata: { created: true }, ...extra,
  };
}

function fixture(): { registrar: AudioRegistrar; play: () => ReturnType<AudioRegistrar['request']> } {
  const registrar = new AudioRegistrar();
  const agent = registrar.registerActor('agent:owner');
  registrar.request({ action: 'start', actor: agent, target: 's1' });
  return { registrar, play: () => registrar.request({ action: 'compile', actor: agent, target: 's1', reason: 'again' }) };
}

describe('sealing off the request path (memory store)', () => {
  it('every read in the same synchronous run gets the sealed record: result, bySeq, records, all, query, export, lastHash, snapshot, reader', () => {
    const { registrar, play } = fixture();
    const first = play();
    const second = play();
    const store = registrar.attestationStore;
    // Nothing awaited: the records were staged, each read below must seal them first.
    const viaBySeq = store.bySeq(store.lastSeq - 1) as Attestation; // lastSeq is known without sealing
    expect(sealedProblem(viaBySeq, store.bySeq(viaBySeq.seq - 1)?.hash ?? GENESIS_HASH)).toBeNull();
    expect(sealedProblem(second.attestation, first.attestation.hash)).toBeNull();
    expect(first.attestation).toBe(store.bySeq(first.attestation.seq)); // one record object, sealed in place
    let prevHash = GENESIS_HASH;
    for (const record of store.records()) {
      expect(sealedProblem(record, prevHash)).toBeNull();
      prevHash = record.hash;
    }
    expect(store.lastHash).toBe(prevHash);
    const third = play();
    expect(store.all().at(-1)).toBe(third.attestation);
    expect(sealedProblem(store.query({ target: 's1' }).at(-1) as Attestation, third.attestation.prevHash)).toBeNull();
    play();
    expect(verify(store.export().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as unknown), { replay: true }).errors).toEqual([]);
    const fifth = play();
    const [fromReader] = readerOf(registrar).attestations(1); // an engine's read-only face
    expect(fromReader).toBe(fifth.attestation);
    expect(sealedProblem(fromReader as Attestation, store.bySeq(fifth.attestation.seq - 1)?.hash ?? '')).toBeNull();
    const fourth = play();
    expect(registrar.snapshot().lastHash).toBe(fourth.attestation.hash);
    expect(sealedProblem(fourth.attestation, store.bySeq(fourth.attestation.seq - 1)?.hash ?? '')).toBeNull();
  });

  it('a transition listener, told inside request(), reads the sealed record of the decision it hears about', () => {
    const { registrar, play } = fixture();
    const heard: (string | null)[] = [];
    registrar.onTransition((event) => {
      const record = registrar.attestationStore.bySeq(event.seq) as Attestation;
      heard.push(sealedProblem(record, registrar.attestationStore.bySeq(event.seq - 1)?.hash ?? ''));
    });
    const result = play();
    play();
    expect(heard).toEqual([null, null]);
    expect(sealedProblem(result.attestation, registrar.attestationStore.bySeq(result.attestation.seq - 1)?.hash ?? '')).toBeNull();
  });

  it('the check above catches a record handed out unsealed (planted: a staged record read before sealing)', () => {
    const store = new AttestationStore();
    const { record } = store.stage(body(1));
    expect(record.hash).toBe('');
    expect(sealedProblem(record, GENESIS_HASH)).toMatch(/seq 1: not frozen/);
    store.seal();
    expect(sealedProblem(record, GENESIS_HASH)).toBeNull();
  });

  it('gives the chain inline sealing gives, byte for byte, across more than one batch', () => {
    const staged = new AttestationStore();
    const count = STAGE_BATCH * 2 + 7;
    const records: Attestation[] = [];
    for (let seq = 1; seq <= count; seq += 1) records.push(staged.stage(body(seq, seq % 3 === 0 ? { parameters: { reason: `r${seq}` } } : {})).record);
    let prevHash = GENESIS_HASH;
    const lines: string[] = [];
    for (let seq = 1; seq <= count; seq += 1) {
      const sealed = sealRecordWithLine(body(seq, seq % 3 === 0 ? { parameters: { reason: `r${seq}` } } : {}), prevHash);
      lines.push(sealed.line);
      prevHash = sealed.record.hash;
    }
    expect(staged.lastHash).toBe(prevHash);
    expect(records.map((record) => canonicalJson(record))).toEqual(lines);
  });

  it('staged records are sealed when the synchronous run ends, without any read', async () => {
    const store = new AttestationStore();
    const { record } = store.stage(body(1));
    const { record: next } = store.stage(body(2));
    expect([record.hash, next.hash]).toEqual(['', '']);
    await Promise.resolve();
    expect(sealedProblem(record, GENESIS_HASH)).toBeNull();
    expect(sealedProblem(next, record.hash)).toBeNull();
  });

  it('a body sealing would refuse is refused when it is staged, and the store is unchanged', () => {
    const store = new AttestationStore();
    store.stage(body(1));
    expect(() => store.stage(body(2, { metadata: { bad: Number.NaN } }))).toThrowError(/non-finite number NaN/);
    // Any other field that would not serialise is sealed at once, so it throws here, not in a later batch.
    expect(() => store.stage(body(2, { version: Number.POSITIVE_INFINITY }))).toThrowError(/non-finite number Infinity/);
    expect(() => store.stage(body(2, { id: undefined as unknown as string }))).toThrowError(/cannot serialise a undefined/);
    expect(() => store.stage(body(2, { invariants: [1n as unknown as string] }))).toThrowError(/cannot serialise a bigint/);
    expect(store.lastSeq).toBe(1);
    expect(() => store.stage(body(3))).toThrowError(/does not follow 1/);
    expect(sealedProblem(store.stage(body(2)).record, store.bySeq(1)?.hash ?? '')).toBeNull();
  });

  it('a durable store seals at once (its line goes to the log)', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'vs-staged-'));
    try {
      const { store } = AttestationStore.open(join(dir, 'log.jsonl'), { durability: 'fsync' });
      const { record } = store.stage(body(1));
      expect(sealedProblem(record, GENESIS_HASH)).toBeNull();
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
