// `voice-soundboard audit` on logs written under a compaction policy other than the default, and
// without compaction: verify --replay, replay and a snapshot-continued segment follow what the log
// (or the snapshot) states, so a valid log never fails because a default changed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttestationStore } from '../../src/attestation/store.js';
import { auditCommand } from '../../src/cli/audit.js';
import { runCommand, type CommandRun } from '../helpers/cli.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';

function audit(...args: string[]): Promise<CommandRun> {
  return runCommand(auditCommand, args);
}

/** Utterances whose later requests depend on compaction (a stream stopped early, restarted or started again later). */
function run(registrar: AudioRegistrar, utterances: number): void {
  for (let round = 0; round < utterances; round += 1) {
    const id = registrar.requestAsHost({ action: 'start', actor: 'agent:claude-1' }).streamId ?? '';
    for (const action of ['synthesize', 'play', 'stop']) registrar.requestAsHost({ action, actor: 'agent:claude-1', target: id });
    if (round % 5 === 0) {
      registrar.requestAsHost({ action: 'restart', actor: 'agent:claude-1', target: 'early' });
      registrar.requestAsHost({ action: 'start', actor: 'agent:claude-1', target: 'early' });
      registrar.requestAsHost({ action: 'stop', actor: 'agent:claude-1', target: 'early' });
    }
  }
}

let dir: string;
let custom: string;
let snapshotFile: string;
let tail: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'audit-compaction-'));
  custom = join(dir, 'custom.jsonl');
  const registrar = new AudioRegistrar({ store: AttestationStore.open(custom).store, core: new ReferenceCore({ compaction: { periodSeqs: 40, retainSeqs: 12 } }) });
  registrar.registerActor('agent:claude-1');
  run(registrar, 40);
  const snapshot = registrar.snapshot();
  snapshotFile = join(dir, 'snapshot.json');
  writeFileSync(snapshotFile, JSON.stringify(snapshot));
  await registrar.close();
  tail = join(dir, 'tail.jsonl');
  const restored = AudioRegistrar.restore(snapshot, [], { store: AttestationStore.open(tail, { head: { seq: snapshot.lastSeq, hash: snapshot.lastHash } }).store });
  run(restored, 40);
  await restored.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('voice-soundboard audit follows the log\'s compaction policy', () => {
  it('verifies and replays a log written with a custom policy', async () => {
    const verified = await audit('verify', custom, '--replay');
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    expect((await audit('replay', custom)).code).toBe(0);
  });

  it('verifies and replays a segment continuing a snapshot of that log', async () => {
    expect((await audit('verify', tail, '--snapshot', snapshotFile, '--replay')).code).toBe(0);
    expect((await audit('replay', tail, '--snapshot', snapshotFile)).code).toBe(0);
  });
});
