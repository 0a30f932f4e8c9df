// One registrar, one log, whichever object decides: a writer and attached registrars on one native
// core (here in one thread; threads.test.ts does the same across worker threads). The writer drains
// the journal and the bodies the attached ones posted into its one log, in seq order, and the log
// holds exactly what each caller was told. Decisions of a raw core object (no registrar) are written
// from the journal. A core has one writer; a reference core cannot be shared; a writer that starts
// behind a journal that already lost seqs halts rather than write a gap. An attached result's
// `durable` resolves only once its record is on disk in the writer's log (never for one whose
// write failed).
import { closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AttestationStore } from '../../src/attestation/store.js';
import { ACTOR_KINDS, NO_ID, TRANSITION_ACTIONS, type CoreRequest } from '../../src/registrar/core.js';
import { NativeCore } from '../../src/registrar/native-core.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import type { HaltInfo, TransitionEvent } from '../../src/registrar/types.js';
import { verify } from '../../src/registrar/verify.js';
import { coresUnderTest, expectAllowed } from './cores.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('journal-sync-');
/** The seqs of the lines on disk now. */
function seqsOnDisk(path: string): number[] {
  const text = readFileSync(path, 'utf8');
  return text === '' ? [] : text.trimEnd().split('\n').map((line) => (JSON.parse(line) as { seq: number }).seq);
}

const unsealed = ({ prevHash: _prevHash, hash: _hash, ...content }: { prevHash: string; hash: string }) => content;

