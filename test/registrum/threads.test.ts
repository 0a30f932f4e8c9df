// One registrar across real worker threads: the main thread's registrar writes the one log (a
// durable log in a temp dir), workers attach with its share and decide. One sequence, one
// attestation per request, one hash chain; grants, override values and halts are the same on every
// thread; a writer that falls behind loses nothing, and nothing throws after its decision was applied.
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { iterateAttestationLog } from '../../src/attestation/log-reader.js';
import { AttestationStore } from '../../src/attestation/store.js';
import { ACTOR_KINDS, NO_ID, TRANSITION_ACTIONS, type CoreRequest } from '../../src/registrar/core.js';
import { NativeCore } from '../../src/registrar/native-core.js';
import { AudioRegistrar, type RegistrarShare } from '../../src/registrar/registrar.js';
import type { HaltInfo, OverrideEvent } from '../../src/registrar/types.js';
import { verify } from '../../src/registrar/verify.js';
import { waitUntil } from '../helpers/waiting.js';
import type { AttachedCommand, AttachedReply, AttachedWorkerData, ResultSummary } from './fixtures/attached-worker.js';
import type { SharedWorkerJob, SharedWorkerReport } from './fixtures/shared-registrar-worker.js';

/** Workers do not inherit the test runner's TypeScript loader: register tsx, then import the fixture. */
function bootstrap(fixture: string): string {
  const script = new URL(`./fixtures/${fixture}`, import.meta.url).href;
  return `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(script)}); })`;
}

const directory = mkdtempSync(join(tmpdir(), 'vs-threads-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let logs = 0;
/** A writer registrar on a native core with a durable (group commit) log in the temp dir. */
function durableWriter(coreOptions: ConstructorParameters<typeof NativeCore>[0] = {}): { writer: AudioRegistrar; path: string } {
  const path = join(directory, `log-${(logs += 1)}.jsonl`);
  const { store } = AttestationStore.open(path, { durability: 'group', groupCommitMs: 2 });
  return { writer: new AudioRegistrar({ store, core: new NativeCore(coreOptions) }), path };
}

/** A worker running fixtures/attached-worker.ts, driven one command at a time. */
class AttachedWorker {
  readonly events: AttachedReply[] = [];
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #next = 1;

  private constructor(worker: Worker) {
    this.#worker = worker;
  }

  /** Starts the worker; rejects with the attach error (its `code`) when attaching is refused. */
  static start(data: AttachedWorkerData): Promise<AttachedWorker> {
    const worker = new Worker(bootstrap('attached-worker.ts'), { eval: true, workerData: data });
    const client = new AttachedWorker(worker);
    return new Promise((resolve, reject) => {
      client.#pending.set(0, { resolve: () => resolve(client), reject: (error) => void worker.terminate().then(() => reject(error)) });
      worker.on('message', (reply: AttachedReply) => client.#receive(reply));
      worker.on('error', (error) => {
        for (const waiter of client.#pending.values()) waiter.reject(error);
      });
    });
  }

  #receive(reply: AttachedReply): void {
    if ('event' in reply) {
      this.events.push(reply);
      return;
    }
    const waiter = this.#pending.get(reply.id);
    this.#pending.delete(reply.id);
    if (reply.ok) waiter?.resolve(reply.value);
    else waiter?.reject(Object.assign(new Error(reply.message), { code: reply.code }));
  }

  /** Runs a command; resolves with its value, rejects with an error carrying the worker's code. */
  call<T>(command: AttachedCommand): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#worker.postMessage({ id, command });
    });
  }

  request(input: Record<string, unknown>): Promise<ResultSummary> {
    return this.call({ op: 'request', input });
  }

  async stop(): Promise<void> {
    await this.call({ op: 'close' }).catch(() => undefined);
    await this.#worker.terminate();
  }
}

/** The error code a promise rejects with. */
async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'no error';
  } catch (error) {
    return (error as { code?: string }).code ?? 'uncoded';
  }
}

/**
 * Each line of a log file, in order (constant memory: read in 4 MiB pieces). A line is the record's
 * canonical JSON, keys sorted, so the text without its `prevHash` and `hash` members is the
 * canonical JSON of the record's content, as a decider's result gives it.
 */
