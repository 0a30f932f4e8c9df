/**
 * Registrar hot path (spec §8 goals: request p50 2 µs / p99 10 µs, getState p99 1 µs), measured
 * in one run against baselines of the same run:
 *   1. the decision core alone: NativeCore vs the TypeScript ReferenceCore (decide allowed, decide
 *      denied, stream read), ratio = reference / native;
 *   2. the AudioRegistrar facade (zod validation, interning, attestation with SHA-256 chain) on the
 *      native core vs on the reference core: request allowed, request denied, getState;
 *   3. the durable attestation write: one record per fdatasync vs group commit (64 or 256
 *      requests acknowledged by one write + fdatasync), per-record latency, and what a request()
 *      call costs its caller in group mode (the write and sync run off the request path);
 *   4. one registrar shared across threads (here both sides in one thread, to time each): a request
 *      on an attached registrar (decide, post the body, ring the doorbell) vs the writer's own
 *      request, and what the writer spends per record it drains (mean over a batch).
 * Run: node --import tsx bench/registrar.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench, hrtimeNowTimestampProvider } from 'tinybench';
import { AttestationStore } from '../src/attestation/store.js';
import { ACTOR_KINDS, NO_ID, TRANSITION_ACTIONS, type CoreRequest, type DecisionCore } from '../src/registrar/core.js';
import { NativeCore } from '../src/registrar/native-core.js';
import { ReferenceCore } from '../src/registrar/reference-core.js';
import { AudioRegistrar } from '../src/registrar/registrar.js';

const BENCH_TIME_MS = 500;
const GROUP_BATCH = 64;
const LARGE_GROUP_BATCH = 256;

interface Stats {
  p50Us: number;
  p99Us: number;
}

async function measure(tasks: Record<string, () => unknown>, timeMs = BENCH_TIME_MS): Promise<Record<string, Stats>> {
  const bench = new Bench({ time: timeMs, warmupTime: 100, timestampProvider: hrtimeNowTimestampProvider });
  for (const [name, task] of Object.entries(tasks)) bench.add(name, task);
  await bench.run();
  const stats: Record<string, Stats> = {};
  for (const name of Object.keys(tasks)) {
    const result = bench.getTask(name)?.result;
    if (result === undefined || !('latency' in result)) throw new Error(`bench task ${name} did not complete`);
    stats[name] = { p50Us: result.latency.p50 * 1000, p99Us: result.latency.p99 * 1000 };
  }
  return stats;
}

const us = (value: number): string => `${value.toFixed(2)} µs`;
const ratio = (baseline: number, value: number): string => `${(baseline / value).toFixed(1)}x`;

/** A core with two agents and one stream in `compiling` owned by the first (compile stays allowed). */
function coreFixture(core: DecisionCore) {
  const owner = core.registerActor('agent:owner', ACTOR_KINDS.indexOf('agent'));
  const other = core.registerActor('agent:other', ACTOR_KINDS.indexOf('agent'));
  const session = core.internScope(0, 'default');
  const stream = core.internStream('s1');
  const base: CoreRequest = {
    actor: owner, actorKind: ACTOR_KINDS.indexOf('agent'), action: TRANSITION_ACTIONS.indexOf('start'), stream,
    newOwner: NO_ID, preemptFor: NO_ID, priority: 5, session, user: NO_ID, overrideScope: 0, overrideScopeId: NO_ID, pluginAllowed: false,
  };
  if (!core.decide(base).allowed) throw new Error('fixture start denied');
  return {
    allowed: { ...base, action: TRANSITION_ACTIONS.indexOf('compile') },
    denied: { ...base, actor: other, action: TRANSITION_ACTIONS.indexOf('interrupt') },
    stream,
  };
}

