/**
 * Reading an attestation log (a single file or a segmented directory, log-segments.ts) as a
 * stream: the files are read in chunks of 1 MiB and each complete line is parsed and handed on
 * before the next is read, so memory stays constant whatever the log's length (a chunk, one line
 * and the consumer's own state).
 *
 * Every failure to read is an AttestationError with a `code` and the `seq` concerned:
 * - ATTESTATION_LOG_CORRUPT: a complete line that is not a valid record; `seq` is the seq the
 *   record would have had (the last good seq + 1), never a line number;
 * - ATTESTATION_TORN_TAIL: the last line has no newline (a write a crash tore); `seq` as above.
 *   Reported with its place (`TornTail`), never parsed;
 * - ATTESTATION_SEGMENT_MISSING / _EXTRA / _MISMATCH, ATTESTATION_MANIFEST_INVALID: a segmented
 *   log whose files are not the ones its manifest lists (log-segments.ts), or a segment whose
 *   first or last record is not the one its manifest entry names (segments reordered or replaced);
 * - ATTESTATION_IO: a file cannot be read; ATTESTATION_LOG_TOO_LARGE: `readAttestationLog` on a
 *   log larger than it loads.
 * The reader does not judge the hash chain: the store (on open) and `verify` do.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { z } from 'zod';
import { AttestationError } from './errors.js';
import { inspectLog, type LogFile, type LogLayout } from './log-segments.js';
import { parseOwnedRecord, type Attestation } from './record.js';
import { parseInput } from '../validation.js';

/** A partial record at the end of a log (its last file). */
export interface TornTail {
  /** The file holding it (the log file, or a segmented log's active segment). */
  file: string;
  /** Byte offset in that file where the partial record starts (the file's valid length). */
  offsetBytes: number;
  /** How many bytes the partial record has. */
  lengthBytes: number;
}

/** How a read of a log ended. */
export interface LogEnd {
  /** Complete records read. */
  records: number;
  /** Seq of the last record read (the start's when none). */
  lastSeq: number;
  /** The log ends in a partial record (not an error by itself: see `problem`). */
  tornTail: TornTail | null;
  /** What stopped the read before the end, or null. A torn tail is not a problem here. */
  problem: AttestationError | null;
}

/** Called for each record read, with where its line starts in the log's byte sequence and how long it is (newline included). */
export type LogVisitor = (record: Attestation, offsetBytes: number, lengthBytes: number) => void;

/** Options of a read. */
export interface LogReadOptions {
  /** Seq of the record before the log's first (a log continuing a snapshot); default 0, or a segmented log's first segment's. */
  afterSeq?: number;
}

/** Bytes read per chunk. */
const CHUNK_BYTES = 1 << 20;

/** No record's line comes near this (records are a few KiB); a longer one is corruption, not held in memory. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

function corrupt(file: string, seq: number, message: string): AttestationError {
  return new AttestationError('ATTESTATION_LOG_CORRUPT', `attestation log ${file}: the record for seq ${seq} ${message}`, { path: file, seq });
}

function mismatch(layout: LogLayout, logFile: LogFile, seq: number, message: string): AttestationError {
  return new AttestationError('ATTESTATION_SEGMENT_MISMATCH', `segmented attestation log ${layout.path}: segment ${logFile.entry?.name ?? logFile.file} ${message} (segments reordered, replaced or edited)`, {
    path: layout.path,
    seq,
  });
}

/** Checks that the last record of a sealed segment is the one its manifest entry names (called by `scanLayout`). */
function lastHashProblem(layout: LogLayout, logFile: LogFile, lastHash: string | null): AttestationError | null {
  const entry = logFile.entry;
  if (!entry || entry.lastHash === null || lastHash === entry.lastHash) return null;
  return mismatch(layout, logFile, entry.lastSeq ?? entry.firstSeq, `ends with a record whose hash is not the manifest's`);
}

/**
 * Reads every record of an inspected log in order, handing each to `visit`; never throws an
 * AttestationError (it ends the read and is returned in `problem`), only what `visit` throws.
 */