describe('a writer and attached registrars on one native core write one log', () => {
  it('attached decisions are logged by the writer in seq order, exactly as their callers were told (ids, text, parent)', async () => {
    const writer = new AudioRegistrar({ core: new NativeCore() });
    const a = AudioRegistrar.attach(writer.share());
    const b = AudioRegistrar.attach(writer.share());
    expect([writer.role, a.role, b.role]).toEqual(['writer', 'attached', 'attached']);
    const agentA = a.registerActor('agent:one');
    b.registerActor('agent:one'); // registration is the core's: known everywhere anyway
    const started = expectAllowed(a.request({ action: 'start', actor: agentA, target: 'a1', reason: 'hello', metadata: { sessionId: 'den', priority: 'background' } }));
    // The result is the record the writer will log, but unsealed: only the writer links the chain.
    expect(started.attestation).toMatchObject({ seq: 1, prevHash: '', hash: '' });
    const onB = expectAllowed(b.requestAsHost({ action: 'synthesize', actor: 'agent:one', target: 'a1' }));
    // B names A's record as the parent without asking anyone: ids are derived from the log's prefix and the seq.
    expect(onB.attestation.parent).toBe(started.attestation.id);
    expect(started.attestation.id.endsWith('.1')).toBe(true);
    const own = expectAllowed(writer.requestAsHost({ action: 'play', actor: 'agent:one', target: 'a1' }));
    expect(own.attestation.seq).toBe(3);
    const log = writer.attestationStore.all();
    expect(log.map((record) => record.seq)).toEqual([1, 2, 3]);
    expect(unsealed(log[0]!)).toEqual(unsealed(started.attestation));
    expect(unsealed(log[1]!)).toEqual(unsealed(onB.attestation));
    expect(log[0]!.parameters).toEqual({ reason: 'hello', metadata: { sessionId: 'den', priority: 'background' } });
    expect(log.every((record) => record.metadata.origin === undefined)).toBe(true);
    expect(verify(log, { replay: true })).toMatchObject({ ok: true, errors: [] });
    expect(AudioRegistrar.replay(log).stateHash()).toBe(writer.stateHash());
    // Every thread sees one state: the attached ones read the shared core.
    expect(a.stateHash()).toBe(writer.stateHash());
    expect(b.getState('a1')).toEqual(writer.getState('a1'));
    await Promise.all([a.close(), b.close()]);
    await writer.close();
  });

  it('an attached result settles `durable` when the writer has logged it; flush() on the attached side waits for the writer', async () => {
    const writer = new AudioRegistrar({ core: new NativeCore() });
    const attached = AudioRegistrar.attach(writer.share());
    const agent = attached.registerActor('agent:one');
    const result = attached.request({ action: 'start', actor: agent });
    let durable = false;
    void result.durable.then(() => (durable = true));
    await new Promise((resolve) => setImmediate(resolve));
    // The writer drains on the doorbell (no request of its own needed).
    await attached.flush();
    expect(durable).toBe(true);
    expect(writer.attestationStore.lastSeq).toBe(1);
    await attached.close();
    await writer.close();
  });

  it('a flush() asked once the writer already made a seq durable settles after the earlier results\' `durable` (seq order, whatever the timing)', async () => {
    const writer = new AudioRegistrar({ core: new NativeCore() });
    const attached = AudioRegistrar.attach(writer.share());
    const agent = attached.registerActor('agent:one');
    const order: string[] = [];
    const result = attached.request({ action: 'start', actor: agent });
    void result.durable.then(() => order.push('durable'));
    // The writer logs it now, on this thread, before the attached side's watcher has looked again.
    writer.syncJournal();
    expect(writer.attestationStore.lastSeq).toBe(1);
    await attached.flush().then(() => order.push('flush'));
    expect(order).toEqual(['durable', 'flush']);
    await attached.close();
    await writer.close();
  });

  it("an attached result's `durable` resolves only once its record is on disk: the writer's flush() publishes what it flushed, not records appended while it synced", async () => {
    const dir = tempDir();
    const path = join(dir, 'log.jsonl');
    // A commit window no test outlives: a batch reaches the disk only when flushed.
    const { store } = AttestationStore.open(path, { durability: 'group', groupCommitMs: 60_000 });
    const writer = new AudioRegistrar({ core: new NativeCore(), store });
    const attached = AudioRegistrar.attach(writer.share());
    const agent = attached.registerActor('agent:one');
    attached.request({ action: 'start', actor: agent, target: 'a1' });
    writer.syncJournal();
    const flushed = writer.flush(); // seq 1 is written; its fdatasync is under way
    // Decided meanwhile on the attached side and logged by the writer: the next batch, not flushed.
    const later = attached.request({ action: 'compile', actor: agent, target: 'a1' });
    writer.syncJournal();
    expect(writer.attestationStore.lastSeq).toBe(2);
    const onDiskWhenDurable = later.durable.then(() => seqsOnDisk(path));
    await flushed;
    const whenSettled = await Promise.race([onDiskWhenDurable, new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), 200))]);
    // Before: the flush published seq 2 as durable (the head when it resolved), with only seq 1 on disk.
    expect(whenSettled === 'pending' || whenSettled.includes(2)).toBe(true);
    await writer.flush();
    expect(await onDiskWhenDurable).toEqual([1, 2]);
    await attached.close();
    await writer.close();
  });

  it("negative: an attached result whose record the writer failed to write never resolves `durable`, not even when the writer closes", async () => {
    const path = join(tempDir(), 'log.jsonl');
    const { store } = AttestationStore.open(path, { durability: 'group', groupCommitMs: 0 });
    const writer = new AudioRegistrar({ core: new NativeCore(), store });
    const attached = AudioRegistrar.attach(writer.share());
    const agent = attached.registerActor('agent:one');
    const result = attached.request({ action: 'start', actor: agent, target: 'a1' });
    // Pull the descriptor out from under the log: the batch holding the record fails (EBADF).
    closeSync((store as unknown as { log: { fd: number } }).log.fd);
    writer.syncJournal();
    const outcome = result.durable.then(() => 'durable', (error: Error) => error.name);
    await expect(writer.flush()).rejects.toMatchObject({ code: 'ATTESTATION_IO' });
    (store as unknown as { log: { fd: number | null } }).log.fd = null; // closed above already: close() closes nothing
    await writer.close();
    expect(writer.halted).toBe(true);
    expect(await outcome).not.toBe('durable');
    expect(seqsOnDisk(path)).toEqual([]);
    await attached.close();
  });

  it('decisions of a raw core object (no registrar posts their text) are written from the journal', () => {
    const writer = new AudioRegistrar({ core: new NativeCore() });
    writer.registerActor('agent:one');
    const started = expectAllowed(writer.requestAsHost({ action: 'start', actor: 'agent:one', target: 's' }));
    const raw = NativeCore.attach(writer.share().token);
    const request: CoreRequest = {
      actor: raw.actorId('agent:one'), actorKind: ACTOR_KINDS.indexOf('agent'), action: TRANSITION_ACTIONS.indexOf('synthesize'), stream: raw.streamIdOf('s'),
      newOwner: NO_ID, preemptFor: NO_ID, priority: 5, session: raw.internScope(0, 'default'), user: NO_ID, overrideScope: 0, overrideScopeId: NO_ID, pluginAllowed: false,
    };
    expect(raw.decide(request).allowed).toBe(true);
    expect(writer.syncJournal()).toBe(1);
    const foreign = writer.attestationStore.bySeq(2);
    expect(foreign).toMatchObject({ action: 'synthesize', decision: 'allowed', parent: started.attestation.id, metadata: { origin: 'journal' } });
    expect(verify(writer.attestationStore.all(), { replay: true }).ok).toBe(true);
    raw.close();
  });

  it('negative: a posted body that states another decision is refused; the writer logs the journal\'s decision', () => {
    const writer = new AudioRegistrar({ core: new NativeCore() });
    writer.registerActor('agent:one');
    const raw = NativeCore.attach(writer.share().token);
    raw.postBodies();
    const request: CoreRequest = {
      actor: raw.actorId('agent:one'), actorKind: ACTOR_KINDS.indexOf('agent'), action: TRANSITION_ACTIONS.indexOf('interrupt'), stream: raw.internStream('s'),
      newOwner: NO_ID, preemptFor: NO_ID, priority: 5, session: raw.internScope(0, 'default'), user: NO_ID, overrideScope: 0, overrideScopeId: NO_ID, pluginAllowed: false,
    };
    const denied = raw.decide(request);
    expect(denied.allowed).toBe(false);
    // A forger posts "allowed" for its denied decision.
    const forged = { v: '2.9.0', seq: denied.seq, id: `${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}.${denied.seq}` };
    expect(raw.postBody(denied.seq, JSON.stringify({ ...forged, decision: 'allowed' }))).toBe(true);
    // Nobody but the decider posts for a seq, and only once.
    expect(raw.postBody(denied.seq, '{}')).toBe(false);
    expect(NativeCore.attach(writer.share().token).postBody(denied.seq, '{}')).toBe(false);
    writer.syncJournal();
    expect(writer.attestationStore.bySeq(denied.seq)).toMatchObject({ decision: 'denied', reason: 'terminal_state', metadata: { origin: 'journal', bodyRejected: true } });
    raw.close();
  });

  it('grants and override values are state of the core: set through one registrar, honoured and seen through another', () => {
    const writer = new AudioRegistrar({ core: new NativeCore() });
    const other = AudioRegistrar.attach(writer.share());
    const owner = writer.registerActor('agent:owner');
    const alice = writer.registerActor('user:alice');
    const started = expectAllowed(writer.request({ action: 'start', actor: owner, metadata: { allowPlugins: ['plugin:fx'] } }));
    const alices = expectAllowed(writer.request({ action: 'start', actor: owner, metadata: { userId: 'alice' } }));
    const fx = other.registerActor('plugin:fx');
    const rogue = other.registerActor('plugin:rogue');
    expect(other.request({ action: 'mutate_graph', actor: fx, target: started.streamId }).allowed).toBe(true);
    expect(other.request({ action: 'mutate_graph', actor: rogue, target: started.streamId }).reason).toBe('not_owner');
    expectAllowed(writer.request({ action: 'enable_override', actor: alice, metadata: { scope: 'user', scopeId: 'alice', speechRate: 0.7 } }));
    expect(other.overrideFor(alices.streamId!)).toMatchObject({ owner: 'user:alice', speechRate: 0.7 });
    expectAllowed(other.requestAsHost({ action: 'update_override', actor: 'user:alice', metadata: { scope: 'user', scopeId: 'alice', forcedCaptions: true } }));
    expect(writer.listOverrides()).toEqual([{ owner: 'user:alice', scope: 'user', scopeId: 'alice', speechRate: 0.7, forcedCaptions: true }]);
    // Revoked on the writer's side (a transfer drops grants): refused on the other.
    expectAllowed(writer.request({ action: 'transfer', actor: owner, target: started.streamId, metadata: { newOwner: 'agent:owner' } }));
    expect(other.request({ action: 'mutate_graph', actor: fx, target: started.streamId }).reason).toBe('not_owner');
    writer.syncJournal();
    const log = writer.attestationStore.all();
    expect(verify(log, { replay: true }).ok).toBe(true);
    expect(AudioRegistrar.replay(log).stateHash()).toBe(writer.stateHash());
  });

  it('a halt decided through an attached registrar halts the writer and every other registrar, and reaches their listeners', async () => {
    const writer = new AudioRegistrar({ core: new NativeCore() });
    const a = AudioRegistrar.attach(writer.share());
    const b = AudioRegistrar.attach(writer.share());
    const heard: Record<string, HaltInfo[]> = { writer: [], a: [] };
    writer.onHalt((halt) => heard.writer!.push(halt));
    a.onHalt((halt) => heard.a!.push(halt));
    const alice = b.registerActor('user:alice', { sessions: ['default'] });
    const bob = b.registerActor('user:bob', { sessions: ['default'] });
    expectAllowed(b.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'default' } }));
    const halting = b.request({ action: 'enable_override', actor: bob, metadata: { scope: 'session', scopeId: 'default' } });
    expect(halting.attestation.metadata).toMatchObject({ halt: true, haltCause: 'accessibility_bypass' });
    expect(a.halted).toBe(true); // the doorbell's flag: no wait
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const who of ['writer', 'a'] as const) expect(heard[who]).toEqual([expect.objectContaining({ cause: 'accessibility_bypass', seq: halting.attestation.seq, attestationId: halting.attestation.id })]);
    expect(writer.attestationStore.bySeq(halting.attestation.seq)?.metadata.haltCause).toBe('accessibility_bypass');
    expect(a.requestAsHost({ action: 'start', actor: 'user:alice' }).reason).toBe('registrar_halted');
    await Promise.all([a.close(), b.close()]);
    await writer.close();
  });

  it('an attached registrar that fell more than a journal length behind tells its listeners the current states (caught up), never throws', () => {
    const writer = new AudioRegistrar({ core: new NativeCore({ journalCapacity: 1024 }) });
    const listening = AudioRegistrar.attach(writer.share());
    const busy = AudioRegistrar.attach(writer.share());
    const events: TransitionEvent[] = [];
    listening.onTransition((event) => events.push(event));
    const agent = busy.registerActor('agent:one');
    const played = expectAllowed(busy.request({ action: 'start', actor: agent, target: 'kept' }));
    for (const action of ['synthesize', 'play'] as const) expectAllowed(busy.requestAsHost({ action, actor: 'agent:one', target: played.streamId }));
    // 2,000 more seqs while `listening` never turns its event loop (this thread is busy): the
    // writer keeps up (drained here, as its own thread would on the doorbell), the listener's
    // cursor is overrun.
    for (let index = 0; index < 2000; index += 1) {
      busy.requestAsHost({ action: 'compile', actor: 'agent:one', target: 'other' });
      if (index % 500 === 0) writer.syncJournal();
    }
    expectAllowed(busy.requestAsHost({ action: 'interrupt', actor: 'agent:one', target: 'kept' }));
    expect(() => listening.syncJournal()).not.toThrow();
    expect(listening.halted).toBe(false);
    const kept = events.filter((event) => event.streamId === 'kept');
    expect(kept.at(-1)).toMatchObject({ stateAfter: 'interrupting', caughtUp: true });
    writer.syncJournal();
    expect(writer.attestationStore.lastSeq).toBe(3 + 2000 + 1);
    expect(verify(writer.attestationStore.all()).ok).toBe(true);
  });
});

