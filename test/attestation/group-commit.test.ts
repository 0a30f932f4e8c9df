// Group commit on real files: one write + fdatasync acknowledges a whole burst (one shared
// promise), groupCommitMs 0 commits as soon as the synchronous run ends, a group that comes while
// another syncs follows it (never two syncing at once), records are not acknowledged
// before they are on disk, and a failed batch rejects every record of it (already handled, so
// an ignored `durable` never becomes an unhandled rejection) and halts the registrar; close()
// never closes the descriptor while a batch's fdatasync waits in the thread pool (held there by
// FIFO opens that block every pool thread).
import { execFileSync } from 'node:child_process';
import { closeSync, open, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DurableLog } from '../../src/attestation/durable-log.js';
import { AttestationStore } from '../../src/attestation/store.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';
import { nextTurn, settledFlag, waitUntil } from '../helpers/waiting.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('group-commit-');
function tempLog(): string {
  const dir = tempDir();
  return join(dir, 'log.jsonl');
}
function linesOf(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return text === '' ? [] : text.trimEnd().split('\n');
}

describe('group commit', () => {
  it('groupCommitMs 0: a burst shares one promise and is on disk, byte for byte, once it resolves', async () => {
    const path = tempLog();
    const { store } = AttestationStore.open(path, { durability: 'group', groupCommitMs: 0 });
    const registrar = new AudioRegistrar({ store, core: new ReferenceCore() });
    registrar.registerActor('agent:a');
    const results = [registrar.requestAsHost({ action: 'start', actor: 'agent:a', target: 's1' })];
    for (let index = 0; index < 20; index += 1) results.push(registrar.requestAsHost({ action: 'compile', actor: 'agent:a', target: 's1' }));
    expect(linesOf(path)).toHaveLength(0); // nothing acknowledged yet: nothing needs to be on disk
    expect(new Set(results.map((result) => result.durable)).size).toBe(1);
    await results[20]?.durable;
    expect(linesOf(path)).toEqual(store.export().trimEnd().split('\n'));
    expect(linesOf(path)).toHaveLength(21);
    // The next burst is a new batch.
    const next = registrar.requestAsHost({ action: 'compile', actor: 'agent:a', target: 's1' });
    expect(next.durable).not.toBe(results[0]?.durable);
    await next.durable;
    expect(linesOf(path)).toHaveLength(22);
    await registrar.close();
    const reopened = AudioRegistrar.openLog(path, { core: new ReferenceCore() });
    expect(reopened.report.records).toBe(22);
    expect(reopened.registrar.attestationStore.lastHash).toBe(store.lastHash);
    await reopened.registrar.close();
  });

  it('groupCommitMs 0: the batch is written when the synchronous run ends (no event-loop turn); records arriving while it syncs are the next group, written only after it', async () => {
    const path = tempLog();
    const { store } = AttestationStore.open(path, { durability: 'group', groupCommitMs: 0 });
    const registrar = new AudioRegistrar({ store, core: new ReferenceCore() });
    registrar.registerActor('agent:a');
    const first = registrar.requestAsHost({ action: 'start', actor: 'agent:a', target: 's1' });
    expect(linesOf(path)).toHaveLength(0);
    await Promise.resolve(); // microtasks only: the commit ran, its fdatasync waits in the thread pool
    expect(linesOf(path)).toHaveLength(1);
    const firstDone = settledFlag(first.durable);
    const during = Array.from({ length: 10 }, () => registrar.requestAsHost({ action: 'compile', actor: 'agent:a', target: 's1' }));
    expect(new Set(during.map((result) => result.durable)).size).toBe(1);
    expect(during[0]?.durable).not.toBe(first.durable);
    await Promise.resolve();
    await Promise.resolve();
    // The first batch cannot have synced without a turn of the event loop: the group waits for it.
    expect(firstDone.settled).toBe(false);
    expect(linesOf(path)).toHaveLength(1);
    await during[9]?.durable;
    expect(firstDone.settled).toBe(true);
    expect(linesOf(path)).toEqual(store.export().trimEnd().split('\n'));
    expect(linesOf(path)).toHaveLength(11);
    await registrar.close();
  });

  it('a failed batch rejects each of its records with ATTESTATION_IO, unawaited ones included without an unhandled rejection, and halts the registrar', async () => {
    const path = tempLog();
    const { store } = AttestationStore.open(path, { durability: 'group', groupCommitMs: 0 });
    const registrar = new AudioRegistrar({ store, core: new ReferenceCore() });
    registrar.registerActor('agent:a');
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const ignored = registrar.requestAsHost({ action: 'start', actor: 'agent:a', target: 's1' }); // its durable is never awaited before the failure
      // Pull the file descriptor out from under the log: the batch write fails with EBADF.
      closeSync((store as unknown as { log: { fd: number } }).log.fd);
      // A flush covering the failed batch rejects (it never says "durable" for records that are not).
      await expect(store.flush()).rejects.toMatchObject({ code: 'ATTESTATION_IO' });
      await waitUntil(() => registrar.halted, 'the failed batch to halt the registrar');
      // The batch's promise was rejected in the same callback that halted the registrar; Node reports
      // a rejection nobody handles once that callback's microtasks are done, before the next turn.
      await nextTurn();
      expect(unhandled).toEqual([]);
      expect(registrar.halted).toBe(true);
      await expect(ignored.durable).rejects.toMatchObject({ code: 'ATTESTATION_IO' });
      const refused = registrar.requestAsHost({ action: 'compile', actor: 'agent:a', target: 's1' });
      expect(refused).toMatchObject({ allowed: false, reason: 'registrar_halted' });
      await expect(refused.durable).rejects.toMatchObject({ code: 'ATTESTATION_IO' });
      await expect(registrar.flush()).rejects.toMatchObject({ code: 'ATTESTATION_IO' }); // nothing pending, the log failed
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    (store as unknown as { log: { fd: number | null } }).log.fd = null; // closed above already
    await registrar.close();
  });

  it("close() never closes the descriptor under a batch's queued fdatasync: a batch that began syncing during its flush is waited for", async () => {
    const dir = tempDir();
    const path = join(dir, 'log.jsonl');
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const { store } = AttestationStore.open(path, { durability: 'group', groupCommitMs: 0 });
    const registrar = new AudioRegistrar({ store, core: new ReferenceCore() });
    registrar.registerActor('agent:a');
    const first = registrar.requestAsHost({ action: 'start', actor: 'agent:a', target: 's1' });
    const closing = store.close(); // its flush writes the first batch and starts its fdatasync in the thread pool
    // Every other thread of the pool, and that one once its fdatasync is done, blocks opening a FIFO nobody writes to yet.
    const readers = Array.from({ length: 64 }, () => new Promise<number>((resolve, reject) => open(fifo, 'r', (error, fd) => (error ? reject(error) : resolve(fd)))));
    // Appended while the first batch syncs: the next group, whose fdatasync waits in the pool's queue.
    const second = registrar.requestAsHost({ action: 'compile', actor: 'agent:a', target: 's1' });
    const closed = settledFlag(closing);
    let closedUnderQueuedSync = true;
    try {
      await first.durable;
      for (let turn = 0; turn < 4; turn += 1) await nextTurn();
      closedUnderQueuedSync = closed.settled;
    } finally {
      // The pool is given back whatever happened (the FIFO's readers open once a writer does).
      const writer = openSync(fifo, 'w');
      for (const fd of await Promise.all(readers)) closeSync(fd);
      closeSync(writer);
    }
    // Before: close() had closed the descriptor by now, and the queued fdatasync then ran on it (EBADF) or on a FIFO reader that reused its number (EINVAL).
    expect(closedUnderQueuedSync).toBe(false);
    await closing;
    await expect(second.durable).resolves.toBeUndefined();
    expect(registrar.halted).toBe(false);
    expect(linesOf(path)).toEqual(store.export().trimEnd().split('\n'));
    expect(linesOf(path)).toHaveLength(2);
    await registrar.close();
  });

  it('DurableLog.append(record) and appendLine(line) write the same canonical line', async () => {
    const path = tempLog();
    const { store } = AttestationStore.open(tempLog(), { durability: 'fsync' });
    const registrar = new AudioRegistrar({ store, core: new ReferenceCore() });
    registrar.registerActor('agent:a');
    const record = registrar.requestAsHost({ action: 'start', actor: 'agent:a', target: 's1' }).attestation;
    const { log } = DurableLog.open(path, { durability: 'fsync' });
    await log.append(record);
    await log.close();
    expect(readFileSync(path, 'utf8')).toBe(store.export());
    await registrar.close();
  });

  it('a flush with nothing pending does not capture later appends: every record is written exactly once', async () => {
    const path = tempLog();
    const { store } = AttestationStore.open(path, { durability: 'group', groupCommitMs: 0 });
    const registrar = new AudioRegistrar({ store, core: new ReferenceCore() });
    registrar.registerActor('agent:a');
    const emptyFlush = registrar.flush();
    const first = registrar.requestAsHost({ action: 'start', actor: 'agent:a', target: 's1' });
    await emptyFlush;
    await first.durable;
    const second = registrar.requestAsHost({ action: 'compile', actor: 'agent:a', target: 's1' });
    const flushed = registrar.flush();
    const third = registrar.requestAsHost({ action: 'compile', actor: 'agent:a', target: 's1' });
    await Promise.all([flushed, second.durable, third.durable]);
    await registrar.close(); // flushes and waits for every write, a stray one included
    expect(linesOf(path)).toEqual(store.export().trimEnd().split('\n'));
    expect(linesOf(path)).toHaveLength(3);
  });
});
