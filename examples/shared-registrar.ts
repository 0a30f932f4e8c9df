/**
 * One registrar across worker threads: the main thread's registrar writes the one attestation log
 * (a durable log in a temp directory); four workers attach with its share and decide. Every
 * request gets one record in one hash chain, whatever thread asked; a user's override set on one
 * worker is seen on another; the log verifies and replays to the live state.
 *
 *   npx tsx examples/shared-registrar.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { AudioRegistrar, verify, type RegistrarShare } from '../src/index.js';

const WORKERS = 4;
const STREAMS_PER_WORKER = 25;

interface Job {
  share: RegistrarShare;
  index: number;
}

if (isMainThread) {
  const directory = mkdtempSync(join(tmpdir(), 'vs-shared-registrar-'));
  try {
    const path = join(directory, 'registrar.jsonl');
    const { registrar } = AudioRegistrar.openLog(path, { durability: 'group' });
    registrar.registerActor('user:alice');
    const share = registrar.share(); // { token, doorbell }: structured-cloneable
    const run = (index: number) => {
      const job: Job = { share, index };
      // A built (.js) app starts `new Worker(new URL(import.meta.url), { workerData })`; this .ts
      // file, run by tsx, has its workers register tsx first (workers do not inherit the loader).
      const script = new URL(import.meta.url);
      const worker = script.pathname.endsWith('.ts')
        ? new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(script.href)}); })`, { eval: true, workerData: job })
        : new Worker(script, { workerData: job });
      return new Promise<number[]>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    };
    const first = await run(0); // worker 0 enables alice's override; the others run at once
    const seqs = [first, ...(await Promise.all(Array.from({ length: WORKERS - 1 }, (_, index) => run(index + 1))))];
    await registrar.flush(); // everything the workers decided is in the log, on disk
    const live = registrar.stateHash();
    const records = registrar.attestationStore.all();
    console.log(`${records.length} attestations from ${WORKERS} threads, seq 1..${registrar.attestationStore.lastSeq}, one writer`);
    const distinct = new Set(seqs.flat());
    console.log(`the workers were told ${distinct.size} distinct seqs, each one a record of this log`);
    const report = verify(records);
    await registrar.close();
    const reopened = AudioRegistrar.openLog(path, { durability: 'group' }).registrar;
    console.log(`hash chain and invariants ${report.ok ? 'verified' : 'BROKEN'}; replayed state ${reopened.stateHash() === live ? 'matches' : 'DIFFERS'}`);
    await reopened.close();
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
} else {
  const { share, index } = workerData as Job;
  const registrar = AudioRegistrar.attach(share);
  const agent = registrar.registerActor(`agent:worker-${index}`);
  const seqs: number[] = [];
  if (index === 0) {
    // Alice's override, enabled here, is registrar state: every thread sees its speech rate.
    const alice = registrar.registerActor('user:alice');
    registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'user', scopeId: 'alice', speechRate: 0.8 } });
  }
  for (let stream = 0; stream < STREAMS_PER_WORKER; stream += 1) {
    const started = registrar.request({ action: 'start', actor: agent, reason: `utterance ${stream}` });
    seqs.push(started.attestation.seq);
    for (const action of ['synthesize', 'play', 'stop'] as const) {
      seqs.push(registrar.request({ action, actor: agent, target: started.streamId }).attestation.seq);
    }
  }
  if (index === WORKERS - 1) {
    const override = registrar.listOverrides().find((entry) => entry.owner === 'user:alice');
    console.log(`worker ${index} sees the override worker 0 enabled: speechRate ${override?.speechRate ?? 'none'}`);
  }
  await registrar.flush(); // this thread's decisions are durable in the writer's log
  await registrar.close();
  parentPort?.postMessage(seqs);
}
