/**
 * A line-check worker (line-check-pool.ts): checks each region the reading thread put in one of
 * its shared slots (line-check.ts) and answers with what it found (its numbers' buffer transferred,
 * not copied), or with the error that stopped it (the reading thread then checks that region
 * itself). Posts `ready` once loaded.
 * Each answer is followed by a bump of the shared `signal` word, which the reading thread waits on.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import type { LineHashing } from './line-hash.js';
import { checkLines, type LinesChecked } from './line-check.js';

/** What the pool hands a worker when it starts it. */
export interface LineCheckWorkerData {
  port: MessagePort;
  signal: Int32Array;
  slots: SharedArrayBuffer[];
}

/** A region to check: which slot, how many bytes of it. */
export interface LineCheckJob {
  slot: number;
  lengthBytes: number;
  hashing: LineHashing;
}

/** The answer to a job. */
export type LineCheckAnswer = { checked: LinesChecked } | { error: string };

const { port, signal, slots } = workerData as LineCheckWorkerData;

function answer(message: LineCheckAnswer | 'ready', transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}

port.on('message', (job: LineCheckJob) => {
  try {
    const checked = checkLines(Buffer.from(slots[job.slot] as SharedArrayBuffer, 0, job.lengthBytes), job.hashing);
    answer({ checked }, [checked.numbers.buffer as ArrayBuffer, checked.text.buffer as ArrayBuffer]);
  } catch (error) {
    answer({ error: error instanceof Error ? error.message : String(error) });
  }
});
answer('ready');
