/**
 * The durable, append-only attestation log: one canonical-JSON record per line (JSON Lines).
 *
 * Durability modes:
 * - `fsync`: every append is written and fdatasync'ed before `append` returns (the returned
 *   promise is already settled);
 * - `group`: appends are buffered and written + fdatasync'ed together every `groupCommitMs`
 *   (0: as soon as the current burst of work yields);
 *   each append's promise resolves only once its batch is on disk (group commit).
 *
 * On open, a partial last line (a write torn by a crash) is detected and reported; it is never
 * parsed or replayed. A complete line that is not a valid record is corruption, not a torn tail.
 * Opening reads the file in chunks and hands each record to a visitor, so a long log is never
 * held in memory whole; `readBytes` reads written parts back (the store's reads beyond its window).
 */
import { closeSync, fdatasync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readSync, write, writeSync, existsSync } from 'node:fs';
import { canonicalJson } from './canonical-json.js';
import { AttestationError } from './errors.js';
import { parseRecord, type Attestation } from './record.js';

/** How appends reach the disk. */
export type DurabilityMode = 'fsync' | 'group';

/** Options of a durable log. */
export interface DurableLogOptions {
  /** `fsync` (default): sync per record; `group`: group commit every `groupCommitMs`. */
  durability?: DurabilityMode;
  /** Group commit interval in ms (group mode); default 2; 0 commits as soon as the current burst of work yields. */
  groupCommitMs?: number;
  /** Cut a torn tail off the file (after reporting it) instead of refusing to open. */
  repairTornTail?: boolean;
}

/** A partial record at the end of a log. */
export interface TornTail {
  /** Byte offset where the partial record starts (the file's valid length). */
  offsetBytes: number;
  /** How many bytes the partial record has. */
  lengthBytes: number;
}

/** What reading a log found. */
export interface LogReadout {
  records: Attestation[];
  tornTail: TornTail | null;
  /** The first complete line that is not a valid record (1-based line), or null. */
  corrupt: { line: number; message: string } | null;
}

/** Reads a log file without judging its chain; throws only when the file cannot be read. */
export function readAttestationLog(path: string): LogReadout {
  const records: Attestation[] = [];
  const { tornTail, corrupt } = scanAttestationLog(path, (record) => records.push(record));
  return { records, tornTail, corrupt };
}

/** Called for each record of a scanned log, with where its line starts and how long it is (newline included). */
export type LogVisitor = (record: Attestation, offsetBytes: number, lengthBytes: number) => void;

/** What scanning a log found (the records went to the visitor). */
export interface LogScan {
  /** Complete records read. */
  records: number;
  tornTail: TornTail | null;
  corrupt: { line: number; message: string } | null;
}

/** Bytes read per chunk while scanning. */
const SCAN_CHUNK_BYTES = 1 << 20;

/**
 * Reads a log in chunks, parsing each complete line and handing the record to `visit`, stopping at
 * the first line that is not a record; never holds more than a chunk and one line. Throws
 * ATTESTATION_IO only when the file cannot be read (and whatever `visit` throws).
 */
export function scanAttestationLog(path: string, visit: LogVisitor): LogScan {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (cause) {
    throw new AttestationError('ATTESTATION_IO', `cannot read attestation log ${path}: ${(cause as Error).message}`, { cause, path });
  }
  try {
    const chunk = Buffer.allocUnsafe(SCAN_CHUNK_BYTES);
    let carry: Buffer = Buffer.alloc(0);
    let position = 0;
    let lineStart = 0; // file offset of carry[0]
    let records = 0;
    for (;;) {
      let read: number;
      try {
        read = readSync(fd, chunk, 0, chunk.length, position);
      } catch (cause) {
        throw new AttestationError('ATTESTATION_IO', `cannot read attestation log ${path}: ${(cause as Error).message}`, { cause, path });
      }
      if (read === 0) break;
      position += read;
      const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, read)]) : chunk.subarray(0, read);
      let from = 0;
      for (let newline = data.indexOf(0x0a, from); newline !== -1; newline = data.indexOf(0x0a, from)) {
        const line = data.toString('utf8', from, newline);
        const number = records + 1;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          return { records, tornTail: null, corrupt: { line: number, message: `line ${number} is not JSON` } };
        }
        const parsed = parseRecord(value);
        if ('problem' in parsed) return { records, tornTail: null, corrupt: { line: number, message: `line ${number}: ${parsed.problem}` } };
        visit(parsed.record, lineStart, newline + 1 - from);
        records += 1;
        lineStart += newline + 1 - from;
        from = newline + 1;
      }
      carry = Buffer.from(data.subarray(from)); // a copy: `chunk` is reused
    }
    const tornTail = carry.length > 0 ? { offsetBytes: lineStart, lengthBytes: carry.length } : null;
    return { records, tornTail, corrupt: null };
  } finally {
    closeSync(fd);
  }
}

