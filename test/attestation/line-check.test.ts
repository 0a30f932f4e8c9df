// Fast verification (issue 8, item 2): a record's hash is checked on the bytes of its line
// (line-hash.ts) and, for verification, lines are checked on real worker threads (line-check-pool.ts)
// while the reading thread follows the chain. On real logs in temp dirs: the fast path is taken on
// what the writer wrote, a line whose hash covers other bytes than its content still fails (also
// when a decoy hash member is planted first), an equivalent line in another form still verifies
// through the canonical path, and with workers every verdict (errors, warnings, the problem that
// ended the read, first bad seq) is the one the single-threaded read gives.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/attestation/canonical-json.js';
import { AttestationError } from '../../src/attestation/errors.js';
import { lineCheckCounts, startCheckWorkers, stopCheckWorkers } from '../../src/attestation/line-check-pool.js';
import { isHashedFromLine, lineDigest } from '../../src/attestation/line-hash.js';
import { ATTESTATION_FIELDS, type Attestation } from '../../src/attestation/record.js';
import { iterateAttestationLog, readAttestationLog, scanAttestationLogViews } from '../../src/attestation/log-reader.js';
import { AttestationStore } from '../../src/attestation/store.js';
import { verifyLog } from '../../src/attestation/verify-log.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';
import { verify } from '../../src/registrar/verify.js';

let dir: string;
/** A clean log of 3,000 records (~3.4 MiB: several 1 MiB chunks), written by a real registrar. */
let clean: string;
let cleanLines: string[];

/** A closed log of `count` requests: lifecycles of fresh streams, a denied interrupt every 7th request, an override. */
async function logOf(path: string, count: number): Promise<string> {
  const { store } = AttestationStore.open(path, { durability: 'group', groupCommitMs: 0 });
  const registrar = new AudioRegistrar({ store, core: new ReferenceCore() });
  registrar.registerActor('agent:a');
  registrar.registerActor('agent:b');
  registrar.registerActor('system:runtime');
  let stream: string | null = null;
  for (let index = 0; index < count; index += 1) {
    const step = index % 4;
    if (index % 7 === 6 && stream !== null) registrar.requestAsHost({ action: 'interrupt', actor: 'agent:b', target: stream });
    else if (step === 0) stream = registrar.requestAsHost({ action: 'start', actor: 'agent:a', metadata: { note: 'héllo "quoted" \\ \u2028 😀' } }).streamId;
    else registrar.requestAsHost({ action: ['synthesize', 'play', 'stop'][step - 1] ?? 'stop', actor: 'system:runtime', target: stream });
  }
  await registrar.close();
  return path;
}

/** A copy of the clean log with its lines changed by `edit` (lines without their newline; a trailing '' keeps the last newline). */
function variant(name: string, edit: (lines: string[]) => string[]): string {
  const path = join(dir, `${name}.jsonl`);
  writeFileSync(path, edit([...cleanLines]).join('\n'));
  return path;
}

/** Replaces the first `from` in the first line from `index` (0-based) on that has it by `to`, keeping everything else. */
function editLine(lines: string[], index: number, from: string, to: string): string[] {
  const at = lines.findIndex((line, lineIndex) => lineIndex >= index && line.includes(from));
  if (at === -1) throw new Error(`no line from ${index} on has ${from}`);
  lines[at] = (lines[at] as string).replace(from, to);
  return lines;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'line-check-'));
  clean = await logOf(join(dir, 'clean.jsonl'), 3000);
  cleanLines = readFileSync(clean, 'utf8').split('\n');
  // Mostly accepted transitions (lineage for verify to follow), some denials, non-ASCII text.
  const records = readAttestationLog(clean).records;
  expect(records.filter((record) => record.decision === 'allowed' && record.stateAfter !== null).length).toBeGreaterThan(1500);
  expect(records.filter((record) => record.decision === 'denied').length).toBeGreaterThan(300);
  expect(cleanLines[0]).toContain('😀');
  // Workers load once for the file; each read below that asks for them uses them from its first chunk.
  expect(await startCheckWorkers(2)).toBe(2);
}, 120_000);

afterAll(async () => {
  await stopCheckWorkers();
  rmSync(dir, { recursive: true, force: true });
});

