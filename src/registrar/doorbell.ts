/**
 * The doorbell of a shared registrar: a small SharedArrayBuffer every thread of it holds (it
 * travels in the share, registrar-share.ts). Deciding threads ring it after posting a body; the
 * log writer rings it after its own decisions and publishes there how far it has written and how
 * far that is durable; any thread that sees a halt raises its flag. Threads wait on it with
 * `Atomics.waitAsync` (a pending wait never keeps a process alive) or, inside a synchronous call,
 * with `Atomics.wait` bounded by a deadline. Nothing here polls.
 *
 * Layout (Int32 slots, then two BigInt64 seqs):
 *   0 ring counter · 1 progress counter (written/durable moved, writer closed) · 2 halted flag ·
 *   3 writer state (0 none, 1 live, 2 closed) · 4-7 the bell's key (random, also in the core's
 *   share info, so a share with another buffer is refused) · bytes 32/40: written seq, durable seq.
 */
import { randomInt } from 'node:crypto';

/** `Atomics.waitAsync` (Node >= 16; not yet in this TypeScript's lib). */
type WaitAsync = (
  typed: Int32Array,
  index: number,
  value: number,
  timeoutMs?: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** Bytes of a doorbell buffer. */
export const DOORBELL_BYTES = 64;

const RING = 0;
const PROGRESS = 1;
const HALTED = 2;
const WRITER = 3;
const KEY = 4;
const KEY_INTS = 4;
const WRITTEN = 4; // BigInt64 index (byte 32)
const DURABLE = 5; // BigInt64 index (byte 40)

/** Resolves on the next event-loop turn. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A thread's handle on a doorbell buffer (see the file comment). */
export class Doorbell {
  /** The shared buffer (what a share carries). */
  readonly buffer: SharedArrayBuffer;
  readonly #ints: Int32Array;
  readonly #seqs: BigInt64Array;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#ints = new Int32Array(buffer, 0, 8);
    this.#seqs = new BigInt64Array(buffer, 0, 6);
  }

  /** A new doorbell with a fresh random key, its writer live. */
  static create(): Doorbell {
    const bell = new Doorbell(new SharedArrayBuffer(DOORBELL_BYTES));
    for (let index = 0; index < KEY_INTS; index += 1) bell.#ints[KEY + index] = randomInt(1, 2 ** 31 - 1);
    Atomics.store(bell.#ints, WRITER, 1);
    return bell;
  }

  /** The doorbell over a buffer received in a share (its key is checked by the caller). */
  static of(buffer: SharedArrayBuffer): Doorbell {
    return new Doorbell(buffer);
  }

  /** The bell's key as text (stored in the core's share info). */
  get key(): string {
    return Array.from(this.#ints.subarray(KEY, KEY + KEY_INTS), (value) => value.toString(16)).join('.');
  }

  /** Rings: wakes every thread waiting for a ring. */
  ring(): void {
    Atomics.add(this.#ints, RING, 1);
    Atomics.notify(this.#ints, RING);
  }

  /** The ring counter (pass it to `nextRing`). */
  get rings(): number {
    return Atomics.load(this.#ints, RING);
  }

  /**
   * Resolves at the next ring after `seen`; never keeps the process alive. When it already moved,
   * it resolves on the next event-loop turn (setImmediate), not at once: a thread woken by every
   * ring must still let its timers and I/O run (the log's group commit among them).
   */
  nextRing(seen: number): Promise<unknown> {
    const wait = waitAsync(this.#ints, RING, seen);
    return wait.async ? wait.value : nextTurn();
  }

  /** The progress counter (pass it to `nextProgress` / `waitProgress`). */
  get progress(): number {
    return Atomics.load(this.#ints, PROGRESS);
  }

  /** Resolves when progress moves after `seen`, or after `timeoutMs`. */
  nextProgress(seen: number, timeoutMs: number): Promise<'ok' | 'not-equal' | 'timed-out'> {
    const wait = waitAsync(this.#ints, PROGRESS, seen, timeoutMs);
    return wait.async ? wait.value : nextTurn().then(() => wait.value);
  }

  /** Blocks this thread until progress moves after `seen`, or `timeoutMs` (inside a synchronous call). */
  waitProgress(seen: number, timeoutMs: number): void {
    Atomics.wait(this.#ints, PROGRESS, seen, timeoutMs);
  }

  /** Blocks this thread until the next ring after `seen`, or `timeoutMs`. */
  waitRing(seen: number, timeoutMs: number): void {
    Atomics.wait(this.#ints, RING, seen, timeoutMs);
  }

  /** The writer: every seq up to `seq` is in its log. */
  publishWritten(seq: number): void {
    if (BigInt(seq) <= Atomics.load(this.#seqs, WRITTEN)) return;
    Atomics.store(this.#seqs, WRITTEN, BigInt(seq));
    this.#progressed();
  }

  /** The writer: every seq up to `seq` is durable. */
  publishDurable(seq: number): void {
    if (BigInt(seq) <= Atomics.load(this.#seqs, DURABLE)) return;
    Atomics.store(this.#seqs, DURABLE, BigInt(seq));
    this.#progressed();
  }

  /** The last seq the writer wrote. */
  get writtenSeq(): number {
    return Number(Atomics.load(this.#seqs, WRITTEN));
  }

  /** The last seq the writer made durable. */
  get durableSeq(): number {
    return Number(Atomics.load(this.#seqs, DURABLE));
  }

  /** Raises the halted flag and wakes everyone (a halt seen by any thread). */
  raiseHalt(): void {
    if (Atomics.exchange(this.#ints, HALTED, 1) === 1) return;
    this.ring();
    this.#progressed();
  }

  /** Whether some thread saw a halt. */
  get halted(): boolean {
    return Atomics.load(this.#ints, HALTED) !== 0;
  }

  /** The writer closed (or is gone): wakes everyone. */
  closeWriter(): void {
    Atomics.store(this.#ints, WRITER, 2);
    this.ring();
    this.#progressed();
  }

  /** Whether the writer said it closed. */
  get writerClosed(): boolean {
    return Atomics.load(this.#ints, WRITER) === 2;
  }

  #progressed(): void {
    Atomics.add(this.#ints, PROGRESS, 1);
    Atomics.notify(this.#ints, PROGRESS);
  }
}