/** The records waiting for the next group commit: their text and the one promise they share. */
interface Batch {
  texts: string[];
  done: Promise<void>;
  resolve: () => void;
  reject: (error: Error) => void;
}

const settled = Promise.resolve();

/** A rejected promise whose rejection is marked handled (failures reach onFailure listeners). */
function handledRejection(error: Error): Promise<void> {
  const rejected = Promise.reject(error);
  rejected.catch(() => undefined);
  return rejected;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const done = new Promise<void>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  done.catch(() => undefined); // handled: each caller may still await it and see the error
  return { texts: [], done, resolve, reject };
}

/** An open append-only log file. Not safe from several threads: one writer per file. */
export class DurableLog {
  /** The log file. */
  readonly path: string;
  /** The durability mode. */
  readonly durability: DurabilityMode;
  private readonly groupCommitMs: number;
  private fd: number | null;
  private batch: Batch = newBatch();
  /** Cancels the scheduled group commit, or null when none is scheduled. */
  private cancelScheduled: (() => void) | null = null;
  private writing: Promise<void> = Promise.resolve();
  private failure: AttestationError | null = null;
  private readonly failureListeners = new Set<(error: AttestationError) => void>();
  /** Bytes of the file that are written (readable back), appended records included. */
  private written: number;

  private constructor(path: string, fd: number, options: DurableLogOptions, sizeBytes: number) {
    this.path = path;
    this.fd = fd;
    this.durability = options.durability ?? 'fsync';
    this.groupCommitMs = options.groupCommitMs ?? 2;
    this.written = sizeBytes;
  }

  /**
   * Opens (or creates) a log and reads what it holds. A torn tail throws ATTESTATION_TORN_TAIL
   * unless `repairTornTail` is set, in which case it is cut off and reported in `tornTail`;
   * corruption throws ATTESTATION_LOG_CORRUPT. The chain itself is checked by the store.
   */
  static open(path: string, options: DurableLogOptions = {}): { log: DurableLog; records: Attestation[]; tornTail: TornTail | null } {
    const records: Attestation[] = [];
    const { log, tornTail } = DurableLog.openScanning(path, options, (record) => records.push(record));
    return { log, records, tornTail };
  }

  /** Like `open`, but hands each record to `visit` (with its line's offset and length) instead of returning them all. */
  static openScanning(path: string, options: DurableLogOptions, visit: LogVisitor): { log: DurableLog; records: number; tornTail: TornTail | null } {
    let lastSeq = 0;
    const scan: LogScan = existsSync(path)
      ? scanAttestationLog(path, (record, offsetBytes, lengthBytes) => {
          lastSeq = record.seq;
          visit(record, offsetBytes, lengthBytes);
        })
      : { records: 0, tornTail: null, corrupt: null };
    if (scan.corrupt) {
      throw new AttestationError('ATTESTATION_LOG_CORRUPT', `attestation log ${path}: ${scan.corrupt.message}`, { path, seq: scan.corrupt.line });
    }
    if (scan.tornTail && options.repairTornTail !== true) {
      throw new AttestationError(
        'ATTESTATION_TORN_TAIL',
        `attestation log ${path} ends in a torn record (${scan.tornTail.lengthBytes} bytes at offset ${scan.tornTail.offsetBytes}) ` +
          `after seq ${lastSeq}; it is not replayed. Open with repairTornTail to cut it off.`,
        { path },
      );
    }
    let fd: number;
    let sizeBytes: number;
    try {
      fd = openSync(path, 'a+');
      if (scan.tornTail) {
        ftruncateSync(fd, scan.tornTail.offsetBytes);
        fdatasyncSync(fd);
      }
      sizeBytes = fstatSync(fd).size;
    } catch (cause) {
      throw new AttestationError('ATTESTATION_IO', `cannot open attestation log ${path}: ${(cause as Error).message}`, { cause, path });
    }
    return { log: new DurableLog(path, fd, options, sizeBytes), records: scan.records, tornTail: scan.tornTail };
  }

  /** Bytes of the file written so far (everything before this offset can be read back). */
  get writtenBytes(): number {
    return this.written;
  }