function* logLines(path: string): Generator<string> {
  const fd = openSync(path, 'r');
  try {
    const piece = Buffer.alloc(4 << 20);
    let rest = '';
    for (let read = readSync(fd, piece); read > 0; read = readSync(fd, piece)) {
      const lines = (rest + piece.toString('utf8', 0, read)).split('\n');
      rest = lines.pop() ?? '';
      yield* lines;
    }
    if (rest !== '') yield rest;
  } finally {
    closeSync(fd);
  }
}

/**
 * A line's canonical content text: without the top-level `hash` (the first member that can hold
 * one: only `accessibility`, `action` and `actor` sort before it) and `prevHash` (the last: only
 * fixed-shape or string members sort after it; a quote inside a string is escaped).
 */
function contentOfLine(line: string): string {
  const without = (text: string, at: number, key: string): string => {
    const end = at + key.length + 64; // the key, then 64 hex digits
    if (at < 0 || text.slice(end, end + 2) !== '",') throw new Error(`no ${key} member where expected: ${line.slice(0, 200)}`);
    return text.slice(0, at) + text.slice(end + 2);
  };
  const hash = line.indexOf('"hash":"');
  const prev = line.lastIndexOf('"prevHash":"');
  if (prev < hash) throw new Error(`prevHash before hash: ${line.slice(0, 200)}`); // (expect() per line would cost seconds)
  return without(without(line, prev, '"prevHash":"'), hash, '"hash":"');
}

