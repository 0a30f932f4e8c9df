// The corruption suite (issue 8, item 5): a real log written by a real registrar with signing on,
// then damaged or forged in each way an accident or an attacker would, each case checked three
// ways: verifyLog without the key (the hash chain alone), verifyLog with the public key, and the
// real `voice-soundboard audit verify --public-key` command. Each is detected naming the first bad
// seq, or shown to be undetectable (and docs/FAILURE_MODES.md says why). Reopening the log (the
// writer, with its key) is checked too.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/attestation/canonical-json.js';
import { checkpointPath } from '../../src/attestation/checkpoint.js';
import { AttestationError } from '../../src/attestation/errors.js';
import { ATTESTATION_FIELDS, recordHash, type Attestation } from '../../src/attestation/record.js';
import { verifyLog } from '../../src/attestation/verify-log.js';
import { auditCommand } from '../../src/cli/audit.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { runCommand } from '../helpers/cli.js';
import { waitUntil } from '../helpers/waiting.js';

const keys = generateKeyPairSync('ed25519');
const otherKeys = generateKeyPairSync('ed25519');
const signing = { privateKey: keys.privateKey, everyRecords: 4, everyMs: 0 };

let dir: string;
/** The intact log (14 records; checkpoints at 4, 8, 12 and, at close, 14), its sidecar and anchor file. */
let log: string;
let anchor: string;
/** A copy taken while the registrar ran: records 13 and 14 were not signed yet. */
let liveLog: string;
let publicKeyFile: string;