export function scanLayout(layout: LogLayout | null, visit: LogVisitor, options: LogReadOptions = {}): LogEnd {
  const first = layout?.files[0]?.entry;
  const end: LogEnd = { records: 0, lastSeq: options.afterSeq ?? (first ? first.firstSeq - 1 : 0), tornTail: null, problem: null };
  if (!layout) return end;
  for (const logFile of layout.files) {
    const cursor = new LineCursor(layout, logFile, end);
    try {
      while (cursor.next(visit));
    } finally {
      cursor.close();
    }
    end.problem ??= lastHashProblem(layout, logFile, cursor.lastHash);
    if (end.problem || end.tornTail) break;
  }
  return end;
}

/** `inspectLog` whose AttestationError becomes the read's problem. */
function inspect(path: string, end: LogEnd): LogLayout | null {
  try {
    return inspectLog(path);
  } catch (error) {
    if (!(error instanceof AttestationError)) throw error;
    end.problem = error;
    return null;
  }
}

/**
 * Reads a log, handing each record to `visit` with its place in the log's byte sequence; stops at
 * the first problem and returns it in `problem` (never throws an AttestationError, only what
 * `visit` throws). A missing log reads as empty. Used by `AttestationStore.open`.
 */
export function scanAttestationLog(path: string, visit: LogVisitor, options: LogReadOptions = {}): LogEnd {
  const end: LogEnd = { records: 0, lastSeq: options.afterSeq ?? 0, tornTail: null, problem: null };
  const layout = inspect(path, end);
  if (end.problem) return end;
  return scanLayout(layout, visit, options);
}

/** The error a torn tail is when a read must not end in one. */
export function tornTailError(path: string, tornTail: TornTail, lastSeq: number): AttestationError {
  return new AttestationError(
    'ATTESTATION_TORN_TAIL',
    `attestation log ${path} ends in a torn record (${tornTail.lengthBytes} bytes at offset ${tornTail.offsetBytes} of ${tornTail.file}) after seq ${lastSeq}; it is not replayed. ` +
      'Open with repairTornTail to cut it off.',
    { path, seq: lastSeq + 1 },
  );
}

const iterationOptionsSchema = z.strictObject({
  strict: z.boolean().optional(),
  afterSeq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
});

/** Options of `iterateAttestationLog`. */
export interface LogIterationOptions extends LogReadOptions {
  /**
   * true (default): a problem or a torn tail throws its AttestationError where it is found (after
   * the records before it were yielded); false: the iteration just ends there and the reader's
   * `problem` / `tornTail` say why.
   */
  strict?: boolean;
}

/**
 * A log read as a stream of records (see the file comment). Each iteration reads the log from
 * its start again; `records`, `lastSeq`, `tornTail` and `problem` describe the last iteration
 * that finished. Iterate with `for…of`, or pass it where an iterable of records is taken
 * (`verify`, `AudioRegistrar.replay`).
 */
export class AttestationLogReader implements Iterable<Attestation> {
  /** The log path. */
  readonly path: string;
  readonly #options: LogIterationOptions;
  #end: LogEnd | null = null;

  constructor(path: string, options: LogIterationOptions = {}) {
    this.path = parseInput(z.string().min(1), path, 'path');
    this.#options = parseInput(iterationOptionsSchema, options, 'options');
  }

  /** Records read by the last finished iteration. */
  get records(): number {
    return this.#end?.records ?? 0;
  }

  /** Seq of the last record read by the last finished iteration (0 before any). */
  get lastSeq(): number {
    return this.#end?.lastSeq ?? 0;
  }

  /** The torn tail the last finished iteration ended at, or null. */
  get tornTail(): TornTail | null {
    return this.#end?.tornTail ?? null;
  }

  /** What ended the last finished iteration before the end of the log (an AttestationError with code and seq), or null. */
  get problem(): AttestationError | null {
    return this.#end?.problem ?? null;
  }