/** Blocks this thread (its event loop: the writer drains nothing meanwhile) until `done()`, at most 60 s. */
function blockUntil(done: () => boolean, what: string): void {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 60_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out blocking for ${what}`);
    Atomics.wait(cell, 0, 0, 1);
  }
}

function rawRequest(core: NativeCore, action: string, stream: string): CoreRequest {
  return {
    actor: core.actorId('agent:raw'), actorKind: ACTOR_KINDS.indexOf('agent'), action: TRANSITION_ACTIONS.indexOf(action as 'start'), stream: core.internStream(stream),
    newOwner: NO_ID, preemptFor: NO_ID, priority: 5, session: core.internScope(0, 'default'), user: NO_ID, overrideScope: 0, overrideScopeId: NO_ID, pluginAllowed: false,
  };
}

// The size (override with VS_THREADS_REQUESTS for a quick local run).
const WORKERS = 8;
const REQUESTS_PER_WORKER = Number(process.env.VS_THREADS_REQUESTS ?? 100_000);

describe('one registrar, one log, eight worker threads', () => {
  it(`${WORKERS} workers x ${REQUESTS_PER_WORKER} mixed requests: one gap-free log that verifies and replays to the live state; every result is the logged record`, async () => {
    const { writer, path } = durableWriter();
    const share = writer.share();
    const reports = await Promise.all(
      Array.from({ length: WORKERS }, (_, index) =>
        new Promise<SharedWorkerReport>((resolve, reject) => {
          const job: SharedWorkerJob = { share, index, workers: WORKERS, requests: REQUESTS_PER_WORKER };
          const worker = new Worker(bootstrap('shared-registrar-worker.ts'), { eval: true, workerData: job });
          let report: SharedWorkerReport | undefined;
          worker.on('message', (message: SharedWorkerReport) => (report = message));
          worker.on('error', reject);
          worker.on('exit', (code) => (report && code === 0 ? resolve(report) : reject(new Error(`worker ${index} exited ${code}`))));
        }),
      ),
    );
    await writer.flush();
    const total = WORKERS * REQUESTS_PER_WORKER;
    // One attestation per request: the log holds exactly every worker's requests, seq 1..total.
    expect(writer.attestationStore.lastSeq).toBe(total);
    const workerOf = new Int8Array(total + 1).fill(-1);
    for (const [index, report] of reports.entries()) {
      expect(report.seqs.length).toBe(REQUESTS_PER_WORKER);
      expect(report).toMatchObject({ sealed: 0, durableFailures: 0 });
      for (const seq of report.seqs) {
        expect(workerOf[seq]).toBe(-1); // no seq told to two requests
        workerOf[seq] = index;
      }
    }
    // The file verifies (chain and structure, streamed, lines checked on a worker thread as well).
    expect(verify(iterateAttestationLog(path))).toMatchObject({ ok: true, records: total, errors: [] });
    // Each worker's results are the logged records (id, timestamp, parameters, text, parent...), and
    // every record came with its decider's text (none rebuilt from the journal, none refused): line
    // n is seq n (gap-free, verified above).
    const digests = reports.map(() => createHash('sha256'));
    let seq = 0;
    let fromJournal = 0;
    for (const line of logLines(path)) {
      seq += 1;
      digests[workerOf[seq] as number]?.update(`${contentOfLine(line)}\n`);
      if (line.includes('"origin":"journal"') || line.includes('"bodyRejected":true')) fromJournal += 1;
    }
    expect(seq).toBe(total);
    expect(digests.map((digest) => digest.digest('hex'))).toEqual(reports.map((report) => report.digest));
    expect(fromJournal).toBe(0);
    const liveState = writer.stateHash();
    await writer.close();

    // The file replays (reopened: chain checked as it is scanned) to the live state.
    const { registrar: replayed, report } = AudioRegistrar.openLog(path, { durability: 'group' });
    expect(report.records).toBe(total);
    expect(replayed.stateHash()).toBe(liveState);
    await replayed.close();
  }, 1_800_000);
});

describe('state is the registrar\'s, on every thread', () => {
  it('a grant made on one worker is honoured on another; override values set on one are seen on the other and the writer; a transfer revokes grants everywhere', async () => {
    const { writer } = durableWriter();
    const share = writer.share();
    const [a, b] = await Promise.all([AttachedWorker.start({ share }), AttachedWorker.start({ share })]);
    try {
      const started = await a.request({ action: 'start', actor: 'agent:a', target: 'g1', metadata: { allowPlugins: ['plugin:fx'] } });
      expect(started.allowed).toBe(false); // agent:a is not registered yet: registration is explicit
      expect(started.reason).toBe('unknown_actor');
      writer.registerActor('agent:a');
      writer.registerActor('agent:b');
      writer.registerActor('plugin:fx');
      writer.registerActor('plugin:rogue');
      writer.registerActor('user:alice');
      expect((await a.request({ action: 'start', actor: 'agent:a', target: 'g1', metadata: { allowPlugins: ['plugin:fx'], userId: 'alice' } })).allowed).toBe(true);
      expect(await b.request({ action: 'mutate_graph', actor: 'plugin:fx', target: 'g1' })).toMatchObject({ allowed: true });
      expect(await b.request({ action: 'mutate_graph', actor: 'plugin:rogue', target: 'g1' })).toMatchObject({ allowed: false, reason: 'not_owner' });
      expect((await a.request({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'user', scopeId: 'alice', speechRate: 0.7 } })).allowed).toBe(true);
      expect(await b.call({ op: 'overrides' })).toEqual([{ owner: 'user:alice', scope: 'user', scopeId: 'alice', speechRate: 0.7 }]);
      expect((await b.request({ action: 'update_override', actor: 'user:alice', metadata: { scope: 'user', scopeId: 'alice', forcedCaptions: true } })).allowed).toBe(true);
      expect(await a.call({ op: 'overrides' })).toEqual([{ owner: 'user:alice', scope: 'user', scopeId: 'alice', speechRate: 0.7, forcedCaptions: true }]);
      expect(writer.overrideFor('g1')).toMatchObject({ speechRate: 0.7, forcedCaptions: true });
      expect((await a.request({ action: 'disable_override', actor: 'user:alice', metadata: { scope: 'user', scopeId: 'alice' } })).allowed).toBe(true);
      expect((await a.request({ action: 'transfer', actor: 'agent:a', target: 'g1', metadata: { newOwner: 'agent:b' } })).allowed).toBe(true);
      expect(await b.request({ action: 'mutate_graph', actor: 'plugin:fx', target: 'g1' })).toMatchObject({ allowed: false, reason: 'not_owner' });
      await Promise.all([a.call({ op: 'flush' }), b.call({ op: 'flush' })]);
      const log = writer.attestationStore.all();
      expect(log.map((record) => record.seq)).toEqual(Array.from({ length: log.length }, (_, index) => index + 1));
      expect(verify(log, { replay: true })).toMatchObject({ ok: true, errors: [] });
      expect(AudioRegistrar.replay(log).stateHash()).toBe(writer.stateHash());
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await writer.close();
    }
  }, 120_000);

  it('a halt decided on one worker reaches the writer\'s and another worker\'s onHalt, and every thread is halted', async () => {
    const { writer } = durableWriter();
    const share = writer.share();
    const halts: HaltInfo[] = [];
    writer.onHalt((halt) => halts.push(halt));
    const [a, b] = await Promise.all([AttachedWorker.start({ share }), AttachedWorker.start({ share })]);
    try {
      await a.call({ op: 'listen' });
      for (const actor of ['user:alice', 'user:bob']) writer.registerActor(actor, { sessions: ['default'] });
      expect((await b.request({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'default' } })).allowed).toBe(true);
      const halting = await b.request({ action: 'enable_override', actor: 'user:bob', metadata: { scope: 'session', scopeId: 'default' } });
      expect(halting.allowed).toBe(false);
      await waitUntil(() => halts.length > 0, 'the writer\'s onHalt');
      await waitUntil(() => a.events.some((event) => 'event' in event && event.event === 'halt'), 'worker A\'s onHalt');
      const told = a.events.find((event) => 'event' in event && event.event === 'halt') as { value: HaltInfo };
      for (const info of [halts[0], told.value]) expect(info).toMatchObject({ cause: 'accessibility_bypass', seq: halting.seq, attestationId: halting.id });
      expect(writer.halted).toBe(true);
      expect(await a.request({ action: 'disable_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'default' } })).toMatchObject({ allowed: false, reason: 'registrar_halted' });
      expect(writer.attestationStore.bySeq(halting.seq)?.metadata).toMatchObject({ halt: true, haltCause: 'accessibility_bypass' });
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await writer.close();
    }
  }, 120_000);

  it('an override decided on one thread reaches the onOverride listeners of every other thread (the scheduler re-checks on it)', async () => {
    const { writer } = durableWriter();
    const share = writer.share();
    const told: OverrideEvent[] = [];
    writer.onOverride((event) => told.push(event));
    const [a, b] = await Promise.all([AttachedWorker.start({ share }), AttachedWorker.start({ share })]);
    try {
      await a.call({ op: 'listen' });
      writer.registerActor('user:alice', { sessions: ['den'] });
      // Decided on worker B: the writer hears it as it writes the record, worker A from the journal.
      const enabled = await b.request({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'den' } });
      expect(enabled.allowed).toBe(true);
      await waitUntil(() => told.length > 0, "the writer's onOverride");
      await waitUntil(() => a.events.some((event) => 'event' in event && event.event === 'override'), "worker A's onOverride");
      const atA = a.events.find((event) => 'event' in event && event.event === 'override') as { value: OverrideEvent };
      for (const event of [told[0], atA.value]) expect(event).toEqual({ action: 'enable_override', actor: 'user:alice', seq: enabled.seq, attestationId: enabled.id });
      // A denied one is told nowhere; one decided by the writer reaches the workers too.
      expect((await b.request({ action: 'enable_override', actor: 'agent:none', metadata: { scope: 'session', scopeId: 'den' } })).allowed).toBe(false);
      const disabled = writer.requestAsHost({ action: 'disable_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'den' } });
      expect(disabled.allowed).toBe(true);
      await waitUntil(() => a.events.filter((event) => 'event' in event && event.event === 'override').length === 2, "worker A's second onOverride");
      const overridesAtA = a.events.filter((event) => 'event' in event && event.event === 'override').map((event) => (event as { value: OverrideEvent }).value);
      expect(overridesAtA.map((event) => `${event.action} ${event.actor} ${event.seq}`)).toEqual([`enable_override user:alice ${enabled.seq}`, `disable_override user:alice ${disabled.attestation.seq}`]);
      expect(told.map((event) => event.action)).toEqual(['enable_override', 'disable_override']);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await writer.close();
    }
  }, 120_000);

  it('the writer\'s own halt (a failed log write) reaches every worker\'s onHalt; their requests are then denied registrar_halted', async () => {
    const { writer } = durableWriter();
    const share = writer.share();
    const a = await AttachedWorker.start({ share });
    try {
      await a.call({ op: 'listen' });
      writer.registerActor('agent:one');
      expect((await a.request({ action: 'start', actor: 'agent:one', target: 's' })).allowed).toBe(true);
      await writer.flush();
      await writer.attestationStore.close(); // the log file closes under the writer: its next write fails
      writer.requestAsHost({ action: 'synthesize', actor: 'agent:one', target: 's' });
      expect(writer.haltCause?.cause).toBe('attestation_io');
      await waitUntil(() => a.events.some((event) => 'event' in event && event.event === 'halt'), 'the worker\'s onHalt');
      const told = a.events.find((event) => 'event' in event && event.event === 'halt') as { value: HaltInfo };
      expect(told.value).toMatchObject({ cause: 'attestation_io', seq: null, attestationId: null });
      expect(await a.request({ action: 'play', actor: 'agent:one', target: 's' })).toMatchObject({ allowed: false, reason: 'registrar_halted' });
    } finally {
      await a.stop();
      await writer.close();
    }
  }, 120_000);
});

describe('a writer that falls behind loses nothing, and nothing throws after a decision', () => {
  it('while the writer\'s thread is blocked, a worker decides up to a journal length ahead of it and waits; then goes on: 3,000 requests, no gap', async () => {
    const { writer } = durableWriter({ journalCapacity: 1024 });
    writer.registerActor('agent:burst');
    const progress = new SharedArrayBuffer(8);
    const counts = new Int32Array(progress);
    const worker = await AttachedWorker.start({ share: writer.share(), progress, config: { journalStallMs: 60_000 } });
    const raw = NativeCore.attach(writer.share().token);
    try {
      raw.registerActor('agent:raw', ACTOR_KINDS.indexOf('agent'));
      await writer.flush();
      const before = writer.attestationStore.lastSeq;
      const burst = worker.call<{ made: number; error: unknown }>({ op: 'burst', input: { action: 'start', actor: 'agent:burst' }, count: 3000 });
      // This thread blocks: the writer drains nothing. The worker can go only as far as the core
      // lets it: a journal length (less the headroom for halts) past what the writer wrote.
      const bound = 1024 - 64 - before;
      blockUntil(() => Atomics.load(counts, 0) >= bound, 'the worker to reach the bound');
      const cell = new Int32Array(new SharedArrayBuffer(4));
      Atomics.wait(cell, 0, 0, 200); // still blocked: it must not pass the bound
      expect(Atomics.load(counts, 0)).toBe(bound);
      expect(raw.lastSeq()).toBe(before + bound);
      // Any decider is refused before deciding (no seq consumed) until the writer catches up.
      expect(raw.decide(rawRequest(raw, 'start', 'raw-1')).refused).toBe('backpressure');
      expect(raw.lastSeq()).toBe(before + bound);
      // Unblocked: the writer drains on the doorbell and the worker finishes.
      expect(await burst).toMatchObject({ made: 3000, error: null });
      await worker.call({ op: 'flush' });
      expect(writer.attestationStore.lastSeq).toBe(before + 3000);
      expect(verify(writer.attestationStore.all()).ok).toBe(true);
    } finally {
      raw.close();
      await worker.stop();
      await writer.close();
    }
  }, 180_000);

  it('negative: without a writer holding the journal back, the same burst overwrites seqs nobody read', () => {
    const core = new NativeCore({ journalCapacity: 1024 });
    for (let index = 0; index < 3000; index += 1) core.reserveSeq();
    expect(core.readJournal(1, 1)[0]?.seq).toBeGreaterThan(1); // seq 1 is gone: a writer would have a gap
    core.close();
  });

  it('a writer stuck past the worker\'s deadline: the worker gets REGISTRAR_WRITER_STALLED before deciding; every request that returned is logged, no other', async () => {
    const { writer } = durableWriter({ journalCapacity: 1024 });
    writer.registerActor('agent:burst');
    const progress = new SharedArrayBuffer(8);
    const counts = new Int32Array(progress);
    const worker = await AttachedWorker.start({ share: writer.share(), progress, config: { journalStallMs: 300 } });
    const raw = NativeCore.attach(writer.share().token);
    try {
      await writer.flush();
      const before = writer.attestationStore.lastSeq;
      const burst = worker.call<{ made: number; error: { code: string } | null }>({ op: 'burst', input: { action: 'start', actor: 'agent:burst' }, count: 3000 });
      blockUntil(() => Atomics.load(counts, 1) === 1, 'the worker to give up');
      const decided = raw.lastSeq();
      const result = await burst;
      expect(result.error?.code).toBe('REGISTRAR_WRITER_STALLED');
      // The refused request decided nothing: every seq the core handed out is a request that returned.
      expect(decided).toBe(before + result.made);
      await writer.flush();
      expect(writer.attestationStore.lastSeq).toBe(before + result.made);
      expect(verify(writer.attestationStore.all()).ok).toBe(true);
      // It was only waiting: with the writer back, the worker decides again.
      expect((await worker.request({ action: 'start', actor: 'agent:burst' })).allowed).toBe(true);
    } finally {
      raw.close();
      await worker.stop();
      await writer.close();
    }
  }, 180_000);

  it('after the writer closed, a worker\'s request is refused REGISTRAR_WRITER_GONE before deciding, and its share no longer attaches', async () => {
    const { writer } = durableWriter();
    writer.registerActor('agent:one');
    const share = writer.share();
    const worker = await AttachedWorker.start({ share });
    const raw = NativeCore.attach(share.token);
    try {
      expect((await worker.request({ action: 'start', actor: 'agent:one' })).allowed).toBe(true);
      await writer.close();
      const closedAt = raw.lastSeq(); // the close fence
      expect(await codeOf(worker.request({ action: 'start', actor: 'agent:one' }))).toBe('REGISTRAR_WRITER_GONE');
      expect(raw.lastSeq()).toBe(closedAt);
      expect(await codeOf(AttachedWorker.start({ share }))).toBe('REGISTRAR_WRITER_GONE');
    } finally {
      raw.close();
      await worker.stop();
    }
  }, 120_000);
});

describe('what holding a share does not give', () => {
  it('a worker cannot write the log: its store takes nothing, it is no writer and cannot become one, and posts only its own decisions', async () => {
    const { writer } = durableWriter();
    writer.registerActor('agent:one');
    writer.requestAsHost({ action: 'start', actor: 'agent:one', target: 'w' }); // seq 1: the writer's
    const worker = await AttachedWorker.start({ share: writer.share() });
    try {
      expect(await worker.call({ op: 'try-write' })).toEqual({
        'store.append': 'ATTESTATION_STORE_SEALED',
        'store.adopt': 'ATTESTATION_STORE_SEALED',
        snapshot: 'REGISTRAR_ATTACHED',
        recover: 'REGISTRAR_ATTACHED',
        'store.size': 0,
        'raw.claimWriter': false,
        'raw.closeWriter': 0,
        'raw.takeBodies': 0,
        'raw.postBody(seq 1)': false,
      });
      const result = await worker.request({ action: 'synthesize', actor: 'agent:one', target: 'w' });
      expect(result).toMatchObject({ allowed: true, hash: '' }); // the writer alone seals
      await worker.call({ op: 'flush' });
      expect(writer.attestationStore.all().map((record) => [record.seq, record.action])).toEqual([[1, 'start'], [2, 'synthesize']]);
      expect(writer.attestationStore.bySeq(2)?.id).toBe(result.id);
    } finally {
      await worker.stop();
      await writer.close();
    }
  }, 120_000);

  it('a forged, foreign or malformed share is refused: wrong secret, another registrar\'s doorbell, a core no registrar writes for, not a share', async () => {
    const { writer } = durableWriter();
    const other = durableWriter().writer;
    const share = writer.share();
    const bare = new NativeCore();
    const [handle, secret = ''] = share.token.split('.');
    const flipped = `${handle}.${secret.slice(0, -1)}${secret.endsWith('0') ? '1' : '0'}`;
    try {
      const attempts: [string, unknown][] = [
        ['REGISTRAR_CORE_NOT_FOUND', { token: flipped, doorbell: share.doorbell }],
        ['REGISTRAR_SHARE_INVALID', { token: share.token, doorbell: other.share().doorbell }],
        ['REGISTRAR_SHARE_INVALID', { token: bare.shareToken, doorbell: share.doorbell }],
        ['INPUT_INVALID', { token: share.token, doorbell: new SharedArrayBuffer(8) }],
        ['INPUT_INVALID', { token: share.token }],
        ['INPUT_INVALID', { token: share.token, doorbell: share.doorbell, extra: true }],
      ];
      for (const [code, forged] of attempts) {
        expect(await codeOf(AttachedWorker.start({ share: forged as RegistrarShare })), JSON.stringify(Object.keys(forged as object))).toBe(code);
      }
      // In this thread too, and nothing was decided on the writer's core by any of it.
      expect(() => AudioRegistrar.attach({ token: flipped, doorbell: share.doorbell })).toThrow(expect.objectContaining({ code: 'REGISTRAR_CORE_NOT_FOUND' }));
      const probe = NativeCore.attach(share.token);
      expect(probe.lastSeq()).toBe(0);
      probe.close();
    } finally {
      bare.close();
      await other.close();
      await writer.close();
    }
  }, 120_000);
});
