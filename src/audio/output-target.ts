/**
 * Where encoded audio bytes go, without ever destroying what is already there. `openOutputTarget`
 * looks at what a path names and opens it by kind:
 *
 * - one of this process's own descriptors (`/dev/stdout`, `/dev/stderr`, `/dev/fd/N`,
 *   `/proc/self/fd/N`, or a symlink chain reaching one): written through on that descriptor, as
 *   `-o -` writes standard output (a shell's `>>` keeps appending; nothing is opened, replaced or
 *   closed); see process-descriptor.ts;
 * - nothing yet: a temp file next to it, synced and hard-linked into place on `commit()` (link(2):
 *   if anything appeared at the path meanwhile, it is left alone and the commit fails
 *   `OUTPUT_CHANGED`);
 * - a regular file with one link: a temp file next to it, synced and renamed over it on
 *   `commit()` (atomic: a failure or `discard()` leaves the old file as it was; its permission
 *   bits are kept). Right before the rename the path must still be the same file (device and
 *   inode), else `OUTPUT_CHANGED` and the temp file is removed;
 * - a regular file with more hard links: the same temp file, then copied into the file in place
 *   on `commit()` (truncate + write + sync of the same inode), so every link sees the new audio and
 *   no link is split off; a failure before `commit()` leaves it as it was, a failure during that
 *   last copy may leave it partial;
 * - a symlink: the same rules applied to what it points at (a regular file behind it is replaced
 *   *at the link's target*, or updated in place when it has more links; a FIFO or device behind it
 *   is written through); the link itself is never replaced. A dangling link is refused
 *   (`OUTPUT_DANGLING_SYMLINK`);
 * - a FIFO or a character device (`/dev/null`, a terminal): written through, opened write-only
 *   without create or truncate (and without following a link where the path was none), then
 *   checked (fstat) to be the node that was looked at; bytes in order; nothing can be renamed or
 *   unwritten there, so a failure may leave the bytes already written, and a WAV keeps its
 *   streaming header (sizes 0xFFFFFFFF);
 * - a directory, a socket or a block device: refused before anything is written
 *   (`OUTPUT_IS_DIRECTORY`, `OUTPUT_UNSUPPORTED_TYPE`).
 *
 * An existing regular file must be writable by this process: before any temp file is made it is
 * opened write-only (no create, no truncate, no link followed) and closed at once, so a file its user
 * write-protected fails `OUTPUT_NOT_WRITABLE` (EACCES/EPERM) and stays as it was, as the shell's
 * `>` would refuse it, although a rename needs only the directory's write bit.
 *
 * `commitsSettled()` resolves when no `commit()` is in progress: the CLI's second Ctrl-C waits for
 * it, so an in-place copy into a hard-linked file is never cut off half-way.
 *
 * Refusals are InputErrors with field `path`; errors name the path as given, never a temp path.
 * `streamOutputTarget` wraps a writable stream (the CLI's `-o -`) the same way as a write-through
 * target.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, type Stats } from 'node:fs';
import { link, lstat, open, realpath, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AudioError, InputError, VoiceSoundboardError } from '../errors.js';
import { descriptorOutputTarget, processDescriptorOf } from './process-descriptor.js';

/** What a target path named when it was opened. */
export type OutputTargetKind = 'new' | 'file' | 'fifo' | 'character-device' | 'descriptor' | 'stream';

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
  return new AudioError('FILE_WRITE_FAILED', `could not write ${path}: ${describeFailure(path, error)}`, { cause: error });
}

/** An fs error without the path of the call (which may be a temp file the user never named). */
function describeFailure(path: string, error: unknown): string {
  const errno = error as NodeJS.ErrnoException;
  if (errno.code === 'ENOENT' && errno.syscall === 'open') return `the directory ${dirname(path)} does not exist (ENOENT)`;
  const message = error instanceof Error ? error.message : String(error);
  return errno.code !== undefined && errno.syscall !== undefined ? message.replace(/, \w+ '.*'( -> '.*')?$/, '') : message;
}

