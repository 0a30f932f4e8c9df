/**
 * A sparse index from seq to byte offset in a durable attestation log: one entry per `strideRecords`
 * records (8 bytes each), so a log of 10^7 records needs ~80 KB of index and any record is found
 * by reading at most one block of `strideRecords` lines from the file.
 */

/** Records per index entry unless configured otherwise. */
export const DEFAULT_INDEX_STRIDE_RECORDS = 1024;

/** A block of consecutive records that starts at an indexed seq. */
export interface IndexedBlock {
  /** Seq of the block's first record. */
  readonly firstSeq: number;
  /** Byte offset of that record's line in the log file. */
  readonly offsetBytes: number;
}

/** seq -> byte offset, sampled every `strideRecords` seqs from `firstSeq` (see the file comment). */
export class SeqIndex {
  /** Seq of the first record in the file. */
  readonly firstSeq: number;
  /** Records per entry. */
  readonly strideRecords: number;
  private offsets = new Float64Array(64);
  private count = 0;

  constructor(firstSeq: number, strideRecords: number = DEFAULT_INDEX_STRIDE_RECORDS) {
    this.firstSeq = firstSeq;
    this.strideRecords = strideRecords;
  }

  /** Notes where record `seq` starts; records must be noted in seq order from `firstSeq`. */
  note(seq: number, offsetBytes: number): void {
    const relative = seq - this.firstSeq;
    if (relative % this.strideRecords !== 0) return;
    const block = relative / this.strideRecords;
    if (block !== this.count) return; // already noted (or out of order: ignored, never overwritten)
    if (this.count === this.offsets.length) {
      const grown = new Float64Array(this.offsets.length * 2);
      grown.set(this.offsets);
      this.offsets = grown;
    }
    this.offsets[this.count] = offsetBytes;
    this.count += 1;
  }

  /** The indexed block holding `seq`, or undefined when `seq` is before the file or not noted yet. */
  blockOf(seq: number): IndexedBlock | undefined {
    if (!Number.isInteger(seq) || seq < this.firstSeq) return undefined;
    const block = Math.floor((seq - this.firstSeq) / this.strideRecords);
    if (block >= this.count) return undefined;
    return { firstSeq: this.firstSeq + block * this.strideRecords, offsetBytes: this.offsets[block] ?? 0 };
  }

  /** Byte offset of the block after the one starting at `firstSeq`, or undefined when not noted. */
  nextBlockOffset(firstSeq: number): number | undefined {
    const block = (firstSeq - this.firstSeq) / this.strideRecords + 1;
    return block < this.count ? this.offsets[block] : undefined;
  }

  /** Entries held (one per stride). */
  get entries(): number {
    return this.count;
  }
}
