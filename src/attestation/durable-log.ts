/**
 * The durable, append-only attestation log: one canonical-JSON record per line (JSON Lines), in a
 * single file or in segments (log-segments.ts). Options are validated with zod (log-options.ts).
 *
 * Durability modes (log-options.ts):
 * - `fsync`: every append is written (one write syscall) and fdatasync'ed before `append` returns
 *   (the returned promise is already settled); the store's appends go through `appendSealed`, one
 *   native call that hashes the record's text, writes its line and syncs it (native/binding/
 *   log_append_wrap.cc), with `appendLine` (the same bytes from JS) where the addon is missing;
 * - `group`: appends are buffered and written + fdatasync'ed together every `groupCommitMs`
 *   (0: as soon as the current synchronous run of work ends, a microtask); each append's promise
 *   resolves only once its batch is on disk (group commit). One batch syncs at a time: appends
 *   made while one syncs form the next batch, committed as soon as that one is on disk. The write
 *   is made from this thread (to the page cache); only the fdatasync waits in libuv's pool.
 * `durableSeq` is the last seq known to be on disk. A new log file (or segment directory) is
 * fsync'ed into its directory before the first record is acknowledged.
 *
 * Segments (`segmentBytes`): before a record would make the active segment larger than
 * `segmentBytes`, the log rotates: the active segment is already on disk; a new empty segment file
 * is created and its directory fsync'ed; then the manifest is replaced atomically, sealing the old
 * segment (its last seq and hash, its size) and listing the new one as active. A crash between
 * the two steps leaves an empty, unlisted next segment, which opening removes; a crash at any
 * other point leaves the manifest and the files agreeing.
 *
 * On open, the log is read as a stream (log-reader.ts); a partial last line (a write torn by a
 * crash) is reported and never parsed or replayed; a complete line that is not a valid record is
 * corruption (ATTESTATION_LOG_CORRUPT, naming the seq). `readBytes` reads written parts back (the
 * store's reads beyond its window), addressing the segments end to end as one byte sequence.
 */
