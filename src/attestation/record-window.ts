/**
 * The records an attestation store keeps in memory: a queue of consecutive seqs (oldest first)
 * with each record's log line length in bytes, so the store knows where each line starts in the
 * file and can drop the oldest once it is written.
 */
import type { Attestation } from './record.js';

/** Dropped slots before the queue's arrays are compacted (amortised O(1) per shift). */
const COMPACT_AFTER = 4096;

/** Consecutive records in memory (see the file comment). */
export class RecordWindow {
  private records: (Attestation | undefined)[] = [];
  private lengths: number[] = [];
  private head = 0;

  /** Seq of the oldest record held, or the seq the next push will have when empty. */
  firstSeq: number;

  constructor(firstSeq: number) {
    this.firstSeq = firstSeq;
  }

  /** Records held. */
  get size(): number {
    return this.records.length - this.head;
  }

  /** Appends the record with seq `firstSeq + size`, whose log line takes `lengthBytes` (0 without a log). */
  push(record: Attestation, lengthBytes: number): void {
    this.records.push(record);
    this.lengths.push(lengthBytes);
  }

  /** The record with this seq, if held. */
  at(seq: number): Attestation | undefined {
    const index = seq - this.firstSeq;
    return index >= 0 && index < this.size ? this.records[this.head + index] : undefined;
  }

  /** Line length in bytes of the oldest record (undefined when empty). */
  get oldestLengthBytes(): number | undefined {
    return this.size > 0 ? this.lengths[this.head] : undefined;
  }

  /** Drops the oldest record. */
  shift(): void {
    if (this.size === 0) return;
    this.records[this.head] = undefined;
    this.head += 1;
    this.firstSeq += 1;
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.records.length) {
      this.records = this.records.slice(this.head);
      this.lengths = this.lengths.slice(this.head);
      this.head = 0;
    }
  }
}