  /** The records in log order, read line by line. */
  *[Symbol.iterator](): Generator<Attestation, void, undefined> {
    const end: LogEnd = { records: 0, lastSeq: this.#options.afterSeq ?? 0, tornTail: null, problem: null };
    const layout = inspect(this.path, end);
    if (end.problem === null) {
      if (layout === null) {
        end.problem = new AttestationError('ATTESTATION_IO', `cannot read attestation log ${this.path}: no such file or directory`, { path: this.path, seq: end.lastSeq + 1 });
      } else {
        // Records are handed out as they are read: the visitor parks each one for the generator to yield.
        yield* this.#stream(layout, end);
      }
    }
    this.#end = end;
    if (this.#options.strict !== false) {
      if (end.problem) throw end.problem;
      if (end.tornTail) throw tornTailError(this.path, end.tornTail, end.lastSeq);
    }
  }

  /** Yields the records of `layout`, one chunk's worth at a time (at most one chunk of records is held). */
  *#stream(layout: LogLayout, end: LogEnd): Generator<Attestation, void, undefined> {
    const first = layout.files[0]?.entry;
    if (first && this.#options.afterSeq === undefined) end.lastSeq = first.firstSeq - 1;
    const pending: Attestation[] = [];
    const park = (record: Attestation): void => {
      pending.push(record);
    };
    for (const logFile of layout.files) {
      const cursor = new LineCursor(layout, logFile, end);
      try {
        for (let more = true; more; ) {
          more = cursor.next(park);
          for (let index = 0; index < pending.length; index += 1) yield pending[index] as Attestation;
          pending.length = 0;
        }
      } finally {
        cursor.close();
      }
      end.problem ??= lastHashProblem(layout, logFile, cursor.lastHash);
      if (end.problem || end.tornTail) return;
    }
  }
}

/** A file read chunk by chunk on demand (the pull form of `readFile`). */
class LineCursor {
  readonly #layout: LogLayout;
  readonly #logFile: LogFile;
  readonly #end: LogEnd;
  readonly #firstInFile: number;
  #fd: number | null = null;
  readonly #chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  #carry: Buffer = Buffer.alloc(0);
  #position = 0;
  #lineStart = 0;
  /** Hash of the last record read. */
  lastHash: string | null = null;

  constructor(layout: LogLayout, logFile: LogFile, end: LogEnd) {
    this.#layout = layout;
    this.#logFile = logFile;
    this.#end = end;
    this.#firstInFile = end.records;
    try {
      this.#fd = openSync(logFile.file, 'r');
    } catch (cause) {
      end.problem = new AttestationError('ATTESTATION_IO', `cannot read attestation log ${logFile.file}: ${(cause as Error).message}`, { cause, path: logFile.file, seq: end.lastSeq + 1 });
    }
  }

