// `voice-soundboard audit` streams its log: a segmented log is read transparently from its
// directory, and a log that cannot be read past some record fails (exit 1) naming the error code
// and the seq, for verify, replay and query alike.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../src/attestation/log-segments.js';
import { AttestationStore } from '../../src/attestation/store.js';
import { auditCommand } from '../../src/cli/audit.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';
import { runCommand, type CommandRun } from '../helpers/cli.js';

function audit(...args: string[]): Promise<CommandRun> {
  return runCommand(auditCommand, args);
}

/** Every record of a log, read through a store that is closed again. */
async function recordsOf(path: string) {
  const { store } = AttestationStore.open(path);
  const records = store.all();
  await store.close();
  return records;
}

let dir: string;
let segmented: string;
let stateHash: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'audit-segments-'));
  segmented = join(dir, 'log');
  const { store } = AttestationStore.open(segmented, { durability: 'group', groupCommitMs: 0, segmentBytes: 4096 });
  const registrar = new AudioRegistrar({ store, core: new ReferenceCore() });
  registrar.registerActor('agent:a');
  registrar.registerActor('system:runtime');
  for (let index = 0; index < 30; index += 1) {
    const stream = registrar.requestAsHost({ action: 'start', actor: 'agent:a' }).streamId;
    for (const action of ['synthesize', 'play', 'stop']) registrar.requestAsHost({ action, actor: 'system:runtime', target: stream });
  }
  registrar.requestAsHost({ action: 'interrupt', actor: 'agent:a', target: 'nowhere' });
  stateHash = registrar.stateHash();
  await registrar.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('audit on segmented logs', () => {
  it('verify --replay, replay and query read every segment from the directory', async () => {
    expect(readManifest(segmented).segments.length).toBeGreaterThan(5);
    expect(await audit('verify', segmented, '--replay')).toMatchObject({ code: 0, stdout: 'ok: 121 records, hash chain intact, structural invariants hold, replay deterministic\n' });
    const replay = JSON.parse((await audit('replay', segmented, '--json')).stdout) as { lastSeq: number; stateHash: string };
    expect(replay).toMatchObject({ lastSeq: 121, stateHash });
    const denied = await audit('query', segmented, '--decision', 'denied', '--json');
    expect((JSON.parse(denied.stdout) as { seq: number }[]).map((record) => record.seq)).toEqual([121]);
    expect(JSON.parse((await audit('query', segmented, '--action', 'nothing-like-this', '--json')).stdout)).toEqual([]);
  });

  it('a missing segment fails verify and replay (exit 1) with its code and seq; query notes where it stopped', async () => {
    const copy = join(dir, 'missing');
    const { store } = AttestationStore.open(copy, { durability: 'group', groupCommitMs: 0, segmentBytes: 4096 });
    store.adopt(await recordsOf(segmented));
    await store.close();
    const second = readManifest(copy).segments[1]!;
    rmSync(join(copy, second.name));
    const verified = await audit('verify', copy, '--json');
    expect(verified.code).toBe(1);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: false, code: 'ATTESTATION_SEGMENT_MISSING', errors: [{ seq: second.firstSeq, invariant: 'attestation.log' }] });
    const replay = await audit('replay', copy);
    expect(replay.code).toBe(1);
    expect(replay.stderr).toMatch(/^cannot replay: \[ATTESTATION_SEGMENT_MISSING\] .* \(seq \d+\)/);
    const query = await audit('query', copy);
    expect(query.code).toBe(0);
    expect(query.stderr).toContain('note: the log cannot be read past seq 0');
  });

  it('a corrupt line is reported as ATTESTATION_LOG_CORRUPT at the seq it should have had, after the records before it were checked', async () => {
    const file = join(dir, 'corrupt.jsonl');
    const lines = (await recordsOf(segmented)).map((record) => JSON.stringify(record));
    lines[40] = '{"truncated": true';
    writeFileSync(file, `${lines.join('\n')}\n`);
    const verified = await audit('verify', file);
    expect(verified.code).toBe(1);
    expect(verified.stderr).toContain('error  seq 41  attestation.schema: [ATTESTATION_LOG_CORRUPT]');
    expect(verified.stderr).toContain('FAILED: 1 problem(s) in 40 records');
    expect(readFileSync(file, 'utf8')).toContain('"truncated"');
  });
});
