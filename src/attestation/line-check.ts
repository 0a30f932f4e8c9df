/**
 * Checking the lines of a log for verification, without keeping records: each line is parsed,
 * checked against the record schema (record-check.ts, zod for the message) and its hash checked
 * (line-hash.ts), and what `verify` and `verifyLog` read of it is kept, column by column, in a
 * `LinesChecked` (plain JSON, so a worker thread can hand it over as one string:
 * line-check-pool.ts). The checks that follow the log in order (the chain, seqs, lineage) stay with
 * the reader's caller, which reads each record as a `RecordView`.
 *
 * A view says the same as the record it was read from: a line is checked exactly as the log
 * reader checks it (same verdicts, same messages), and the view's fields are the record's. Only
 * what varies is sent: flags for the booleans, a record's `prevHash` only where it is not the
 * previous line's hash, `metadata.compaction` only where there is one.
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
  /** Only the metadata verify reads: `observed` (when it is true) and `compaction`. */
  readonly metadata: { readonly observed?: true; readonly compaction?: JsonValue };
  readonly prevHash: string;
  readonly hash: string;
  /** The record's hash holds: over its line's bytes, or else over its canonical JSON. */
  readonly hashHolds: boolean;
  /** Bytes of its line, newline included. */
  readonly lengthBytes: number;
}

const ALLOWED = 1;
const ACCESSIBILITY = 2;
const OBSERVED = 4;
const HASH_HOLDS = 8;

/** The views of a run of lines (up to the first line that is not a record), column by column. */
export interface LinesChecked {
  readonly seq: number[];
  readonly id: string[];
  readonly target: (string | null)[];
  readonly action: (string | null)[];
  readonly parent: (string | null)[];
  readonly stateBefore: (string | null)[];
  readonly stateAfter: (string | null)[];
  readonly version: number[];
  /** ALLOWED | ACCESSIBILITY | OBSERVED | HASH_HOLDS. */
  readonly flags: number[];
  readonly lengthBytes: number[];
  /** Each record's hash, 64 characters each. */
  readonly hashes: string;
  /** `prevHash` by index, where it is not the previous line's hash (always for the first). */
  readonly prevHash: Record<string, string>;
  /** `metadata.compaction` by index, where there is one. */
  readonly compaction: Record<string, JsonValue>;
  /** What is wrong with the line after the last view (as the log reader words it), or null. */
  readonly failure: string | null;
}

/**
 * Checks the whole lines of `region` (each ending in a newline), stopping at the first line that
 * is not a valid record (its problem is `failure`).
 */
export function checkLines(region: Buffer, hashing: LineHashing): LinesChecked {
  const checked = {
    seq: [] as number[],
    id: [] as string[],
    target: [] as (string | null)[],
    action: [] as (string | null)[],
    parent: [] as (string | null)[],
    stateBefore: [] as (string | null)[],
    stateAfter: [] as (string | null)[],
    version: [] as number[],
    flags: [] as number[],
    lengthBytes: [] as number[],
    hashes: '',
    prevHash: {} as Record<string, string>,
    compaction: {} as Record<string, JsonValue>,
    failure: null as string | null,
  };
  let previousHash: string | null = null;
  for (let from = 0, newline = region.indexOf(0x0a); newline !== -1; from = newline + 1, newline = region.indexOf(0x0a, from)) {
    let value: unknown;
    try {
      value = JSON.parse(region.toString('utf8', from, newline));
    } catch {
      checked.failure = 'is not JSON';
      break;
    }
    let record: Attestation;
    if (isAttestationShape(value)) {
      record = value as Attestation; // only read here, never handed out: no need to freeze it
    } else {
      const parsed = parseRecord(value);
      if ('problem' in parsed) {
        checked.failure = `is not a valid record: ${parsed.problem}`;
        break;
      }
      record = parsed.record;
    }
    const holds = (hashing === 'line' && lineDigest(region, from, newline) === record.hash) || validRecordHash(record) === record.hash;
    const index = checked.seq.length;
    const { observed, compaction } = record.metadata;
    checked.seq.push(record.seq);
    checked.id.push(record.id);
    checked.target.push(record.target);
    checked.action.push(record.action);
    checked.parent.push(record.parent);
    checked.stateBefore.push(record.stateBefore);
    checked.stateAfter.push(record.stateAfter);
    checked.version.push(record.version);
    checked.flags.push((record.decision === 'allowed' ? ALLOWED : 0) | (record.accessibility ? ACCESSIBILITY : 0) | (observed === true ? OBSERVED : 0) | (holds ? HASH_HOLDS : 0));
    checked.lengthBytes.push(newline + 1 - from);
    checked.hashes += record.hash;
    if (record.prevHash !== previousHash) checked.prevHash[index] = record.prevHash;
    if (compaction !== undefined) checked.compaction[index] = compaction;
    previousHash = record.hash;
  }
  return checked;
}

const NO_METADATA: RecordView['metadata'] = Object.freeze({});
const OBSERVED_METADATA: RecordView['metadata'] = Object.freeze({ observed: true });

/** Reads the records of a `LinesChecked` as views, in order. */
export class RecordViews {
  readonly #checked: LinesChecked;

  constructor(checked: LinesChecked) {
    this.#checked = checked;
  }

  /** How many records there are. */
  get count(): number {
    return this.#checked.seq.length;
  }

  /** The view of the record at `index`. */
  at(index: number): RecordView {
    const checked = this.#checked;
    const flags = checked.flags[index] as number;
    const compaction = checked.compaction[index];
    return {
      seq: checked.seq[index] as number,
      id: checked.id[index] as string,
      target: checked.target[index] ?? null,
      action: checked.action[index] ?? null,
      decision: (flags & ALLOWED) !== 0 ? 'allowed' : 'denied',
      accessibility: (flags & ACCESSIBILITY) !== 0,
      parent: checked.parent[index] ?? null,
      stateBefore: checked.stateBefore[index] ?? null,
      stateAfter: checked.stateAfter[index] ?? null,
      version: checked.version[index] as number,
      metadata: compaction !== undefined ? { ...((flags & OBSERVED) !== 0 ? { observed: true } : {}), compaction } : (flags & OBSERVED) !== 0 ? OBSERVED_METADATA : NO_METADATA,
      prevHash: checked.prevHash[index] ?? checked.hashes.slice(64 * index - 64, 64 * index), // the previous line's hash
      hash: checked.hashes.slice(64 * index, 64 * index + 64),
      hashHolds: (flags & HASH_HOLDS) !== 0,
      lengthBytes: checked.lengthBytes[index] as number,
    };
  }
}
