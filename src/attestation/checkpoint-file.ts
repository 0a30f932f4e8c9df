/**
 * Checkpoint files (the sidecar `<log>.checkpoints` and anchor files) on disk: reading one line by
 * line in constant memory, finding its last checkpoint and torn tail, opening, appending a line
 * with fdatasync off the event loop, and making a new file's directory entry durable. Only regular
 * files are read back (an anchor may be a device or a pipe that never ends).
 */
import { closeSync, existsSync, fdatasync, fdatasyncSync, openSync, readSync, statSync, write } from 'node:fs';
import { parseCheckpoint, type Checkpoint } from './checkpoint.js';
import { AttestationError } from './errors.js';

/** One line of a JSON Lines file: its text, 1-based number, byte offset, and whether a newline ends it. */
export interface FileLine {
  text: string;
  number: number;
  offsetBytes: number;
  complete: boolean;
}

/** Bytes read per chunk. */
const CHUNK_BYTES = 1 << 16;

/**
 * No checkpoint comes near this (one covering 10^6 records, the most `everyRecords` allows, is some
 * 5.4 MB): a longer line is not a checkpoint, and is not held in memory (the log's own bound, line-cursor.ts).
 */
export const MAX_CHECKPOINT_LINE_BYTES = 64 * 1024 * 1024;

/**
 * The lines of a file in order, read in chunks (never more than a chunk and one line in memory);
 * a last line without a newline comes with `complete: false`. A line is gathered in pieces and
 * joined once, so a long one costs its length, not its length squared. Throws ATTESTATION_IO when
 * the file cannot be read, and ATTESTATION_CHECKPOINT_CORRUPT (with the line's `number`) at a line
 * longer than MAX_CHECKPOINT_LINE_BYTES, complete or not, once that many bytes of it are read.
 */
export function* fileLines(path: string): Generator<FileLine, void, undefined> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (cause) {
    throw new AttestationError('ATTESTATION_IO', `cannot read ${path}: ${(cause as Error).message}`, { cause, path });
  }
  const tooLong = (number: number, offsetBytes: number): AttestationError =>
    new AttestationError('ATTESTATION_CHECKPOINT_CORRUPT', `checkpoint file ${path}: line ${number} (at byte ${offsetBytes}) is longer than ${MAX_CHECKPOINT_LINE_BYTES} bytes: no checkpoint is`, { path });
  try {
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    /** The pieces of the line being read (copies: `chunk` is read into again), and their length. */
    let pieces: Buffer[] = [];
    let pieceBytes = 0;
    let position = 0;
    let lineOffset = 0;
    let number = 0;
    for (;;) {
      let read: number;
      try {
        read = readSync(fd, chunk, 0, chunk.length, position);
      } catch (cause) {
        throw new AttestationError('ATTESTATION_IO', `cannot read ${path}: ${(cause as Error).message}`, { cause, path });
      }
      if (read === 0) break;
      position += read;
      let from = 0;
      for (let newline = chunk.indexOf(0x0a, from); newline !== -1 && newline < read; newline = chunk.indexOf(0x0a, from)) {
        const lineBytes = pieceBytes + newline - from;
        number += 1;
        if (lineBytes > MAX_CHECKPOINT_LINE_BYTES) throw tooLong(number, lineOffset);
        const text = pieces.length === 0 ? chunk.toString('utf8', from, newline) : Buffer.concat([...pieces, chunk.subarray(from, newline)]).toString('utf8');
        pieces = [];
        pieceBytes = 0;
        yield { text, number, offsetBytes: lineOffset, complete: true };
        lineOffset += lineBytes + 1;
        from = newline + 1;
      }
      if (from < read) {
        pieces.push(Buffer.from(chunk.subarray(from, read)));
        pieceBytes += read - from;
        if (pieceBytes > MAX_CHECKPOINT_LINE_BYTES) throw tooLong(number + 1, lineOffset);
      }
    }
    if (pieceBytes > 0) yield { text: Buffer.concat(pieces).toString('utf8'), number: number + 1, offsetBytes: lineOffset, complete: false };
  } finally {
    closeSync(fd);
  }
}

/** Whether `path` is a regular file (an anchor may be a device or a pipe: never read back). */
export function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The last complete checkpoint of a sidecar (null when there is none) and where a torn last line starts. */
export function lastCheckpoint(path: string): { checkpoint: Checkpoint | null; tornAtBytes: number | null } {
  if (!existsSync(path)) return { checkpoint: null, tornAtBytes: null };
  if (!isRegularFile(path)) throw new AttestationError('ATTESTATION_IO', `${path} is not a regular file`, { path });
  let lastLine: string | null = null;
  let lineBefore: string | null = null;
  let lastNumber = 0;
  let tornAtBytes: number | null = null;
  /** The seq a problem concerns: the one after the checkpoint on the line before it (1 when that is none). */
  const seqAfter = (text: string | null): number => {
    const parsed = text === null ? null : parseCheckpoint(text);
    return parsed !== null && 'checkpoint' in parsed ? parsed.checkpoint.seq + 1 : 1;
  };
  try {
    for (const line of fileLines(path)) {
      if (line.complete) {
        lineBefore = lastLine;
        lastLine = line.text;
        lastNumber = line.number;
      } else {
        tornAtBytes = line.offsetBytes;
      }
    }
  } catch (error) {
    if (!(error instanceof AttestationError) || error.seq !== undefined) throw error;
    throw new AttestationError(error.code, error.message, { cause: error, path, seq: seqAfter(lastLine) });
  }
  if (lastLine === null) return { checkpoint: null, tornAtBytes };
  const parsed = parseCheckpoint(lastLine);
  if ('problem' in parsed) throw new AttestationError('ATTESTATION_CHECKPOINT_CORRUPT', `checkpoint file ${path}: line ${lastNumber} is not a checkpoint (${parsed.problem})`, { path, seq: seqAfter(lineBefore) });
  return { checkpoint: parsed.checkpoint, tornAtBytes };
}

export function openFile(path: string, flags: string): number {
  try {
    return openSync(path, flags, 0o644);
  } catch (cause) {
    throw new AttestationError('ATTESTATION_IO', `cannot open ${path}: ${(cause as Error).message}`, { cause, path });
  }
}

/** Makes a new file's directory entry durable (best effort: some file systems refuse to sync a directory). */
export function syncDirectory(path: string): void {
  try {
    const fd = openSync(path, 'r');
    try {
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // not supported here: the file's own fdatasync still holds its data
  }
}

/** Appends a line and fdatasyncs it, off the event loop. */
export async function writeLine(fd: number, text: string): Promise<void> {
  const buffer = Buffer.from(text, 'utf8');
  let offset = 0;
  while (offset < buffer.length) {
    offset += await new Promise<number>((resolve, reject) => write(fd, buffer, offset, buffer.length - offset, null, (error, written) => (error ? reject(error) : resolve(written))));
  }
  await new Promise<void>((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
}
