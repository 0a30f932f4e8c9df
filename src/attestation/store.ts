/**
 * The attestation store: append-only records, indexed by seq, queryable, exportable as JSON Lines,
 * and optionally appended to a durable log file. The store seals records: it owns the SHA-256
 * chain (prevHash/hash) and its head.
 *
 * What it keeps in memory:
 * - with a durable log: a bounded window of the most recent records (`memoryRecords`, default
 *   10,000), plus any record not yet written to the file (a burst between group commits), and a
 *   sparse seq -> byte offset index (one entry per 1,024 records, seq-index.ts). `bySeq`, `query`,
 *   `records`, `all` and `export` read older records back from the file (one block of at most
 *   1,024 lines per read, the last block decoded kept for sequential reads). Opening a log scans
 *   it in chunks and keeps only the window, so a long log is never held whole.
 * - without a log (a memory store): every record, since nothing else holds them; use a durable
 *   store for a long-running process. `retain: 'window'` makes a memory store keep only its
 *   window and forget older records (a registrar rebuilt from a long log only to be checked).
 * A segmented log (`segmentBytes`, durable-log.ts) is addressed as one byte sequence, its
 * segments end to end, so the index and the reads back work across segments unchanged.
 *
 * Sealing off the caller's path (memory stores): `stage()` (the registrar's append) keeps a record
 * unsealed (no `prevHash`/`hash` yet, not frozen) and seals the staged records in one batch, in seq
 * order: when the current synchronous run ends (a microtask), when STAGE_BATCH records wait, or
 * before anything reads the store (every read, `lastHash`, `append`, `adopt`, `seal()`), so no
 * caller ever sees an unsealed record. A durable store seals in `stage()` at once (its line goes
 * to the log); in `fsync` mode the record's text is hashed, written and synced in one native call
 * (durable-log.ts `appendSealed`) and the record is built from the hash it returns.
 *
 * With `signing` (open only), a CheckpointWriter signs checkpoints of the chain into the sidecar
 * `<log>.checkpoints` (checkpoint-writer.ts); the store tells it each record it appends.
 */
import { z } from 'zod';
import { canonicalJson } from './canonical-json.js';
import { CheckpointWriter } from './checkpoint-writer.js';
import { loadSigning, type SigningOptions } from './signing-options.js';
import { DurableLog, type DurableLogOptions, type TornTail } from './durable-log.js';
import { AttestationError } from './errors.js';
import { attestationQuerySchema, queryPredicate, type AttestationQuery } from './query.js';
import { noteHashHolds, recordHashHolds } from './line-hash.js';
import { GENESIS_HASH, parseOwnedRecord, recordHash, sealedRecord, sealRecordWithLine, sealStaged, stageRecord, validRecordHash, type Attestation, type AttestationBody } from './record.js';
import { extensionTexts, recordText, type ExtensionTexts } from './record-text.js';
import { RecordWindow } from './record-window.js';
import { DEFAULT_INDEX_STRIDE_RECORDS, SeqIndex } from './seq-index.js';
import { signPayload, snapshotSignaturePayload } from './signing.js';
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
  /** With a log: how many recent records stay in memory (default 10,000); older ones are read
   *  back from the log. Without a log only with `retain: 'window'`. */
  memoryRecords?: number;
  /**
   * A memory store (no log): `'all'` (default) keeps every record, since nothing else holds them;
   * `'window'` keeps only the last `memoryRecords` (default 10,000) and forgets older ones
   * (`bySeq` and `records()` no longer reach them), for a registrar rebuilt only to be inspected,
   * such as replaying a long log to check it. Not allowed with a log (it keeps a window anyway).
   */
  retain?: 'all' | 'window';
}

/** Options of `AttestationStore.open`. */
export type OpenStoreOptions = DurableLogOptions & { head?: ChainHead; memoryRecords?: number; signing?: SigningOptions };

/** What `AttestationStore.open` found in an existing log. */
export interface OpenReport {
  /** Records already in the log. */
  records: number;
  /** A torn tail that was cut off (only with `repairTornTail`), or null. */
  tornTail: TornTail | null;
}

