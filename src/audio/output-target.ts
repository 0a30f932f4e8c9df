/**
 * Where encoded audio bytes go, without ever destroying what is already there. `openOutputTarget`
 * looks at what a path names and opens it by kind:
 *
 * - nothing yet, or a regular file: a temp file next to it, synced and renamed into place on
 *   `commit()` (atomic: a failure or `discard()` leaves the old file, or no file, as it was; an
 *   existing file's permission bits are kept);
 * - a symlink: the same rules applied to what it points at (a regular file behind it is replaced
 *   atomically *at the link's target*; a FIFO or device behind it is written through); the link
 *   itself is never replaced. A dangling link is refused (`OUTPUT_DANGLING_SYMLINK`);
 * - a FIFO or a character device (`/dev/null`, `/dev/stdout`, a terminal): written through,
 *   opened write-only without create or truncate, bytes in order; nothing can be renamed or
 *   unwritten there, so a failure may leave the bytes already written, and a WAV keeps its
 *   streaming header (sizes 0xFFFFFFFF);
 * - a directory, a socket or a block device: refused before anything is written
 *   (`OUTPUT_IS_DIRECTORY`, `OUTPUT_UNSUPPORTED_TYPE`).
 *
 * Refusals are InputErrors with field `path`. `streamOutputTarget` wraps a writable stream (the
 * CLI's `-o -`) the same way as a write-through target.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, type Stats } from 'node:fs';
import { lstat, open, realpath, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AudioError, InputError, VoiceSoundboardError } from '../errors.js';

/** What a target path named when it was opened. */
export type OutputTargetKind = 'new' | 'file' | 'fifo' | 'character-device' | 'stream';

/** An opened destination for bytes. Calls are made one at a time (the writers above serialise them). */
export interface OutputTarget {
  /** The path as given (or `-` for a stream). */
  readonly path: string;
  /** What was there. */
  readonly kind: OutputTargetKind;
  /** True for temp-file targets: `writeAt` works and `commit()` renames atomically. */
  readonly atomic: boolean;
  /** Appends bytes. */
  write(bytes: Uint8Array): Promise<void>;
  /** Overwrites bytes at a position (atomic targets only: a WAV header patched at the end). */
  writeAt(bytes: Uint8Array, positionBytes: number): Promise<void>;
  /** Finishes: sync + rename for atomic targets, close for the others. */
  commit(): Promise<void>;
  /** Gives up: removes the temp file (atomic) or just closes; never throws. */
  discard(): Promise<void>;
}

