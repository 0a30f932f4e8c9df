// `voice-soundboard audit verify|replay --public-key` and `audit public-key`: the real command on
// real signed logs in a temp dir.
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/attestation/canonical-json.js';
import { checkpointPath } from '../../src/attestation/checkpoint.js';
import { recordHash, type Attestation } from '../../src/attestation/record.js';
import { auditCommand } from '../../src/cli/audit.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { snapshotHash, type RegistrarSnapshot } from '../../src/registrar/snapshot.js';
import { runCommand, type CommandRun } from '../helpers/cli.js';

function audit(...args: string[]): Promise<CommandRun> {
  return runCommand(auditCommand, args);
}

const keys = generateKeyPairSync('ed25519');
const otherKeys = generateKeyPairSync('ed25519');
let dir: string;
let log: string;
let keyFile: string;
let publicKeyFile: string;
let otherPublicKeyFile: string;
let snapshotFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'audit-signed-'));
  log = join(dir, 'log.jsonl');
  keyFile = join(dir, 'key.pem');
  writeFileSync(keyFile, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  publicKeyFile = join(dir, 'public.pem');
  writeFileSync(publicKeyFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  otherPublicKeyFile = join(dir, 'other.pem');
  writeFileSync(otherPublicKeyFile, otherKeys.publicKey.export({ type: 'spki', format: 'pem' }));
  const { registrar } = AudioRegistrar.openLog(log, { signing: { privateKeyFile: keyFile, everyRecords: 2, everyMs: 0 } });
  for (const actor of ['agent:claude-1', 'agent:other']) registrar.registerActor(actor);
  registrar.requestAsHost({ action: 'start', actor: 'agent:claude-1', target: 's1' });
  registrar.requestAsHost({ action: 'synthesize', actor: 'agent:claude-1', target: 's1' });
  registrar.requestAsHost({ action: 'play', actor: 'agent:claude-1', target: 's1' });
  registrar.requestAsHost({ action: 'interrupt', actor: 'agent:other', target: 's1' });
  registrar.requestAsHost({ action: 'stop', actor: 'agent:claude-1', target: 's1' });
  snapshotFile = join(dir, 'snapshot.json');
  writeFileSync(snapshotFile, JSON.stringify(registrar.snapshot()));
  await registrar.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The log with denied seq 4 removed and the chain recomputed: the chain alone cannot tell. */
function forgedCopy(): string {
  const path = join(dir, 'forged.jsonl');
  let previous = '0'.repeat(64);
  const lines = readFileSync(log, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Attestation)
    .filter((record) => record.seq !== 4)
    .map((record, index) => {
      const body = { ...record, seq: index + 1, prevHash: previous } as Attestation;
      previous = recordHash(body);
      return canonicalJson({ ...body, hash: previous });
    });
  writeFileSync(path, `${lines.join('\n')}\n`);
  copyFileSync(checkpointPath(log), checkpointPath(path));
  return path;
}

describe('audit verify --public-key', () => {
  it('a signed, intact log: exit 0, says what the checkpoints vouch for', async () => {
    const run = await audit('verify', log, '--public-key', publicKeyFile, '--replay');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain('signed: 3 checkpoint(s) by key');
    expect(run.stdout).toContain('vouching through seq 5');
    expect(run.stdout).toContain('ok: 5 records, hash chain intact, structural invariants hold, replay deterministic, checkpoints signed through seq 5');
    const json = JSON.parse((await audit('verify', log, '--public-key', publicKeyFile, '--json')).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ ok: true, firstBadSeq: null, signature: { checkpoints: 3, signedThroughSeq: 5, unsignedTail: null } });
  });

  it('a re-chained forgery passes without the key and fails with it, naming the first bad seq', async () => {
    const forged = forgedCopy();
    expect((await audit('verify', forged)).code).toBe(0);
    const run = await audit('verify', forged, '--public-key', publicKeyFile);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('error  seq 4  checkpoint.mismatch: seq 4 is not the record that was signed');
    expect(run.stderr).toMatch(/FAILED: \d+ problem\(s\) in 4 records/);
  });

  it('the wrong public key: every checkpoint is refused (exit 1)', async () => {
    const run = await audit('verify', log, '--public-key', otherPublicKeyFile, '--json');
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { errors: { invariant: string }[] };
    expect(new Set(report.errors.map((error) => error.invariant))).toEqual(new Set(['checkpoint.key', 'checkpoint.missing']));
  });

  it('--checkpoints names another sidecar; --anchor adds one', async () => {
    const moved = join(dir, 'moved.checkpoints');
    copyFileSync(checkpointPath(log), moved);
    const copy = join(dir, 'copy.jsonl');
    copyFileSync(log, copy);
    expect((await audit('verify', copy, '--public-key', publicKeyFile)).code).toBe(1); // no sidecar next to it
    expect((await audit('verify', copy, '--public-key', publicKeyFile, '--checkpoints', moved)).code).toBe(0);
    expect((await audit('verify', copy, '--public-key', publicKeyFile, '--checkpoints', join(dir, 'none'), '--anchor', moved)).code).toBe(1); // the sidecar is required
  });

  it('a forged snapshot (re-hashed) fails verify and replay with the key', async () => {
    const snapshot = JSON.parse(readFileSync(snapshotFile, 'utf8')) as RegistrarSnapshot;
    const edited = { ...snapshot, streams: snapshot.streams.map((stream) => ({ ...stream, owner: 'agent:other' })) };
    const forgedFile = join(dir, 'forged-snapshot.json');
    writeFileSync(forgedFile, JSON.stringify({ ...edited, hash: snapshotHash(edited) }));
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    expect((await audit('verify', empty, '--snapshot', snapshotFile, '--public-key', publicKeyFile)).code).toBe(0);
    const verify = await audit('verify', empty, '--snapshot', forgedFile, '--public-key', publicKeyFile);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toContain('snapshot.signature: REGISTRAR_SNAPSHOT_INVALID');
    const replay = await audit('replay', empty, '--snapshot', forgedFile, '--public-key', publicKeyFile);
    expect(replay.code).toBe(1);
    expect(replay.stderr).toContain('cannot replay: seq 0  snapshot.signature');
  });
});

describe('audit replay --public-key', () => {
  it('replays a log whose checkpoints hold, and refuses a forgery before replaying it', async () => {
    const ok = await audit('replay', log, '--public-key', publicKeyFile);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('replayed 5 records to seq 5');
    const forged = await audit('replay', forgedCopy(), '--public-key', publicKeyFile);
    expect(forged.code).toBe(1);
    expect(forged.stderr).toMatch(/^cannot replay: seq 4 {2}checkpoint\.mismatch/);
  });
});

describe('audit public-key', () => {
  it('prints the public key of a signing key file; refuses one others may read (exit 2)', async () => {
    const run = await audit('public-key', keyFile);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(keys.publicKey.export({ type: 'spki', format: 'pem' }).toString());
    const exposed = join(dir, 'exposed.pem');
    copyFileSync(keyFile, exposed);
    chmodSync(exposed, 0o644);
    expect(await audit('public-key', exposed)).toMatchObject({ code: 2, stderr: expect.stringContaining('ATTESTATION_KEY_PERMISSIONS') });
  });
});

describe('bad usage of the signed flags exits 2', () => {
  it('names what is wrong', async () => {
    expect(await audit('verify', log, '--public-key', join(dir, 'absent.pem'))).toMatchObject({ code: 2, stderr: expect.stringContaining('--public-key: cannot read') });
    expect(await audit('verify', log, '--public-key', log)).toMatchObject({ code: 2, stderr: expect.stringContaining('--public-key: expected an Ed25519 public key') });
    expect(await audit('verify', log, '--checkpoints', checkpointPath(log))).toMatchObject({ code: 2, stderr: expect.stringContaining('--checkpoints needs --public-key') });
    expect(await audit('query', log, '--public-key', publicKeyFile)).toMatchObject({ code: 2, stderr: expect.stringContaining('query: --public-key belongs to verify/replay') });
    expect(await audit('public-key')).toMatchObject({ code: 2, stderr: expect.stringContaining('public-key: missing the private key file') });
    expect(await audit('public-key', keyFile, '--json')).toMatchObject({ code: 2, stderr: expect.stringContaining('--json is not an option of public-key') });
    expect(auditCommand.help).toContain('--public-key <file>');
  });
});
