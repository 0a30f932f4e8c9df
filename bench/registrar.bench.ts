/**
 * Registrar hot path (spec §8 goals: request p50 2 µs / p99 10 µs, getState p99 1 µs), measured
 * in one run against baselines of the same run:
 *   1. the decision core alone: NativeCore vs the TypeScript ReferenceCore (decide allowed, decide
 *      denied, stream read), ratio = reference / native;
 *   2. the AudioRegistrar facade (zod validation, interning, attestation with SHA-256 chain) on the
 *      native core vs on the reference core: request allowed, request denied, getState;
 *   3. one registrar shared across threads (here both sides in one thread, to time each): a request
 *      on an attached registrar (decide, post the body, ring the doorbell) vs the writer's own
 *      request, and what the writer spends per record it drains (mean over a batch);
 *   4. the durable acknowledgement against the raw `write + fdatasync` of a record-sized line on
 *      the same file system in the same run (interleaved samples): the ack p99 of `fsync` mode and
 *      of `group` mode, each as a ratio of the raw p99 (goal <= 1.2x), and what a request() call
 *      costs its caller in group mode (the write and sync run off the request path).
 * A memory store seals records off the request path (store.ts `stage`: in one batch when the
 * synchronous run ends, or when something reads them), so the facade rows also time what sealing
 * costs: the seal of one record (its canonical text and SHA-256) and the SHA-256 alone, each as a
 * share of the request's p50; a request whose caller reads `result.attestation` at once (which
 * seals it there); and the mean CPU of a request with its seal over a synchronous batch.
 * Run: node --import tsx bench/registrar.bench.ts [durable|facade]   (only the durable rows / only the core and facade rows)
 */
import { closeSync, fdatasync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measure as measureLatency, us } from './latency.js';
import { canonicalJson, sha256Hex } from '../src/attestation/canonical-json.js';
import { sealRecordWithLine } from '../src/attestation/record.js';
import { recordText } from '../src/attestation/record-text.js';
import { AttestationStore } from '../src/attestation/store.js';
import { ACTOR_KINDS, NO_ID, TRANSITION_ACTIONS, type CoreRequest, type DecisionCore } from '../src/registrar/core.js';
import { NativeCore } from '../src/registrar/native-core.js';
import { ReferenceCore } from '../src/registrar/reference-core.js';
import { AudioRegistrar } from '../src/registrar/registrar.js';

const BENCH_TIME_MS = 500;

const measure = (tasks: Record<string, () => unknown>, timeMs = BENCH_TIME_MS) => measureLatency(tasks, timeMs);
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
  const sealed = native.request(nativeHandle).attestation;
  const { hash: _hash, prevHash: sealPrev, ...sealBody } = sealed;
  void _hash;
  const { head, tail } = recordText(sealBody, sealPrev);
  const sealText = head + tail;
  const referenceHandle = byHandle(reference);
  // A request and its seal, whoever pays it: the process CPU time (a busy machine inflates it less
  // than wall time; GC threads included) over a synchronous batch, sealed at its end, per request.
  const batchMeanUs = (registrar: AudioRegistrar, input: object, batch: number): number => {
    const before = process.cpuUsage();
    for (let index = 0; index < batch; index += 1) registrar.request(input);
    void registrar.attestationStore.lastHash; // seals the batch
    const used = process.cpuUsage(before);
    return (used.user + used.system) / batch;
  };
  const batchMeans: number[] = [];
  for (let round = 0; round < 7; round += 1) batchMeans.push(batchMeanUs(native, nativeHandle, 10_000));
  batchMeans.splice(0, 2); // the first batches warm the JIT up
  batchMeans.sort((a, b) => a - b);
  const stats = await measure({
    'native request by handle': () => native.request(nativeHandle),
    'native request, hash read at once': () => native.request(nativeHandle).attestation.hash,
    'reference request by handle': () => reference.request(referenceHandle),
    'native request allowed': () => native.requestAsHost(allowed),
    'reference request allowed': () => reference.requestAsHost(allowed),
    'native request denied': () => native.requestAsHost(denied),
    'reference request denied': () => reference.requestAsHost(denied),
    'native getState': () => native.getState('s1'),
    'reference getState': () => reference.getState('s1'),
    // What sealing costs inside the native request above: the record's canonical text and its SHA-256 (record.ts), on the same record.
    seal: () => sealRecordWithLine(sealBody, sealPrev),
    sha256: () => sha256Hex(sealText),
  });
  const row = (label: string, what: string): string[] => {
    const a = stats[`native ${what}`]!;
    const b = stats[`reference ${what}`]!;
    return [label, us(a.p50Us), us(a.p99Us), us(b.p50Us), us(b.p99Us), ratio(b.p50Us, a.p50Us)];
  };
  const request = stats['native request by handle']!;
  const part = (label: string, what: string): string[] => {
    const a = stats[what]!;
    return [label, us(a.p50Us), us(a.p99Us), us(request.p50Us), us(request.p99Us), `${((100 * a.p50Us) / request.p50Us).toFixed(0)}% of p50`];
  };
  const sealedAtOnce = stats['native request, hash read at once']!;
  return [
    row('facade request by handle (allowed)', 'request by handle'),
    part(`  its seal, off the caller's path (text + SHA-256, ${Buffer.byteLength(sealText)} B)`, 'seal'),
    part('  of the seal: SHA-256 of the text alone', 'sha256'),
    ['  request + read result.attestation at once (seals it then)', us(sealedAtOnce.p50Us), us(sealedAtOnce.p99Us), us(request.p50Us), us(request.p99Us), `${((100 * sealedAtOnce.p50Us) / request.p50Us).toFixed(0)}% of p50`],
    ['  request + its seal, CPU per request over a batch of 10,000 (5 batches: min-max)', `${us(batchMeans[0]!)}-${us(batchMeans.at(-1)!)}`, '', '', '', 'not a latency'],
    row('facade requestAsHost (allowed)', 'request allowed'),
    row('facade requestAsHost (denied)', 'request denied'),
    row('facade getState', 'getState'),
  ];
}

