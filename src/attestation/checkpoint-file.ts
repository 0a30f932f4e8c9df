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
 * The lines of a file in order, read in chunks (never more than a chunk and one line in memory);
 * a last line without a newline comes with `complete: false`. Throws ATTESTATION_IO when the file
 * cannot be read.
 */
export function* fileLines(path: string): Generator<FileLine, void, undefined> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (cause) {
    throw new AttestationError('ATTESTATION_IO', `cannot read ${path}: ${(cause as Error).message}`, { cause, path });
  }
  try {
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    let carry = Buffer.alloc(0);
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
      const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, read)]) : chunk.subarray(0, read);
      let from = 0;
      for (let newline = data.indexOf(0x0a, from); newline !== -1; newline = data.indexOf(0x0a, from)) {
        number += 1;
        yield { text: data.toString('utf8', from, newline), number, offsetBytes: lineOffset, complete: true };
        lineOffset += newline + 1 - from;
        from = newline + 1;
      }
      carry = Buffer.from(data.subarray(from));
    }
    if (carry.length > 0) yield { text: carry.toString('utf8'), number: number + 1, offsetBytes: lineOffset, complete: false };
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
  let lastNumber = 0;
  let tornAtBytes: number | null = null;
  for (const line of fileLines(path)) {
    if (line.complete) {
      lastLine = line.text;
      lastNumber = line.number;
    } else {
      tornAtBytes = line.offsetBytes;
    }
  }
  if (lastLine === null) return { checkpoint: null, tornAtBytes };
  const parsed = parseCheckpoint(lastLine);
  if ('problem' in parsed) throw new AttestationError('ATTESTATION_CHECKPOINT_CORRUPT', `checkpoint file ${path}: line ${lastNumber} is not a checkpoint (${parsed.problem})`, { path });
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
