// Signed checkpoints as the store writes them: options and keys, cadence (records, time, close),
// durability order, anchors, and reopening a log whose sidecar does not match it. Real files in a
// temp dir, real registrars; waits are for events, never for a duration.
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkpointPath, parseCheckpoint, type Checkpoint } from '../../src/attestation/checkpoint.js';
import { AttestationError } from '../../src/attestation/errors.js';
import { publicKeyPemOf } from '../../src/attestation/signing.js';
import { AttestationStore } from '../../src/attestation/store.js';
import { verifyLog } from '../../src/attestation/verify-log.js';
import { InputError } from '../../src/errors.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { nextTurn, waitUntil } from '../helpers/waiting.js';
import { thrown } from '../helpers/errors.js';

const keys = generateKeyPairSync('ed25519');
const publicPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const dir = mkdtempSync(join(tmpdir(), 'signing-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileNumber = 0;
function freshLog(): string {
  fileNumber += 1;
  return join(dir, `log-${fileNumber}.jsonl`);
}

function checkpointsOf(path: string): Checkpoint[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const parsed = parseCheckpoint(line);
      if ('problem' in parsed) throw new Error(parsed.problem);
      return parsed.checkpoint;
    });
}

/** `count` starts by one agent (each an allowed record). */
function starts(registrar: AudioRegistrar, count: number): void {
  registrar.registerActor('agent:a');
  for (let index = 0; index < count; index += 1) registrar.requestAsHost({ action: 'start', actor: 'agent:a' });
}


