/**
 * `npm run stress:registrar`: 8 worker threads race start/claim/interrupt/transfer (and the rest
 * of the lifecycle) on a few shared streams of ONE native registrar core, at least 10^6 races in
 * all. Meanwhile the main thread reads the core's journal like the attestation store does and
 * checks, decision by decision in seq order:
 *   - the journal is gap-free and complete (every seq 1..N, nothing lost);
 *   - no double winner: every allowed transition of a stream moves its version by exactly one
 *     (two winners from the same state would repeat a version), every allowed claim took an
 *     unowned stream;
 *   - linearizability: a second native core fed the same requests single-threaded in seq order
 *     makes exactly the same decisions, and so does the TypeScript reference model of the spec.
 * Prints the figures and exits non-zero on any failure. Usage:
 *   node --import tsx bench/stress-registrar.ts [totalRaces=1000000] [threads=8]
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { compactionPointOf } from '../src/registrar/compaction.js';
import { ACTOR_KINDS, NO_ID, REASON_CODES, STREAM_STATES, TRANSITION_ACTIONS, type CoreDecision, type CoreRequest, type DecisionCore, type TransitionAction } from '../src/registrar/core.js';
import { NativeCore } from '../src/registrar/native-core.js';
import { ReferenceCore } from '../src/registrar/reference-core.js';

const STREAMS = 16;
const JOURNAL_CAPACITY = 1 << 18;
/** Workers pause when they are this many seqs ahead of the journal reader. */
const MAX_LAG = JOURNAL_CAPACITY / 2;
const TIMEOUT_MS = 150_000;
const AGENT = ACTOR_KINDS.indexOf('agent');
const NOT_OWNER = REASON_CODES.indexOf('not_owner');
const ALREADY_OWNED = REASON_CODES.indexOf('already_owned');
const SYSTEM = ACTOR_KINDS.indexOf('system');
/** The racing actions, weighted: the four of the issue often, the rest to keep streams cycling. */
const MIX: TransitionAction[] = [
  'claim', 'claim', 'start', 'start', 'interrupt', 'interrupt', 'transfer', 'transfer',
  'synthesize', 'play', 'stop', 'restart', 'release', 'fail',
];

interface StressWorkerData {
  /** The shared core's shareToken (the capability to attach to it). */
  shareToken: string;
  index: number;
  threads: number;
  racesPerThread: number;
  streams: number[];
  vip: number;
  session: number;
  /** Int32: [0] finished workers, [1] seqs the main thread has checked. */
  shared: SharedArrayBuffer;
}

/** Setup both cores identically (same ids), so requests mean the same to both. */
function populate(core: DecisionCore, threads: number): { streams: number[]; vip: number; session: number } {
  for (let index = 0; index < threads; index += 1) {
    core.registerActor(`agent:w${index}`, AGENT);
    core.registerActor(`system:w${index}`, SYSTEM);
  }
  core.registerActor('agent:vip', AGENT);
  const session = core.internScope(0, 'default');
  const streams = Array.from({ length: STREAMS }, (_, index) => core.internStream(`shared-${index}`));
  return { streams, vip: core.internStream('vip'), session };
}

function request(fields: Partial<CoreRequest> & Pick<CoreRequest, 'actor' | 'actorKind' | 'action' | 'stream'>, session: number): CoreRequest {
  return { newOwner: NO_ID, preemptFor: NO_ID, priority: 5, session, user: NO_ID, overrideScope: 0, overrideScopeId: NO_ID, pluginAllowed: false, ...fields };
}