/** Records kept in memory by a durable store unless configured otherwise. */
export const DEFAULT_MEMORY_RECORDS = 10_000;

const memoryRecordsSchema = z.number().int().min(1).max(2 ** 31).optional();
const chainHeadSchema = z.strictObject({ seq: z.number().int().nonnegative(), hash: z.string().regex(/^[0-9a-f]{64}$/) });
const storeOptionsSchema = z
  .strictObject({
    log: z.custom<DurableLog>((value) => value instanceof DurableLog, 'expected a DurableLog').optional(),
    head: chainHeadSchema.optional(),
    memoryRecords: memoryRecordsSchema,
    retain: z.enum(['all', 'window']).optional(),
  })
  .refine((options) => options.memoryRecords === undefined || options.log !== undefined || options.retain === 'window', {
    path: ['memoryRecords'],
    message: "memoryRecords needs a durable log, or retain: 'window' (a memory store keeps every record)",
  })
  .refine((options) => options.retain === undefined || options.log === undefined, {
    path: ['retain'],
    message: 'retain is for memory stores (a durable store keeps a window and reads the rest back from its log)',
  });

const settled = Promise.resolve();

/** Staged records sealed at once when this many wait (a long synchronous run seals in batches). */
export const STAGE_BATCH = 1024;

/** A block of the log decoded from the file (see readBlock). */
interface DecodedBlock {
  firstSeq: number;
  text: string;
  /** Character offset of each line in `text`, plus the end. */
  lineStarts: number[];
  records: (Attestation | undefined)[];
}