describe("a record's hash is checked on its line's bytes", () => {
  it('takes the fast path on every record the writer wrote in printable ASCII (the scanner vouches it is canonical), and none when told to hash canonically', () => {
    const fastSeqs: number[] = [];
    for (const record of iterateAttestationLog(clean)) if (isHashedFromLine(record)) fastSeqs.push(record.seq);
    const asciiSeqs = cleanLines.flatMap((line, index) => (line.length > 0 && /^[\x20-\x7e]*$/.test(line) && !line.includes('\\') ? [index + 1] : []));
    expect(fastSeqs).toEqual(asciiSeqs);
    expect(fastSeqs.length).toBeGreaterThan(2000);
    let canonical = 0;
    for (const record of iterateAttestationLog(clean, { hashing: 'canonical' })) if (isHashedFromLine(record)) canonical += 1;
    expect(canonical).toBe(0);
    expect(verify(iterateAttestationLog(clean))).toMatchObject({ ok: true, records: 3000, errors: [] });
    expect(verify(iterateAttestationLog(clean, { hashing: 'canonical' }))).toEqual(verify(iterateAttestationLog(clean)));
  });

  it('lineDigest is the SHA-256 of the line less its hash member, and there is none without a whole member', () => {
    const line = cleanLines[0] as string;
    const record = JSON.parse(line) as { hash: string };
    const bytes = Buffer.from(line);
    expect(lineDigest(bytes, 0, bytes.length)).toBe(record.hash);
    expect(lineDigest(bytes, 0, bytes.length)).toBe(sha256(line.replace(`,"hash":"${record.hash}"`, '')));
    const noMember = Buffer.from(line.replace(',"hash":', ',"hush":'));
    expect(lineDigest(noMember, 0, noMember.length)).toBeNull();
    const cutShort = Buffer.from(line.slice(0, line.indexOf(',"hash":"') + 20));
    expect(lineDigest(cutShort, 0, cutShort.length)).toBeNull();
  });

  it('a line whose hash covers other bytes than its content fails everywhere, naming its seq', async () => {
    // One byte of seq 1234's message changed, its hash left as it was.
    const path = variant('edited', (lines) => editLine(lines, 1233, '"message":"', '"message":"X'));
    for (const checkWorkers of [0, 2]) {
      const report = verify(iterateAttestationLog(path, { checkWorkers }));
      expect(report.errors).toEqual([expect.objectContaining({ seq: 1234, invariant: 'attestation.hash' })]);
      expect(verifyLog(path, { checkWorkers })).toMatchObject({ ok: false, firstBadSeq: 1234, errors: [expect.objectContaining({ seq: 1234, invariant: 'attestation.hash' })] });
    }
    expect(verify(iterateAttestationLog(path), { replay: true }).errors[0]).toMatchObject({ seq: 1234, invariant: 'attestation.hash' });
    expect(() => AttestationStore.open(path)).toThrow(expect.objectContaining({ code: 'ATTESTATION_CHAIN_BROKEN', seq: 1234 }));
  });

  it('a decoy hash member planted first, whose digest does match the rest of the line, does not pass', () => {
    // The writer puts `hash` after `decision`; here metadata comes first, holding a decoy `,"hash":"…"` member
    // that is the SHA-256 of the line without it. The record's own hash is left as it was.
    const path = variant('decoy', (lines) => {
      const record = JSON.parse(lines[99] as string) as Record<string, unknown>;
      const { metadata, ...rest } = record;
      const body = (decoy: string) => `{"metadata":{"a":1${decoy}},${canonicalJson(rest).slice(1)}`;
      const digest = sha256(body(''));
      lines[99] = body(`,"hash":"${digest}"`);
      expect(lineDigest(Buffer.from(lines[99]), 0, Buffer.byteLength(lines[99]))).toBe(digest);
      void metadata;
      return lines;
    });
    for (const checkWorkers of [0, 2]) {
      expect(verify(iterateAttestationLog(path, { checkWorkers })).errors).toEqual([expect.objectContaining({ seq: 100, invariant: 'attestation.hash' })]);
      expect(verifyLog(path, { checkWorkers }).firstBadSeq).toBe(100);
    }
  });

  it('a line in another but equivalent form (key order, spaces) still verifies, by the canonical path', () => {
    const path = variant('reordered', (lines) => {
      lines[10] = JSON.stringify(JSON.parse(lines[10] as string), null, 1).replace(/\n/g, ' ');
      const record = readAttestationLog(clean).records[11] as Attestation;
      lines[11] = JSON.stringify(Object.fromEntries(ATTESTATION_FIELDS.map((field) => [field, record[field]]))); // the declared field order
      return lines;
    });
    const records = [...iterateAttestationLog(path)];
    expect(records.filter((record) => !isHashedFromLine(record) && record.action !== 'start').map((record) => record.seq)).toEqual([11, 12]); // starts carry non-ASCII text: never the fast path
    for (const checkWorkers of [0, 2]) {
      expect(verify(iterateAttestationLog(path, { checkWorkers }))).toMatchObject({ ok: true, records: 3000 });
      expect(verifyLog(path, { checkWorkers })).toMatchObject({ ok: true, records: 3000 });
    }
  });
});

