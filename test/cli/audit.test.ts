// `voice-soundboard audit`: the real command on real log files in a temp dir.
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttestationStore } from '../../src/attestation/store.js';
import { auditCommand } from '../../src/cli/audit.js';
import { runCommand, type CommandRun } from '../helpers/cli.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';

function audit(...args: string[]): Promise<CommandRun> {
  return runCommand(auditCommand, args);
}

let dir: string;
let log: string;
let snapshotFile: string;
let tailLog: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'audit-cli-'));
  log = join(dir, 'log.jsonl');
  const { store } = AttestationStore.open(log);
  const registrar = new AudioRegistrar({ store, core: new ReferenceCore() });
  for (const actor of ['agent:claude-1', 'agent:other']) registrar.registerActor(actor);
  registrar.registerActor('user:alice', { sessions: ['den'] });
  registrar.requestAsHost({ action: 'start', actor: 'agent:claude-1', target: 's1', metadata: { sessionId: 'den' } });
  registrar.requestAsHost({ action: 'synthesize', actor: 'agent:claude-1', target: 's1' });
  registrar.requestAsHost({ action: 'play', actor: 'agent:claude-1', target: 's1' });
  registrar.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'den' } });
  registrar.requestAsHost({ action: 'interrupt', actor: 'agent:other', target: 's1' });
  snapshotFile = join(dir, 'snapshot.json');
  writeFileSync(snapshotFile, JSON.stringify(registrar.snapshot()));
  await registrar.close();
  // A second segment continuing from the snapshot.
  tailLog = join(dir, 'tail.jsonl');
  const restored = AudioRegistrar.restore(JSON.parse(readFileSync(snapshotFile, 'utf8')), [], {
    core: new ReferenceCore(),
    store: AttestationStore.open(tailLog, { head: { seq: 5, hash: JSON.parse(readFileSync(snapshotFile, 'utf8')).lastHash } }).store,
  });
  restored.requestAsHost({ action: 'interrupt', actor: 'user:alice', target: 's1' });
  await restored.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('voice-soundboard audit', () => {
  it('verify: ok on an intact log (exit 0), with replay', async () => {
    const run = await audit('verify', log, '--replay');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe('ok: 5 records, hash chain intact, structural invariants hold, replay deterministic\n');
    const json = await audit('verify', log, '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, records: 5, errors: [], tornTail: null });
  });

  it('verify: a tampered record fails with exit 1 naming seq and invariant', async () => {
    const tampered = join(dir, 'tampered.jsonl');
    writeFileSync(tampered, readFileSync(log, 'utf8').replace('"reason":"not_owner"', '"reason":"terminal_state"'));
    const run = await audit('verify', tampered);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('error  seq 5  attestation.hash: seq 5: hash does not match');
    expect(run.stderr).toContain('FAILED: 1 problem(s) in 5 records');
  });

  it('verify: a torn tail is reported (exit 1); replay refuses it', async () => {
    const torn = join(dir, 'torn.jsonl');
    writeFileSync(torn, readFileSync(log));
    truncateSync(torn, readFileSync(log).length - 10);
    const run = await audit('verify', torn);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/seq 5 {2}attestation\.torn_tail: torn tail: \d+ bytes at offset \d+ are a partial record/);
    const replay = await audit('replay', torn);
    expect(replay.code).toBe(1);
    expect(replay.stderr).toMatch(/^cannot replay: torn tail/);
  });

  it('replay: prints the rebuilt state (exit 0), continues from a snapshot, and fails (exit 1) on a segment without it', async () => {
    const run = await audit('replay', log);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('replayed 5 records to seq 5: every decision matches');
    expect(run.stdout).toContain('stream s1  playing  owner=agent:claude-1  v3');
    expect(run.stdout).toContain('override session:den  owner=user:alice');
    const json = JSON.parse((await audit('replay', log, '--json')).stdout) as { stateHash: string; lastSeq: number };
    expect(json.lastSeq).toBe(5);
    expect(json.stateHash).toMatch(/^[0-9a-f]{64}$/);
    const withSnapshot = await audit('replay', tailLog, '--snapshot', snapshotFile);
    expect(withSnapshot.code).toBe(0);
    expect(withSnapshot.stdout).toContain('stream s1  interrupting  owner=agent:claude-1  v4');
    expect((await audit('verify', tailLog, '--snapshot', snapshotFile, '--replay')).code).toBe(0);
    const orphan = await audit('replay', tailLog);
    expect(orphan.code).toBe(1);
    expect(orphan.stderr).toMatch(/^replay failed at seq 1 \[REGISTRAR_REPLAY_GAP\]: seq 6 where 1 was expected/);
  });

  it('replay: a log older than the issue-8 rules needs --legacy-rules (a replay option)', async () => {
    const legacy = fileURLToPath(new URL('../attestation/fixtures/pinned-log.jsonl', import.meta.url));
    const strict = await audit('replay', legacy);
    expect(strict).toMatchObject({ code: 1, stderr: expect.stringContaining('replay failed at seq 6 [REGISTRAR_REPLAY_MISMATCH]: seq 6: metadata.membership is missing') });
    const lenient = await audit('replay', legacy, '--legacy-rules', '--json');
    expect(lenient.code).toBe(0);
    expect(JSON.parse(lenient.stdout)).toMatchObject({ ok: true, lastSeq: 15 });
    expect(await audit('verify', legacy, '--legacy-rules')).toMatchObject({ code: 2, stderr: expect.stringContaining('verify: --legacy-rules is a replay option') });
  });

  it('query: filters and prints JSON Lines', async () => {
    const denied = await audit('query', log, '--decision', 'denied');
    expect(denied.code).toBe(0);
    const lines = denied.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { seq: number; reason: string });
    expect(lines.map((record) => [record.seq, record.reason])).toEqual([[5, 'not_owner']]);
    const byActor = await audit('query', log, '--actor', 'agent:claude-1', '--action', 'play', '--json');
    expect((JSON.parse(byActor.stdout) as unknown[]).length).toBe(1);
    expect((await audit('query', log, '--target', 'nope')).stdout).toBe('');
  });

  it('bad usage exits 2 with a clear message', async () => {
    expect(await audit()).toMatchObject({ code: 2, stderr: expect.stringContaining('missing subcommand') });
    expect(await audit('explode', log)).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown subcommand "explode"') });
    expect(await audit('verify')).toMatchObject({ code: 2, stderr: expect.stringContaining('verify: missing the log file') });
    expect(await audit('verify', join(dir, 'missing.jsonl'))).toMatchObject({ code: 2, stderr: expect.stringContaining('cannot read attestation log') });
    expect(await audit('verify', log, '--bogus')).toMatchObject({ code: 2, stderr: expect.stringContaining("Unknown option '--bogus'") });
    expect(await audit('query', log, '--decision', 'maybe')).toMatchObject({ code: 2, stderr: expect.stringContaining('query.decision') });
    expect(await audit('verify', log, '--actor', 'x')).toMatchObject({ code: 2, stderr: expect.stringContaining('--actor is a query option') });
    expect(await audit('replay', log, '--snapshot', join(dir, 'none.json'))).toMatchObject({ code: 2, stderr: expect.stringContaining('--snapshot: cannot read') });
    expect(auditCommand.help).toContain('Exit codes: 0 ok, 1 verification or replay failure, 2 bad usage.');
    expect(await audit('verify', '--help')).toMatchObject({ code: 0, stdout: auditCommand.help });
  });
});