  /** Reads the next chunk and visits its complete records; false once the file is done (or a problem ended it). */
  next(visit: LogVisitor): boolean {
    const end = this.#end;
    const fd = this.#fd;
    if (fd === null || end.problem) return false;
    const { file, entry } = this.#logFile;
    let read: number;
    try {
      read = readSync(fd, this.#chunk, 0, this.#chunk.length, this.#position);
    } catch (cause) {
      end.problem = new AttestationError('ATTESTATION_IO', `cannot read attestation log ${file}: ${(cause as Error).message}`, { cause, path: file, seq: end.lastSeq + 1 });
      return false;
    }
    if (read === 0) {
      this.#finish();
      return false;
    }
    this.#position += read;
    const data = this.#carry.length > 0 ? Buffer.concat([this.#carry, this.#chunk.subarray(0, read)]) : this.#chunk.subarray(0, read);
    let from = 0;
    for (let newline = data.indexOf(0x0a, from); newline !== -1; newline = data.indexOf(0x0a, from)) {
      const expected = end.lastSeq + 1;
      let value: unknown;
      try {
        value = JSON.parse(data.toString('utf8', from, newline));
      } catch {
        end.problem = corrupt(file, expected, `(at byte ${this.#lineStart}) is not JSON`);
        return false;
      }
      const parsed = parseOwnedRecord(value);
      if ('problem' in parsed) {
        end.problem = corrupt(file, expected, `(at byte ${this.#lineStart}) is not a valid record: ${parsed.problem}`);
        return false;
      }
      const record = parsed.record;
      if (entry && end.records === this.#firstInFile && (record.seq !== entry.firstSeq || record.prevHash !== entry.firstPrevHash)) {
        end.problem = mismatch(this.#layout, this.#logFile, entry.firstSeq, `starts with seq ${record.seq}, the manifest says seq ${entry.firstSeq} continuing the previous segment`);
        return false;
      }
      const length = newline + 1 - from;
      visit(record, this.#logFile.baseOffsetBytes + this.#lineStart, length);
      end.records += 1;
      end.lastSeq = record.seq;
      this.lastHash = record.hash;
      this.#lineStart += length;
      from = newline + 1;
    }
    this.#carry = Buffer.from(data.subarray(from));
    if (this.#carry.length > MAX_LINE_BYTES) {
      end.problem = corrupt(file, end.lastSeq + 1, `(at byte ${this.#lineStart}) is a line longer than ${MAX_LINE_BYTES} bytes`);
      return false;
    }
    return true;
  }

  #finish(): void {
    const end = this.#end;
    const entry = this.#logFile.entry;
    const sealed = entry !== null && entry.lastSeq !== null;
    if (this.#carry.length > 0) {
      if (sealed) end.problem = mismatch(this.#layout, this.#logFile, end.lastSeq + 1, 'ends in a partial record although it is sealed');
      else end.tornTail = { file: this.#logFile.file, offsetBytes: this.#lineStart, lengthBytes: this.#carry.length };
      return;
    }
    if (sealed && (end.records === this.#firstInFile || end.lastSeq !== entry.lastSeq)) {
      end.problem = mismatch(this.#layout, this.#logFile, entry.lastSeq ?? entry.firstSeq, `ends at seq ${end.records === this.#firstInFile ? 'none' : end.lastSeq}, the manifest says seq ${entry.lastSeq ?? '?'}`);
    }
  }

  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }
}

/** Streams a log's records (a single file, or a segmented log's directory) in constant memory; see AttestationLogReader. */
export function iterateAttestationLog(path: string, options: LogIterationOptions = {}): AttestationLogReader {
  return new AttestationLogReader(path, options);
}

/** What `readAttestationLog` found. */
export interface LogReadout {
  /** Every complete record before the first problem (the whole log is in memory). */
  records: Attestation[];
  tornTail: TornTail | null;
  /** What ended the read before the end of the log (code and seq), or null. */
  problem: AttestationError | null;
}

/** The largest log `readAttestationLog` loads unless told otherwise (64 MiB, some 55,000 records). */
export const DEFAULT_READ_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Reads a whole log INTO MEMORY (an array of every record): for small logs, tests and tools.
 * Refuses a log larger than `maxBytes` (default 64 MiB) with ATTESTATION_LOG_TOO_LARGE: stream
 * anything larger with `iterateAttestationLog`. Never judges the chain; throws ATTESTATION_IO when
 * the log cannot be read at all (none there), and returns any other problem in `problem`.
 */
export function readAttestationLog(path: string, options: { maxBytes?: number } = {}): LogReadout {
  const maxBytes = parseInput(z.strictObject({ maxBytes: z.number().int().min(0).optional() }), options, 'options').maxBytes ?? DEFAULT_READ_MAX_BYTES;
  const empty: LogEnd = { records: 0, lastSeq: 0, tornTail: null, problem: null };
  const layout = inspect(path, empty);
  if (empty.problem?.code === 'ATTESTATION_IO') throw empty.problem;
  if (empty.problem) return { records: [], tornTail: null, problem: empty.problem };
  if (!layout) throw new AttestationError('ATTESTATION_IO', `cannot read attestation log ${path}: no such file or directory`, { path, seq: 1 });
  const bytes = layout.files.reduce((sum, file) => sum + file.sizeBytes, 0);
  if (bytes > maxBytes) {
    throw new AttestationError('ATTESTATION_LOG_TOO_LARGE', `attestation log ${path} has ${bytes} bytes, more than readAttestationLog loads (${maxBytes}); stream it with iterateAttestationLog`, {
      path,
      seq: (layout.files[0]?.entry?.firstSeq ?? 1),
    });
  }
  const records: Attestation[] = [];
  const end = scanLayout(layout, (record) => records.push(record));
  return { records, tornTail: end.tornTail, problem: end.problem };
}
