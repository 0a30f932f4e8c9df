/**
 * One file of an attestation log read chunk by chunk (the pull form of `readFile`), for the log
 * reader (log-reader.ts): `read` returns the next chunk's whole lines (or how the file ended), and
 * the lines are then taken in order, either as records parsed here (`takeRecords`) or as views a
 * line check made of them, here or on a worker (`takeViews`, line-check.ts). Reading and taking
 * are apart so that a reader may read ahead while workers check; every problem is judged when it
 * is taken, with the seq and byte offset the records before it leave (see log-reader.ts for the
 * codes). A partial line is carried into the next chunk; a line longer than MAX_LINE_BYTES is
 * corruption, not held in memory.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { AttestationError } from './errors.js';
import { RecordViews, type LinesChecked, type RecordView } from './line-check.js';
import { parseLogLine } from './duplicate-keys.js';
import { canonicalLineDigest, markHashedFromLine, type LineHashing } from './line-hash.js';
import type { LogFile, LogLayout } from './log-segments.js';
import { parseOwnedRecord, type Attestation } from './record.js';

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

/** Called for each record's view (line-check.ts), with where its line starts in the log's byte sequence. */
export type LogViewVisitor = (view: RecordView, offsetBytes: number) => void;

/** Bytes read per chunk. */
export const CHUNK_BYTES = 1 << 20;

/** No record's line comes near this (records are a few KiB); a longer one is corruption, not held in memory. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** What `LineCursor.read` found: a chunk's whole lines, or how the file ended. */
export type CursorChunk = { readonly lines: Buffer } | { readonly ended: 'file' | 'long-line' | 'unreadable'; readonly cause?: unknown };

function corrupt(file: string, seq: number, message: string): AttestationError {
  return new AttestationError('ATTESTATION_LOG_CORRUPT', `attestation log ${file}: the record for seq ${seq} ${message}`, { path: file, seq });
}

function mismatch(layout: LogLayout, logFile: LogFile, seq: number, message: string): AttestationError {
  return new AttestationError('ATTESTATION_SEGMENT_MISMATCH', `segmented attestation log ${layout.path}: segment ${logFile.entry?.name ?? logFile.file} ${message} (segments reordered, replaced or edited)`, {
    path: layout.path,
    seq,
  });
}

/** Checks that the last record of a sealed segment is the one its manifest entry names. */
export function lastHashProblem(layout: LogLayout, logFile: LogFile, lastHash: string | null): AttestationError | null {
  const entry = logFile.entry;
  if (!entry || entry.lastHash === null || lastHash === entry.lastHash) return null;
  return mismatch(layout, logFile, entry.lastSeq ?? entry.firstSeq, `ends with a record whose hash is not the manifest's`);
}

/** One file of a log, read and taken line by line (see the file comment). */
export class LineCursor {
  readonly #layout: LogLayout;
  readonly #logFile: LogFile;
  readonly #end: LogEnd;
  readonly #firstInFile: number;
  #fd: number | null = null;
  #openFailure: unknown = null;
  readonly #chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  #carry: Buffer = Buffer.alloc(0);
  #position = 0;
  #lineStart = 0;
  /** The records of the chunk being taken, and their line lengths (reused). */
  readonly #batch: Attestation[] = [];
  readonly #lengths: number[] = [];
  /** Hash of the last record taken. */
  lastHash: string | null = null;

  constructor(layout: LogLayout, logFile: LogFile, end: LogEnd) {
    this.#layout = layout;
    this.#logFile = logFile;
    this.#end = end;
    this.#firstInFile = end.records;
    try {
      this.#fd = openSync(logFile.file, 'r');
    } catch (cause) {
      this.#openFailure = cause;
    }
  }