function workerMain(data: StressWorkerData): void {
  const core = NativeCore.attach(data.shareToken);
  const shared = new Int32Array(data.shared);
  const agent = core.actorId(`agent:w${data.index}`);
  const system = core.actorId(`system:w${data.index}`);
  const agents = Array.from({ length: data.threads }, (_, index) => core.actorId(`agent:w${index}`));
  let random = 0x9e3779b9 ^ (data.index * 7919);
  const next = (bound: number): number => {
    random ^= random << 13;
    random ^= random >>> 17;
    random ^= random << 5;
    return (random >>> 0) % bound;
  };
  // What this worker last heard about streams it won (may be stale: others race it).
  const believedState = new Map<number, number>();
  const lifecycleNext: TransitionAction[][] = [
    ['start', 'release'], ['synthesize', 'fail'], ['play'], ['interrupt', 'stop', 'transfer'], ['stop'], ['release', 'restart'], ['restart', 'release'],
  ];
  for (let race = 0; race < data.racesPerThread; race += 1) {
    if ((race & 255) === 0) {
      while (core.lastSeq() - Atomics.load(shared, 1) > MAX_LAG) Atomics.wait(shared, 1, Atomics.load(shared, 1), 1);
    }
    const asSystem = next(8) === 0;
    let stream = data.streams[next(data.streams.length)]!;
    let action: TransitionAction;
    if (asSystem) {
      action = next(2) === 0 ? 'interrupt' : 'stop';
    } else if (believedState.size > 0 && next(4) !== 0) {
      // Drive a stream this worker believes it owns (stale beliefs race the real owner).
      const owned = [...believedState.keys()];
      stream = owned[next(owned.length)]!;
      const choices = lifecycleNext[believedState.get(stream)!] ?? ['claim'];
      action = choices[next(choices.length)]!;
    } else {
      action = MIX[next(MIX.length)]!;
    }
    const decision = core.decide(
      request(
        {
          actor: asSystem ? system : agent,
          actorKind: asSystem ? SYSTEM : AGENT,
          action: TRANSITION_ACTIONS.indexOf(action),
          stream,
          newOwner: agents[next(data.threads)]!,
          preemptFor: asSystem ? data.vip : NO_ID,
        },
        data.session,
      ),
    );
    if (asSystem) continue;
    if (decision.allowed && decision.ownerAfter === agent) believedState.set(stream, decision.stateAfter);
    else if (decision.allowed || decision.reason === NOT_OWNER || decision.reason === ALREADY_OWNED) believedState.delete(stream);
    else if (decision.stateBefore >= 0) believedState.set(stream, decision.stateBefore);
  }
  core.close();
  Atomics.add(shared, 0, 1);
  Atomics.notify(shared, 0);
  parentPort?.postMessage('done');
}

function same(live: CoreDecision, replayed: CoreDecision): boolean {
  return (
    live.allowed === replayed.allowed && live.reason === replayed.reason && live.violations === replayed.violations &&
    live.seq === replayed.seq && live.version === replayed.version && live.stateAfter === replayed.stateAfter &&
    live.ownerAfter === replayed.ownerAfter && live.parentSeq === replayed.parentSeq && live.preemption === replayed.preemption
  );
}