import { closeSync, fdatasync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { getSystemErrorName } from 'node:util';
import { canonicalJson } from './canonical-json.js';
import { AttestationError } from './errors.js';
import { resolveLogOptions, type DurabilityMode, type DurableLogOptions, type ResolvedLogOptions } from './log-options.js';
import { scanLayout, tornTailError, type LogVisitor, type TornTail } from './log-reader.js';
import { createSegmentedLog, fsyncDirectory, inspectLog, MANIFEST_FILE, rotateSegment, segmentName, writeManifest, type LogFile, type LogLayout, type LogManifest, type SegmentEntry } from './log-segments.js';
import { GENESIS_HASH, type Attestation } from './record.js';
import { InputError } from '../errors.js';
import { nativeBinding } from '../native/loader.js';
import { SEALED_APPEND_OK, SEALED_APPEND_OUT_SLOTS, SEALED_APPEND_WRITE_FAILED, type LogBinding } from '../native/log-binding.js';

export type { DurabilityMode, DurableLogOptions } from './log-options.js';
export { iterateAttestationLog, readAttestationLog, scanAttestationLog, AttestationLogReader, type LogEnd, type LogReadout, type LogVisitor, type TornTail } from './log-reader.js';

/** Where a chain starts: the seq before the log's first record and that record's prevHash. */
export interface LogStart {
  seq: number;
  hash: string;
}

/** What a record adds to the chain: its seq and the hash it links to (the rotation needs them). */
export interface ChainLink {
  readonly seq: number;
  readonly prevHash: string;
}

/** The records waiting for the next group commit: their text, UTF-8 length and link, and the one promise they share. */
interface Batch {
  texts: string[];
  lengths: number[];
  links: ChainLink[];
  done: Promise<void>;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** A file of the log as the writer tracks it. */
interface Segment {
  file: string;
  entry: SegmentEntry | null;
  baseOffsetBytes: number;
  sizeBytes: number;
}

const settled = Promise.resolve();

/** What appendSealedLine reports (bytes written, status, errno); one per thread, reused. */
const sealedAppendOut = new Float64Array(SEALED_APPEND_OUT_SLOTS);
/** `,"hash":"` + 64 hex digits + `"` + the newline: the bytes a sealed line adds to its text. */
const HASH_FIELD_AND_NEWLINE_BYTES = 75;
let sealedAppender: LogBinding | null | undefined;

/** The addon's one-call append, or null when the addon cannot be loaded here (or predates it): the JS path then. */
function nativeAppender(): LogBinding | null {
  if (sealedAppender === undefined) {
    try {
      const binding = nativeBinding();
      sealedAppender = typeof binding.appendSealedLine === 'function' ? binding : null;
    } catch {
      sealedAppender = null;
    }
  }
  return sealedAppender;
}

/** A record's line appended by `appendSealed`: its hash, the line's bytes (newline included) and when it is durable. */
export interface SealedAppend {
  readonly hash: string;
  readonly lengthBytes: number;
  readonly durable: Promise<void>;
}

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
  return { texts: [], lengths: [], links: [], done, resolve, reject };
}

/** The sum of `values[from..to)`. */
function sum(values: readonly number[], from: number, to: number): number {
  let total = 0;
  for (let index = from; index < to; index += 1) total += values[index] as number;
  return total;
}

function ioError(path: string, action: string, cause: unknown, seq?: number): AttestationError {
  return new AttestationError('ATTESTATION_IO', `cannot ${action} attestation log ${path}: ${(cause as Error).message}`, { cause, path, ...(seq !== undefined ? { seq } : {}) });
}

/** An open append-only log. Not safe from several threads: one writer per log. */
export class DurableLog {
  /** The log path (a file, or a segmented log's directory). */
  readonly path: string;
  /** The durability mode. */
  readonly durability: DurabilityMode;
  private readonly groupCommitMs: number;
  /** The manifest of a segmented log (replaced at each rotation), or null. */
  private manifest: LogManifest | null;
  private readonly segments: Segment[];
  /** The active file's descriptor (append + read), or null once closed. */
  private fd: number | null;
  /** A sealed segment kept open for reads back. */
  private reader: { file: string; fd: number } | null = null;
  /** The records appended since the last commit started (group mode). */
  private batch: Batch = newBatch();
  /** Cancels the scheduled group commit, or null when none is scheduled. */
  private cancelScheduled: (() => void) | null = null;
  /** The batch being written and synced, or null: one at a time, so what comes meanwhile is the next group. */
  private syncing: Batch | null = null;
  /** A commit of `batch` was asked for while another was syncing: it starts when that one is done. */
  private commitAfterSync = false;
  private failure: AttestationError | null = null;
  private readonly failureListeners = new Set<(error: AttestationError) => void>();
  /** Bytes of the log that are written (readable back), across segments. */
  private written: number;
  private synced: number;

  private constructor(path: string, fd: number, options: ResolvedLogOptions, manifest: LogManifest | null, segments: Segment[], lastSeq: number) {
    this.path = path;
    this.fd = fd;
    this.durability = options.durability;
    this.groupCommitMs = options.groupCommitMs;
    this.manifest = manifest;
    this.segments = segments;
    const active = segments.at(-1) as Segment;
    this.written = active.baseOffsetBytes + active.sizeBytes;
    this.synced = lastSeq;
  }

  /**
   * Opens (or creates) a log and reads what it holds. A torn tail throws ATTESTATION_TORN_TAIL
   * unless `repairTornTail` is set, in which case it is cut off and reported in `tornTail`;
   * corruption throws ATTESTATION_LOG_CORRUPT, a segmented log whose files do not match its
   * manifest the ATTESTATION_SEGMENT_* codes; bad options an InputError. Holds every record: for a
   * long log use `openScanning` (the store does).
   */
  static open(path: string, options: DurableLogOptions = {}, start: LogStart = { seq: 0, hash: GENESIS_HASH }): { log: DurableLog; records: Attestation[]; tornTail: TornTail | null } {
    const records: Attestation[] = [];
    const { log, tornTail } = DurableLog.openScanning(path, options, (record) => records.push(record), start);
    return { log, records, tornTail };
  }

  /** Like `open`, but hands each record to `visit` (with its line's offset in the log and length) instead of returning them all. */
  static openScanning(path: string, options: DurableLogOptions, visit: LogVisitor, start: LogStart = { seq: 0, hash: GENESIS_HASH }): { log: DurableLog; records: number; tornTail: TornTail | null } {
    const resolved = resolveLogOptions(options);
    let layout: LogLayout | null = inspectLog(path);
    if (layout && layout.manifest === null && resolved.segmentBytes !== undefined && (layout.files[0]?.sizeBytes ?? 0) > 0) {
      throw new InputError(`options.segmentBytes: the log ${path} is a single file; a segmented log is a directory (start one at a new path)`, { field: 'options.segmentBytes' });
    }
    if (!layout && resolved.segmentBytes !== undefined) {
      createSegmentedLog(path, resolved.segmentBytes, start);
      layout = inspectLog(path);
    }
    const end = scanLayout(layout, visit, { afterSeq: layout?.manifest ? (layout.files[0]?.entry?.firstSeq ?? 1) - 1 : start.seq });
    if (end.problem) throw end.problem;
    if (end.tornTail && !resolved.repairTornTail) throw tornTailError(path, end.tornTail, end.lastSeq);
    let manifest = layout?.manifest ?? null;
    const segments: Segment[] = (layout?.files ?? [{ file: path, entry: null, baseOffsetBytes: 0, sizeBytes: 0 }]).map((file: LogFile) => ({ ...file }));
    const active = segments.at(-1) as Segment;
    let fd: number;
    try {
      fd = openSync(active.file, 'a+');
      if (!layout) fsyncDirectory(dirname(path)); // the new file's name is durable before any record is acknowledged
      if (end.tornTail) {
        ftruncateSync(fd, end.tornTail.offsetBytes);
        fdatasyncSync(fd);
      }
      active.sizeBytes = fstatSync(fd).size;
      if (layout?.leftover) {
        rmSync(layout.leftover);
        fsyncDirectory(path);
      }
      if (manifest) rmSync(join(path, `${MANIFEST_FILE}.tmp`), { force: true });
    } catch (cause) {
      throw ioError(path, 'open', cause, end.lastSeq + 1);
    }
    if (manifest && resolved.segmentBytes !== undefined && resolved.segmentBytes !== manifest.segmentBytes) {
      manifest = { ...manifest, segmentBytes: resolved.segmentBytes };
      writeManifest(path, manifest);
    }
    return { log: new DurableLog(path, fd, resolved, manifest, segments, end.lastSeq), records: end.records, tornTail: end.tornTail };
  }

  /** Bytes of the log written so far (everything before this offset can be read back). */
  get writtenBytes(): number {
    return this.written;
  }

  /** The last seq known to be on disk (written and fdatasync'ed). */
  get durableSeq(): number {
    return this.synced;
  }

  /** The segment size of a segmented log, or null for a single file. */
  get segmentBytes(): number | null {
    return this.manifest?.segmentBytes ?? null;
  }

  /** How many files the log has (1 for a single file). */
  get segmentCount(): number {
    return this.segments.length;
  }

  /**
   * Reads `lengthBytes` written bytes at `offsetBytes` (within `writtenBytes`, segments end to end).
   * Throws ATTESTATION_LOG_CLOSED after close, ATTESTATION_IO when the read fails or comes up short.
   */
  readBytes(offsetBytes: number, lengthBytes: number): Buffer {
    if (this.fd === null) throw new AttestationError('ATTESTATION_LOG_CLOSED', `attestation log ${this.path} is closed`, { path: this.path });
    const buffer = Buffer.allocUnsafe(lengthBytes);
    let done = 0;
    try {
      while (done < lengthBytes) {
        const at = offsetBytes + done;
        const segment = this.segmentAt(at);
        if (!segment) throw new Error(`the log ends before byte ${at}, ${lengthBytes - done} bytes short`);
        const fd = segment === this.segments.at(-1) ? this.fd : this.readerFor(segment.file);
        const wanted = Math.min(lengthBytes - done, segment.baseOffsetBytes + segment.sizeBytes - at);
        const read = readSync(fd, buffer, done, wanted, at - segment.baseOffsetBytes);
        if (read === 0) throw new Error(`${segment.file} ends at ${at - segment.baseOffsetBytes}, ${lengthBytes - done} bytes short`);
        done += read;
      }
    } catch (cause) {
      throw ioError(this.path, 'read', cause);
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
    return this.appendLine(canonicalJson(record), record);
  }

  /**
   * Appends a record given as its canonical JSON line (no newline), e.g. from sealRecordWithLine,
   * with its chain link; `lengthBytes`, when the caller has it, is the line's UTF-8 length plus
   * the newline (not counted again).
   */
  appendLine(line: string, link: ChainLink, lengthBytes?: number): Promise<void> {
    if (this.failure) return handledRejection(this.failure);
    if (this.fd === null) return handledRejection(this.fail(new AttestationError('ATTESTATION_LOG_CLOSED', `attestation log ${this.path} is closed`, { path: this.path, seq: link.seq })));
    if (this.durability === 'fsync') {
      try {
        // One write syscall straight from the string (no Buffer copy in JS), then one fdatasync; a
        // short write, rare on a regular file, is continued from the bytes not written.
        const text = `${line}\n`;
        const length = lengthBytes ?? Buffer.byteLength(text, 'utf8');
        this.rotateBefore(length, link);
        const fd = this.fd;
        this.writeAll(fd, text, length);
        fdatasyncSync(fd);
        this.synced = link.seq;
        return settled;
      } catch (cause) {
        return handledRejection(this.fail(cause, link.seq));
      }
    }
    const batch = this.batch;
    batch.texts.push(`${line}\n`);
    batch.lengths.push(lengthBytes ?? Buffer.byteLength(line, 'utf8') + 1);
    batch.links.push(link);
    this.cancelScheduled ??= this.scheduleCommit();
    return batch.done;
  }

  /**
   * `fsync` mode's one-call append: hashes a record's canonical text given in its two halves
   * around `hash` (record-text.ts), writes the line `head,"hash":"…"tail` and fdatasyncs it, in one
   * native call (the code between a request and its write runs cold after the previous sync: the
   * less of it, the closer an acknowledgement is to the raw write + fdatasync). Null when it does
   * not apply (group mode, a failed or closed log, no addon here): the caller seals in JS and uses
   * `appendLine`, which writes the same bytes. A failed write or sync rejects `durable` (handled)
   * and fails the log, as `appendLine` does.
   */
  appendSealed(head: string, tail: string, link: ChainLink): SealedAppend | null {
    if (this.durability !== 'fsync' || this.failure || this.fd === null) return null;
    const appender = nativeAppender();
    if (appender === null) return null;
    const lineBytes = () => Buffer.byteLength(head, 'utf8') + Buffer.byteLength(tail, 'utf8') + HASH_FIELD_AND_NEWLINE_BYTES;
    if (this.manifest) {
      // A segmented log rotates before a record that would not fit: it needs the length first.
      try {
        this.rotateBefore(lineBytes(), link);
      } catch (cause) {
        this.fail(cause, link.seq);
        return null; // the caller's JS path rejects the record with the failure
      }
    }
    const out = sealedAppendOut;
    const hash = appender.appendSealedLine(this.fd as number, head, tail, out);
    if (hash === undefined) return null;
    const written = out[0] as number;
    this.grow(written);
    if (out[1] !== SEALED_APPEND_OK) {
      const errno = out[2] as number;
      const syscall = out[1] === SEALED_APPEND_WRITE_FAILED ? 'write' : 'fdatasync';
      const code = errno > 0 ? getSystemErrorName(-errno) : 'EIO';
      const cause = Object.assign(new Error(`${code}: ${syscall} failed`), { code, errno: -errno, syscall });
      return { hash, lengthBytes: lineBytes(), durable: handledRejection(this.fail(cause, link.seq)) };
    }
    this.synced = link.seq;
    return { hash, lengthBytes: written, durable: settled };
  }

  /** Writes and syncs everything appended so far; rejects with the log's failure when that cannot be. */
  flush(): Promise<void> {
    return this.commitBatch();
  }

  /**
   * Flushes, then closes the files; idempotent. Records appended while it flushes are flushed too:
   * the descriptor is closed only once no batch is pending or syncing (a batch's fdatasync queued
   * in the thread pool would otherwise run on a closed descriptor, or on another file that reused
   * its number).
   */
  async close(): Promise<void> {
    while (this.syncing !== null || this.batch.texts.length > 0) await this.flush().catch(() => undefined);
    if (this.fd !== null) {
      const fd = this.fd;
      this.fd = null;
      closeSync(fd);
    }
    if (this.reader) {
      closeSync(this.reader.fd);
      this.reader = null;
    }
  }

  /** Reports a failure found outside an append (a record that cannot be read back): the log is
   *  failed from then on, as after a failed write, and the listeners are told. */
  reportFailure(cause: unknown): void {
    this.fail(cause);
  }

  /**
   * Starts the group commit of the records appended so far, or, when a batch is syncing, lets them
   * follow it (they are the next group). Resolves when they are durable; rejects with the log's
   * failure when they cannot be.
   */
  private commitBatch(): Promise<void> {
    if (this.cancelScheduled) {
      this.cancelScheduled();
      this.cancelScheduled = null;
    }
    const batch = this.batch;
    if (batch.texts.length === 0) {
      // Nothing pending: settles when the batch syncing (if any) is on disk.
      return this.syncing ? this.syncing.done : this.failure ? handledRejection(this.failure) : settled;
    }
    if (this.syncing) {
      this.commitAfterSync = true;
      return batch.done;
    }
    // Take the batch now: appends made while it is written go to the next one.
    this.batch = newBatch();
    this.syncing = batch;
    this.writeBatch(batch, 0);
    return batch.done;
  }

  /**
   * Writes `batch` from its `from`th record: the records that fit in the active segment in one
   * write (straight from the string for a lone record), then one fdatasync in the thread pool; then
   * it rotates and goes on, or settles the batch. The write goes to the page cache from this
   * thread (microseconds); only the fdatasync waits in the pool, so a lone record's acknowledgement
   * costs one hand-off there and back.
   */
  private writeBatch(batch: Batch, from: number): void {
    try {
      if (this.failure) throw this.failure;
      const { texts, lengths, links } = batch;
      while (from < texts.length) {
        const count = this.fitting(lengths, from);
        if (count === 0) {
          this.rotateBefore(lengths[from] as number, links[from] as ChainLink);
          continue;
        }
        const lastSeq = (links[from + count - 1] as ChainLink).seq;
        const fd = this.fd;
        if (fd === null) throw this.fail(new AttestationError('ATTESTATION_LOG_CLOSED', `attestation log ${this.path} is closed`, { path: this.path, seq: lastSeq }));
        const next = from + count;
        this.writeAll(fd, count === 1 ? (texts[from] as string) : texts.slice(from, next).join(''), count === 1 ? (lengths[from] as number) : sum(lengths, from, next));
        fdatasync(fd, (error) => {
          if (error) return this.settleBatch(batch, error);
          this.synced = Math.max(this.synced, lastSeq);
          if (next < texts.length) this.writeBatch(batch, next);
          else this.settleBatch(batch, null);
        });
        return;
      }
      this.settleBatch(batch, null);
    } catch (cause) {
      this.settleBatch(batch, cause);
    }
  }

  /**
   * Settles a batch (on disk, or failed) and starts the next group when one was asked for meanwhile.
   * Any failure fails the log (an AttestationError too, such as a rotation's: the listeners halt the
   * registrar), and the batch is rejected with the log's first failure.
   */
  private settleBatch(batch: Batch, cause: unknown): void {
    this.syncing = null;
    if (cause === null) batch.resolve();
    else batch.reject(this.fail(cause, batch.links[0]?.seq));
    if (this.commitAfterSync) {
      this.commitAfterSync = false;
      void this.commitBatch();
    }
  }

  /** Writes `text` (`lengthBytes` in UTF-8) with one write syscall, continuing a short write from the bytes not written. */
  private writeAll(fd: number, text: string, lengthBytes: number): void {
    const wrote = writeSync(fd, text);
    this.grow(wrote);
    if (wrote < lengthBytes) {
      const bytes = Buffer.from(text, 'utf8');
      for (let offset = wrote; offset < lengthBytes; ) {
        const more = writeSync(fd, bytes, offset, lengthBytes - offset);
        offset += more;
        this.grow(more);
      }
    }
  }

  /** How many records from `from` fit in the active segment (all of them for a single file; at least one in an empty segment). */
  private fitting(lengths: readonly number[], from: number): number {
    const limit = this.manifest?.segmentBytes;
    if (limit === undefined) return lengths.length - from;
    const active = this.segments.at(-1) as Segment;
    let bytes = 0;
    let count = 0;
    for (let index = from; index < lengths.length; index += 1) {
      const length = lengths[index] as number;
      if (active.sizeBytes + bytes > 0 && active.sizeBytes + bytes + length > limit) break;
      bytes += length;
      count += 1;
    }
    return count;
  }

  /** Counts bytes written to the active segment. */
  private grow(bytes: number): void {
    this.written += bytes;
    (this.segments.at(-1) as Segment).sizeBytes += bytes;
  }

  /**
   * Rotates a segmented log when a record of `lengthBytes` would take the active segment past
   * `segmentBytes` (never an empty one). The active segment is on disk already (see the file
   * comment for the order of the steps). Throws ATTESTATION_IO.
   */
  private rotateBefore(lengthBytes: number, next: ChainLink): void {
    const manifest = this.manifest;
    const active = this.segments.at(-1) as Segment;
    if (!manifest || !active.entry || active.sizeBytes === 0 || active.sizeBytes + lengthBytes <= manifest.segmentBytes) return;
    const { fd, file, manifest: rotated, sealed, opened } = rotateSegment(this.path, manifest, active.sizeBytes, next);
    this.manifest = rotated;
    active.entry = sealed;
    const previous = this.fd;
    this.fd = fd;
    if (previous !== null) closeSync(previous);
    this.segments.push({ file, entry: opened, baseOffsetBytes: active.baseOffsetBytes + active.sizeBytes, sizeBytes: 0 });
  }

  /** The segment holding byte `offset` of the log. */
  private segmentAt(offset: number): Segment | undefined {
    let low = 0;
    let high = this.segments.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const segment = this.segments[middle] as Segment;
      if (offset < segment.baseOffsetBytes) high = middle - 1;
      else if (offset >= segment.baseOffsetBytes + segment.sizeBytes) low = middle + 1;
      else return segment;
    }
    return undefined;
  }

  /** A read descriptor for a sealed segment (one kept open at a time). */
  private readerFor(file: string): number {
    if (this.reader?.file === file) return this.reader.fd;
    if (this.reader) closeSync(this.reader.fd);
    this.reader = null;
    const fd = openSync(file, 'r');
    this.reader = { file, fd };
    return fd;
  }

  /**
   * Schedules the next group commit: after `groupCommitMs`, or with 0 as soon as the current
   * synchronous run of work ends (a microtask: a 0 ms timer would wait at least 1 ms, and
   * setImmediate a turn of the event loop). Either way a batch that finds another syncing follows it.
   */
  private scheduleCommit(): () => void {
    if (this.groupCommitMs > 0) {
      const timer = setTimeout(() => void this.commitBatch(), this.groupCommitMs);
      return () => clearTimeout(timer);
    }
    let cancelled = false;
    queueMicrotask(() => {
      if (cancelled) return;
      this.cancelScheduled = null;
      void this.commitBatch();
    });
    return () => {
      cancelled = true;
    };
  }

  /** Records the first failure (every later append fails with it) and tells the listeners. */
  private fail(cause: unknown, seq?: number): AttestationError {
    if (!this.failure) {
      this.failure = cause instanceof AttestationError ? cause : ioError(this.path, 'write', cause, seq);
      for (const listener of this.failureListeners) listener(this.failure);
    }
    return this.failure;
  }
}

/** The name a segmented log's directory gives its `index`th segment, for tools and tests. */
export function segmentFile(path: string, index: number): string {
  return join(path, segmentName(index));
}