describe('lines checked on worker threads', () => {
  /** The planted problems: each log and the first bad seq verify must name. */
  const cases: [string, (lines: string[]) => string[]][] = [
    ['clean', (lines) => lines],
    ['a changed decision, hash not recomputed', (lines) => editLine(lines, 2500, '"decision":"allowed"', '"decision":"denied"')],
    ['swapped lines', (lines) => [...lines.slice(0, 1500), lines[1501] as string, lines[1500] as string, ...lines.slice(1502)]],
    ['a duplicated line', (lines) => [...lines.slice(0, 2000), lines[1999] as string, ...lines.slice(2000)]],
    ['a deleted line', (lines) => [...lines.slice(0, 999), ...lines.slice(1000)]],
    ['a line that is not JSON', (lines) => editLine(lines, 2222, '{', '{{')],
    ['an unknown field', (lines) => editLine(lines, 1800, '"accessibility":', '"extra":1,"accessibility":')],
    ['a torn tail', (lines) => [...lines.slice(0, 2999), (lines[2999] as string).slice(0, 300)]],
  ];

  it.each(cases)('%s: verify with workers reports what the single-threaded read reports', (name, edit) => {
    const path = variant(name.replace(/\W+/g, '-'), edit);
    const before = lineCheckCounts().byWorkers;
    const single = iterateAttestationLog(path, { strict: false, checkWorkers: 0 });
    const parallel = iterateAttestationLog(path, { strict: false, checkWorkers: 2 });
    const expected = verify(single);
    expect(verify(parallel)).toEqual(expected);
    expect(lineCheckCounts().byWorkers).toBeGreaterThan(before); // the workers did check lines
    // The records path (what `verify(…, { replay })` and any iterable take) agrees too.
    expect(verify([...iterateAttestationLog(path, { strict: false })])).toEqual(expected);
    for (const field of ['records', 'lastSeq', 'tornTail'] as const) expect(parallel[field]).toEqual(single[field]);
    expect([parallel.problem?.code, parallel.problem?.seq, parallel.problem?.message]).toEqual([single.problem?.code, single.problem?.seq, single.problem?.message]);
    expect(verifyLog(path, { checkWorkers: 2 })).toEqual(verifyLog(path, { checkWorkers: 0 }));
    if (name !== 'clean') expect(verifyLog(path).ok).toBe(false);
  });

  it('a strict read with workers throws the same AttestationError, after the same records', () => {
    const path = variant('strict', (lines) => editLine(lines, 2700, '{', '['));
    const thrown = (checkWorkers: number): AttestationError => {
      try {
        verify(iterateAttestationLog(path, { checkWorkers }));
      } catch (error) {
        if (error instanceof AttestationError) return error;
        throw error;
      }
      throw new Error('expected an AttestationError');
    };
    const single = thrown(0);
    expect(single).toMatchObject({ code: 'ATTESTATION_LOG_CORRUPT', seq: 2701 });
    expect(thrown(2)).toMatchObject({ code: single.code, seq: single.seq, message: single.message });
  });

  it('a segmented log with workers: segment checks and verdicts as on one thread', async () => {
    const path = join(dir, 'segmented');
    const { store } = AttestationStore.open(path, { durability: 'group', groupCommitMs: 0, segmentBytes: 512 * 1024 });
    for (const line of cleanLines.slice(0, -1)) store.adopt([JSON.parse(line)]);
    await store.close();
    expect(verify(iterateAttestationLog(path, { checkWorkers: 2 }))).toEqual(verify(iterateAttestationLog(path, { checkWorkers: 0 })));
    expect(verify(iterateAttestationLog(path, { checkWorkers: 2 }))).toMatchObject({ ok: true, records: 3000 });
    // A sealed segment cut short ends the read where the single-threaded read ends it.
    const second = join(path, '000002.jsonl');
    const text = readFileSync(second, 'utf8');
    writeFileSync(second, text.slice(0, text.length - 100));
    const single = iterateAttestationLog(path, { strict: false, checkWorkers: 0 });
    const parallel = iterateAttestationLog(path, { strict: false, checkWorkers: 2 });
    expect(verify(parallel)).toEqual(verify(single));
    expect(parallel.problem).toMatchObject({ code: single.problem?.code, seq: single.problem?.seq });
    expect(single.problem?.code).toBe('ATTESTATION_SEGMENT_MISMATCH');
  });

  it('a read inside another read (the workers are taken) checks on its own thread, and stopped workers are started again', async () => {
    const inner: number[] = [];
    let outer = 0;
    const before = lineCheckCounts().onReadingThread;
    scanAttestationLogViews(
      clean,
      (view) => {
        outer += 1;
        if (view.seq === 1500) scanAttestationLogViews(clean, (innerView) => void inner.push(innerView.seq), { checkWorkers: 2 });
      },
      { checkWorkers: 2 },
    );
    expect(outer).toBe(3000);
    expect(inner).toEqual(Array.from({ length: 3000 }, (_, index) => index + 1));
    expect(lineCheckCounts().onReadingThread).toBeGreaterThanOrEqual(before + 3); // the inner read's chunks
    await stopCheckWorkers();
    expect(verify(iterateAttestationLog(clean, { checkWorkers: 2 }))).toMatchObject({ ok: true, records: 3000 });
    expect(await startCheckWorkers(2)).toBe(2);
    const byWorkers = lineCheckCounts().byWorkers;
    expect(verify(iterateAttestationLog(clean, { checkWorkers: 2 }))).toMatchObject({ ok: true, records: 3000 });
    expect(lineCheckCounts().byWorkers).toBeGreaterThan(byWorkers);
  });

  it('text fields in any characters cross to the reading thread exactly (non-ASCII, astral, lone surrogates)', async () => {
    const path = join(dir, 'wide.jsonl');
    const { store } = AttestationStore.open(path, { durability: 'group', groupCommitMs: 0 });
    const registrar = new AudioRegistrar({ store, core: new ReferenceCore() });
    registrar.registerActor('agent:a');
    // Two streams whose ids differ only in a lone surrogate: decoded lossily (both U+FFFD), they would be one stream created twice.
    for (const target of ['strøm-é', 'stream-😀', 'lone-\ud800', 'lone-\udbff', 'plain']) {
      for (const action of ['start', 'synthesize', 'play']) registrar.requestAsHost({ action, actor: 'agent:a', target });
    }
    await registrar.close();
    const records = readAttestationLog(path).records;
    expect(records.filter((record) => record.decision === 'allowed')).toHaveLength(15);
    expect(new Set(records.map((record) => record.target))).toEqual(new Set(['strøm-é', 'stream-😀', 'lone-\ud800', 'lone-\udbff', 'plain']));
    const expected = verify(records);
    expect(expected).toMatchObject({ ok: true, errors: [] });
    for (const checkWorkers of [0, 2]) expect(verify(iterateAttestationLog(path, { checkWorkers }))).toEqual(expected);
  });

  it('options are validated: checkWorkers must be a small non-negative integer, hashing line or canonical', () => {
    expect(() => iterateAttestationLog(clean, { checkWorkers: -1 })).toThrow(/options/);
    expect(() => iterateAttestationLog(clean, { checkWorkers: 1.5 })).toThrow(/options/);
    expect(() => iterateAttestationLog(clean, { hashing: 'fast' as 'line' })).toThrow(/options/);
    expect(() => verifyLog(clean, { checkWorkers: 100 })).toThrow(/options/);
  });
});
