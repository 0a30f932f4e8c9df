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
 */
import { closeSync, fdatasync, fdatasyncSync, ftruncateSync, openSync, readFileSync, write, writeSync, existsSync } from 'node:fs';
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
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    throw new AttestationError('ATTESTATION_IO', `cannot read attestation log ${path}: ${(cause as Error).message}`, { cause, path });
  }
  const lastNewline = bytes.lastIndexOf(0x0a);
  const validLength = lastNewline + 1;
  const tornTail = validLength < bytes.length ? { offsetBytes: validLength, lengthBytes: bytes.length - validLength } : null;
  const lines = bytes.subarray(0, validLength).toString('utf8').split('\n');
  lines.pop(); // the empty string after the final newline
  const records: Attestation[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index] ?? '';
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return { records, tornTail, corrupt: { line: index + 1, message: `line ${index + 1} is not JSON` } };
    }
    const parsed = parseRecord(value);
    if ('problem' in parsed) return { records, tornTail, corrupt: { line: index + 1, message: `line ${index + 1}: ${parsed.problem}` } };
    records.push(parsed.record);
  }
  return { records, tornTail, corrupt: null };
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

  private constructor(path: string, fd: number, options: DurableLogOptions) {
    this.path = path;
    this.fd = fd;
    this.durability = options.durability ?? 'fsync';
    this.groupCommitMs = options.groupCommitMs ?? 2;
  }

  /**
   * Opens (or creates) a log and reads what it holds. A torn tail throws ATTESTATION_TORN_TAIL
   * unless `repairTornTail` is set, in which case it is cut off and reported in `tornTail`;
   * corruption throws ATTESTATION_LOG_CORRUPT. The chain itself is checked by the store.
   */
  static open(path: string, options: DurableLogOptions = {}): { log: DurableLog; records: Attestation[]; tornTail: TornTail | null } {
    const readout: LogReadout = existsSync(path) ? readAttestationLog(path) : { records: [], tornTail: null, corrupt: null };
    if (readout.corrupt) {
      throw new AttestationError('ATTESTATION_LOG_CORRUPT', `attestation log ${path}: ${readout.corrupt.message}`, { path, seq: readout.corrupt.line });
    }
    if (readout.tornTail && options.repairTornTail !== true) {
      throw new AttestationError(
        'ATTESTATION_TORN_TAIL',
        `attestation log ${path} ends in a torn record (${readout.tornTail.lengthBytes} bytes at offset ${readout.tornTail.offsetBytes}) ` +
          'after seq ' + String(readout.records.at(-1)?.seq ?? 0) + '; it is not replayed. Open with repairTornTail to cut it off.',
        { path },
      );
    }
    let fd: number;
    try {
      fd = openSync(path, 'a+');
      if (readout.tornTail) {
        ftruncateSync(fd, readout.tornTail.offsetBytes);
        fdatasyncSync(fd);
      }
    } catch (cause) {
      throw new AttestationError('ATTESTATION_IO', `cannot open attestation log ${path}: ${(cause as Error).message}`, { cause, path });
    }
    return { log: new DurableLog(path, fd, options), records: readout.records, tornTail: readout.tornTail };
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
        writeSync(this.fd, text);
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
        while (offset < buffer.length) offset += await writeAsync(fd, buffer, offset);
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