describe.each(coresUnderTest())('one log writer per core ($name core)', (coreUnderTest) => {
  it('a second registrar writing the same core is refused (REGISTRAR_WRITER_EXISTS)', () => {
    const core = coreUnderTest.create();
    const writer = new AudioRegistrar({ core });
    expect(() => new AudioRegistrar({ core })).toThrow(expect.objectContaining({ code: 'REGISTRAR_WRITER_EXISTS' }));
    writer.registerActor('agent:one');
    expect(writer.requestAsHost({ action: 'start', actor: 'agent:one' }).allowed).toBe(true);
  });

  it('a writer that starts behind a journal that already lost seqs halts (journal_overrun) instead of writing a gap', () => {
    const core = coreUnderTest.name === 'reference' ? new ReferenceCore({ journalCapacity: 4 }) : new NativeCore({ journalCapacity: 1024 });
    core.registerActor('agent:one', ACTOR_KINDS.indexOf('agent'));
    for (let index = 0; index < 1500; index += 1) core.reserveSeq(); // decided before any writer
    const late = new AudioRegistrar({ core });
    const halts: HaltInfo[] = [];
    late.onHalt((halt) => halts.push(halt));
    // request() never throws: the overrun is a halt, and the request that found it is denied.
    expect(late.requestAsHost({ action: 'start', actor: 'agent:one' }).reason).toBe('registrar_halted');
    expect(halts.map((halt) => halt.cause)).toEqual(['journal_overrun']);
    expect(late.haltCause?.cause).toBe('journal_overrun');
    expect(late.requestAsHost({ action: 'start', actor: 'agent:one' }).reason).toBe('registrar_halted');
  });
});

describe('the reference core cannot be shared', () => {
  it('share() is REGISTRAR_NOT_SHAREABLE', () => {
    expect(() => new AudioRegistrar({ core: new ReferenceCore() }).share()).toThrow(expect.objectContaining({ code: 'REGISTRAR_NOT_SHAREABLE' }));
  });
});
