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
 * The reader does not judge the hash chain: the store (on open) and `verify` do. It does check, for
 * each record, whether its hash covers the bytes of its line (line-hash.ts), and notes the records
 * where it does, so that those consumers need not re-serialise them (`recordHashHolds`). A scan for
 * verification only (`scanAttestationLogViews`) hands out small views of the records instead
 * (line-check.ts), made on worker threads while this thread follows the log (line-check-pool.ts).
 * Files are read by line-cursor.ts.
 */
import { z } from 'zod';
import { AttestationError } from './errors.js';
import { CheckPipeline, defaultCheckWorkers, MAX_CHECK_WORKERS, type CheckTicket } from './line-check-pool.js';
import type { LinesChecked } from './line-check.js';
import { LineCursor, lastHashProblem, type CursorChunk, type LogEnd, type LogViewVisitor, type LogVisitor, type TornTail } from './line-cursor.js';
import type { LineHashing } from './line-hash.js';
import { inspectLog, type LogLayout } from './log-segments.js';
import type { Attestation } from './record.js';
import { parseInput } from '../validation.js';

export { MAX_LINE_BYTES } from './line-cursor.js';
export type { LogEnd, LogViewVisitor, LogVisitor, TornTail } from './line-cursor.js';

/** Options of a read. */
export interface LogReadOptions {
  /** Seq of the record before the log's first (a log continuing a snapshot); default 0, or a segmented log's first segment's. */
  afterSeq?: number;
  /**
   * How each record's hash is checked (line-hash.ts): `line` (default) on its line's bytes first,
   * then, when they differ, over its canonical JSON; `canonical` only over its canonical JSON (the
   * slower path, kept as a baseline).
   */
  hashing?: LineHashing;
  /**
   * Worker threads that check lines in a scan for verification (`scanAttestationLogViews`):
   * 0 checks on this thread; default one less than the cores (so 1 on 2 cores, 0 on one; the
   * reading thread checks chunks too while it waits) for logs of PARALLEL_CHECK_MIN_BYTES
   * (64 MiB, some 55,000 records) or more, 0 below: starting a worker costs some 0.1 s of CPU
   * (0.35 s from TypeScript sources under tsx), more than it saves on a shorter log.
   */
  checkWorkers?: number;
}

/** Logs at least this large are checked on worker threads by default (see `checkWorkers`). */
export const PARALLEL_CHECK_MIN_BYTES = 64 * 1024 * 1024;

/**
 * Reads every record of an inspected log in order, handing each to `visit`; never throws an
 * AttestationError (it ends the read and is returned in `problem`), only what `visit` throws.
 */
export function scanLayout(layout: LogLayout | null, visit: LogVisitor, options: LogReadOptions = {}): LogEnd {
  const first = layout?.files[0]?.entry;
  const end: LogEnd = { records: 0, lastSeq: options.afterSeq ?? (first ? first.firstSeq - 1 : 0), tornTail: null, problem: null };
  if (!layout) return end;
  const hashing = options.hashing ?? 'line';
  for (const logFile of layout.files) {
    const cursor = new LineCursor(layout, logFile, end);
    try {
      while (cursor.next(visit, hashing));
    } finally {
      cursor.close();
    }
    end.problem ??= lastHashProblem(layout, logFile, cursor.lastHash);
    if (end.problem || end.tornTail) break;
  }
  return end;
}

/**
 * `scanLayout` for verification: hands `visit` each record's view (line-check.ts) instead of the
 * record, with the same order, problems and end. The lines are checked on `checkWorkers` worker
 * threads while this thread takes their views in order (line-check-pool.ts), at most a few chunks
 * ahead, or on this thread when there are none (or none ready yet).
 */
export function scanLayoutViews(layout: LogLayout | null, visit: LogViewVisitor, options: LogReadOptions = {}): LogEnd {
  const first = layout?.files[0]?.entry;
  const end: LogEnd = { records: 0, lastSeq: options.afterSeq ?? (first ? first.firstSeq - 1 : 0), tornTail: null, problem: null };
  if (!layout) return end;
  const bytes = layout.files.reduce((sum, file) => sum + file.sizeBytes, 0);
  const workers = options.checkWorkers ?? (bytes >= PARALLEL_CHECK_MIN_BYTES ? defaultCheckWorkers() : 0);
  const hashing = options.hashing ?? 'line';
  const pipeline = new CheckPipeline(workers, hashing);
  try {
    for (const logFile of layout.files) {
      const cursor = new LineCursor(layout, logFile, end);
      try {
        takeFile(cursor, pipeline, visit);
      } finally {
        cursor.close();
      }
      end.problem ??= lastHashProblem(layout, logFile, cursor.lastHash);
      if (end.problem || end.tornTail) break;
    }
  } finally {
    pipeline.close();
  }
  return end;
}

/** Chunks checked ahead of the one being waited for, on this thread: bounded, so memory stays constant. */
const CHECKED_AHEAD_MAX = 2;