async function coreRows(): Promise<string[][]> {
  const native = NativeCore.create();
  const reference = new ReferenceCore();
  const n = coreFixture(native);
  const r = coreFixture(reference);
  const stats = await measure({
    'native decide allowed': () => native.decide(n.allowed),
    'reference decide allowed': () => reference.decide(r.allowed),
    'native decide denied': () => native.decide(n.denied),
    'reference decide denied': () => reference.decide(r.denied),
    'native stream()': () => native.stream(n.stream),
    'reference stream()': () => reference.stream(r.stream),
  });
  native.close();
  const row = (label: string, what: string): string[] => {
    const a = stats[`native ${what}`]!;
    const b = stats[`reference ${what}`]!;
    return [label, us(a.p50Us), us(a.p99Us), us(b.p50Us), us(b.p99Us), ratio(b.p50Us, a.p50Us)];
  };
  return [row('core decide (allowed)', 'decide allowed'), row('core decide (denied)', 'decide denied'), row('core stream()', 'stream()')];
}

function facadeFixture(core: DecisionCore): AudioRegistrar {
  const registrar = new AudioRegistrar({ core });
  registrar.registerActor('agent:owner');
  registrar.registerActor('agent:other');
  if (!registrar.requestAsHost({ action: 'start', actor: 'agent:owner', target: 's1' }).allowed) throw new Error('fixture start denied');
  return registrar;
}

async function facadeRows(): Promise<string[][]> {
  const native = facadeFixture(NativeCore.create());
  const reference = facadeFixture(new ReferenceCore());
  const allowed = { action: 'compile', actor: 'agent:owner', target: 's1' };
  const denied = { action: 'interrupt', actor: 'agent:other', target: 's1' };
  // request() takes the actor's handle (what an agent's face holds); requestAsHost() names it.
  const byHandle = (registrar: AudioRegistrar) => ({ action: 'compile', actor: registrar.registerActor('agent:owner'), target: 's1' });
  const nativeHandle = byHandle(native);
  const referenceHandle = byHandle(reference);
  const stats = await measure({
    'native request by handle': () => native.request(nativeHandle),
    'reference request by handle': () => reference.request(referenceHandle),
    'native request allowed': () => native.requestAsHost(allowed),
    'reference request allowed': () => reference.requestAsHost(allowed),
    'native request denied': () => native.requestAsHost(denied),
    'reference request denied': () => reference.requestAsHost(denied),
    'native getState': () => native.getState('s1'),
    'reference getState': () => reference.getState('s1'),
  });
  const row = (label: string, what: string): string[] => {
    const a = stats[`native ${what}`]!;
    const b = stats[`reference ${what}`]!;
    return [label, us(a.p50Us), us(a.p99Us), us(b.p50Us), us(b.p99Us), ratio(b.p50Us, a.p50Us)];
  };
  return [row('facade request by handle (allowed)', 'request by handle'), row('facade requestAsHost (allowed)', 'request allowed'), row('facade requestAsHost (denied)', 'request denied'), row('facade getState', 'getState')];
}