  /**
   * Reads `lengthBytes` written bytes at `offsetBytes` (within `writtenBytes`). Throws
   * ATTESTATION_LOG_CLOSED after close, ATTESTATION_IO when the read fails or comes up short.
   */
  readBytes(offsetBytes: number, lengthBytes: number): Buffer {
    if (this.fd === null) throw new AttestationError('ATTESTATION_LOG_CLOSED', `attestation log ${this.path} is closed`, { path: this.path });
    const buffer = Buffer.allocUnsafe(lengthBytes);
    let done = 0;
    try {
      while (done < lengthBytes) {
        const read = readSync(this.fd, buffer, done, lengthBytes - done, offsetBytes + done);
        if (read === 0) throw new Error(`the file ends at ${offsetBytes + done}, ${lengthBytes - done} bytes short`);
        done += read;
      }
    } catch (cause) {
      throw new AttestationError('ATTESTATION_IO', `cannot read attestation log ${this.path}: ${(cause as Error).message}`, { cause, path: this.path });
    }
    return buffer;
  }

  /** Calls `listener` once if the log ever fails to write; returns an unsubscribe function. */
  onFailure(listener: (error: AttestationError) => void): () => void {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  /**
   * Appends one record; the promise settles when the record is durable (or failed). In group mode
   * every record of one batch shares one promise. Rejections are already marked handled.
   */
  append(record: Attestation): Promise<void> {
    return this.appendLine(canonicalJson(record));
  }

  /** Appends a record given as its canonical JSON line (no newline), e.g. from sealRecordWithLine. */
  appendLine(line: string): Promise<void> {
    const text = `${line}\n`;
    if (this.failure) return handledRejection(this.failure);
    if (this.fd === null) return handledRejection(this.fail(new AttestationError('ATTESTATION_LOG_CLOSED', `attestation log ${this.path} is closed`, { path: this.path })));
    if (this.durability === 'fsync') {
      try {
        this.written += writeSync(this.fd, text);
        fdatasyncSync(this.fd);
        return settled;
      } catch (cause) {
        return handledRejection(this.fail(cause));
      }
    }
    this.batch.texts.push(text);
    this.cancelScheduled ??= this.scheduleCommit();
    return this.batch.done;
  }

  /** Writes and syncs everything appended so far. */
  flush(): Promise<void> {
    return this.commitBatch();
  }

  /** Flushes, then closes the file; idempotent. */
  async close(): Promise<void> {
    await this.flush().catch(() => undefined);
    if (this.fd !== null) {
      const fd = this.fd;
      this.fd = null;
      closeSync(fd);
    }
  }

  private commitBatch(): Promise<void> {
    if (this.cancelScheduled) {
      this.cancelScheduled();
      this.cancelScheduled = null;
    }
    // Take the batch now: appends made while it is written go to the next one.
    const batch = this.batch;
    if (batch.texts.length === 0) return this.writing; // nothing pending: settles when earlier batches are on disk
    this.batch = newBatch();
    this.writing = this.writing.then(async () => {
      const fd = this.fd;
      try {
        if (this.failure) throw this.failure;
        if (fd === null) throw this.fail(new AttestationError('ATTESTATION_LOG_CLOSED', `attestation log ${this.path} is closed`, { path: this.path }));
        const buffer = Buffer.from(batch.texts.join(''), 'utf8');
        let offset = 0;
        while (offset < buffer.length) {
          const wrote = await writeAsync(fd, buffer, offset);
          offset += wrote;
          this.written += wrote;
        }
        await new Promise<void>((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
        batch.resolve();
      } catch (cause) {
        batch.reject(cause instanceof AttestationError ? cause : this.fail(cause));
      }
    });
    return this.writing;
  }

  /**
   * Schedules the next group commit: after `groupCommitMs`, or with 0 right after the current
   * burst of work (setImmediate; a 0 ms timer would wait at least 1 ms).
   */
  private scheduleCommit(): () => void {
    if (this.groupCommitMs > 0) {
      const timer = setTimeout(() => void this.commitBatch(), this.groupCommitMs);
      return () => clearTimeout(timer);
    }
    const immediate = setImmediate(() => void this.commitBatch());
    return () => clearImmediate(immediate);
  }

  /** Reports a failure found outside an append (a record that cannot be read back): the log is
   *  failed from then on, as after a failed write, and the listeners are told. */
  reportFailure(cause: unknown): void {
    this.fail(cause);
  }

  /** Records the first failure (every later append fails with it) and tells the listeners. */
  private fail(cause: unknown): AttestationError {
    if (!this.failure) {
      this.failure =
        cause instanceof AttestationError
          ? cause
          : new AttestationError('ATTESTATION_IO', `cannot write attestation log ${this.path}: ${(cause as Error).message}`, { cause, path: this.path });
      for (const listener of this.failureListeners) listener(this.failure);
    }
    return this.failure;
  }
}

function writeAsync(fd: number, buffer: Buffer, offset: number): Promise<number> {
  return new Promise((resolve, reject) => write(fd, buffer, offset, buffer.length - offset, null, (error, written) => (error ? reject(error) : resolve(written))));
}