/** A chunk of a file in flight: with a worker, or already checked on this thread. */
type InFlight = { readonly ticket: CheckTicket } | { readonly checked: LinesChecked };

/**
 * Takes one file's views in order. Every free worker slot gets the next chunk as it is read;
 * while the oldest chunk is still with its worker, this thread checks the next chunk itself
 * (at most CHECKED_AHEAD_MAX ahead), so it neither idles nor leaves a core to a third thread; with
 * no worker it checks every chunk.
 */
function takeFile(cursor: LineCursor, pipeline: CheckPipeline, visit: LogViewVisitor): void {
  const inFlight: InFlight[] = [];
  let ended: CursorChunk | null = null; // how the file ended, read ahead of the chunks in flight
  /** Reads the next chunk into this cursor's buffer and checks it here (false at the file's end). */
  const checkNextHere = (): boolean => {
    const chunk = cursor.read();
    if (!('lines' in chunk)) {
      ended = chunk;
      return false;
    }
    inFlight.push({ checked: pipeline.checkHere(chunk.lines) });
    return true;
  };
  try {
    for (;;) {
      for (let claim = ended === null ? pipeline.claim() : null; claim !== null; claim = ended === null ? pipeline.claim() : null) {
        const chunk = cursor.read(claim.buffer);
        if (!('lines' in chunk)) {
          pipeline.release(claim);
          ended = chunk;
          break;
        }
        const ticket = pipeline.dispatch(claim, chunk.lines);
        // A region too large for a slot (a line longer than a chunk) is checked here, in its place.
        inFlight.push(ticket ? { ticket } : { checked: pipeline.checkHere(chunk.lines) });
      }
      const head = inFlight[0];
      if (head === undefined) {
        if (ended !== null) {
          cursor.settle(ended);
          return;
        }
        checkNextHere();
        continue;
      }
      let checked = 'checked' in head ? head.checked : pipeline.result(head.ticket, false);
      if (checked === null) {
        // The oldest chunk is still with its worker: check the next one here meanwhile.
        const checkedAhead = inFlight.reduce((count, entry) => count + ('checked' in entry ? 1 : 0), 0);
        if (ended === null && checkedAhead < CHECKED_AHEAD_MAX && checkNextHere()) continue;
        checked = pipeline.result((head as { ticket: CheckTicket }).ticket, true);
      }
      inFlight.shift();
      if (!cursor.takeViews(checked, visit)) return;
    }
  } finally {
    pipeline.discard(inFlight.flatMap((entry) => ('ticket' in entry ? [entry.ticket] : [])));
  }
}

/** Like `scanAttestationLog`, with views of the records (see `scanLayoutViews`): for `verifyLog` and `verify`. */
export function scanAttestationLogViews(path: string, visit: LogViewVisitor, options: LogReadOptions = {}): LogEnd {
  const end: LogEnd = { records: 0, lastSeq: options.afterSeq ?? 0, tornTail: null, problem: null };
  const layout = inspect(path, end);
  if (end.problem) return end;
  return scanLayoutViews(layout, visit, options);
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
  hashing: z.enum(['line', 'canonical']).optional(),
  checkWorkers: z.number().int().min(0).max(MAX_CHECK_WORKERS).optional(),
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
    const end = this.#start();
    const layout = this.#layout(end);
    // Records are handed out as they are read: the visitor parks each one for the generator to yield.
    if (layout !== null) yield* this.#stream(layout, end);
    this.#settle(end);
  }

  /**
   * Reads the log as views of its records (line-check.ts) rather than records, for a verification
   * that needs nothing else (`verify` without replay): the lines are checked on worker threads
   * (`checkWorkers`) while `visit` takes the views in order. Ends (and throws, when strict) like an
   * iteration, and sets `records`, `lastSeq`, `tornTail` and `problem` the same way.
   */
  scanViews(visit: LogViewVisitor): void {
    const end = this.#start();
    const layout = this.#layout(end);
    if (layout !== null) Object.assign(end, scanLayoutViews(layout, visit, this.#options));
    this.#settle(end);
  }

  /** The end state of a read that has not read anything yet. */
  #start(): LogEnd {
    return { records: 0, lastSeq: this.#options.afterSeq ?? 0, tornTail: null, problem: null };
  }

  /** The log's layout, or null with `end.problem` set (a missing log is ATTESTATION_IO). */
  #layout(end: LogEnd): ReturnType<typeof inspect> {
    const layout = inspect(this.path, end);
    if (end.problem === null && layout === null) {
      end.problem = new AttestationError('ATTESTATION_IO', `cannot read attestation log ${this.path}: no such file or directory`, { path: this.path, seq: end.lastSeq + 1 });
    }
    return end.problem === null ? layout : null;
  }

  /** Records how a read ended; throws its problem (or torn tail) when strict. */
  #settle(end: LogEnd): void {
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
    const hashing = this.#options.hashing ?? 'line';
    for (const logFile of layout.files) {
      const cursor = new LineCursor(layout, logFile, end);
      try {
        for (let more = true; more; ) {
          more = cursor.next(park, hashing);
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
