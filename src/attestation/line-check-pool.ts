/**
 * Worker threads that check a log's lines (line-check.ts) while the reading thread follows the
 * log in order: the reader puts a chunk's whole lines into a free shared slot of a ready worker
 * (`claim`, `dispatch`), reads on, and takes the answers back in the order it handed the chunks out
 * (`result`), waiting for them synchronously (Atomics.wait on a word the worker bumps after each
 * answer), so reads stay synchronous. The reader reads each chunk straight into the slot it then
 * hands out, so the lines are not copied. Each worker has SLOTS_PER_WORKER slots of SLOT_BYTES:
 * what is in flight is bounded, whatever the log's length.
 *
 * The workers are shared by the reads of a process: started on first use, unref'd (they never keep
 * a process alive), reused by later reads, one read at a time (a read that finds them in use checks
 * on its own thread). A worker still loading is not given work: the reader checks those chunks
 * itself meanwhile. A worker that fails a job, or does not answer within WORKER_ANSWER_MS, is
 * dropped and its jobs are checked on the reading thread from the slot (nothing is lost); one that
 * cannot be started leaves the read on its own thread.
 *
 * From the built package the worker is `line-check-worker.js`; when this module runs from its
 * TypeScript source (tests, benchmarks under tsx), the worker registers tsx to load the `.ts` one.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { checkLines, type LinesChecked } from './line-check.js';
import type { LineHashing } from './line-hash.js';
import type { LineCheckAnswer, LineCheckJob, LineCheckWorkerData } from './line-check-worker.js';

/** Bytes of one slot: a chunk (1 MiB) plus a partial line carried over; a larger region is checked by the reader. */
const SLOT_BYTES = 2 * 1024 * 1024;
/**
 * Slots per worker: one being checked and two waiting, so a worker still has work while the
 * reading thread checks a chunk itself (with two, the worker idled and the reading thread was the
 * limit: some 5 % slower on 2 cores).
 */
const SLOTS_PER_WORKER = 3;
/** How long the reader waits for one answer before it drops the worker and checks the region itself. */
const WORKER_ANSWER_MS = 30_000;
/**
 * A worker's young generation: what it allocates (a parsed line) dies young, and its live data is
 * one region's columns; 8 MB keeps each worker's RSS some 25 MB under V8's default without more
 * collection work (4 MB doubles it).
 */
const WORKER_YOUNG_GENERATION_MB = 8;
/** Most workers a read uses. */
export const MAX_CHECK_WORKERS = 8;

interface PoolWorker {
  readonly worker: Worker;
  readonly port: MessagePort;
  readonly signal: Int32Array;
  readonly slots: SharedArrayBuffer[];
  /** Slots not holding a region in flight. */
  readonly free: number[];
  ready: boolean;
  dead: boolean;
}

/** A free slot of a worker, claimed to read a chunk into. */
export interface SlotClaim {
  readonly owner: PoolWorker;
  readonly slot: number;
  /** The slot's bytes. */
  readonly buffer: Buffer;
}

/** A region handed to a worker, to be taken back with `result`. */
export interface CheckTicket {
  readonly owner: PoolWorker;
  readonly slot: number;
  readonly lengthBytes: number;
}

const workers: PoolWorker[] = [];
/** Regions checked by workers and by reading threads since the process started (see `lineCheckCounts`). */
const counts = { byWorkers: 0, onReadingThread: 0 };
/** Set while a read uses the workers. */
let inUse = false;
/** Set once a worker could not be started: reads check on their own thread. */
let cannotStart = false;

