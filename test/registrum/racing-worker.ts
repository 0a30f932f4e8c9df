/**
 * Worker of racing.test.ts: attaches to the shared native core by its share token and, round after round
 * (in lockstep with the other workers through a SharedArrayBuffer barrier), races a claim of the
 * round's new stream and then a system preemption of it once its winner has it playing.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ACTOR_KINDS, NO_ID, TRANSITION_ACTIONS, type CoreRequest, type TransitionAction } from '../../src/registrar/core.js';
import { NativeCore } from '../../src/registrar/native-core.js';

/** What the test hands each worker. */
export interface RacingWorkerData {
  /** The core's shareToken. */
  shareToken: string;
  index: number;
  workers: number;
  /** Stream ids (interned by the main thread), one per round. */
  streams: number[];
  /** A priority-10 stream the preemptions name. */
  vip: number;
  session: number;
  barrier: SharedArrayBuffer;
}

/** What a worker reports: every seq it consumed, and its claim / interrupt outcomes per round. */
export interface RacingWorkerResult {
  seqs: number[];
  claimsWon: number[];
  interruptsWon: number[];
}

const data = workerData as RacingWorkerData;
const core = NativeCore.attach(data.shareToken);
const agent = core.actorId(`agent:w${data.index}`);
const system = core.actorId(`system:w${data.index}`);
const barrier = new Int32Array(data.barrier);
const result: RacingWorkerResult = { seqs: [], claimsWon: [], interruptsWon: [] };
let phase = 0;

function arrive(): void {
  phase += 1;
  const target = phase * data.workers;
  let seen = Atomics.add(barrier, 0, 1) + 1;
  if (seen >= target) Atomics.notify(barrier, 0);
  while ((seen = Atomics.load(barrier, 0)) < target) Atomics.wait(barrier, 0, seen, 5);
}

function decide(action: TransitionAction, stream: number, asSystem = false): boolean {
  const request: CoreRequest = {
    actor: asSystem ? system : agent,
    actorKind: ACTOR_KINDS.indexOf(asSystem ? 'system' : 'agent'),
    action: TRANSITION_ACTIONS.indexOf(action),
    stream,
    newOwner: NO_ID,
    preemptFor: asSystem ? data.vip : NO_ID,
    priority: 5,
    session: data.session,
    user: NO_ID,
    overrideScope: 0,
    overrideScopeId: NO_ID,
    pluginAllowed: false,
  };
  const decision = core.decide(request);
  result.seqs.push(decision.seq);
  return decision.allowed;
}

for (const [round, stream] of data.streams.entries()) {
  arrive();
  const won = decide('claim', stream);
  if (won) {
    result.claimsWon.push(round);
    for (const step of ['start', 'synthesize', 'play'] as const) decide(step, stream);
  }
  arrive();
  if (decide('interrupt', stream, true)) result.interruptsWon.push(round);
}
core.close();
parentPort?.postMessage(result);