/** The requests of the scenario: denials (4, 6, 9), an override (5..14), a user's interrupt. */
function writeScenario(registrar: AudioRegistrar): void {
  for (const actor of ['agent:claude-1', 'agent:other', 'user:alice']) registrar.registerActor(actor);
  const ask = (request: object) => registrar.requestAsHost(request);
  ask({ action: 'start', actor: 'agent:claude-1', target: 's1', metadata: { userId: 'alice' } }); //   1
  ask({ action: 'synthesize', actor: 'agent:claude-1', target: 's1' }); //                             2
  ask({ action: 'play', actor: 'agent:claude-1', target: 's1' }); //                                   3
  ask({ action: 'interrupt', actor: 'agent:other', target: 's1', reason: 'barge-in' }); //             4 denied not_owner
  ask({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'user', scopeId: 'alice' } }); // 5
  ask({ action: 'interrupt', actor: 'agent:claude-1', target: 's1', reason: 'agent wants quiet' }); // 6 denied accessibility_override
  ask({ action: 'start', actor: 'agent:other', target: 's2' }); //                                     7
  ask({ action: 'synthesize', actor: 'agent:other', target: 's2' }); //                                8
  ask({ action: 'stop', actor: 'agent:claude-1', target: 's2', reason: 'not mine' }); //               9 denied not_owner
  ask({ action: 'play', actor: 'agent:other', target: 's2' }); //                                      10
  ask({ action: 'interrupt', actor: 'user:alice', target: 's1', reason: 'user pressed stop' }); //     11
  ask({ action: 'stop', actor: 'user:alice', target: 's1' }); //                                       12
  ask({ action: 'stop', actor: 'agent:other', target: 's2' }); //                                      13
  ask({ action: 'disable_override', actor: 'user:alice', metadata: { scope: 'user', scopeId: 'alice' } }); // 14
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'corruption-'));
  log = join(dir, 'log.jsonl');
  anchor = join(dir, 'anchor.checkpoints');
  liveLog = join(dir, 'live.jsonl');
  publicKeyFile = join(dir, 'public.pem');
  writeFileSync(publicKeyFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  const { registrar } = AudioRegistrar.openLog(log, { signing: { ...signing, anchorFile: anchor } });
  writeScenario(registrar);
  await waitUntil(() => registrar.attestationStore.signedSeq === 12, 'the checkpoint of seq 12');
  copyFileSync(log, liveLog);
  copyFileSync(checkpointPath(log), checkpointPath(liveLog));
  await registrar.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// ---- the forger's tools: they know the scheme (canonical JSON, SHA-256), not the private key ----

function linesOf(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((line) => line.length > 0);
}

function recordsOf(path: string): Attestation[] {
  return linesOf(path).map((line) => JSON.parse(line) as Attestation);
}

/** Renumbers from 1 and recomputes every prevHash and hash: a chain as good as the original. */
function rechain(records: Attestation[]): string {
  let previous = '0'.repeat(64);
  return records
    .map((record, index) => {
      const body = { ...record, seq: index + 1, prevHash: previous } as Attestation;
      const sealed = { ...body, hash: recordHash(body) };
      previous = sealed.hash;
      return `${canonicalJson(sealed)}\n`;
    })
    .join('');
}

/** One record with its own hash recomputed (the chain after it is left as it was). */
function resealed(record: Attestation): string {
  return canonicalJson({ ...record, hash: recordHash(record) });
}

function edit(records: Attestation[], seq: number, change: (record: Attestation) => Attestation): Attestation[] {
  return records.map((record) => (record.seq === seq ? change(record) : record));
}

let caseNumber = 0;
/** A copy of the intact log (and sidecar, and anchor) with `log` replaced by `text`. */
function damaged(text: string | Buffer, options: { from?: string; sidecar?: (lines: string[]) => string[] | null } = {}): string {
  caseNumber += 1;
  const caseDir = join(dir, `case-${caseNumber}`);
  mkdirSync(caseDir);
  const from = options.from ?? log;
  const path = join(caseDir, 'log.jsonl');
  writeFileSync(path, text);
  const sidecar = options.sidecar ? options.sidecar(linesOf(checkpointPath(from))) : linesOf(checkpointPath(from));
  if (sidecar !== null) writeFileSync(checkpointPath(path), sidecar.map((line) => `${line}\n`).join(''));
  if (existsSync(anchor) && from === log) copyFileSync(anchor, join(caseDir, 'anchor.checkpoints'));
  return path;
}

/** What `audit verify <path> --public-key <pem> --json` answered. */
async function auditSigned(path: string, ...extra: string[]): Promise<{ code: number; firstBadSeq: number | null; invariants: string[]; unsignedTail: unknown }> {
  const run = await runCommand(auditCommand, ['verify', path, '--public-key', publicKeyFile, '--json', ...extra]);
  const report = JSON.parse(run.stdout) as { firstBadSeq: number | null; errors: { invariant: string }[]; signature: { unsignedTail: unknown } };
  return { code: run.code, firstBadSeq: report.firstBadSeq, invariants: report.errors.map((error) => error.invariant), unsignedTail: report.signature.unsignedTail };
}

/** The error reopening the log as its writer (with its key) throws, or null when it opens. */
async function reopenError(path: string): Promise<AttestationError | null> {
  try {
    const { registrar } = AudioRegistrar.openLog(path, { signing });
    await registrar.close();
    return null;
  } catch (error) {
    if (error instanceof AttestationError) return error;
    throw error;
  }
}

describe('the intact log', () => {
  it('verifies with and without the key, signed through its last record', async () => {
    expect(verifyLog(log)).toMatchObject({ ok: true, records: 14, lastSeq: 14, firstBadSeq: null, signature: null });
    expect(verifyLog(log, { publicKey: keys.publicKey })).toMatchObject({ ok: true, firstBadSeq: null, signature: { checkpoints: 4, signedThroughSeq: 14, unsignedTail: null } });
    expect(await auditSigned(log, '--replay')).toMatchObject({ code: 0, firstBadSeq: null, unsignedTail: null });
    expect(linesOf(checkpointPath(log)).map((line) => (JSON.parse(line) as { seq: number }).seq)).toEqual([4, 8, 12, 14]);
    expect(linesOf(anchor)).toEqual(linesOf(checkpointPath(log)));
  });
});

interface Case {
  name: string;
  tamper: () => string;
  /** verifyLog without the key (the chain alone): the first bad seq, or null (undetected). */
  chain: number | null;
  /** verifyLog with the key, and `audit verify --public-key`: the first bad seq. */
  signed: number;
  /** The check that names it with the key. */
  invariant: string;
}

const intact = (): Attestation[] => recordsOf(log);
const text = (records: Attestation[]): string => records.map((record) => `${canonicalJson(record)}\n`).join('');

const CASES: Case[] = [
  {
    name: 'a flipped byte (in the message of seq 6)',
    tamper: () => {
      const bytes = readFileSync(log);
      const at = bytes.indexOf('"message":"an accessibility override') + '"message":"'.length;
      bytes[at] = (bytes[at] ?? 0) ^ 0x01;
      return damaged(bytes);
    },
    chain: 6,
    signed: 6,
    invariant: 'attestation.hash',
  },
  { name: 'a deleted line (seq 6)', tamper: () => damaged(text(intact().filter((record) => record.seq !== 6))), chain: 6, signed: 6, invariant: 'checkpoint.mismatch' },
  {
    name: 'two swapped lines (seqs 6 and 7)',
    tamper: () => {
      const records = intact();
      [records[5], records[6]] = [records[6] as Attestation, records[5] as Attestation];
      return damaged(text(records));
    },
    chain: 6,
    signed: 6,
    invariant: 'checkpoint.mismatch',
  },
  { name: 'a duplicated line (seq 6 twice)', tamper: () => damaged(text(intact().flatMap((record) => (record.seq === 6 ? [record, record] : [record])))), chain: 6, signed: 6, invariant: 'ordering.total' },
  {
    name: 'truncation mid-line at the end (the last record torn)',
    tamper: () => damaged(readFileSync(log).subarray(0, readFileSync(log).length - 40)),
    chain: 14,
    signed: 14,
    invariant: 'checkpoint.truncated',
  },
  {
    name: 'truncation mid-file, mid-line (cut inside seq 8)',
    tamper: () => {
      const bytes = readFileSync(log);
      return damaged(bytes.subarray(0, bytes.indexOf('"seq":8') + 3));
    },
    chain: 8,
    signed: 8,
    invariant: 'checkpoint.truncated',
  },
  { name: 'a decision changed, hash not recomputed (seq 4 denied -> allowed)', tamper: () => damaged(text(edit(intact(), 4, (r) => ({ ...r, decision: 'allowed' })))), chain: 4, signed: 4, invariant: 'attestation.hash' },
  {
    name: "a decision changed with its own hash recomputed (seq 4), the chain after it not",
    tamper: () => damaged(intact().map((record) => `${record.seq === 4 ? resealed({ ...record, decision: 'allowed', reason: null }) : canonicalJson(record)}\n`).join('')),
    chain: 5, // the chain alone sees only that seq 5 no longer links: 4 or 5 changed
    signed: 4, // the signed digest names seq 4
    invariant: 'checkpoint.mismatch',
  },
  {
    name: 'an unknown field (seq 6, hash recomputed)',
    tamper: () => damaged(intact().map((record) => `${record.seq === 6 ? resealed({ ...record, approvedBy: 'user:mallory' } as Attestation) : canonicalJson(record)}\n`).join('')),
    chain: 6,
    signed: 6,
    invariant: 'attestation.schema',
  },
  // ---- the forger cases: the whole chain recomputed, so the chain alone sees nothing ----
  { name: 'forger: a denied record deleted (seq 4) and the log re-chained', tamper: () => damaged(rechain(intact().filter((record) => record.seq !== 4))), chain: null, signed: 4, invariant: 'checkpoint.mismatch' },
  {
    name: 'forger: a denied attempt re-attributed to another actor (seq 9) and re-chained',
    tamper: () => damaged(rechain(edit(intact(), 9, (r) => ({ ...r, actor: { id: 'other', kind: 'agent' }, message: r.message.replace('agent:claude-1', 'agent:other') })))),
    chain: null,
    signed: 9,
    invariant: 'checkpoint.mismatch',
  },
  {
    name: 'forger: timestamps rewritten (seqs 6..8, an hour earlier) and re-chained',
    tamper: () =>
      damaged(
        rechain(intact().map((r) => (r.seq >= 6 && r.seq <= 8 ? { ...r, timestamp: { ...r.timestamp, wall: new Date(Date.parse(r.timestamp.wall) - 3_600_000).toISOString() } } : r))),
      ),
    chain: null,
    signed: 6,
    invariant: 'checkpoint.mismatch',
  },
  {
    name: 'forger: a reason rewritten (seq 11) and re-chained',
    tamper: () => damaged(rechain(edit(intact(), 11, (r) => ({ ...r, parameters: { reason: 'agent-requested' } })))),
    chain: null,
    signed: 11,
    invariant: 'checkpoint.mismatch',
  },
  { name: 'forger: the tail dropped (seqs 10..14, at a line boundary)', tamper: () => damaged(text(intact().slice(0, 9))), chain: null, signed: 10, invariant: 'checkpoint.truncated' },
  {
    name: 'forger: the last record edited (seq 14, covered by the checkpoint at close) and resealed',
    tamper: () => damaged(intact().map((record) => `${record.seq === 14 ? resealed({ ...record, message: 'nothing happened' }) : canonicalJson(record)}\n`).join('')),
    chain: null,
    signed: 14,
    invariant: 'checkpoint.mismatch',
  },
  {
    // A hash is the SHA-256 of the record's canonical JSON (spec §5), not of whatever bytes the line holds: this one is wrong.
    name: 'a line rewritten in another form (seq 6) with its hash recomputed over that form, the chain after it not',
    tamper: () => damaged(intact().map((record) => `${record.seq === 6 ? hashedAsWritten(record) : canonicalJson(record)}\n`).join('')),
    chain: 6,
    signed: 6,
    invariant: 'attestation.hash',
  },
  {
    // The last record, in the writer's form but for its parameters (keys out of order, a number as 1e2), hashed over those bytes:
    // no later link shows it, so only a hash over the canonical JSON does.
    name: 'the last record (seq 14) with parameters in a non-canonical form, its hash recomputed over the line',
    tamper: () => damaged(intact().map((record) => `${record.seq === 14 ? hashedOverLine(canonicalJson(record).replace(/"parameters":\{(\}?)/, (_member, empty: string) => `"parameters":{"z":1,"a":1e2${empty === '' ? ',' : '}'}`)) : canonicalJson(record)}\n`).join('')),
    chain: 14,
    signed: 14,
    invariant: 'attestation.hash',
  },
  {
    // JSON.parse keeps a `__proto__` key as an own member; zod's record drops it, so a hash checked over zod's copy
    // would not cover it: bytes (here a claim that the record was only observed) added with no hash recomputed.
    name: 'a hidden member inserted (seq 6: metadata `__proto__`, nested past the quick check), no hash recomputed',
    tamper: () => damaged(linesOf(log).map((line, index) => `${index === 5 ? line.replace('"metadata":{', `"metadata":{"__proto__":{"observed":true,"x":${'['.repeat(70)}${']'.repeat(70)}},`).replace('},}', '}}') : line}\n`).join('')),
    chain: 6,
    signed: 6,
    invariant: 'attestation.schema',
  },
  {
    // JSON.parse takes the last of duplicate keys, other parsers the first: a reader with one of those sees the denied
    // attempt of seq 9 made by another actor, while the record JSON.parse reads (and its hash) is unchanged.
    name: 'a duplicate key inserted before the real one (seq 9: another actor first), no hash recomputed',
    tamper: () => damaged(linesOf(log).map((line, index) => `${index === 8 ? line.replace('{"accessibility":', '{"actor":{"id":"other","kind":"agent"},"accessibility":') : line}\n`).join('')),
    chain: 9,
    signed: 9,
    invariant: 'attestation.schema',
  },
];

/** `line` with its hash set to the SHA-256 of the line's own bytes less its hash member (what a hash over the bytes, not the canonical JSON, would be). */
function hashedOverLine(line: string): string {
  const member = /,"hash":"[0-9a-f]{64}"/;
  return line.replace(member, `,"hash":"${createHash('sha256').update(line.replace(member, '')).digest('hex')}"`);
}

/** The record in its declared field order (not canonical), `hash` last and recomputed over the line without it. */
function hashedAsWritten(record: Attestation): string {
  const body = JSON.stringify(Object.fromEntries(ATTESTATION_FIELDS.filter((field) => field !== 'hash').map((field) => [field, record[field]])));
  return `${body.slice(0, -1)},"hash":"${createHash('sha256').update(body).digest('hex')}"}`;
}

describe('each damage is detected, naming the first bad seq', () => {
  for (const damage of CASES) {
    it(damage.name, async () => {
      const path = damage.tamper();
      const plain = verifyLog(path);
      expect(plain.firstBadSeq).toBe(damage.chain);
      expect(plain.ok).toBe(damage.chain === null);
      const report = verifyLog(path, { publicKey: keys.publicKey });
      expect(report.ok).toBe(false);
      expect(report.firstBadSeq).toBe(damage.signed);
      expect(report.errors.filter((error) => error.seq === damage.signed).map((error) => error.invariant)).toContain(damage.invariant);
      const cli = await auditSigned(path);
      expect(cli.code).toBe(1);
      expect(cli.firstBadSeq).toBe(damage.signed);
      // The writer refuses to reopen it: the chain, the schema, a torn tail or the last checkpoint.
      expect(await reopenError(path)).toBeInstanceOf(AttestationError);
    });
  }
});

describe('a line in another but equivalent form', () => {
  it('verifies, with and without the key, and reopens: its hash is checked over its canonical JSON', async () => {
    const path = damaged(intact().map((record) => `${record.seq === 6 ? JSON.stringify(record, null, 1).replace(/\n/g, '') : canonicalJson(record)}\n`).join(''));
    expect(readFileSync(path, 'utf8')).not.toBe(readFileSync(log, 'utf8'));
    expect(verifyLog(path)).toMatchObject({ ok: true, firstBadSeq: null });
    expect(verifyLog(path, { publicKey: keys.publicKey })).toMatchObject({ ok: true, signature: { signedThroughSeq: 14 } });
    expect(await reopenError(path)).toBeNull();
  });
});

describe('reopening a damaged log: codes and seqs', () => {
  // These name `seq` as the property (issue 8, item 6). The LOG_CORRUPT and CHAIN_BROKEN seqs come
  // from the store's scan (durable-log.ts / store.ts); CHECKPOINT_MISMATCH from checkpoint-writer.ts.
  it('a flipped byte: ATTESTATION_CHAIN_BROKEN at seq 6', async () => {
    expect(await reopenError(CASES[0]?.tamper() ?? '')).toMatchObject({ code: 'ATTESTATION_CHAIN_BROKEN', seq: 6 });
  });

  it('an unknown field: ATTESTATION_LOG_CORRUPT at seq 6', async () => {
    expect(await reopenError(CASES[8]?.tamper() ?? '')).toMatchObject({ code: 'ATTESTATION_LOG_CORRUPT', seq: 6 });
  });

  it('a torn last record: ATTESTATION_TORN_TAIL', async () => {
    expect(await reopenError(CASES[4]?.tamper() ?? '')).toMatchObject({ code: 'ATTESTATION_TORN_TAIL' });
  });

  it('a re-chained forgery: ATTESTATION_CHECKPOINT_MISMATCH at the last checkpoint (seq 14)', async () => {
    expect(await reopenError(CASES[10]?.tamper() ?? '')).toMatchObject({ code: 'ATTESTATION_CHECKPOINT_MISMATCH', seq: 14 });
  });

  it('a dropped tail: ATTESTATION_CHECKPOINT_MISMATCH at the first missing seq', async () => {
    expect(await reopenError(CASES[13]?.tamper() ?? '')).toMatchObject({ code: 'ATTESTATION_CHECKPOINT_MISMATCH', seq: 10 });
  });
});

describe('the checkpoints themselves', () => {
  it('a missing sidecar is a failure with a public key (checkpoint.missing at seq 1)', async () => {
    const path = damaged(readFileSync(log), { sidecar: () => null });
    expect(verifyLog(path, { publicKey: keys.publicKey })).toMatchObject({ ok: false, firstBadSeq: 1, errors: [{ invariant: 'checkpoint.missing' }] });
    expect(await auditSigned(path)).toMatchObject({ code: 1, firstBadSeq: 1, invariants: ['checkpoint.missing'] });
  });

  it('a checkpoint edited (headHash) without its signature holding: checkpoint.signature', () => {
    const path = damaged(readFileSync(log), {
      sidecar: (lines) => lines.map((line, index) => (index === 1 ? line.replace(/"headHash":"[0-9a-f]/, (found) => `${found.slice(0, -1)}${found.endsWith('0') ? '1' : '0'}`) : line)),
    });
    const report = verifyLog(path, { publicKey: keys.publicKey });
    expect(report.errors).toEqual([expect.objectContaining({ seq: 5, invariant: 'checkpoint.signature' })]);
  });

  it('a forger who re-chains and signs new checkpoints with another key: checkpoint.key, and not signed', async () => {
    const forged = damaged(rechain(intact().filter((record) => record.seq !== 4)), { sidecar: () => [] });
    // The forger writes checkpoints for the forged log with their own key.
    const { registrar } = AudioRegistrar.openLog(forged, { signing: { privateKey: otherKeys.privateKey, everyRecords: 4, everyMs: 0, adoptUnsigned: true } });
    await registrar.close();
    const report = verifyLog(forged, { publicKey: keys.publicKey });
    expect(report.ok).toBe(false);
    expect(new Set(report.errors.map((error) => error.invariant))).toEqual(new Set(['checkpoint.key', 'checkpoint.missing']));
    expect(report.firstBadSeq).toBe(1);
  });

  it('a dropped tail with the sidecar cut back too is undetectable from the two files, and caught by the anchor file', async () => {
    const path = damaged(text(intact().slice(0, 8)), { sidecar: (lines) => lines.slice(0, 2) });
    expect(verifyLog(path, { publicKey: keys.publicKey })).toMatchObject({ ok: true, signature: { signedThroughSeq: 8, unsignedTail: null } });
    const anchored = verifyLog(path, { publicKey: keys.publicKey, anchorFile: join(path, '..', 'anchor.checkpoints') });
    expect(anchored).toMatchObject({ ok: false, firstBadSeq: 9, errors: [{ invariant: 'checkpoint.truncated' }] });
    expect(await auditSigned(path, '--anchor', join(path, '..', 'anchor.checkpoints'))).toMatchObject({ code: 1, firstBadSeq: 9 });
  });

  it('an edit of the unsigned tail (after the last checkpoint, before close) is undetectable: reported as an unsigned tail', async () => {
    expect(verifyLog(liveLog, { publicKey: keys.publicKey })).toMatchObject({ ok: true, signature: { signedThroughSeq: 12, unsignedTail: { fromSeq: 13, toSeq: 14 } } });
    const path = damaged(recordsOf(liveLog).map((record) => `${record.seq === 14 ? resealed({ ...record, message: 'nothing happened' }) : canonicalJson(record)}\n`).join(''), { from: liveLog });
    expect(verifyLog(path, { publicKey: keys.publicKey })).toMatchObject({ ok: true, signature: { signedThroughSeq: 12, unsignedTail: { fromSeq: 13, toSeq: 14 } } });
    const cli = await runCommand(auditCommand, ['verify', path, '--public-key', publicKeyFile]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain('note: unsigned tail: seqs 13..14');
  });
});