/** The worker's entry point, or null when it cannot be loaded (running from sources without tsx). */
function workerUrl(): URL | null {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new URL('./line-check-worker.js', here);
  try {
    const tsx = pathToFileURL(join(dirname(createRequire(here).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
    const entry = new URL('./line-check-worker.ts', here).href;
    const boot = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(entry)});`;
    return new URL(`data:text/javascript,${encodeURIComponent(boot)}`);
  } catch {
    return null;
  }
}

function startWorker(): PoolWorker | null {
  const url = cannotStart ? null : workerUrl();
  if (url === null) {
    cannotStart = true;
    return null;
  }
  const { port1, port2 } = new MessageChannel();
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const slots = Array.from({ length: SLOTS_PER_WORKER }, () => new SharedArrayBuffer(SLOT_BYTES));
  const workerData: LineCheckWorkerData = { port: port2, signal, slots };
  let worker: Worker;
  try {
    worker = new Worker(url, { workerData, transferList: [port2], execArgv: [], name: 'attestation-line-check', resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
  } catch {
    cannotStart = true;
    return null;
  }
  worker.unref();
  port1.unref();
  const entry: PoolWorker = { worker, port: port1, signal, slots, free: slots.map((_, index) => index), ready: false, dead: false };
  // Seen only when the event loop turns between reads; a read notices a dead worker by its silence.
  worker.on('error', () => drop(entry));
  worker.once('exit', () => drop(entry));
  return entry;
}

function drop(entry: PoolWorker): void {
  if (entry.dead) return;
  entry.dead = true;
  const index = workers.indexOf(entry);
  if (index !== -1) workers.splice(index, 1);
  entry.port.close();
  void entry.worker.terminate();
}

/**
 * The number of workers a read uses by default: one less than the cores (the reading thread checks
 * chunks too while it waits), none on a single core, at most MAX_CHECK_WORKERS.
 */
export function defaultCheckWorkers(): number {
  return Math.max(0, Math.min(MAX_CHECK_WORKERS, availableParallelism() - 1));
}

/** The workers of one read (none when `count` is 0, or when another read has them). */
export class CheckPipeline {
  readonly #workers: PoolWorker[];
  readonly #hashing: LineHashing;
  /** This read holds the workers (until `close`). */
  #holds = false;

  constructor(count: number, hashing: LineHashing) {
    this.#hashing = hashing;
    if (count <= 0 || inUse) {
      this.#workers = [];
      return;
    }
    inUse = true;
    this.#holds = true;
    while (workers.length < Math.min(count, MAX_CHECK_WORKERS)) {
      const started = startWorker();
      if (!started) break;
      workers.push(started);
    }
    this.#workers = workers.slice(0, count);
  }

  /** A ready worker with a free slot (the one with the most), or null. */
  #taker(): PoolWorker | null {
    let best: PoolWorker | null = null;
    for (const entry of this.#workers) {
      if (entry.dead) continue;
      if (!entry.ready) {
        const message = receiveMessageOnPort(entry.port);
        if (message?.message !== 'ready') continue;
        entry.ready = true;
      }
      if (entry.free.length > 0 && (best === null || entry.free.length > best.free.length)) best = entry;
    }
    return best;
  }

  /**
   * A free slot of a ready worker, to read the next chunk into (so it is not copied), or null when
   * none is free. Hand it back with `dispatch` or `release`.
   */
  claim(): SlotClaim | null {
    const owner = this.#taker();
    if (owner === null) return null;
    const slot = owner.free.pop() as number;
    return { owner, slot, buffer: Buffer.from(owner.slots[slot] as SharedArrayBuffer) };
  }

  /** Gives back a claimed slot unused. */
  release(claim: SlotClaim): void {
    claim.owner.free.push(claim.slot);
  }

  /**
   * Hands `region` (whole lines) to the worker of a claimed slot: a region read into the slot is
   * sent as it is, any other is copied in. False (and the slot given back) when it does not fit.
   */
  dispatch(claim: SlotClaim, region: Buffer): CheckTicket | null {
    const { owner, slot, buffer } = claim;
    if (region.length > buffer.length) {
      this.release(claim);
      return null;
    }
    if (region.buffer !== buffer.buffer || region.byteOffset !== buffer.byteOffset) region.copy(buffer);
    const job: LineCheckJob = { slot, lengthBytes: region.length, hashing: this.#hashing };
    owner.port.postMessage(job);
    return { owner, slot, lengthBytes: region.length };
  }

  /**
   * What the worker found in a handed-out region (tickets are taken back in the order they were
   * handed out). With `wait: false`, null when the worker has not answered yet (ask again later).
   */
  result(ticket: CheckTicket, wait: true): LinesChecked;
  result(ticket: CheckTicket, wait: boolean): LinesChecked | null;
  result(ticket: CheckTicket, wait: boolean): LinesChecked | null {
    const { owner, slot, lengthBytes } = ticket;
    let answer: LineCheckAnswer | null = null;
    if (!owner.dead) {
      answer = wait ? this.#await(owner) : ((receiveMessageOnPort(owner.port)?.message as LineCheckAnswer | undefined) ?? null);
      if (answer === null && !wait) return null;
    }
    try {
      if (answer !== null && 'checked' in answer) {
        counts.byWorkers += 1;
        return answer.checked;
      }
      // No answer (or an error): drop the worker; its region is still in the slot.
      drop(owner);
      return this.checkHere(Buffer.from(owner.slots[slot] as SharedArrayBuffer, 0, lengthBytes));
    } finally {
      owner.free.push(slot);
    }
  }

  #await(owner: PoolWorker): LineCheckAnswer | null {
    const deadline = Date.now() + WORKER_ANSWER_MS;
    for (;;) {
      const seen = Atomics.load(owner.signal, 0);
      const received = receiveMessageOnPort(owner.port);
      if (received) return received.message as LineCheckAnswer;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      Atomics.wait(owner.signal, 0, seen, left);
    }
  }

  /** Takes back (and drops) the answers of tickets no longer wanted, so the workers are clean for the next read. */
  discard(tickets: CheckTicket[]): void {
    for (const ticket of tickets.splice(0)) {
      if (!ticket.owner.dead && this.#await(ticket.owner) === null) drop(ticket.owner);
      ticket.owner.free.push(ticket.slot);
    }
  }

  /** `checkLines` on the reading thread (counted). */
  checkHere(region: Buffer): LinesChecked {
    counts.onReadingThread += 1;
    return checkLines(region, this.#hashing);
  }

  /** Ends the read's use of the workers (idempotent; every ticket must have been taken back or discarded). */
  close(): void {
    if (!this.#holds) return;
    this.#holds = false;
    inUse = false;
  }
}

/** How many chunks of lines workers and reading threads have checked in this process (for tests and benchmarks). */
export function lineCheckCounts(): { byWorkers: number; onReadingThread: number } {
  return { ...counts };
}

/**
 * Starts up to `count` line-check workers ahead of a read and resolves once they are loaded (or
 * `deadlineMs` passed), with how many are ready; a read started later uses them from its first chunk.
 */
export async function startCheckWorkers(count: number, deadlineMs = 30_000): Promise<number> {
  while (workers.length < Math.min(count, MAX_CHECK_WORKERS)) {
    const started = startWorker();
    if (!started) break;
    workers.push(started);
  }
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    for (const entry of workers) if (!entry.ready && !entry.dead && receiveMessageOnPort(entry.port)?.message === 'ready') entry.ready = true;
    const ready = workers.filter((entry) => entry.ready && !entry.dead).length;
    if (ready >= Math.min(count, workers.length) || Date.now() > deadline) return ready;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Stops the line-check workers (a later read starts new ones); resolves once they have exited. */
export async function stopCheckWorkers(): Promise<void> {
  const stopping = workers.splice(0);
  await Promise.all(
    stopping.map(async (entry) => {
      entry.dead = true;
      entry.port.close();
      await entry.worker.terminate();
    }),
  );
}