async function main(): Promise<number> {
  const totalRaces = Number(process.argv[2] ?? 1_000_000);
  const threads = Number(process.argv[3] ?? 8);
  const racesPerThread = Math.ceil(totalRaces / threads);
  const live = NativeCore.create({ journalCapacity: JOURNAL_CAPACITY });
  const replay = NativeCore.create({ journalCapacity: 1024 });
  const model = new ReferenceCore({ journalCapacity: 1024 });
  const { streams, vip, session } = populate(live, threads);
  populate(replay, threads);
  populate(model, threads);
  // The vip stream (priority 10) the system preemptions name.
  const vipStart = request({ actor: live.actorId('agent:vip'), actorKind: AGENT, action: TRANSITION_ACTIONS.indexOf('start'), stream: vip, priority: 10 }, session);
  live.decide(vipStart); // seq 1: replayed from the journal like every other decision

  const shared = new SharedArrayBuffer(8);
  const sharedInts = new Int32Array(shared);
  const requireHere = createRequire(import.meta.url);
  const tsxApi = pathToFileURL(join(dirname(requireHere.resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  const self = pathToFileURL(fileURLToPath(import.meta.url)).href;
  const boot = `import { register } from ${JSON.stringify(tsxApi)}; register(); await import(${JSON.stringify(self)});`;
  const started = performance.now();
  const workers = Array.from({ length: threads }, (_, index) => {
    const data: StressWorkerData = { shareToken: live.shareToken, index, threads, racesPerThread, streams, vip, session, shared };
    return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), { workerData: data });
  });
  const exits = workers.map((worker) => new Promise<number>((resolve) => worker.on('exit', resolve).on('error', (error) => console.error(error))));

  // The store's thread: read the journal while the workers race.
  const expected = 1 + racesPerThread * threads;
  const sleepCell = new Int32Array(new SharedArrayBuffer(4));
  /** Each stream's last allowed transition: version, state after, seq. */
  const lastOf = new Map<number, { version: number; state: number; seq: number }>();
  const policy = live.compactionPolicy();
  const terminal = new Set([STREAM_STATES.indexOf('stopped'), STREAM_STATES.indexOf('failed')]);
  let nextSeq = 1;
  let gaps = 0;
  let doubleWinners = 0;
  let mismatches = 0;
  let modelMismatches = 0;
  let allowed = 0;
  let timedOut = false;
  while (nextSeq <= expected) {
    if (performance.now() - started > TIMEOUT_MS) {
      timedOut = true;
      break;
    }
    const entries = live.readJournal(nextSeq, 4096);
    if (entries.length === 0) {
      Atomics.wait(sleepCell, 0, 0, 1);
      continue;
    }
    for (const entry of entries) {
      if (entry.seq !== nextSeq) {
        gaps += 1;
        nextSeq = entry.seq;
      }
      nextSeq += 1;
      if (!entry.request) {
        mismatches += 1;
        continue;
      }
      if (!same(entry, replay.decide(entry.request))) mismatches += 1;
      if (!same(entry, model.decide(entry.request))) modelMismatches += 1;
      if (entry.allowed) {
        allowed += 1;
        // A stream compacted after it ended may be created again (version 1): compaction.ts.
        const last = lastOf.get(entry.stream);
        const recreated = entry.stateBefore === -1 && last !== undefined && terminal.has(last.state) && policy !== null && compactionPointOf(last.seq, policy) < entry.seq;
        const previous = recreated ? 0 : (last?.version ?? 0);
        if (entry.version !== previous + 1) doubleWinners += 1;
        if (entry.action === TRANSITION_ACTIONS.indexOf('claim') && entry.ownerBefore !== NO_ID) doubleWinners += 1;
        lastOf.set(entry.stream, { version: entry.version, state: entry.stateAfter, seq: entry.seq });
      }
    }
    Atomics.store(sharedInts, 1, nextSeq - 1);
  }
  const elapsedMs = performance.now() - started;
  const codes = await Promise.all(exits);
  const races = racesPerThread * threads;
  const checked = nextSeq - 1;
  const failed =
    timedOut || gaps > 0 || doubleWinners > 0 || mismatches > 0 || modelMismatches > 0 || codes.some((code) => code !== 0) ||
    checked !== expected || live.lastSeq() !== expected || races < totalRaces;
  console.log(
    JSON.stringify(
      {
        threads,
        streams: STREAMS,
        races,
        seqsChecked: checked,
        allowed,
        doubleWinners,
        journalGaps: gaps,
        replayMismatches: mismatches,
        referenceModelMismatches: modelMismatches,
        elapsedMs: Math.round(elapsedMs),
        racesPerSecond: Math.round(races / (elapsedMs / 1000)),
        timedOut,
        workerExitCodes: [...new Set(codes)],
        result: failed ? 'FAILED' : 'ok',
      },
      null,
      2,
    ),
  );
  live.close();
  replay.close();
  return failed ? 1 : 0;
}

if (isMainThread) {
  process.exitCode = await main();
} else {
  workerMain(workerData as StressWorkerData);
}
