/**
 * The attestation store: every record in memory (append-only, indexed by seq, queryable,
 * exportable as JSON Lines) and, optionally, a durable log file the records are appended to.
 * The store seals records: it owns the SHA-256 chain (prevHash/hash) and its head.
 */
import { canonicalJson } from './canonical-json.js';
import { DurableLog, type DurableLogOptions, type TornTail } from './durable-log.js';
import { AttestationError } from './errors.js';
import { attestationQuerySchema, queryPredicate, type AttestationQuery } from './query.js';
import { findChainBreak, GENESIS_HASH, sealRecordWithLine, type Attestation, type AttestationBody } from './record.js';
import { parseInput } from '../validation.js';

/** Where a chain starts: after `seq` whose hash is `hash` (a snapshot's head), or at genesis. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** Options of an attestation store. */
export interface AttestationStoreOptions {
  /** A durable log the store appends to (see `AttestationStore.open`). */
  log?: DurableLog;
  /** Chain head to continue from (default genesis: seq 0, hash of zeros). */
  head?: ChainHead;
}

/** What `AttestationStore.open` found in an existing log. */
export interface OpenReport {
  /** Records already in the log. */
  records: number;
  /** A torn tail that was cut off (only with `repairTornTail`), or null. */
  tornTail: TornTail | null;
}

const settled = Promise.resolve();

/** Append-only attestation storage (see the file comment). Single-threaded. */
export class AttestationStore {
  private readonly records: Attestation[] = [];
  private readonly log: DurableLog | undefined;
  private readonly start: ChainHead;
  private headSeq: number;
  private headHash: string;

  constructor(options: AttestationStoreOptions = {}) {
    this.log = options.log;
    this.start = options.head ?? { seq: 0, hash: GENESIS_HASH };
    this.headSeq = this.start.seq;
    this.headHash = this.start.hash;
  }

  /**
   * Opens a durable store on a JSON Lines log, loading (and chain-checking) what it holds.
   * Throws ATTESTATION_TORN_TAIL / ATTESTATION_LOG_CORRUPT / ATTESTATION_CHAIN_BROKEN.
   */
  static open(path: string, options: DurableLogOptions & { head?: ChainHead } = {}): { store: AttestationStore; report: OpenReport } {
    const { log, records, tornTail } = DurableLog.open(path, options);
    const store = new AttestationStore({ log, ...(options.head ? { head: options.head } : {}) });
    try {
      store.adopt(records);
    } catch (error) {
      void log.close();
      throw error;
    }
    return { store, report: { records: records.length, tornTail } };
  }

  /** The last seq in the store (the chain head's seq). */
  get lastSeq(): number {
    return this.headSeq;
  }

  /** The hash of the last record (or the start hash when empty). */
  get lastHash(): string {
    return this.headHash;
  }

  /** Where this store's chain starts. */
  get chainStart(): ChainHead {
    return { ...this.start };
  }

  /** The durable log's mode, or null for a memory-only store. */
  get durability(): DurableLog['durability'] | null {
    return this.log?.durability ?? null;
  }

  /**
   * Seals a body after the head and appends it. `body.seq` must be `lastSeq + 1`. Returns the
   * frozen record and a promise that settles when it is durable (immediately for memory-only); a
   * rejection of that promise is already handled (failures reach `onFailure` listeners), so
   * callers may ignore it.
   */
  append(body: AttestationBody): { record: Attestation; durable: Promise<void> } {
    if (body.seq !== this.headSeq + 1) {
      throw new AttestationError('ATTESTATION_CHAIN_BROKEN', `append: seq ${body.seq} does not follow ${this.headSeq}`, { seq: body.seq });
    }
    const { record, line } = sealRecordWithLine(body, this.headHash);
    this.push(record);
    return { record, durable: this.log ? this.log.appendLine(line) : settled };
  }

  /** Takes already-sealed records (from a log) after checking they continue the chain. */
  adopt(records: readonly Attestation[]): void {
    let expectedSeq = this.headSeq + 1;
    for (const record of records) {
      if (record.seq !== expectedSeq) {
        throw new AttestationError('ATTESTATION_CHAIN_BROKEN', `seq ${record.seq} where ${expectedSeq} was expected (gap or reordering)`, { seq: record.seq });
      }
      expectedSeq += 1;
    }
    const broken = findChainBreak(records, this.headHash);
    if (broken) throw new AttestationError('ATTESTATION_CHAIN_BROKEN', broken.message, { seq: broken.seq });
    for (const record of records) this.push(record);
  }

  /** Calls `listener` if the durable log fails (the registrar halts on it). */
  onFailure(listener: (error: AttestationError) => void): () => void {
    return this.log ? this.log.onFailure(listener) : () => false;
  }

  /** Every record, in seq order (a frozen copy of the list). */
  all(): readonly Attestation[] {
    return Object.freeze([...this.records]);
  }

  /** How many records the store holds. */
  get size(): number {
    return this.records.length;
  }

  /** The record with this seq, if held. */
  bySeq(seq: number): Attestation | undefined {
    // Seqs are gap-free from the chain start (append and adopt enforce it), so seq is an index.
    return Number.isInteger(seq) && seq > this.start.seq ? this.records[seq - this.start.seq - 1] : undefined;
  }

  /** Records matching every given field of the query (actor, action, target, decision, since, until). */
  query(query: AttestationQuery = {}): readonly Attestation[] {
    const parsed = parseInput(attestationQuerySchema, query, 'query');
    return Object.freeze(this.records.filter(queryPredicate(parsed)));
  }

  /** All records as JSON Lines (canonical JSON, one record per line). */
  export(): string {
    return this.records.map((record) => `${canonicalJson(record)}\n`).join('');
  }

  /** Resolves when every record appended so far is durable. */
  flush(): Promise<void> {
    return this.log ? this.log.flush() : settled;
  }

  /** Flushes and closes the durable log; idempotent. */
  close(): Promise<void> {
    return this.log ? this.log.close() : settled;
  }

  private push(record: Attestation): void {
    this.records.push(record);
    this.headSeq = record.seq;
    this.headHash = record.hash;
  }
}