async function durableRows(): Promise<string[][]> {
  const dir = mkdtempSync(join(tmpdir(), 'vs-registrar-bench-'));
  try {
    const perRecord = AttestationStore.open(join(dir, 'fsync.jsonl'), { durability: 'fsync' }).store;
    const grouped = AttestationStore.open(join(dir, 'group.jsonl'), { durability: 'group', groupCommitMs: 0 }).store;
    const groupedLarge = AttestationStore.open(join(dir, 'group-large.jsonl'), { durability: 'group', groupCommitMs: 0 }).store;
    const queued = AttestationStore.open(join(dir, 'group-queued.jsonl'), { durability: 'group', groupCommitMs: 2 }).store;
    const syncRegistrar = new AudioRegistrar({ core: NativeCore.create(), store: perRecord });
    const groupRegistrar = new AudioRegistrar({ core: NativeCore.create(), store: grouped });
    const largeGroupRegistrar = new AudioRegistrar({ core: NativeCore.create(), store: groupedLarge });
    const queuedRegistrar = new AudioRegistrar({ core: NativeCore.create(), store: queued });
    for (const registrar of [syncRegistrar, groupRegistrar, largeGroupRegistrar, queuedRegistrar]) {
      registrar.registerActor('agent:owner');
      registrar.requestAsHost({ action: 'start', actor: 'agent:owner', target: 's1' });
    }
    const compile = { action: 'compile', actor: 'agent:owner', target: 's1' };
    const stats = await measure(
      {
        'fsync each': () => syncRegistrar.requestAsHost(compile).durable,
        'group batch': async () => {
          const pending: Promise<void>[] = [];
          for (let index = 0; index < GROUP_BATCH; index += 1) pending.push(groupRegistrar.requestAsHost(compile).durable);
          await Promise.all(pending);
        },
        'group large batch': async () => {
          const pending: Promise<void>[] = [];
          for (let index = 0; index < LARGE_GROUP_BATCH; index += 1) pending.push(largeGroupRegistrar.requestAsHost(compile).durable);
          await Promise.all(pending);
        },
        // What the caller's thread pays per request in group mode: seal, queue, return (the write
        // and fdatasync run every groupCommitMs off the request path).
        'group request call': () => queuedRegistrar.requestAsHost(compile),
      },
      1000,
    );
    await Promise.all([syncRegistrar.close(), groupRegistrar.close(), largeGroupRegistrar.close(), queuedRegistrar.close()]);
    const fsync = stats['fsync each']!;
    const group = stats['group batch']!;
    const large = stats['group large batch']!;
    const call = stats['group request call']!;
    return [
      ['durable request, fdatasync per record', us(fsync.p50Us), us(fsync.p99Us), '', '', ''],
      [`durable request, group commit (${GROUP_BATCH}/batch), ack latency`, us(group.p50Us), us(group.p99Us), '', '', ''],
      [`durable request, group commit, amortised per record`, us(group.p50Us / GROUP_BATCH), us(group.p99Us / GROUP_BATCH), us(fsync.p50Us), us(fsync.p99Us), ratio(fsync.p50Us, group.p50Us / GROUP_BATCH)],
      [`durable request, group commit (${LARGE_GROUP_BATCH}/batch), amortised per record`, us(large.p50Us / LARGE_GROUP_BATCH), us(large.p99Us / LARGE_GROUP_BATCH), us(fsync.p50Us), us(fsync.p99Us), ratio(fsync.p50Us, large.p50Us / LARGE_GROUP_BATCH)],
      ['durable request() call, group mode (seal + queue, sync off-path)', us(call.p50Us), us(call.p99Us), us(fsync.p50Us), us(fsync.p99Us), ratio(fsync.p50Us, call.p50Us)],
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function sharedRows(): Promise<string[][]> {
  // A journal large enough that the attached side never waits for the writer during a task.
  const writer = new AudioRegistrar({ core: NativeCore.create({ journalCapacity: 1 << 20 }) });
  const attached = AudioRegistrar.attach(writer.share());
  writer.registerActor('agent:owner');
  if (!writer.requestAsHost({ action: 'start', actor: 'agent:owner', target: 's1' }).allowed) throw new Error('fixture start denied');
  const own = { action: 'compile', actor: writer.registerActor('agent:owner'), target: 's1' };
  const other = { action: 'compile', actor: attached.registerActor('agent:owner'), target: 's1' };
  const stats = await measure({
    'writer request by handle': () => writer.request(own),
    'attached request by handle': () => attached.request(other),
  });
  writer.syncJournal();
  const batch = 20_000;
  for (let index = 0; index < batch; index += 1) attached.request(other);
  const started = performance.now();
  const drained = writer.syncJournal();
  const drainUs = ((performance.now() - started) * 1000) / drained;
  await attached.close();
  await writer.close();
  const a = stats['attached request by handle']!;
  const w = stats['writer request by handle']!;
  return [
    ['shared: attached request by handle (decide, post body, ring)', us(a.p50Us), us(a.p99Us), us(w.p50Us), us(w.p99Us), ratio(w.p50Us, a.p50Us)],
    [`shared: writer drains one attested body (mean of ${batch})`, us(drainUs), '', '', '', ''],
  ];
}

function print(rows: string[][]): void {
  const header = ['operation', 'p50', 'p99', 'baseline p50', 'baseline p99', 'speed-up'];
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  for (const row of all) console.log(row.map((cell, column) => cell.padEnd(widths[column]!)).join('  '));
}

console.log('Registrar hot path. Baselines: the reference core (rows 1-6), fdatasync per record (durable rows), the writer\'s own request (shared rows).');
console.log('Goals (spec §8): request p50 2 µs / p99 10 µs; getState p99 1 µs; durable write p99 50 µs (group commit).\n');
print([...(await coreRows()), ...(await facadeRows()), ...(await durableRows()), ...(await sharedRows())]);