/** The error of a target that changed between the look and the commit; the new thing is left alone. */
function changed(path: string, what: string): AudioError {
  return new AudioError('OUTPUT_CHANGED', `did not write ${path}: ${what} while the audio was being made; it was left alone and the audio discarded`);
}

const sameNode = (a: Stats, b: Stats) => a.dev === b.dev && a.ino === b.ino;

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
 * `FILE_WRITE_FAILED` (e.g. the directory does not exist), `OUTPUT_CLOSED` (a descriptor that is
 * not open) or `OUTPUT_CHANGED` (the node changed between the look and the open).
 */
export async function openOutputTarget(path: string): Promise<OutputTarget> {
  const fd = await processDescriptorOf(path);
  if (fd !== null) return descriptorOutputTarget(fd, path);
  const link = await statOrNull(path, false);
  const isLink = link?.isSymbolicLink() === true;
  const target = isLink ? await statOrNull(path, true) : link;
  if (isLink && target === null) throw refused(path, 'OUTPUT_DANGLING_SYMLINK', 'a symlink to nothing');
  if (target === null) return openAtomic(path, path, null);
  if (target.isDirectory()) throw refused(path, 'OUTPUT_IS_DIRECTORY', 'a directory');
  if (target.isFIFO()) return openThrough(path, 'fifo', target, isLink);
  if (target.isCharacterDevice()) return openThrough(path, 'character-device', target, isLink);
  if (target.isFile()) {
    // Behind a link the file is replaced where it lives, so the link keeps pointing at it.
    const where = isLink ? await realpath(path).catch((error: unknown) => Promise.reject(writeFailed(path, error))) : path;
    await probeWritable(path, where, target);
    return openAtomic(path, where, target);
  }
  throw refused(path, 'OUTPUT_UNSUPPORTED_TYPE', target.isSocket() ? 'a socket' : target.isBlockDevice() ? 'a block device' : 'not a file');
}

/** Opens the existing file write-only (no create, no truncate) and closes it: a write-protected file is refused before anything is made. */
async function probeWritable(path: string, finalPath: string, was: Stats): Promise<void> {
  let probe: FileHandle;
  try {
    probe = await open(finalPath, fsConstants.O_WRONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NOCTTY | fsConstants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new AudioError('OUTPUT_NOT_WRITABLE', `did not write ${path}: ${finalPath === path ? 'the file' : `the file it points at (${finalPath})`} is not writable (${code}); it was left as it was`, { cause: error });
    }
    if (code === 'ENOENT' || code === 'ELOOP') throw changed(path, 'the file was replaced or removed');
    throw writeFailed(path, error);
  }
  try {
    const opened = await probe.stat();
    if (!opened.isFile() || !sameNode(opened, was)) throw changed(path, 'the file was replaced');
  } finally {
    await probe.close().catch(() => undefined);
  }
}

const commits = new Set<Promise<unknown>>();

/** Resolves when no `commit()` of an atomic target is in progress (one started meanwhile is waited for too). */
export async function commitsSettled(): Promise<void> {
  while (commits.size > 0) await Promise.allSettled([...commits]);
}

