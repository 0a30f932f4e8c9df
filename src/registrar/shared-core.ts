/**
 * The contract of a decision core that registrars on several threads share with one log writer
 * (native/core/registrar_core.h, "One log writer, many deciders"). `NativeCore` implements it;
 * the single-threaded `ReferenceCore` does not (a registrar on it cannot be shared).
 *
 * - The writer's core object claims the writer role (`claimWriter`) and reports what it has
 *   written (`setWritten` on its own requests, `noteWritten` after draining other threads'
 *   decisions). While a writer is live the core refuses, before deciding, a request that would
 *   reuse a journal or body slot the writer has not drained (`refused: 'backpressure'`), and after
 *   `closeWriter()` every request (`'writer_gone'`).
 * - Any other object that decides for a registrar posts each decision's attestation body
 *   (`postBodies()` once, then `postBody(seq, text)` after each decision); the writer takes them
 *   in seq order (`takeBodies`).
 * - `setShareInfo` stores, once, what attaching registrars need to know of the writer's log.
 */
import type { DecisionCore } from './core.js';

/** The writer of a shared core, as the core knows it. */
export interface WriterInfo {
  /** `'none'` (no writer ever claimed), `'live'`, or `'closed'` (its close fence is journaled). */
  readonly state: 'none' | 'live' | 'closed';
  /** The last seq the writer noted as drained. */
  readonly writtenSeq: number;
  /** Whether this object is the writer. */
  readonly isWriter: boolean;
}

/** A decision core shared across threads with one log writer (see the file comment). */
export interface SharedLogCore extends DecisionCore {
  /** The capability to attach another object (any thread of this process) to this core. */
  readonly shareToken: string;
  /** This object's process-unique decider id (stamped on its requests by the core's binding). */
  readonly decider: number;
  /** From now on this object's requests post their attestation bodies (an attached registrar). */
  postBodies(): void;
  /** Makes this object the core's one log writer, having written every seq up to `writtenSeq`;
   *  false when the core has or had another. */
  claimWriter(writtenSeq: number): boolean;
  /** The writer has written every seq up to `seq`; told to the core with this object's next
   *  decision (no call of its own). */
  setWritten(seq: number): void;
  /** Like setWritten, told to the core now (after draining other threads' decisions). */
  noteWritten(seq: number): void;
  /** The core's writer. */
  writerInfo(): WriterInfo;
  /** The writer's close fence (writer's object only): its seq, 0 when there is no live writer. */
  closeWriter(): number;
  /** Posts the body (JSON text) of a seq this object decided; false when the core refuses it
   *  (not this object's decision, already posted, or given up by the writer). */
  postBody(seq: number, text: string): boolean;
  /** Writer only: posted bodies from `fromSeq` on, in order (null: given up, write it from the
   *  journal), stopping at the first not posted yet; seqs up to `abandonUpTo` not posted yet
   *  are given up now. */
  takeBodies(fromSeq: number, count: number, abandonUpTo: number): (string | null)[];
  /** Stores the writer's share info, once; false when already stored. */
  setShareInfo(text: string): boolean;
  /** The writer's share info, or undefined before the writer stored it. */
  shareInfo(): string | undefined;
}

/** Whether a core can be shared across threads with one log writer. */
export function isSharedLogCore(core: DecisionCore): core is SharedLogCore {
  return typeof (core as Partial<SharedLogCore>).claimWriter === 'function' && typeof (core as Partial<SharedLogCore>).postBody === 'function';
}
