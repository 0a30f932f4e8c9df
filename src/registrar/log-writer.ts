/**
 * The log writer's side of a shared registrar (registrar.ts `share()`): the registrar that owns
 * the store drains other threads' decisions (with the bodies they posted) into its log promptly,
 * waking on the doorbell (`Atomics.waitAsync`: no polling, and a pending wait never keeps the
 * process alive), and publishes on the doorbell how far its log is written and durable, which
 * attached registrars settle their results' `durable` with.
 *
 * Draining also happens synchronously on the writer's own requests, `syncJournal()`, `flush()` and
 * `close()` (registrar.ts); here it runs in slices between other work of the writer's thread.
 */
import type { Doorbell } from './doorbell.js';
import type { DrainResult } from './journal-sync.js';

/** Seqs drained per slice at most before the writer's thread gets a turn for other work. */
const SLICE_SEQS = 4096;
/**
 * A slice also ends once it has run this long: a loaded writer thread (say, the thread that feeds
 * an audio device while other threads decide as fast as they can) keeps turns of a few ms, never a
 * slice of seconds. Seqs are drained in batches of BATCH_SEQS between two looks at the clock.
 */
const SLICE_BUDGET_MS = 4;
const BATCH_SEQS = 32;

/** What the writer drains with: its registrar's non-blocking drain (see registrar.ts). */
export type SliceDrain = (sliceSeqs: number, abandonUpTo: number) => DrainResult & { more: boolean };

/** The writer's doorbell loop and progress publishing (see the file comment). One per registrar. */
export class LogWriter {
  readonly #bell: Doorbell;
  readonly #drain: SliceDrain;
  readonly #stallMs: number;
  #running = false;
  #stopped = false;
  /** The seq the last drain stopped at, waiting for its body, and since when (ms). */
  #waitingFor: number | null = null;
  #waitingSince = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;
  /** The highest seq whose durability is being watched. */
  #watchedDurable = 0;
  /**
   * Inside a slice of the doorbell loop's drain (at most SLICE_SEQS seqs or SLICE_BUDGET_MS):
   * records appended meanwhile are published when the slice ends, one wake of the waiting threads
   * per slice, not one per record: with eight threads held back by a full journal, waking them all
   * for each record cost the writer a fifth of its time and every thread a context switch per
   * record (8 workers x 20,000 requests: 20 s and 37 s of CPU before, 14.2 s and 25 s now).
   */
  #batching = false;
  #pendingWritten = 0;
  #pendingDurable = 0;

  /** @param stallMs how long a missing body is waited for before it is given up */
  constructor(bell: Doorbell, drain: SliceDrain, stallMs: number) {
    this.#bell = bell;
    this.#drain = drain;
    this.#stallMs = stallMs;
  }

  /** Starts waking on the doorbell (idempotent). */
  start(): void {
    if (this.#running || this.#stopped) return;
    this.#running = true;
    void this.#loop();
  }

  /** A record the writer appended: published as written now, as durable when `durable` settles. */
  appended(seq: number, durable: Promise<void>, settled: boolean): void {
    if (this.#batching) {
      this.#pendingWritten = seq;
      if (settled) this.#pendingDurable = seq;
    } else {
      this.#bell.publishWritten(seq);
      if (settled) this.#bell.publishDurable(seq);
    }
    if (settled) return;
    if (seq <= this.#watchedDurable) return;
    this.#watchedDurable = seq;
    // Durability comes in seq order, so the latest record's covers every earlier one.
    durable.then(
      () => this.#bell.publishDurable(seq),
      () => undefined, // a failed log halts the registrar (onFailure), which the bell says
    );
  }

  /** Rings the bell for the writer's own decisions (attached threads' listeners read them). */
  ring(): void {
    this.#bell.ring();
  }

  /** Stops the loop (close); the doorbell says the writer closed. */
  stop(): void {
    this.#stopped = true;
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    this.#retry = undefined;
    this.#bell.closeWriter(); // also wakes this thread's own pending wait, which then ends
  }

  /** Ends a slice: publishes how far it wrote (and, for records durable on return, made durable). */
  #publishBatch(): void {
    this.#batching = false;
    if (this.#pendingWritten > 0) this.#bell.publishWritten(this.#pendingWritten);
    if (this.#pendingDurable > 0) this.#bell.publishDurable(this.#pendingDurable);
    this.#pendingWritten = 0;
    this.#pendingDurable = 0;
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      const seen = this.#bell.rings;
      this.#drainSlices();
      if (this.#stopped) break;
      await this.#bell.nextRing(seen);
    }
    this.#running = false;
  }

  /** Drains what is ready now, slice by slice, yielding the thread between slices. */
  #drainSlices(): void {
    if (this.#stopped) return;
    const abandonUpTo = this.#waitingFor !== null && Date.now() - this.#waitingSince > this.#stallMs ? this.#waitingFor : 0;
    let result: ReturnType<SliceDrain>;
    try {
      const deadline = performance.now() + SLICE_BUDGET_MS;
      let drained = 0;
      this.#batching = true;
      do {
        result = this.#drain(BATCH_SEQS, abandonUpTo);
        drained += BATCH_SEQS;
      } while (result.more && drained < SLICE_SEQS && performance.now() < deadline);
    } catch {
      return; // the registrar halted (journal overrun, a seq never completed): its listeners were told
    } finally {
      this.#publishBatch();
    }
    if (result.waitingFor !== null && result.waitingFor !== this.#waitingFor) {
      this.#waitingFor = result.waitingFor;
      this.#waitingSince = Date.now();
    } else if (result.waitingFor === null) {
      this.#waitingFor = null;
    }
    if (result.more) {
      setImmediate(() => this.#drainSlices());
    } else if (this.#waitingFor !== null && this.#retry === undefined) {
      // A body not posted yet: its poster rings when it posts; this timer only gives it up if the
      // poster never comes (a thread that died between deciding and posting).
      this.#retry = setTimeout(() => {
        this.#retry = undefined;
        this.#drainSlices();
      }, this.#stallMs + 1);
      this.#retry.unref();
    }
  }
}
