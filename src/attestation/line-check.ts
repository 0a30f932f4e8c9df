/**
 * Checking the lines of a log for verification, without keeping records: each line is parsed,
 * checked against the record schema (record-check.ts, zod for the message) and its hash checked
 * (line-hash.ts), and what `verify` and `verifyLog` read of it is kept as a small `RecordView`.
 * This is the work a verification can do on many threads at once (line-check-pool.ts); the
 * checks that follow the log in order (the chain, seqs, lineage) stay with the reader's caller.
 *
 * A view says the same as the record it was read from: a line is checked exactly as the log
 * reader checks it (same verdicts, same messages), and the view's fields are the record's.
 */
import type { JsonValue } from './canonical-json.js';
import { lineDigest, type LineHashing } from './line-hash.js';
import { isAttestationShape } from './record-check.js';
import { parseRecord, validRecordHash, type Attestation } from './record.js';

/** What verify's checks read of a record: the record's own fields, its hash verdict and its line's length. */
export interface RecordView {
  readonly seq: number;
  readonly id: string;
  readonly target: string | null;
  readonly action: string | null;
  readonly decision: 'allowed' | 'denied';
  readonly accessibility: boolean;
  readonly parent: string | null;
  readonly stateBefore: string | null;
  readonly stateAfter: string | null;
  readonly version: number;
  /** Only the metadata verify reads (absent keys stay absent). */
  readonly metadata: { readonly observed?: JsonValue; readonly compaction?: JsonValue };
  readonly prevHash: string;
  readonly hash: string;
  /** The record's hash holds: over its line's bytes, or else over its canonical JSON. */
  readonly hashHolds: boolean;
  /** Bytes of its line, newline included. */
  readonly lengthBytes: number;
}

/** The views of a run of lines, up to the first line that is not a record. */
export interface LinesChecked {
  readonly views: RecordView[];
  /** What is wrong with the line after the last view (as the log reader words it), or null. */
  readonly failure: string | null;
}

/** The view of a record read from a line. */
export function viewOf(record: Attestation, hashHolds: boolean, lengthBytes: number): RecordView {
  const { observed, compaction } = record.metadata;
  return {
    seq: record.seq,
    id: record.id,
    target: record.target,
    action: record.action,
    decision: record.decision,
    accessibility: record.accessibility,
    parent: record.parent,
    stateBefore: record.stateBefore,
    stateAfter: record.stateAfter,
    version: record.version,
    metadata: observed === undefined && compaction === undefined ? {} : { observed, compaction },
    prevHash: record.prevHash,
    hash: record.hash,
    hashHolds,
    lengthBytes,
  };
}

/**
 * Checks the whole lines of `region` (each ending in a newline) and returns their views, stopping
 * at the first line that is not a valid record (its problem is `failure`).
 */
export function checkLines(region: Buffer, hashing: LineHashing): LinesChecked {
  const views: RecordView[] = [];
  for (let from = 0, newline = region.indexOf(0x0a); newline !== -1; from = newline + 1, newline = region.indexOf(0x0a, from)) {
    let value: unknown;
    try {
      value = JSON.parse(region.toString('utf8', from, newline));
    } catch {
      return { views, failure: 'is not JSON' };
    }
    let record: Attestation;
    if (isAttestationShape(value)) {
      record = value as Attestation; // only read here, never handed out: no need to freeze it
    } else {
      const parsed = parseRecord(value);
      if ('problem' in parsed) return { views, failure: `is not a valid record: ${parsed.problem}` };
      record = parsed.record;
    }
    const holds = (hashing === 'line' && lineDigest(region, from, newline) === record.hash) || validRecordHash(record) === record.hash;
    views.push(viewOf(record, holds, newline + 1 - from));
  }
  return { views, failure: null };
}
