/**
 * The link of an attached registrar (one that decides on another thread's registrar, see
 * registrar.ts `AudioRegistrar.attach`) to the log writer: it posts each decision's attestation
 * body into the core's body channel and rings the doorbell, waits (bounded) while the core refuses
 * to decide because the writer is too far behind, and settles each result's `durable` when the
 * writer has made that seq durable.
 *
 * Results of an attached registrar carry the record exactly as the writer logs it except
 * `prevHash` and `hash`, which only the writer computes (they are empty strings here).
 */
import type { JsonObject } from '../attestation/canonical-json.js';
import { deepFreeze } from '../attestation/canonical-json.js';
import type { Attestation, AttestationBody } from '../attestation/record.js';
import { RegistrarHaltedError, RegistrarShareError } from './errors.js';
import type { Doorbell } from './doorbell.js';
import type { SharedLogCore } from './shared-core.js';

/** How long a durable wait sleeps before it checks that the writer still exists (ms). */
const LIVENESS_CHECK_MS = 250;

const NO_VIOLATIONS: Attestation['violations'] = Object.freeze([]);

/** A result's record on an attached registrar: the logged record without its chain fields. */
export function unsealedRecord(body: AttestationBody): Attestation {
  // A fixed-shape literal of the body's own (fresh) parts, frozen: what sealRecord does, minus the hash.
  return Object.freeze({
    v: body.v,
    seq: body.seq,
    id: body.id,
    timestamp: Object.freeze(body.timestamp),
    actor: body.actor === null ? null : Object.freeze(body.actor),
    action: body.action,
    target: body.target,
    decision: body.decision,
    reason: body.reason,
    message: body.message,
    invariants: Object.isFrozen(body.invariants) ? body.invariants : Object.freeze([...body.invariants]),
    violations: body.violations.length === 0 ? NO_VIOLATIONS : Object.freeze(body.violations.map((violation) => Object.freeze(violation))),
    accessibility: body.accessibility,
    parent: body.parent,
    stateBefore: body.stateBefore,
    stateAfter: body.stateAfter,
    version: body.version,
    parameters: deepFreeze(body.parameters as JsonObject),
    metadata: deepFreeze(body.metadata as JsonObject),
    prevHash: '',
    hash: '',
  });
}

interface DurableWaiter {
  seq: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

const SETTLED: Promise<void> = Promise.resolve();

/** An attached registrar's side of the shared log (see the file comment). One per registrar. */
export class AttachedLink {
  readonly #core: SharedLogCore;
  readonly #bell: Doorbell;
  readonly #stallMs: number;
  readonly #waiters: DurableWaiter[] = [];
  #watching = false;
  /** Keeps the thread alive while a result's `durable` is pending (a wait on the bell does not). */
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  /** @param stallMs how long to wait for a writer that is too far behind before giving up */
  constructor(core: SharedLogCore, bell: Doorbell, stallMs: number) {
    this.#core = core;
    this.#bell = bell;
    this.#stallMs = stallMs;
  }

  /** Posts a decided seq's body for the writer and rings; returns the result's record and `durable`. */
  post(body: AttestationBody): { record: Attestation; durable: Promise<void> } {
    const posted = this.#core.postBody(body.seq, JSON.stringify(body));
    this.#bell.ring();
    const record = unsealedRecord(body);
    if (!posted) {
      // Only when the writer already gave this seq up (this thread stalled longer than its
      // journalStallMs between deciding and posting): it logged the decision from the journal.
      return { record, durable: handled(Promise.reject(new RegistrarShareError('REGISTRAR_WRITER_STALLED', `seq ${body.seq}: the log writer wrote this decision from the journal before its body came; the logged record has the decision but not this text`))) };
    }
    return { record, durable: this.durableAfter(body.seq) };
  }

  /**
   * Settles when the writer has made `seq` durable; rejects when it halts or closes first. Results
   * settle in seq order: when `seq` is durable already, the waiters it covers (earlier seqs the
   * watcher has not looked at since) are settled first.
   */
  durableAfter(seq: number): Promise<void> {
    if (this.#bell.durableSeq >= seq) {
      if (this.#waiters.length > 0) this.#settle();
      return SETTLED;
    }
    const promise = new Promise<void>((resolve, reject) => this.#waiters.push({ seq, resolve, reject }));
    this.#watch();
    return handled(promise);
  }

  /**
   * The core refused to decide because the writer is `backpressure`d or gone: waits (this thread
   * blocks, bounded) until the writer has written more, from `sinceMs` on. Throws
   * REGISTRAR_WRITER_GONE when it closed, REGISTRAR_WRITER_STALLED past the deadline; either
   * way before anything is decided.
   */
  waitForWriter(refusal: 'backpressure' | 'writer_gone', sinceMs: number): void {
    if (refusal === 'writer_gone' || this.#bell.writerClosed) {
      throw new RegistrarShareError('REGISTRAR_WRITER_GONE', 'the registrar\'s log writer closed: nothing more can be decided (nothing was decided for this request)');
    }
    const waitedMs = Date.now() - sinceMs;
    if (waitedMs > this.#stallMs) {
      throw new RegistrarShareError(
        'REGISTRAR_WRITER_STALLED',
        `the log writer stayed a journal length behind for ${waitedMs} ms (journalStallMs ${this.#stallMs}): nothing was decided; its thread is blocked or gone`,
      );
    }
    this.#bell.waitProgress(this.#bell.progress, Math.min(10, this.#stallMs - waitedMs + 1));
  }

  /** Stops waiting; pending `durable` promises settle as the writer goes on (or reject if it closes). */
  close(): void {
    this.#closed = true;
    if (this.#waiters.length === 0) this.#release();
  }

  #watch(): void {
    if (this.#watching) return;
    this.#watching = true;
    this.#keepAlive ??= setInterval(() => undefined, 2 ** 30);
    void this.#loop();
  }

  async #loop(): Promise<void> {
    try {
      while (this.#waiters.length > 0) {
        const seen = this.#bell.progress;
        if (this.#settle()) continue;
        const woken = await this.#bell.nextProgress(seen, LIVENESS_CHECK_MS);
        if (woken === 'timed-out' && this.#core.writerInfo().state === 'closed') this.#rejectAll(this.#gone());
      }
    } catch (error) {
      this.#rejectAll(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.#watching = false;
      this.#release();
    }
  }

  /** Settles what it can; true when it settled or rejected any. */
  #settle(): boolean {
    const durable = this.#bell.durableSeq;
    let settled = 0;
    while (settled < this.#waiters.length && (this.#waiters[settled] as DurableWaiter).seq <= durable) settled += 1;
    for (const waiter of this.#waiters.splice(0, settled)) waiter.resolve();
    if (this.#waiters.length === 0) return settled > 0;
    if (this.#bell.halted) {
      this.#rejectAll(new RegistrarHaltedError('the registrar halted before this decision was made durable'));
      return true;
    }
    if (this.#bell.writerClosed) {
      this.#rejectAll(this.#gone());
      return true;
    }
    return settled > 0;
  }

  #gone(): Error {
    return new RegistrarShareError('REGISTRAR_WRITER_GONE', 'the registrar\'s log writer closed before this decision was made durable');
  }

  #rejectAll(error: Error): void {
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }

  #release(): void {
    if (this.#waiters.length > 0 && !this.#closed) return;
    if (this.#keepAlive !== undefined) clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
  }
}

/** `promise`, with its rejection marked handled (callers may ignore `durable`). */
function handled(promise: Promise<void>): Promise<void> {
  promise.catch(() => undefined);
  return promise;
}