/** Interleaved durable samples per kind: each round takes one of each, so a slow patch of the disk hits every kind alike. */
const DURABLE_ROUNDS = 5000;
/** Interleaved rounds run and discarded before the samples (after the warm-up below). */
const DURABLE_WARM_ROUNDS = 500;
/**
 * Requests per durability mode run before any sample, on logs of their own: V8 tiers the request
 * path up over the first several thousand calls, compiling on background threads for 0.5-16 ms at
 * a time, and a compile overlapping an fdatasync made it 1-4 ms slower (measured: 20-30 such
 * outliers in 4,000 acknowledgements after 300 warm rounds, as many as the raw line's after
 * 30,000 warm requests). A long-running service is past that; the rows measure it there.
 */
const DURABLE_WARM_REQUESTS = 20_000;

/**
 * Runs the fsync-mode and group-mode request paths DURABLE_WARM_REQUESTS times each on logs of
 * their own (in /dev/shm when there is one, so the warm-up takes a second, not minutes: the code
 * is the same whatever the disk).
 */
/** A registrar on a new log `file` in `dir` with `options`, its `agent:owner` registered and stream `s1` started. */
function durableRegistrar(dir: string, file: string, options: Parameters<typeof AttestationStore.open>[1]): AudioRegistrar {
  const registrar = new AudioRegistrar({ core: NativeCore.create(), store: AttestationStore.open(join(dir, file), options).store });
  registrar.registerActor('agent:owner');
  registrar.requestAsHost({ action: 'start', actor: 'agent:owner', target: 's1' });
  return registrar;
}

