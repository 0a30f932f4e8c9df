// A request's metadata is bounded (METADATA_MAX_CHARS of JSON): a larger one is denied
// invalid_request, attested, before zod reads it. Without the bound one request with 70 MB of
// metadata was allowed and logged as a line the log reader refuses (longer than 64 MiB): the log
// could no longer be reopened, verified or recovered; 1,000,000 small keys held request() for
// about 4 s, and 22 doublings of one shared object about 11 s (measured by the audit). Real
// durable logs in temp dirs; no timing assertion.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sealRecord } from '../../src/attestation/record.js';
import { verifyLog } from '../../src/attestation/verify-log.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { METADATA_MAX_CHARS } from '../../src/registrar/request-schema.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('vs-request-size-');

describe('request metadata size', () => {
  it('denies metadata past the bound (a long string, many keys, deep arrays), attested; the log reopens and verifies; just under the bound is allowed', async () => {
    const path = join(tempDir(), 'log.jsonl');
    const { registrar } = AudioRegistrar.openLog(path);
    const agent = registrar.registerActor('agent:a');
    const manyKeys = Object.fromEntries(Array.from({ length: 200_000 }, (_, index) => [`k${index}`, index]));
    // Shared sub-objects count each time they are reached: 40 doublings of one small leaf would be
    // 2^40 leaves of JSON (the walk stops past the bound; without it request() ran for seconds per level).
    let doubled: unknown = 'leaf';
    for (let level = 0; level < 40; level++) doubled = { a: doubled, b: doubled };
    const oversized = [{ blob: 'x'.repeat(METADATA_MAX_CHARS + 1) }, manyKeys, { list: Array.from({ length: 10 }, () => 'y'.repeat(METADATA_MAX_CHARS / 8)) }, { doubled }];
    for (const metadata of oversized) {
      const result = registrar.request({ action: 'start', actor: agent, metadata });
      expect(result).toMatchObject({ allowed: false, reason: 'invalid_request' });
      expect(result.message).toMatch(new RegExp(`metadata: larger than ${METADATA_MAX_CHARS} characters of JSON`));
    }
    const fits = registrar.request({ action: 'start', actor: agent, metadata: { blob: 'z'.repeat(METADATA_MAX_CHARS - 100) } });
    expect(fits.allowed).toBe(true);
    expect(registrar.halted).toBe(false);
    await registrar.close();
    expect(verifyLog(path)).toMatchObject({ ok: true, errors: [] });
    const reopened = AudioRegistrar.openLog(path);
    expect(reopened.report).toMatchObject({ records: 5, tornTail: null });
    await reopened.registrar.close();
  });

  it('a getter or a cycle in oversized metadata is still one attested denial', () => {
    const registrar = new AudioRegistrar();
    const agent = registrar.registerActor('agent:a');
    const cyclic: Record<string, unknown> = { blob: 'x'.repeat(METADATA_MAX_CHARS / 2) };
    cyclic.self = cyclic;
    const throwing = { get boom(): string {
      throw new Error('getter');
    } };
    for (const metadata of [cyclic, throwing]) {
      expect(registrar.request({ action: 'start', actor: agent, metadata: metadata as never })).toMatchObject({ allowed: false, reason: 'invalid_request' });
    }
    expect(registrar.attestationStore.lastSeq).toBe(2);
  });
});

describe('request metadata size and older logs', () => {
  it('a log written before the bound (a record with more than 1 MiB of metadata) still replays as written', () => {
    const registrar = new AudioRegistrar();
    const agent = registrar.registerActor('agent:a');
    expect(registrar.request({ action: 'start', actor: agent, metadata: { blob: 'x'.repeat(1000) } }).allowed).toBe(true);
    // The same record with more metadata than today's bound, as a log of before the bound has it.
    const [record] = registrar.attestationStore.all();
    const { prevHash, hash: _hash, ...body } = record!;
    const older = AudioRegistrar.replay([sealRecord({ ...body, parameters: { metadata: { blob: 'x'.repeat(METADATA_MAX_CHARS + 1) } } }, prevHash)]);
    expect(older.listStates()).toHaveLength(1);
  });
});