/** The error of a failed write, naming the path. */
export function writeFailed(path: string, error: unknown): VoiceSoundboardError {
  if (error instanceof VoiceSoundboardError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new AudioError('FILE_WRITE_FAILED', `could not write ${path}: ${message}`, { cause: error });
}

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

async function statOrNull(path: string, follow: boolean): Promise<Stats | null> {
  try {
    return follow ? await stat(path) : await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw writeFailed(path, error);
  }
}

function refused(path: string, code: string, what: string): InputError {
  return new InputError(`path: ${path} is ${what}; audio is written only to a new path, a regular file, a FIFO or a character device (a symlink to one of those is followed, never replaced)`, { code, field: 'path' });
}

/**
 * Opens `path` for writing by what it is (see the module comment). Throws InputError
 * (`OUTPUT_IS_DIRECTORY`, `OUTPUT_UNSUPPORTED_TYPE`, `OUTPUT_DANGLING_SYMLINK`) or AudioError
 * `FILE_WRITE_FAILED` (e.g. the directory does not exist).
 */
export async function openOutputTarget(path: string): Promise<OutputTarget> {
  const link = await statOrNull(path, false);
  const target = link?.isSymbolicLink() ? await statOrNull(path, true) : link;
  if (link?.isSymbolicLink() && target === null) throw refused(path, 'OUTPUT_DANGLING_SYMLINK', 'a symlink to nothing');
  if (target === null) return openAtomic(path, path, 'new', null);
  if (target.isDirectory()) throw refused(path, 'OUTPUT_IS_DIRECTORY', 'a directory');
  if (target.isFIFO()) return openThrough(path, 'fifo');
  if (target.isCharacterDevice()) return openThrough(path, 'character-device');
  if (target.isFile()) {
    // Behind a link the file is replaced where it lives, so the link keeps pointing at it.
    const where = link?.isSymbolicLink() ? await realpath(path).catch((error: unknown) => Promise.reject(writeFailed(path, error))) : path;
    return openAtomic(path, where, 'file', target.mode & 0o7777);
  }
  throw refused(path, 'OUTPUT_UNSUPPORTED_TYPE', target.isSocket() ? 'a socket' : target.isBlockDevice() ? 'a block device' : 'not a file');
}

async function openAtomic(path: string, finalPath: string, kind: 'new' | 'file', mode: number | null): Promise<OutputTarget> {
  const tempPath = tempPathFor(finalPath);
  let handle: FileHandle;
  try {
    handle = await open(tempPath, 'wx');
    if (mode !== null) await handle.chmod(mode);
  } catch (error) {
    await rm(tempPath, { force: true }).catch(() => undefined);
    throw writeFailed(path, error);
  }
  let position = 0;
  let open_ = true;
  const discard = async () => {
    if (open_) await handle.close().catch(() => undefined);
    open_ = false;
    await rm(tempPath, { force: true }).catch(() => undefined);
  };
  return {
    path,
    kind,
    atomic: true,
    async write(bytes) {
      await handle.write(bytes, 0, bytes.length, position);
      position += bytes.length;
    },
    async writeAt(bytes, positionBytes) {
      await handle.write(bytes, 0, bytes.length, positionBytes);
    },
    async commit() {
      try {
        await handle.sync();
        await handle.close();
        open_ = false;
        await rename(tempPath, finalPath);
      } catch (error) {
        await discard();
        throw writeFailed(path, error);
      }
    },
    discard,
  };
}

async function openThrough(path: string, kind: 'fifo' | 'character-device'): Promise<OutputTarget> {
  let handle: FileHandle;
  try {
    // No O_CREAT, no O_TRUNC: the node stays what it is. A FIFO's open waits for a reader.
    handle = await open(path, fsConstants.O_WRONLY | fsConstants.O_NOCTTY);
  } catch (error) {
    throw writeFailed(path, error);
  }
  let open_ = true;
  const close = async () => {
    if (open_) {
      open_ = false;
      await handle.close();
    }
  };
  return {
    path,
    kind,
    atomic: false,
    async write(bytes) {
      let offset = 0;
      while (offset < bytes.length) offset += (await handle.write(bytes, offset, bytes.length - offset, null)).bytesWritten;
    },
    writeAt() {
      return Promise.reject(new AudioError('OUTPUT_NOT_SEEKABLE', `${path} is a ${kind}: it is written in order, never patched`));
    },
    async commit() {
      try {
        await close();
      } catch (error) {
        throw writeFailed(path, error);
      }
    },
    discard: () => close().catch(() => undefined),
  };
}

/**
 * A write-through target over a writable stream (e.g. stdout for `-o -`); it is flushed, not
 * ended. A stream that fails or whose reader went away (EPIPE) rejects the pending and every later
 * write with `OUTPUT_CLOSED` instead of an unhandled 'error' event.
 */
export function streamOutputTarget(stream: NodeJS.WritableStream, name = '-'): OutputTarget {
  let failure: VoiceSoundboardError | undefined;
  const pending = new Set<(error: VoiceSoundboardError) => void>();
  const onError = (error: Error) => {
    failure ??= new AudioError('OUTPUT_CLOSED', `could not write ${name === '-' ? 'standard output' : name}: ${error.message}`, { cause: error });
    for (const reject of pending) reject(failure);
    pending.clear();
  };
  stream.on('error', onError);
  const release = () => void stream.removeListener('error', onError);
  const write = (bytes: Uint8Array) =>
    new Promise<void>((resolve, reject) => {
      if (failure) return reject(failure);
      pending.add(reject);
      stream.write(bytes, (error) => {
        pending.delete(reject);
        if (error) onError(error);
        if (failure) reject(failure);
        else resolve();
      });
    });
  return {
    path: name,
    kind: 'stream',
    atomic: false,
    write,
    writeAt: () => Promise.reject(new AudioError('OUTPUT_NOT_SEEKABLE', `${name} is a stream: it is written in order, never patched`)),
    commit: () => {
      release();
      return failure ? Promise.reject(failure) : Promise.resolve();
    },
    discard: () => {
      // Keep swallowing a late EPIPE of this stream: it has been reported once already.
      if (!failure) release();
      return Promise.resolve();
    },
  };
}