async function warmDurablePaths(fallbackDir: string): Promise<void> {
  let dir: string;
  try {
    dir = mkdtempSync('/dev/shm/vs-registrar-warm-');
  } catch {
    dir = mkdtempSync(join(fallbackDir, 'warm-'));
  }
  try {
    const fsync = durableRegistrar(dir, 'fsync.jsonl', { durability: 'fsync' });
    const group = durableRegistrar(dir, 'group.jsonl', { durability: 'group', groupCommitMs: 0 });
    const compile = { action: 'compile', actor: 'agent:owner', target: 's1' };
    for (let index = 0; index < DURABLE_WARM_REQUESTS; index += 1) {
      fsync.requestAsHost(compile);
      await group.requestAsHost(compile).durable;
    }
    await Promise.all([fsync.close(), group.close()]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
/** Resamples for the interval of a p99 ratio (blocks of consecutive rounds, so a slow patch stays whole). */
const BOOTSTRAP_RESAMPLES = 400;
const BOOTSTRAP_BLOCK = 100;

function percentile(samples: number[], fraction: number): number {
  const sorted = [...samples].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
}

/**
 * The 5th and 95th percentiles of p99(values) / p99(baseline) over block-bootstrap resamples of the
 * rounds (fixed seed): how far the ratio of two p99s from one run can be trusted.
 */
function p99RatioInterval(baseline: number[], values: number[]): [number, number] {
  const blocks = Math.floor(baseline.length / BOOTSTRAP_BLOCK);
  let seed = 0x9e3779b9;
  const next = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const ratios: number[] = [];
  for (let resample = 0; resample < BOOTSTRAP_RESAMPLES; resample += 1) {
    const a: number[] = [];
    const b: number[] = [];
    for (let block = 0; block < blocks; block += 1) {
      const from = Math.floor(next() * blocks) * BOOTSTRAP_BLOCK;
      for (let index = from; index < from + BOOTSTRAP_BLOCK; index += 1) {
        a.push(baseline[index]!);
        b.push(values[index]!);
      }
    }
    ratios.push(percentile(b, 0.99) / percentile(a, 0.99));
  }
  return [percentile(ratios, 0.05), percentile(ratios, 0.95)];
}

/**
 * The durable acknowledgement against the physical limit, measured on the same file system in the
 * same run: the raw `write + fdatasync` of one record-sized line to a file in the same directory,
 * then `request()` acknowledged durable in `fsync` mode (on return) and in `group` mode (its
 * `durable` resolving, window 0, one request at a time: a lone record's latency). Goal (issue 8):
 * each ack p99 <= 1.2 x the raw p99; each ratio is printed with its 90 % bootstrap interval.
 */
async function durableRows(): Promise<string[][]> {
  const dir = mkdtempSync(join(tmpdir(), 'vs-registrar-bench-'));
  try {
    const syncRegistrar = durableRegistrar(dir, 'fsync.jsonl', { durability: 'fsync' });
    const groupRegistrar = durableRegistrar(dir, 'group.jsonl', { durability: 'group', groupCommitMs: 0 });
    const queuedRegistrar = durableRegistrar(dir, 'group-queued.jsonl', { durability: 'group', groupCommitMs: 2 });
    const compile = { action: 'compile', actor: 'agent:owner', target: 's1' };
    // The raw baseline writes a real record's line (same size) with one write and one fdatasync.
    const line = Buffer.from(`${canonicalJson(syncRegistrar.requestAsHost(compile).attestation)}\n`, 'utf8');
    const raw = openSync(join(dir, 'raw.jsonl'), 'a');
    const rawAsync = openSync(join(dir, 'raw-async.jsonl'), 'a');
    const samples = { raw: [] as number[], rawAsync: [] as number[], fsync: [] as number[], group: [] as number[] };
    const elapsedUs = (from: bigint) => Number(process.hrtime.bigint() - from) / 1000;
    await warmDurablePaths(dir);
    for (let round = -DURABLE_WARM_ROUNDS; round < DURABLE_ROUNDS; round += 1) {
      // The raw line and the fsync-mode request take turns going first: the file system's journal
      // makes a sync right after another slower, and that must not fall on one row only.
      const rawFirst = round % 2 === 0;
      let fsyncUs = 0;
      let at = process.hrtime.bigint();
      if (!rawFirst) {
        syncRegistrar.requestAsHost(compile); // acknowledged (on disk) when it returns
        fsyncUs = elapsedUs(at);
        at = process.hrtime.bigint();
      }
      writeSync(raw, line);
      fdatasyncSync(raw);
      const rawUs = elapsedUs(at);
      if (rawFirst) {
        at = process.hrtime.bigint();
        syncRegistrar.requestAsHost(compile);
        fsyncUs = elapsedUs(at);
      }
      // The same, with the fdatasync in libuv's thread pool as group mode does it (one hand-off there and back).
      at = process.hrtime.bigint();
      writeSync(rawAsync, line);
      await new Promise<void>((resolve, reject) => fdatasync(rawAsync, (error) => (error ? reject(error) : resolve())));
      const rawAsyncUs = elapsedUs(at);
      at = process.hrtime.bigint();
      await groupRegistrar.requestAsHost(compile).durable;
      const groupUs = elapsedUs(at);
      if (round < 0) continue; // warm-up
      samples.raw.push(rawUs);
      samples.rawAsync.push(rawAsyncUs);
      samples.fsync.push(fsyncUs);
      samples.group.push(groupUs);
    }
    closeSync(raw);
    closeSync(rawAsync);
    // What the caller's thread pays per request in group mode: seal, queue, return (the write and
    // fdatasync run every groupCommitMs off the request path). Not an acknowledgement.
    const stats = await measure({ 'group request call': () => queuedRegistrar.requestAsHost(compile) }, 1000);
    await Promise.all([syncRegistrar.close(), groupRegistrar.close(), queuedRegistrar.close()]);
    const rawP50 = percentile(samples.raw, 0.5);
    const rawP99 = percentile(samples.raw, 0.99);
    const row = (label: string, values: number[], baseline = samples.raw, goal = 'goal <= 1.2x; '): string[] => {
      const p99 = percentile(values, 0.99);
      const p50 = percentile(values, 0.5);
      const baseP50 = percentile(baseline, 0.5);
      const baseP99 = percentile(baseline, 0.99);
      const [low, high] = p99RatioInterval(baseline, values);
      return [label, us(p50), us(p99), us(baseP50), us(baseP99), `${(p99 / baseP99).toFixed(2)}x [${low.toFixed(2)}-${high.toFixed(2)}] (${goal}p50 ${(p50 / baseP50).toFixed(2)}x)`];
    };
    const call = stats['group request call']!;
    return [
      [`raw write + fdatasync of one record line (same file system, ${DURABLE_ROUNDS} rounds after ${DURABLE_WARM_REQUESTS} warm-up requests per mode)`, us(rawP50), us(rawP99), '', '', 'the physical limit'],
      row('durable ack, fsync mode (request() returns on disk)', samples.fsync),
      row('durable ack, group mode (request() to durable resolved)', samples.group),
      row('  raw write + fdatasync in the thread pool (group mode\'s hand-off)', samples.rawAsync),
      row('  group-mode ack against that raw line synced in the thread pool', samples.group, samples.rawAsync, ''),
      ['request() call, group mode (seal + queue, sync off the caller)', us(call.p50Us), us(call.p99Us), '', '', 'not an acknowledgement'],
      ...coldRows(),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Rounds of the cold/warm comparison. */
const COLD_ROUNDS = 4000;

/**
 * What the thread's sleep in `fdatasync` does to the JavaScript around it: the same memory-store
 * request (its record sealed at once, as a durable store does) timed back to back, and right after
 * the thread slept 200 µs (Atomics.wait, about one fdatasync here), interleaved. The difference
 * is the extra a durable acknowledgement pays over the raw line on this machine.
 */
function coldRows(): string[][] {
  const registrar = new AudioRegistrar({ core: NativeCore.create() });
  registrar.registerActor('agent:owner');
  registrar.requestAsHost({ action: 'start', actor: 'agent:owner', target: 's1' });
  const compile = { action: 'compile', actor: 'agent:owner', target: 's1' };
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const warm: number[] = [];
  const cold: number[] = [];
  for (let round = -200; round < COLD_ROUNDS; round += 1) {
    let at = process.hrtime.bigint();
    void registrar.requestAsHost(compile).attestation;
    const warmUs = Number(process.hrtime.bigint() - at) / 1000;
    Atomics.wait(cell, 0, 0, 0.2);
    at = process.hrtime.bigint();
    void registrar.requestAsHost(compile).attestation;
    const coldUs = Number(process.hrtime.bigint() - at) / 1000;
    if (round < 0) continue;
    warm.push(warmUs);
    cold.push(coldUs);
  }
  const warmP50 = percentile(warm, 0.5);
  return [
    ['request() sealed at once, back to back (memory store)', us(warmP50), us(percentile(warm, 0.99)), '', '', 'the JS of an ack, warm'],
    ['  the same right after the thread slept 200 µs', us(percentile(cold, 0.5)), us(percentile(cold, 0.99)), '', '', `${(percentile(cold, 0.5) / warmP50).toFixed(1)}x the warm p50: what an fdatasync's sleep costs the JS around it`],
  ];
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

function print(rows: string[][], header = ['operation', 'p50', 'p99', 'baseline p50', 'baseline p99', 'speed-up']): void {
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  for (const row of all) console.log(row.map((cell, column) => cell.padEnd(widths[column]!)).join('  '));
}

console.log('Registrar hot path. Baselines: the reference core (rows 1-7), raw write + fdatasync on the same file system (durable rows), the writer\'s own request (shared rows).');
console.log('Goals: request p50 2 µs / p99 10 µs; getState p99 1 µs; durable ack p99 <= 1.2 x raw write + fdatasync p99 (issue 8).\n');
// `registrar.bench.ts durable` runs only the durable rows, `registrar.bench.ts facade` only the core and facade rows.
if (process.argv[2] === 'facade') {
  print([...(await coreRows()), ...(await facadeRows())]);
} else {
  if (process.argv[2] !== 'durable') {
    print([...(await coreRows()), ...(await facadeRows()), ...(await sharedRows())]);
    console.log('');
  }
  print(await durableRows(), ['durable', 'p50', 'p99', 'raw p50', 'raw p99', 'ack p99 / raw p99']);
}
