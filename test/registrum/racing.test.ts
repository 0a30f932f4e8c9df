// Racing agents on REAL worker_threads attached to one shared native core: every round all
// workers claim the same new stream at once (exactly one wins), then all preempt it at once as
// system actors (exactly one interrupt wins). The seqs consumed by all threads are exactly 1..N,
// the core's journal holds them gap-free, and a registrar on the main thread attests all of them
// into a log that verifies and replays to the same state.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ACTOR_KINDS, NO_ID, STREAM_STATES, TRANSITION_ACTIONS } from '../../src/registrar/core.js';
import { NativeCore } from '../../src/registrar/native-core.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { verify } from '../../src/registrar/verify.js';
import type { RacingWorkerData, RacingWorkerResult } from './racing-worker.js';

const WORKERS = 4;
const ROUNDS = 150;
const requireFromHere = createRequire(import.meta.url);
const TSX_API = pathToFileURL(join(dirname(requireFromHere.resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
const WORKER_FILE = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'racing-worker.ts')).href;

/** Runs an ES module (a data: URL that registers tsx first, as vitest's loader is not in workers) in a real worker thread. */
function runTsWorker<Result>(url: string, data: unknown): Promise<Result> {
  const worker = new Worker(new URL(url), { workerData: data });
  return new Promise((resolve, reject) => {
    let result: Result | undefined;
    let received = false;
    worker.on('message', (message: Result) => {
      result = message;
      received = true;
    });
    worker.on('error', reject);
    worker.on('exit', (code) => (code === 0 && received ? resolve(result as Result) : reject(new Error(`worker exited with ${code}`))));
  });
}

function runWorker(data: RacingWorkerData): Promise<RacingWorkerResult> {
  const boot = `import { register } from ${JSON.stringify(TSX_API)}; register(); await import(${JSON.stringify(WORKER_FILE)});`;
  return runTsWorker(`data:text/javascript,${encodeURIComponent(boot)}`, data);
}

/** A worker that attaches, decides once and exits WITHOUT close(): its environment's cleanup
 *  must release its reference. */
const LEAVING_WORKER = `data:text/javascript,${encodeURIComponent(`
  import { parentPort, workerData } from 'node:worker_threads';
  import { register } from ${JSON.stringify(TSX_API)};
  register();
  const { NativeCore } = await import(${JSON.stringify(pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'registrar', 'native-core.ts')).href)});
  const core = NativeCore.attach(workerData.shareToken);
  parentPort.postMessage(core.reserveSeq());
`)}`;

describe('racing agents on worker threads sharing one native core', () => {
  it('has exactly one winner per race, a gap-free journal and an attestable log', async () => {
    const core = NativeCore.create({ journalCapacity: 1 << 16 });
    try {
      for (let index = 0; index < WORKERS; index += 1) {
        core.registerActor(`agent:w${index}`, ACTOR_KINDS.indexOf('agent'));
        core.registerActor(`system:w${index}`, ACTOR_KINDS.indexOf('system'));
      }
      const vipOwner = core.registerActor('agent:vip', ACTOR_KINDS.indexOf('agent'));
      const session = core.internScope(0, 'default');
      const vip = core.internStream('vip');
      const started = core.decide({
        actor: vipOwner, actorKind: ACTOR_KINDS.indexOf('agent'), action: TRANSITION_ACTIONS.indexOf('start'), stream: vip,
        newOwner: NO_ID, preemptFor: NO_ID, priority: 10, session, user: NO_ID, overrideScope: 0, overrideScopeId: NO_ID, pluginAllowed: false,
      });
      expect(started.allowed).toBe(true);
      const streams = Array.from({ length: ROUNDS }, (_, round) => core.internStream(`race-${round}`));
      const barrier = new SharedArrayBuffer(4);

      const results = await Promise.all(
        Array.from({ length: WORKERS }, (_, index) => runWorker({ shareToken: core.shareToken, index, workers: WORKERS, streams, vip, session, barrier })),
      );

      const claimWinners = new Map<number, number>();
      const interruptWinners = new Map<number, number>();
      for (const result of results) {
        for (const round of result.claimsWon) claimWinners.set(round, (claimWinners.get(round) ?? 0) + 1);
        for (const round of result.interruptsWon) interruptWinners.set(round, (interruptWinners.get(round) ?? 0) + 1);
      }
      const rounds = Array.from({ length: ROUNDS }, (_, round) => round);
      expect(rounds.filter((round) => claimWinners.get(round) !== 1)).toEqual([]);
      expect(rounds.filter((round) => interruptWinners.get(round) !== 1)).toEqual([]);

      // Every seq 1..N was consumed exactly once across the threads.
      const seqs = [started.seq, ...results.flatMap((result) => result.seqs)].sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, index) => index + 1));
      expect(seqs.length).toBe(1 + ROUNDS * (WORKERS * 2 + 3));
      expect(core.lastSeq()).toBe(seqs.length);

      // The journal is complete and gap-free, and agrees on who won.
      const journal = core.readJournal(1, seqs.length + 10);
      expect(journal.map((entry) => entry.seq)).toEqual(seqs);
      const claim = TRANSITION_ACTIONS.indexOf('claim');
      const allowedClaims = journal.filter((entry) => entry.action === claim && entry.allowed);
      expect(allowedClaims).toHaveLength(ROUNDS);
      expect(allowedClaims.every((entry) => entry.ownerBefore === NO_ID)).toBe(true);
      // claim, start, synthesize, play, interrupt: five accepted transitions per stream.
      for (const stream of streams) expect(core.stream(stream)).toMatchObject({ state: STREAM_STATES.indexOf('interrupting'), version: 5 });

      // A registrar on the main thread attests every decision the workers made, gap-free.
      const registrar = new AudioRegistrar({ core });
      expect(registrar.syncJournal()).toBe(seqs.length);
      const log = registrar.attestationStore.all();
      expect(log.map((record) => record.seq)).toEqual(seqs);
      expect(verify(log).ok).toBe(true);
      const replayed = AudioRegistrar.replay(log);
      expect(replayed.getState('race-0')).toMatchObject({ state: 'interrupting', version: 5 });
    } finally {
      core.close();
    }
  });

  it('keeps a core alive while a worker holds it and releases a worker reference when the worker ends without close()', async () => {
    const core = NativeCore.create();
    const shareToken = core.shareToken;
    core.reserveSeq();
    const seqs = await Promise.all([runTsWorker<number>(LEAVING_WORKER, { shareToken }), runTsWorker<number>(LEAVING_WORKER, { shareToken })]);
    expect(seqs.sort()).toEqual([2, 3]);
    expect(core.reserveSeq()).toBe(4); // the workers' exits did not free the core under us
    core.close();
    // Both workers ended without close(): if their environments had kept references, the core
    // would still resolve.
    expect(() => NativeCore.attach(shareToken)).toThrow(expect.objectContaining({ code: 'REGISTRAR_CORE_NOT_FOUND' }));
  });
});