/** Puts the finished temp file at a path that had nothing: link(2) never replaces what appeared meanwhile. */
async function placeNew(path: string, tempPath: string, finalPath: string): Promise<void> {
  try {
    await link(tempPath, finalPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw changed(path, 'something appeared at the path');
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
    // A file system without hard links: check, then rename (a window of one system call).
    if ((await statOrNull(finalPath, false)) !== null) throw changed(path, 'something appeared at the path');
    await rename(tempPath, finalPath);
    return;
  }
  await rm(tempPath, { force: true });
}

/** Renames the finished temp file over the file that was looked at, if the path still is that file. */
async function replaceFile(path: string, tempPath: string, finalPath: string, was: Stats): Promise<void> {
  const now = await statOrNull(finalPath, false);
  if (now === null || !now.isFile() || !sameNode(now, was)) throw changed(path, `${finalPath === path ? 'the file' : `the file it points at (${finalPath})`} was replaced or removed`);
  await rename(tempPath, finalPath);
}

/** Copies the finished temp file into the file that was looked at, in place (it has other hard links). */
async function copyInPlace(path: string, tempPath: string, finalPath: string, was: Stats): Promise<void> {
  let out: FileHandle;
  try {
    out = await open(finalPath, fsConstants.O_WRONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NOCTTY);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ELOOP') throw changed(path, 'the file was replaced or removed');
    throw error;
  }
  try {
    const now = await out.stat();
    if (!now.isFile() || !sameNode(now, was)) throw changed(path, 'the file was replaced');
    await out.truncate(0);
    const input = await open(tempPath, 'r');
    try {
      const buffer = new Uint8Array(1 << 16);
      for (let position = 0; ; ) {
        const { bytesRead } = await input.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) break;
        for (let done = 0; done < bytesRead; ) done += (await out.write(buffer, done, bytesRead - done, position + done)).bytesWritten;
        position += bytesRead;
      }
    } finally {
      await input.close();
    }
    await out.sync();
  } finally {
    await out.close();
  }
  await rm(tempPath, { force: true });
}

async function openAtomic(path: string, finalPath: string, was: Stats | null): Promise<OutputTarget> {
  const tempPath = tempPathFor(finalPath);
  let handle: FileHandle;
  try {
    handle = await open(tempPath, 'wx');
    if (was !== null) await handle.chmod(was.mode & 0o7777);
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
    kind: was === null ? 'new' : 'file',
    atomic: true,
    async write(bytes) {
      await handle.write(bytes, 0, bytes.length, position);
      position += bytes.length;
    },
    async writeAt(bytes, positionBytes) {
      await handle.write(bytes, 0, bytes.length, positionBytes);
    },
    commit() {
      const done = commitAtomic();
      commits.add(done);
      void done.then(
        () => commits.delete(done),
        () => commits.delete(done),
      );
      return done;
    },
    discard,
  };
  async function commitAtomic(): Promise<void> {
    try {
      await handle.sync();
      await handle.close();
      open_ = false;
      if (was === null) await placeNew(path, tempPath, finalPath);
      else if (was.nlink > 1) await copyInPlace(path, tempPath, finalPath, was);
      else await replaceFile(path, tempPath, finalPath, was);
    } catch (error) {
      await discard();
      throw writeFailed(path, error);
    }
  }
}

/** Opens a FIFO or device without create or truncate and checks (fstat) it is the node `was` describes; exported for the tests that plant a stale look. */
export async function openThrough(path: string, kind: 'fifo' | 'character-device', was: Stats, followLink: boolean): Promise<OutputTarget> {
  let handle: FileHandle;
  try {
    // No O_CREAT, no O_TRUNC: the node stays what it is. A FIFO's open waits for a reader.
    handle = await open(path, fsConstants.O_WRONLY | fsConstants.O_NOCTTY | (followLink ? 0 : fsConstants.O_NOFOLLOW));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw changed(path, 'a symlink was put at the path');
    throw writeFailed(path, error);
  }
  // What was opened must be what was looked at: a swap in between is refused before any byte.
  const opened = await handle.stat().catch(async (error: unknown) => {
    await handle.close().catch(() => undefined);
    throw writeFailed(path, error);
  });
  if (!sameNode(opened, was)) {
    await handle.close().catch(() => undefined);
    throw changed(path, `the ${kind === 'fifo' ? 'FIFO' : 'device'} was replaced`);
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
      // Writes the stream never took are given up (their callbacks may never come).
      const abandoned = new AudioError('OUTPUT_CLOSED', `the writes to ${name === '-' ? 'standard output' : name} were given up`);
      for (const reject of pending) reject(abandoned);
      pending.clear();
      // Keep swallowing a late EPIPE of this stream: it has been reported once already.
      if (!failure) release();
      return Promise.resolve();
    },
  };
}