  /**
   * Reads the next chunk: its whole lines, or how the file ended. The chunk is read into `into`
   * (at least CHUNK_BYTES; default this cursor's own buffer) after the partial line carried over,
   * so the lines are a view of it, valid until it is read into again (a carried line longer than
   * half a chunk makes a new buffer instead). After an end, every read returns it again.
   */
  read(into: Buffer = this.#chunk): CursorChunk {
    const fd = this.#fd;
    if (fd === null) return { ended: 'unreadable', cause: this.#openFailure };
    const carry = this.#carry;
    if (carry.length > MAX_LINE_BYTES) return { ended: 'long-line' };
    const inPlace = carry.length <= CHUNK_BYTES / 2;
    const target = inPlace ? into : this.#chunk;
    if (inPlace) carry.copy(target, 0);
    let read: number;
    try {
      read = inPlace ? readSync(fd, target, carry.length, CHUNK_BYTES - carry.length, this.#position) : readSync(fd, target, 0, CHUNK_BYTES, this.#position);
    } catch (cause) {
      this.close();
      this.#openFailure = cause;
      return { ended: 'unreadable', cause };
    }
    if (read === 0) return { ended: 'file' };
    this.#position += read;
    const data = inPlace ? target.subarray(0, carry.length + read) : Buffer.concat([carry, target.subarray(0, read)]);
    const lastNewline = data.lastIndexOf(0x0a);
    this.#carry = Buffer.from(data.subarray(lastNewline + 1));
    return { lines: data.subarray(0, lastNewline + 1) };
  }

  /** Takes how a file ended (a chunk without lines); false (the file is done). */
  settle(chunk: CursorChunk): false {
    if ('lines' in chunk) return false;
    const end = this.#end;
    const file = this.#logFile.file;
    if (end.problem) return false;
    if (chunk.ended === 'unreadable') {
      const cause = chunk.cause;
      end.problem = new AttestationError('ATTESTATION_IO', `cannot read attestation log ${file}: ${(cause as Error).message}`, { cause, path: file, seq: end.lastSeq + 1 });
    } else if (chunk.ended === 'long-line') {
      end.problem = corrupt(file, end.lastSeq + 1, `(at byte ${this.#lineStart}) is a line longer than ${MAX_LINE_BYTES} bytes`);
    } else {
      this.#finish();
    }
    return false;
  }

  /** Reads the next chunk and visits its complete records; false once the file is done (or a problem ended it). */
  next(visit: LogVisitor, hashing: LineHashing): boolean {
    if (this.#end.problem) return false;
    const chunk = this.read();
    return 'lines' in chunk ? this.takeRecords(chunk.lines, visit, hashing) : this.settle(chunk);
  }

  /**
   * Parses the whole lines of `region` and visits the records in order, each noted when it is in
   * the writer's canonical form and its hash covers its line's bytes (line-hash.ts); a line that is not a record ends the read after the
   * records before it were visited. False when a problem ended the read.
   */
  takeRecords(region: Buffer, visit: LogVisitor, hashing: LineHashing): boolean {
    const batch = this.#batch;
    const lengths = this.#lengths;
    batch.length = 0;
    lengths.length = 0;
    let failure: string | null = null;
    for (let from = 0, newline = region.indexOf(0x0a); newline !== -1; from = newline + 1, newline = region.indexOf(0x0a, from)) {
      // A line in the writer's canonical form has no duplicate key; any other is looked at.
      const digest = hashing === 'line' ? canonicalLineDigest(region, from, newline) : null;
      const line = parseLogLine(region.toString('utf8', from, newline), digest !== null);
      if ('failure' in line) {
        failure = line.failure;
        break;
      }
      const parsed = parseOwnedRecord(line.value);
      if ('problem' in parsed) {
        failure = `is not a valid record: ${parsed.problem}`;
        break;
      }
      if (digest !== null && digest === parsed.record.hash) markHashedFromLine(parsed.record);
      batch.push(parsed.record);
      lengths.push(newline + 1 - from);
    }
    for (let index = 0; index < batch.length; index += 1) {
      const record = batch[index] as Attestation;
      const length = lengths[index] as number;
      if (!this.#first(record)) return false;
      visit(record, this.#logFile.baseOffsetBytes + this.#lineStart, length);
      this.#took(record.seq, record.hash, length);
    }
    batch.length = 0;
    return this.#failed(failure);
  }

  /** Visits the views a line check made of a region's lines, in order; false when a problem ended the read. */
  takeViews(checked: LinesChecked, visit: LogViewVisitor): boolean {
    const views = new RecordViews(checked);
    for (let index = 0; index < views.count; index += 1) {
      const view = views.next();
      if (!this.#first(view)) return false;
      visit(view, this.#logFile.baseOffsetBytes + this.#lineStart);
      this.#took(view.seq, view.hash, view.lengthBytes);
    }
    return this.#failed(checked.failure);
  }

  /** Whether a segment's first record continues the previous segment as the manifest says (else the problem is set). */
  #first(record: { readonly seq: number; readonly prevHash: string }): boolean {
    const entry = this.#logFile.entry;
    const end = this.#end;
    if (!entry || end.records !== this.#firstInFile || (record.seq === entry.firstSeq && record.prevHash === entry.firstPrevHash)) return true;
    end.problem = mismatch(this.#layout, this.#logFile, entry.firstSeq, `starts with seq ${record.seq}, the manifest says seq ${entry.firstSeq} continuing the previous segment`);
    return false;
  }

  #took(seq: number, hash: string, lengthBytes: number): void {
    this.#end.records += 1;
    this.#end.lastSeq = seq;
    this.lastHash = hash;
    this.#lineStart += lengthBytes;
  }

  /** Ends the read at a line that is not a record (`failure`), if any; true when there is none. */
  #failed(failure: string | null): boolean {
    if (failure === null) return true;
    this.#end.problem = corrupt(this.#logFile.file, this.#end.lastSeq + 1, `(at byte ${this.#lineStart}) ${failure}`);
    return false;
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

  /** Closes the file (idempotent). */
  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }
}