/** Append-only attestation storage (see the file comment). Single-threaded. */
export class AttestationStore {
  /** TypeScript-private, not #private: fault-injection tests close its descriptor to plant a write failure. */
  private readonly log: DurableLog | undefined;
  readonly #start: ChainHead;
  readonly #memoryRecords: number;
  /** A memory store that keeps only its window (`retain: 'window'`). */
  readonly #forgets: boolean;
  readonly #window: RecordWindow;
  #index: SeqIndex | null;
  /** Byte offset in the log of the window's first record, and of the next record appended. */
  #windowStartBytes = 0;
  #endBytes = 0;
  /** The last two blocks decoded (a replay reads sequentially and looks parents up a block back). */
  #block: DecodedBlock | null = null;
  #previousBlock: DecodedBlock | null = null;
  #headSeq: number;
  #headHash: string;
  /** The registrar that took this store: from then on only it appends or adopts records. */
  #writer: object | null = null;
  /** Signs checkpoints into the sidecar (open with `signing`), or null. */
  #checkpoints: CheckpointWriter | null = null;
  /** Records staged but not sealed yet (memory store, `stage()`): the first `#stagedCount`, oldest first, and their extension texts (slots reused batch after batch). */
  readonly #staged: Attestation[] = [];
  readonly #stagedTexts: ExtensionTexts[] = [];
  #stagedCount = 0;
  /** A microtask that seals the staged records is queued. */
  #sealQueued = false;
  readonly #sealLater = (): void => {
    this.#sealQueued = false;
    this.seal();
  };

  /** Throws InputError (naming the field) for bad options. */
  constructor(options: AttestationStoreOptions = {}) {
    const parsed = parseInput(storeOptionsSchema, options, 'AttestationStoreOptions');
    this.log = parsed.log;
    this.#start = parsed.head ?? { seq: 0, hash: GENESIS_HASH };
    this.#memoryRecords = this.log || parsed.retain === 'window' ? (parsed.memoryRecords ?? DEFAULT_MEMORY_RECORDS) : Number.POSITIVE_INFINITY;
    this.#forgets = !this.log && parsed.retain === 'window';
    this.#window = new RecordWindow(this.#start.seq + 1);
    this.#index = this.log ? new SeqIndex(this.#start.seq + 1, DEFAULT_INDEX_STRIDE_RECORDS) : null;
    this.#headSeq = this.#start.seq;
    this.#headHash = this.#start.hash;
    if (this.log) this.#endBytes = this.#windowStartBytes = this.log.writtenBytes;
  }

  /**
   * Opens a durable store on a JSON Lines log, checking its chain while it scans it and keeping the
   * last `memoryRecords` in memory. Throws ATTESTATION_TORN_TAIL / ATTESTATION_LOG_CORRUPT /
   * ATTESTATION_CHAIN_BROKEN, InputError for bad options. With `signing`, also signs checkpoints
   * (checkpoint-writer.ts: ATTESTATION_CHECKPOINT_* when the sidecar does not match the log,
   * ATTESTATION_KEY_PERMISSIONS for a key file others may read).
   */
  static open(path: string, options: OpenStoreOptions = {}): { store: AttestationStore; report: OpenReport } {
    const { head, memoryRecords, signing: signingOptions, ...logOptions } = options;
    const signing = signingOptions === undefined ? null : loadSigning(signingOptions, 'options.signing');
    parseInput(memoryRecordsSchema, memoryRecords, 'options.memoryRecords');
    const start = parseInput(chainHeadSchema.optional(), head, 'options.head') ?? { seq: 0, hash: GENESIS_HASH };
    const loaded: { record: Attestation; offsetBytes: number; lengthBytes: number }[] = [];
    let expectedSeq = start.seq + 1;
    let previousHash = start.hash;
    const keep = memoryRecords ?? DEFAULT_MEMORY_RECORDS;
    const index = new SeqIndex(start.seq + 1, DEFAULT_INDEX_STRIDE_RECORDS);
    const { log, records, tornTail } = DurableLog.openScanning(path, logOptions, (record, offsetBytes, lengthBytes) => {
      // The chain is checked as the log streams by (gap-free seqs, prevHash links, hashes).
      if (record.seq !== expectedSeq) {
        throw new AttestationError('ATTESTATION_CHAIN_BROKEN', `seq ${record.seq} where ${expectedSeq} was expected (gap or reordering)`, { seq: record.seq, path });
      }
      if (record.prevHash !== previousHash) {
        throw new AttestationError('ATTESTATION_CHAIN_BROKEN', `seq ${record.seq}: prevHash does not link to the previous record (reordered, removed or inserted records)`, { seq: record.seq, path });
      }
      if (!recordHashHolds(record)) {
        throw new AttestationError('ATTESTATION_CHAIN_BROKEN', `seq ${record.seq}: hash does not match the record's content (tampered)`, { seq: record.seq, path });
      }
      expectedSeq += 1;
      previousHash = record.hash;
      index.note(record.seq, offsetBytes);
      loaded.push({ record, offsetBytes, lengthBytes });
      if (loaded.length > 2 * keep) loaded.splice(0, loaded.length - keep);
    }, start);
    const kept = loaded.slice(Math.max(0, loaded.length - keep));
    const store = new AttestationStore({ log, head: start, ...(memoryRecords !== undefined ? { memoryRecords } : {}) });
    store.#loadScanned(index, kept, expectedSeq - 1, previousHash);
    if (signing) {
      try {
        store.#checkpoints = CheckpointWriter.open(signing, {
          path,
          chainStartSeq: start.seq,
          headSeq: store.#headSeq,
          headHash: store.#headHash,
          hashAt: (seq) => store.bySeq(seq)?.hash,
          records: (fromSeq) => store.records(fromSeq),
          flush: () => log.flush(),
          fail: (error) => log.reportFailure(error),
          onFailure: (listener) => void log.onFailure(listener),
        });
      } catch (error) {
        void log.close();
        throw error;
      }
    }
    return { store, report: { records, tornTail } };
  }

  /** The last seq in the store (the chain head's seq). */
  get lastSeq(): number {
    return this.#headSeq;
  }

  /** The hash of the last record (or the start hash when empty). */
  get lastHash(): string {
    if (this.#stagedCount > 0) this.seal();
    return this.#headHash;
  }

  /** Where this store's chain starts. */
  get chainStart(): ChainHead {
    return { ...this.#start };
  }

  /** The durable log's mode, or null for a memory-only store. */
  get durability(): DurableLog['durability'] | null {
    return this.log?.durability ?? null;
  }

  /**
   * The last seq known to be on disk (written and fdatasync'ed): the head at once in `fsync` mode,
   * the last committed batch's in `group` mode; the chain start's for a memory store (nothing is).
   */
  get durableSeq(): number {
    return this.log ? Math.max(this.#start.seq, this.log.durableSeq) : this.#start.seq;
  }

  /**
   * Makes `writer` (a registrar's private token) the only one that may append or adopt records
   * from now on: a registrar takes its store, and nobody holding `registrar.attestationStore` can
   * write into its log. Throws ATTESTATION_STORE_IN_USE when another writer took it. @internal
   */
  claimWriter(writer: object): void {
    if (this.#writer !== null && this.#writer !== writer) {
      throw new AttestationError('ATTESTATION_STORE_IN_USE', 'this attestation store already belongs to a registrar: give each registrar its own store');
    }
    this.#writer = writer;
  }

  #checkWriter(writer: object | undefined, operation: string): void {
    if (this.#writer !== null && writer !== this.#writer) {
      throw new AttestationError('ATTESTATION_STORE_SEALED', `${operation}: this store belongs to a registrar; only its decisions are recorded here`);
    }
  }

  /**
   * Seals a body after the head and appends it. `body.seq` must be `lastSeq + 1`. Returns the
   * frozen record and a promise that settles when it is durable (immediately for memory-only); a
   * rejection of that promise is already handled (failures reach `onFailure` listeners), so
   * callers may ignore it.
   */
  append(body: AttestationBody, writer?: object): { record: Attestation; durable: Promise<void> } {
    this.#checkWriter(writer, 'append');
    if (this.#stagedCount > 0) this.seal();
    if (body.seq !== this.#headSeq + 1) {
      throw new AttestationError('ATTESTATION_CHAIN_BROKEN', `append: seq ${body.seq} does not follow ${this.#headSeq}`, { seq: body.seq });
    }
    if (!this.log) {
      const { record } = sealRecordWithLine(body, this.#headHash);
      this.#push(record, 0);
      return { record, durable: settled };
    }
    const { record, durable } = this.#appendToLog(this.log, body);
    this.#checkpoints?.note(record.seq, record.hash, durable);
    return { record, durable };
  }

  /** Seals `body` after the head and writes it to `log`: in `fsync` mode hashed, written and synced in one native call (durable-log.ts appendSealed), else sealed here and appended as a line. */
  #appendToLog(log: DurableLog, body: AttestationBody): { record: Attestation; durable: Promise<void> } {
    const prevHash = this.#headHash;
    const text = recordText(body, prevHash);
    const sealed = log.appendSealed(text.head, text.tail, { seq: body.seq, prevHash });
    if (sealed !== null) {
      const record = sealedRecord(body, prevHash, sealed.hash);
      this.#push(record, sealed.lengthBytes);
      return { record, durable: sealed.durable };
    }
    const { record, line } = sealRecordWithLine(body, prevHash, text);
    return { record, durable: this.#pushLine(log, record, line) };
  }

  /** Takes a sealed `record` whose canonical JSON is `line` and appends the line to `log`; resolves when durable (rejections handled: they reach onFailure listeners). */
  #pushLine(log: DurableLog, record: Attestation, line: string): Promise<void> {
    const lengthBytes = Buffer.byteLength(line, 'utf8') + 1;
    this.#push(record, lengthBytes);
    return log.appendLine(line, record, lengthBytes);
  }

  /**
   * `append` for the store's registrar, sealing off its caller's path: a memory store returns the
   * record staged (its `prevHash` and `hash` empty, not frozen: hand it to nobody before `seal()`),
   * sealed in a batch later (see the file comment); a durable store seals it at once. @internal
   */
  stage(body: AttestationBody, writer?: object): { record: Attestation; durable: Promise<void> } {
    if (this.log) return this.append(body, writer);
    this.#checkWriter(writer, 'append');
    if (body.seq !== this.#headSeq + 1) {
      throw new AttestationError('ATTESTATION_CHAIN_BROKEN', `append: seq ${body.seq} does not follow ${this.#headSeq}`, { seq: body.seq });
    }
    const extension = extensionTexts(body);
    const record = stageRecord(body);
    if (record === null) return this.append(body, writer); // a field that would not serialise: sealed (or refused) at once
    const at = this.#stagedCount;
    this.#staged[at] = record;
    this.#stagedTexts[at] = extension;
    this.#stagedCount = at + 1;
    this.#window.push(record, 0);
    this.#headSeq = record.seq;
    this.#evict();
    if (at + 1 >= STAGE_BATCH) this.seal();
    else if (!this.#sealQueued) {
      this.#sealQueued = true;
      queueMicrotask(this.#sealLater);
    }
    return { record, durable: settled };
  }

  /** Seals every staged record now, in seq order (see `stage`); cheap when none waits. */
  seal(): void {
    const count = this.#stagedCount;
    if (count === 0) return;
    const staged = this.#staged;
    const texts = this.#stagedTexts;
    this.#stagedCount = 0;
    let prevHash = this.#headHash;
    for (let index = 0; index < count; index += 1) {
      const record = staged[index] as Attestation;
      sealStaged(record, prevHash, texts[index] as ExtensionTexts);
      prevHash = record.hash;
    }
    this.#headHash = prevHash;
  }

  /** Takes already-sealed records after checking they continue the chain; a durable store appends them to its log. */
  adopt(records: readonly Attestation[], writer?: object): void {
    this.#checkWriter(writer, 'adopt');
    if (this.#stagedCount > 0) this.seal();
    let expectedSeq = this.#headSeq + 1;
    let expectedHash = this.#headHash;
    for (const record of records) {
      if (record.seq !== expectedSeq) {
        throw new AttestationError('ATTESTATION_CHAIN_BROKEN', `seq ${record.seq} where ${expectedSeq} was expected (gap or reordering)`, { seq: record.seq });
      }
      if (record.prevHash !== expectedHash) {
        throw new AttestationError('ATTESTATION_CHAIN_BROKEN', `seq ${record.seq}: prevHash does not link to the previous record (reordered, removed or inserted records)`, { seq: record.seq });
      }
      if (recordHash(record) !== record.hash) {
        throw new AttestationError('ATTESTATION_CHAIN_BROKEN', `seq ${record.seq}: hash does not match the record's content (tampered)`, { seq: record.seq });
      }
      expectedSeq += 1;
      expectedHash = record.hash;
    }
    for (const record of records) {
      if (!this.log) {
        this.#push(record, 0);
        continue;
      }
      const durable = this.#pushLine(this.log, record, canonicalJson(record));
      this.#checkpoints?.note(record.seq, record.hash, durable);
    }
  }

  /** Calls `listener` if the durable log fails (the registrar halts on it). */
  onFailure(listener: (error: AttestationError) => void): () => void {
    return this.log ? this.log.onFailure(listener) : () => false;
  }

  /**
   * Every record, in seq order (a frozen array). With a durable log this reads the whole log into
   * memory: for a long log iterate `records()` instead.
   */
  all(): readonly Attestation[] {
    return Object.freeze([...this.records()]);
  }

  /**
   * The records from `fromSeq` (default the first) to the head as it is now, in seq order, read
   * back from the log where they are no longer in memory (one block at a time). Throws
   * ATTESTATION_IO / ATTESTATION_LOG_CORRUPT when the log cannot be read back.
   */
  *records(fromSeq: number = this.#start.seq + 1): Generator<Attestation, void, undefined> {
    if (this.#stagedCount > 0) this.seal();
    const last = this.#headSeq;
    // A store that forgets (retain: 'window') starts at the oldest record it still holds.
    const first = this.#forgets ? this.#window.firstSeq : this.#start.seq + 1;
    for (let seq = Math.max(fromSeq, first); seq <= last; seq += 1) {
      const record = this.#window.at(seq) ?? this.#readBack(seq);
      if (record === undefined) return;
      yield record;
    }
  }

  /** How many records the store holds (in memory and in its log). */
  get size(): number {
    return this.#headSeq - this.#start.seq;
  }

  /** How many records are in memory (the window; all of them for a memory store). */
  get memorySize(): number {
    return this.#window.size;
  }

  /** Entries of the seq -> offset index (0 for a memory store). */
  get indexEntries(): number {
    return this.#index?.entries ?? 0;
  }

  /**
   * The record with this seq, if held: from memory, or read back from the log (undefined when it
   * cannot be read back; the failure then reaches `onFailure` listeners, which halt a registrar).
   */
  bySeq(seq: number): Attestation | undefined {
    if (!Number.isInteger(seq) || seq <= this.#start.seq || seq > this.#headSeq) return undefined;
    if (this.#stagedCount > 0) this.seal();
    const held = this.#window.at(seq);
    if (held !== undefined || !this.log) return held;
    try {
      return this.#readBack(seq);
    } catch (error) {
      this.log.reportFailure(error);
      return undefined;
    }
  }

  /** Records matching every given field of the query (actor, action, target, decision, since, until); reads the log beyond memory. */
  query(query: AttestationQuery = {}): readonly Attestation[] {
    const predicate = queryPredicate(parseInput(attestationQuerySchema, query, 'query'));
    const matches: Attestation[] = [];
    for (const record of this.records()) if (predicate(record)) matches.push(record);
    return Object.freeze(matches);
  }

  /** All records as JSON Lines (canonical JSON, one record per line); reads the log beyond memory. */
  export(): string {
    let text = '';
    for (const record of this.records()) text += `${canonicalJson(record)}\n`;
    return text;
  }

  /** Resolves when every record appended so far is durable; rejects with the log's AttestationError when they cannot be (the log failed). */
  flush(): Promise<void> {
    if (this.#stagedCount > 0) this.seal();
    return this.log ? this.log.flush() : settled;
  }

  /** Flushes and closes the durable log (signing a last checkpoint of its head first, with `signing`); idempotent. */
  close(): Promise<void> {
    if (this.#stagedCount > 0) this.seal();
    if (!this.log) return settled;
    const log = this.log;
    const checkpoints = this.#checkpoints;
    return checkpoints ? log.flush().catch(() => undefined).then(() => checkpoints.close()).then(() => log.close()) : log.close();
  }

  /** The public key (PEM, SPKI) that verifies this store's checkpoints (`audit verify --public-key`), or null when it does not sign. */
  get publicKeyPem(): string | null {
    return this.#checkpoints?.publicKeyPem ?? null;
  }

  /** The last seq a signed checkpoint in the sidecar covers, or null when the store does not sign. */
  get signedSeq(): number | null {
    return this.#checkpoints?.signedSeq ?? null;
  }

  /**
   * Signs a snapshot of this store's head (its hash and the head it names) with the store's key, or
   * null when the store does not sign. Only the store's registrar may ask (ATTESTATION_STORE_SEALED),
   * and only for the store's current head (ATTESTATION_CHAIN_BROKEN), so the key signs nothing else. @internal
   */
  signSnapshot(snapshot: { hash: string; lastSeq: number; lastHash: string }, writer?: object): { keyId: string; value: string } | null {
    this.#checkWriter(writer, 'signSnapshot');
    if (this.#stagedCount > 0) this.seal();
    const checkpoints = this.#checkpoints;
    if (!checkpoints) return null;
    if (snapshot.lastSeq !== this.#headSeq || snapshot.lastHash !== this.#headHash) {
      throw new AttestationError('ATTESTATION_CHAIN_BROKEN', `signSnapshot: the snapshot's head (seq ${snapshot.lastSeq}) is not this store's head (seq ${this.#headSeq})`, { seq: snapshot.lastSeq });
    }
    const { keyId } = checkpoints;
    return { keyId, value: signPayload(checkpoints.key, snapshotSignaturePayload({ ...snapshot, keyId })) };
  }

  #push(record: Attestation, lengthBytes: number): void {
    this.#index?.note(record.seq, this.#endBytes);
    this.#endBytes += lengthBytes;
    this.#window.push(record, lengthBytes);
    this.#headSeq = record.seq;
    this.#headHash = record.hash;
    this.#evict();
  }

  /** Drops the oldest records beyond `memoryRecords` once they are written to the log. */
  #evict(): void {
    const log = this.log;
    if (!log) {
      while (this.#forgets && this.#window.size > this.#memoryRecords) this.#window.shift();
      return;
    }
    while (this.#window.size > this.#memoryRecords) {
      const length = this.#window.oldestLengthBytes ?? 0;
      if (this.#windowStartBytes + length > log.writtenBytes) return; // not written yet: kept
      this.#window.shift();
      this.#windowStartBytes += length;
    }
  }

  /** The state of a store just opened: the index and the records it keeps, read by `open`. */
  #loadScanned(index: SeqIndex, kept: readonly { record: Attestation; offsetBytes: number; lengthBytes: number }[], lastSeq: number, lastHash: string): void {
    this.#index = index;
    const first = kept[0];
    this.#window.firstSeq = first ? first.record.seq : lastSeq + 1;
    this.#windowStartBytes = first ? first.offsetBytes : this.#endBytes;
    for (const entry of kept) this.#window.push(entry.record, entry.lengthBytes);
    this.#headSeq = lastSeq;
    this.#headHash = lastHash;
  }

  /** A record no longer in memory, from its block of the log. */
  #readBack(seq: number): Attestation | undefined {
    const block = this.#readBlock(seq);
    if (!block) return undefined;
    const line = seq - block.firstSeq;
    let record = block.records[line];
    if (record === undefined) {
      const text = block.text.slice(block.lineStarts[line], (block.lineStarts[line + 1] ?? 1) - 1);
      record = this.#decode(text, seq);
      block.records[line] = record;
    }
    return record;
  }

  /** The decoded block of the log holding `seq` (cached: the last one read). */
  #readBlock(seq: number): DecodedBlock | undefined {
    for (const cached of [this.#block, this.#previousBlock]) {
      if (cached && seq >= cached.firstSeq && seq < cached.firstSeq + cached.records.length) return cached;
    }
    const log = this.log;
    const indexed = this.#index?.blockOf(seq);
    if (!log || !indexed) return undefined;
    // The block ends at the next indexed record, or where the window starts.
    const endBytes = this.#index?.nextBlockOffset(indexed.firstSeq) ?? this.#windowStartBytes;
    const lines = Math.min(this.#index?.strideRecords ?? 0, this.#window.firstSeq - indexed.firstSeq);
    const text = log.readBytes(indexed.offsetBytes, Math.min(endBytes, this.#windowStartBytes) - indexed.offsetBytes).toString('utf8');
    const lineStarts = [0];
    for (let at = text.indexOf('\n'); at !== -1 && lineStarts.length <= lines; at = text.indexOf('\n', at + 1)) lineStarts.push(at + 1);
    if (lineStarts.length !== lines + 1) {
      throw new AttestationError('ATTESTATION_LOG_CORRUPT', `attestation log ${log.path}: the block at seq ${indexed.firstSeq} has ${lineStarts.length - 1} lines, not ${lines}`, { seq: indexed.firstSeq, path: log.path });
    }
    const block: DecodedBlock = { firstSeq: indexed.firstSeq, text, lineStarts, records: new Array<Attestation | undefined>(lines) };
    this.#previousBlock = this.#block;
    this.#block = block;
    return block;
  }

  /** Parses a line read back from the log and checks it is the record expected there. */
  #decode(line: string, seq: number): Attestation {
    const path = this.log?.path ?? '';
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new AttestationError('ATTESTATION_LOG_CORRUPT', `attestation log ${path}: the line of seq ${seq} is not JSON`, { seq, path });
    }
    const parsed = parseOwnedRecord(value);
    if ('problem' in parsed) throw new AttestationError('ATTESTATION_LOG_CORRUPT', `attestation log ${path}: seq ${seq}: ${parsed.problem}`, { seq, path });
    if (parsed.record.seq !== seq || validRecordHash(parsed.record) !== parsed.record.hash) {
      throw new AttestationError('ATTESTATION_LOG_CORRUPT', `attestation log ${path}: the line read back for seq ${seq} is not that record (changed under the store)`, { seq, path });
    }
    noteHashHolds(parsed.record); // a replay of store.records() need not hash it again
    return parsed.record;
  }
}

// Hardening: no caller can swap a method of this class for its own (a monkey-patched prototype would see every instance).
Object.freeze(AttestationStore.prototype);
Object.freeze(AttestationStore);