describe('signing options', () => {
  it('bad options are InputErrors naming the field, and touch no file', () => {
    const path = freshLog();
    const cases: [unknown, string][] = [
      [{ privateKey: keys.privateKey, everyRecords: 0 }, 'options.signing.everyRecords'],
      [{ privateKey: keys.privateKey, everyMs: -5 }, 'options.signing.everyMs'],
      [{ privateKey: keys.privateKey, anchor: 'https://example.invalid' }, 'options.signing.anchor'],
      [{ privateKey: keys.privateKey, bogus: true }, 'options.signing'],
      [{ everyRecords: 5 }, 'options.signing'],
      [{ privateKey: keys.privateKey, privateKeyFile: join(dir, 'key.pem') }, 'options.signing'],
      [{ privateKey: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey }, 'options.signing.privateKey'],
      [{ privateKey: keys.publicKey }, 'options.signing.privateKey'],
      [{ privateKey: 'not a pem' }, 'options.signing.privateKey'],
      [{ privateKeyFile: join(dir, 'absent.pem') }, 'options.signing.privateKeyFile'],
    ];
    for (const [signing, field] of cases) {
      const error = thrown(() => AttestationStore.open(path, { signing: signing as never }));
      expect(error, field).toBeInstanceOf(InputError);
      expect((error as InputError).field, JSON.stringify(Object.keys(signing as object))).toBe(field);
    }
    expect(existsSync(path)).toBe(false);
    expect(existsSync(checkpointPath(path))).toBe(false);
  });

  it('a key as PEM text or in a file only its owner can read; a group/world-readable key file is refused', async () => {
    const keyFile = join(dir, 'signing-key.pem');
    writeFileSync(keyFile, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const fromFile = AttestationStore.open(freshLog(), { signing: { privateKeyFile: keyFile } }).store;
    const fromPem = AttestationStore.open(freshLog(), { signing: { privateKey: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() } }).store;
    expect(fromFile.publicKeyPem).toBe(publicPem);
    expect(fromPem.publicKeyPem).toBe(publicPem);
    expect(publicKeyPemOf({ privateKeyFile: keyFile })).toBe(publicPem);
    expect(new AttestationStore().publicKeyPem).toBeNull();
    await Promise.all([fromFile.close(), fromPem.close()]);

    chmodSync(keyFile, 0o644);
    const path = freshLog();
    expect(thrown(() => AttestationStore.open(path, { signing: { privateKeyFile: keyFile } }))).toMatchObject({ code: 'ATTESTATION_KEY_PERMISSIONS', message: expect.stringContaining('chmod 600') });
    chmodSync(keyFile, 0o640);
    expect(thrown(() => publicKeyPemOf({ privateKeyFile: keyFile }))).toMatchObject({ code: 'ATTESTATION_KEY_PERMISSIONS' });
    expect(existsSync(path)).toBe(false);
  });
});

describe('when checkpoints are written', () => {
  it('every `everyRecords` records, and one at close covering the rest', async () => {
    const path = freshLog();
    const { registrar } = AudioRegistrar.openLog(path, { signing: { privateKey: keys.privateKey, everyRecords: 5, everyMs: 0 } });
    starts(registrar, 12);
    await waitUntil(() => registrar.attestationStore.signedSeq === 10, 'the checkpoint of seq 10');
    expect(checkpointsOf(checkpointPath(path)).map((checkpoint) => [checkpoint.fromSeq, checkpoint.seq, checkpoint.count])).toEqual([
      [1, 5, 5],
      [6, 10, 10],
    ]);
    await nextTurn();
    expect(registrar.attestationStore.signedSeq).toBe(10); // no timer (everyMs 0): 11 and 12 wait for close
    await registrar.close();
    expect(checkpointsOf(checkpointPath(path)).map((checkpoint) => checkpoint.seq)).toEqual([5, 10, 12]);
    expect(verifyLog(path, { publicKey: publicPem })).toMatchObject({ ok: true, signature: { checkpoints: 3, signedThroughSeq: 12, unsignedTail: null } });
  });

  it('a burst faster than the sidecar: queued checkpoints coalesce, every record is still covered once', async () => {
    const path = freshLog();
    const { registrar } = AudioRegistrar.openLog(path, { signing: { privateKey: keys.privateKey, everyRecords: 1, everyMs: 0 } });
    starts(registrar, 100); // 100 checkpoints asked for before the first can start
    await registrar.close();
    const checkpoints = checkpointsOf(checkpointPath(path));
    expect(checkpoints.length).toBeLessThan(100);
    expect(checkpoints.at(-1)?.seq).toBe(100);
    checkpoints.forEach((checkpoint, index) => expect(checkpoint.fromSeq).toBe(index === 0 ? 1 : (checkpoints[index - 1]?.seq ?? 0) + 1));
    expect(verifyLog(path, { publicKey: publicPem })).toMatchObject({ ok: true, signature: { signedThroughSeq: 100 } });
  });

  it('`everyMs` after the first record not yet covered, however few records came', async () => {
    const path = freshLog();
    const { registrar } = AudioRegistrar.openLog(path, { signing: { privateKey: keys.privateKey, everyRecords: 1_000, everyMs: 20 } });
    starts(registrar, 3);
    await waitUntil(() => registrar.attestationStore.signedSeq === 3, 'the timed checkpoint');
    starts(registrar, 2);
    await waitUntil(() => registrar.attestationStore.signedSeq === 5, 'the second timed checkpoint');
    expect(checkpointsOf(checkpointPath(path)).map((checkpoint) => checkpoint.seq)).toEqual([3, 5]);
    await registrar.close();
    expect(checkpointsOf(checkpointPath(path)).map((checkpoint) => checkpoint.seq)).toEqual([3, 5]); // nothing new to sign at close
  });

  it('in group mode, only once the records it covers are in the log file (seen from the anchor)', async () => {
    const path = freshLog();
    const seen: { seq: number; logLines: number }[] = [];
    const { registrar } = AudioRegistrar.openLog(path, {
      durability: 'group',
      groupCommitMs: 10,
      signing: {
        privateKey: keys.privateKey,
        everyRecords: 4,
        everyMs: 0,
        anchor: (checkpoint) => void seen.push({ seq: checkpoint.seq, logLines: readFileSync(path, 'utf8').split('\n').length - 1 }),
      },
    });
    starts(registrar, 10);
    await registrar.close();
    expect(seen.map((entry) => entry.seq)).toEqual([4, 8, 10]);
    for (const entry of seen) expect(entry.logLines).toBeGreaterThanOrEqual(entry.seq);
    expect(verifyLog(path, { publicKey: publicPem }).ok).toBe(true);
  });
});

describe('a failed log', () => {
  it('signs nothing once the log failed: no checkpoint ever covers a record that is not in the file', async () => {
    const path = freshLog();
    const { store } = AttestationStore.open(path, { memoryRecords: 1, signing: { privateKey: keys.privateKey, everyMs: 0 } });
    const registrar = new AudioRegistrar({ store });
    const agent = registrar.registerActor('agent:a');
    registrar.request({ action: 'start', actor: agent, target: 's1' });
    registrar.request({ action: 'start', actor: agent, target: 's2' });
    // Seq 1 changes on disk under the store; reading it back (beyond the 1-record window) fails the log.
    writeFileSync(path, readFileSync(path, 'utf8').replace('new -> compiling', 'new -> COMPILING'));
    expect(registrar.attestationStore.bySeq(1)).toBeUndefined();
    expect(registrar.haltCause?.cause).toBe('attestation_io');
    const failed = registrar.request({ action: 'synthesize', actor: agent, target: 's1' });
    expect(failed.reason).toBe('registrar_halted');
    await registrar.close();
    const inFile = readFileSync(path, 'utf8').split('\n').length - 1;
    expect(inFile).toBe(2);
    for (const checkpoint of checkpointsOf(checkpointPath(path))) expect(checkpoint.seq).toBeLessThanOrEqual(inFile);
  });
});

describe('anchors', () => {
  it('the callback and the anchor file receive every checkpoint, as in the sidecar', async () => {
    const path = freshLog();
    const anchorFile = join(dir, `anchor-${fileNumber}.checkpoints`);
    const received: Checkpoint[] = [];
    const { registrar } = AudioRegistrar.openLog(path, {
      signing: { privateKey: keys.privateKey, everyRecords: 3, everyMs: 0, anchorFile, anchor: async (checkpoint) => void received.push(checkpoint) },
    });
    starts(registrar, 7);
    await registrar.close();
    expect(received.map((checkpoint) => checkpoint.seq)).toEqual([3, 6, 7]);
    expect(checkpointsOf(checkpointPath(path))).toEqual(received);
    expect(checkpointsOf(anchorFile)).toEqual(received);
  });

  it('a failing anchor is a process warning; the log and its checkpoints go on', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }) => {
      if (warning.code === 'VOICE_SOUNDBOARD_ANCHOR') warnings.push(warning.message);
    };
    process.on('warning', onWarning);
    try {
      const path = freshLog();
      const { registrar } = AudioRegistrar.openLog(path, {
        signing: {
          privateKey: keys.privateKey,
          everyRecords: 2,
          everyMs: 0,
          anchor: (checkpoint) => {
            if (checkpoint.seq === 2) throw new Error('anchor service down');
            return Promise.reject(new Error('still down'));
          },
          ...(existsSync('/dev/full') ? { anchorFile: '/dev/full' } : {}),
        },
      });
      starts(registrar, 4);
      await registrar.close();
      await waitUntil(() => warnings.length >= 2, 'the anchor warnings');
      expect(warnings.some((message) => message.includes('seq 2: anchor service down'))).toBe(true);
      expect(warnings.some((message) => message.includes('seq 4: still down'))).toBe(true);
      if (existsSync('/dev/full')) expect(warnings.some((message) => /ENOSPC/.test(message))).toBe(true);
      expect(registrar.halted).toBe(false);
      expect(verifyLog(path, { publicKey: publicPem })).toMatchObject({ ok: true, signature: { signedThroughSeq: 4 } });
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('reopening a signed log', () => {
  it('signs a log written before signing was on only with adoptUnsigned', async () => {
    const path = freshLog();
    const { registrar } = AudioRegistrar.openLog(path);
    starts(registrar, 10);
    await registrar.close();
    expect(verifyLog(path, { publicKey: publicPem })).toMatchObject({ ok: false, errors: [{ seq: 1, invariant: 'checkpoint.missing' }] });
    // Refused unless asked for: a removed sidecar is how a forger would get a rewritten log signed.
    expect(thrown(() => AudioRegistrar.openLog(path, { signing: { privateKey: keys.privateKey } }))).toMatchObject({ code: 'ATTESTATION_CHECKPOINT_MISSING', seq: 1 });
    expect(existsSync(checkpointPath(path))).toBe(false);
    const reopened = AudioRegistrar.openLog(path, { signing: { privateKey: keys.privateKey, everyRecords: 4, everyMs: 0, adoptUnsigned: true } });
    expect(checkpointsOf(checkpointPath(path)).map((checkpoint) => checkpoint.seq)).toEqual([4, 8, 10]);
    expect(reopened.registrar.attestationStore.signedSeq).toBe(10);
    await reopened.registrar.close();
    expect(verifyLog(path, { publicKey: publicPem })).toMatchObject({ ok: true, signature: { signedThroughSeq: 10 } });
  });

  it('cuts off a torn checkpoint line (a crash while writing it); verifyLog only warns about one', async () => {
    const path = freshLog();
    const { registrar } = AudioRegistrar.openLog(path, { signing: { privateKey: keys.privateKey, everyRecords: 4, everyMs: 0 } });
    starts(registrar, 6);
    await registrar.close();
    const sidecar = checkpointPath(path);
    const intact = readFileSync(sidecar, 'utf8');
    appendFileSync(sidecar, intact.split('\n')[0]?.slice(0, 50) ?? '');
    expect(verifyLog(path, { publicKey: publicPem })).toMatchObject({ ok: true, warnings: [{ invariant: 'checkpoint.torn' }] });
    const reopened = AudioRegistrar.openLog(path, { signing: { privateKey: keys.privateKey, everyRecords: 4, everyMs: 0 } });
    expect(readFileSync(sidecar, 'utf8')).toBe(intact);
    await reopened.registrar.close();
  });

  it('refuses a sidecar whose last line is not a checkpoint, or whose last checkpoint is forged', async () => {
    const path = freshLog();
    const { registrar } = AudioRegistrar.openLog(path, { signing: { privateKey: keys.privateKey, everyRecords: 4, everyMs: 0 } });
    starts(registrar, 6);
    await registrar.close();
    const sidecar = checkpointPath(path);
    const intact = readFileSync(sidecar, 'utf8');
    const open = () => AudioRegistrar.openLog(path, { signing: { privateKey: keys.privateKey } });
    writeFileSync(sidecar, `${intact}{"kind":"checkpoint"}\n`);
    expect(thrown(open)).toMatchObject({ code: 'ATTESTATION_CHECKPOINT_CORRUPT' });
    const lines = intact.trimEnd().split('\n');
    const last = JSON.parse(lines.at(-1) ?? '{}') as Checkpoint;
    writeFileSync(sidecar, `${[...lines.slice(0, -1), JSON.stringify({ ...last, time: '2000-01-01T00:00:00.000Z' })].join('\n')}\n`);
    expect(thrown(open)).toMatchObject({ code: 'ATTESTATION_CHECKPOINT_INVALID', seq: 6 });
    expect(verifyLog(path, { publicKey: publicPem })).toMatchObject({ ok: false, errors: [{ seq: 5, invariant: 'checkpoint.signature' }] });
    writeFileSync(sidecar, intact);
    const again = open();
    await again.registrar.close();
  });

  it('checks the anchor file too: a sidecar and log cut back together are refused by it', async () => {
    const path = freshLog();
    const anchorFile = `${path}.anchor`;
    const signing = { privateKey: keys.privateKey, everyRecords: 3, everyMs: 0, anchorFile };
    const { registrar } = AudioRegistrar.openLog(path, { signing });
    starts(registrar, 9);
    await registrar.close();
    // The forger cuts the log back to seq 6 and the sidecar back to the checkpoint of seq 6.
    writeFileSync(path, `${readFileSync(path, 'utf8').split('\n').slice(0, 6).join('\n')}\n`);
    writeFileSync(checkpointPath(path), `${readFileSync(checkpointPath(path), 'utf8').split('\n').slice(0, 2).join('\n')}\n`);
    const withoutAnchor = AudioRegistrar.openLog(path, { signing: { ...signing, anchorFile: undefined } });
    await withoutAnchor.registrar.close(); // the two files agree: nothing to see without the anchor
    expect(thrown(() => AudioRegistrar.openLog(path, { signing }))).toMatchObject({ code: 'ATTESTATION_CHECKPOINT_MISMATCH', seq: 7 });
  });

  it('a log continuing a snapshot counts from its chain start', async () => {
    const first = freshLog();
    const { registrar } = AudioRegistrar.openLog(first, { signing: { privateKey: keys.privateKey, everyRecords: 100, everyMs: 0 } });
    starts(registrar, 3);
    const snapshot = registrar.snapshot();
    await registrar.close();
    const tail = freshLog();
    const { store } = AttestationStore.open(tail, { head: { seq: snapshot.lastSeq, hash: snapshot.lastHash }, signing: { privateKey: keys.privateKey, everyRecords: 2, everyMs: 0 } });
    const restored = AudioRegistrar.restore(snapshot, [], { store, publicKey: publicPem });
    restored.requestAsHost({ action: 'start', actor: 'agent:a' });
    restored.requestAsHost({ action: 'start', actor: 'agent:a' });
    restored.requestAsHost({ action: 'start', actor: 'agent:a' });
    await restored.close();
    expect(checkpointsOf(checkpointPath(tail)).map((checkpoint) => [checkpoint.fromSeq, checkpoint.seq, checkpoint.count])).toEqual([
      [4, 5, 2],
      [6, 6, 3],
    ]);
    expect(verifyLog(tail, { publicKey: publicPem, start: { seq: 3, hash: snapshot.lastHash } })).toMatchObject({ ok: true, signature: { signedThroughSeq: 6 } });
    // Checked as if it started at genesis, the counts (and the chain) disagree.
    expect(verifyLog(tail, { publicKey: publicPem }).errors.map((error) => error.invariant)).toContain('checkpoint.count');
  });
});

describe('the store signs only its own head, for its own registrar', () => {
  it('signSnapshot from outside the registrar is sealed; a head that is not the store\'s is refused', async () => {
    const { store } = AttestationStore.open(freshLog(), { signing: { privateKey: keys.privateKey, everyMs: 0 } });
    expect(thrown(() => store.signSnapshot({ hash: 'f'.repeat(64), lastSeq: 7, lastHash: 'e'.repeat(64) }))).toMatchObject({ code: 'ATTESTATION_CHAIN_BROKEN' });
    const registrar = new AudioRegistrar({ store });
    starts(registrar, 1);
    expect(thrown(() => store.signSnapshot({ hash: 'f'.repeat(64), lastSeq: store.lastSeq, lastHash: store.lastHash }))).toMatchObject({ code: 'ATTESTATION_STORE_SEALED' });
    expect(registrar.snapshot().signature?.keyId).toMatch(/^[0-9a-f]{64}$/);
    await registrar.close();
  });

  it('a sidecar that cannot be read or opened fails open with an AttestationError code', () => {
    const path = freshLog();
    writeFileSync(path, '');
    mkdirSync(checkpointPath(path)); // a directory where the sidecar should be
    const error = thrown(() => AttestationStore.open(path, { signing: { privateKey: keys.privateKey } }));
    expect(error).toBeInstanceOf(AttestationError);
    expect(error).toMatchObject({ code: 'ATTESTATION_IO' });
  });
});
