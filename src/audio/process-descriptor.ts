/**
 * Paths that name one of this process's own descriptors: `/dev/stdout`, `/dev/stderr`,
 * `/dev/fd/N`, `/proc/self/fd/N`, `/proc/<pid>/fd/N` and any symlink chain that reaches one of
 * them. Opening such a path anew would make a new open file description: for a regular file that
 * writes from offset 0 instead of where the shell left it (`>>` loses its append), and replacing
 * the file behind it would give the shell's file a new inode. So they are written through on the
 * descriptor itself (`descriptorOutputTarget`), the way `-o -` writes standard output: never
 * opened, truncated, renamed or closed.
 *
 * `reopenedOnDevNull(fd)` tells whether Node replaced a closed standard descriptor with
 * `/dev/null` at startup (Linux only: read from /proc/self/fdinfo; elsewhere it answers false).
 */
import { constants as fsConstants, fstat, readFileSync, statSync, write, type Stats } from 'node:fs';
import { lstat, readlink, realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { AudioError, InputError } from '../errors.js';
import type { OutputTarget } from './output-target.js';

const fstatAsync = promisify(fstat);
const MAX_LINK_HOPS = 40;
/** How long a write waits before retrying a non-blocking descriptor that answered EAGAIN. */
const EAGAIN_RETRY_MS = 2;

function descriptorOfName(full: string): number | null {
  const pid = String(process.pid);
  const match = /^\/proc\/(?:self|thread-self|(\d+)|(\d+)\/task\/\d+)\/fd\/(\d+)$/.exec(full) ?? /^\/dev\/fd\/(\d+)$/.exec(full);
  if (match === null) return null;
  if (match.length === 2) return Number(match[1]);
  const owner = match[1] ?? match[2];
  if (owner !== undefined && owner !== pid) return null;
  return Number(match[3]);
}

/**
 * Follows `path`'s symlinks hop by hop, each hop's directory resolved. `visit` sees every hop's
 * full path and may stop the walk with an answer. Returns that answer, or the last hop (not a link,
 * or nothing there yet), or null when a directory is missing or the chain is longer than 40 hops.
 */
export async function walkLinks<T>(path: string, visit: (full: string) => T | null): Promise<{ found: T } | { last: string } | null> {
  let current = resolve(path);
  for (let hop = 0; hop < MAX_LINK_HOPS; hop++) {
    let full: string;
    try {
      full = join(await realpath(dirname(current)), basename(current));
    } catch {
      return null;
    }
    const found = visit(full);
    if (found !== null) return { found };
    const stats = await lstat(full).catch(() => null);
    if (stats === null || !stats.isSymbolicLink()) return { last: full };
    try {
      current = resolve(dirname(full), await readlink(full));
    } catch {
      return null;
    }
  }
  return null;
}

/** The descriptor number `path` names in this process (symlinks followed), or null for any other path. */
export async function processDescriptorOf(path: string): Promise<number | null> {
  const walk = await walkLinks(path, descriptorOfName);
  return walk !== null && 'found' in walk ? walk.found : null;
}

/**
 * True when standard descriptor `fd` (0-2) is `/dev/null` opened read-write: what Node opens in
 * place of a descriptor that was closed when the process started (a shell's `>/dev/null` opens it
 * write-only). Linux only (reads /proc/self/fdinfo); false where that cannot be told.
 */
export function reopenedOnDevNull(fd: number): boolean {
  try {
    const own = statSync(`/proc/self/fd/${fd}`);
    const nul = statSync('/dev/null');
    if (!own.isCharacterDevice() || own.rdev !== nul.rdev) return false;
    const flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
    return flags !== undefined && (parseInt(flags, 8) & 3) /* O_ACCMODE */ === fsConstants.O_RDWR;
  } catch {
    return false;
  }
}

function writeOnce(fd: number, bytes: Uint8Array, offset: number): Promise<number> {
  return new Promise((done, fail) => write(fd, bytes, offset, bytes.length - offset, null, (error, written) => (error ? fail(error) : done(written))));
}

/**
 * Writes through on this process's descriptor `fd` (named by `path`): bytes in order at the
 * descriptor's own offset (an `O_APPEND` descriptor appends), never patched, never closed.
 * Throws `OUTPUT_CLOSED` when the descriptor is not open, or is a standard descriptor Node
 * reopened on /dev/null because it was closed; `OUTPUT_IS_DIRECTORY` for a directory.
 */
export async function descriptorOutputTarget(fd: number, path: string): Promise<OutputTarget> {
  let stats: Stats;
  try {
    stats = await fstatAsync(fd);
  } catch (error) {
    throw new AudioError('OUTPUT_CLOSED', `could not write ${path}: descriptor ${fd} is not open`, { cause: error });
  }
  if (fd <= 2 && reopenedOnDevNull(fd)) {
    throw new AudioError('OUTPUT_CLOSED', `could not write ${path}: descriptor ${fd} was closed when the process started (Node put /dev/null there); redirect it to where the audio should go`);
  }
  if (stats.isDirectory()) throw new InputError(`path: ${path} is a directory`, { code: 'OUTPUT_IS_DIRECTORY', field: 'path' });
  const failed = (error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    return new AudioError(code === 'EPIPE' ? 'OUTPUT_CLOSED' : 'FILE_WRITE_FAILED', `could not write ${path}: ${code ?? (error instanceof Error ? error.message : String(error))}`, { cause: error });
  };
  return {
    path,
    kind: 'descriptor',
    atomic: false,
    async write(bytes) {
      let offset = 0;
      while (offset < bytes.length) {
        try {
          offset += await writeOnce(fd, bytes, offset);
        } catch (error) {
          // A pipe or terminal Node made non-blocking: wait for room, as a stream would.
          if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw failed(error);
          await new Promise((wake) => setTimeout(wake, EAGAIN_RETRY_MS));
        }
      }
    },
    writeAt: () => Promise.reject(new AudioError('OUTPUT_NOT_SEEKABLE', `${path} is descriptor ${fd}: it is written in order, never patched`)),
    commit: () => Promise.resolve(),
    discard: () => Promise.resolve(),
  };
}
