/**
 * Reading an input file someone else may have written (a scene file, a scene's audio source, a
 * dialogue script) without hanging or reading forever: the path is opened non-blocking (a FIFO
 * with no writer does not block the open), the opened node must be a regular file (a FIFO, a
 * device such as `/dev/zero` or a directory is refused before any byte is read), and it must be
 * at most `maxBytes` long. Errors are `InputFileError`s whose `reason` says which check failed;
 * callers wrap them in their own coded InputError naming the field.
 */
import { constants as fsConstants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** Why an input file was refused (the message says it in words). */
export class InputFileError extends Error {
  /** `not-regular`, `too-large` or `unreadable` (the open or read failed; see `cause`). */
  readonly reason: 'not-regular' | 'too-large' | 'unreadable';
  /** An error with its reason. */
  constructor(reason: InputFileError['reason'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InputFileError';
    this.reason = reason;
  }
}

/** Opens `path` as a regular file of at most `maxBytes` (see the module comment); the caller closes the handle. */
export async function openRegularFile(path: string, maxBytes: number): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOCTTY);
  } catch (error) {
    throw new InputFileError('unreadable', error instanceof Error ? error.message : String(error), { cause: error });
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      const kind = stats.isFIFO() ? 'a FIFO' : stats.isCharacterDevice() || stats.isBlockDevice() ? 'a device' : stats.isDirectory() ? 'a directory' : stats.isSocket() ? 'a socket' : 'not a file';
      throw new InputFileError('not-regular', `it is ${kind}, not a regular file`);
    }
    if (stats.size > maxBytes) throw new InputFileError('too-large', `it is ${stats.size} bytes, more than the ${maxBytes} accepted`);
    return { handle, size: stats.size };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/** Checks `path` is a regular file of at most `maxBytes`, reading nothing (for a path handed to another program). */
export async function checkRegularFile(path: string, maxBytes: number): Promise<void> {
  const { handle } = await openRegularFile(path, maxBytes);
  await handle.close().catch(() => undefined);
}

/** The bytes of `path`, a regular file of at most `maxBytes` (see the module comment). */
export async function readRegularFile(path: string, maxBytes: number): Promise<Uint8Array> {
  const { handle, size } = await openRegularFile(path, maxBytes);
  try {
    // Read what fstat said and at most one byte more: a file growing meanwhile is refused, not read on.
    const bytes = new Uint8Array(size + 1);
    let filled = 0;
    for (;;) {
      const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled > size) throw new InputFileError('too-large', `it grew past the ${size} bytes it had when opened`);
    }
    return bytes.subarray(0, filled);
  } catch (error) {
    if (error instanceof InputFileError) throw error;
    throw new InputFileError('unreadable', error instanceof Error ? error.message : String(error), { cause: error });
  } finally {
    await handle.close().catch(() => undefined);
  }
}
