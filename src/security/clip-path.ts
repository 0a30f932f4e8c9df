/**
 * Where an SSML `<audio>` clip really is: the compiler checks a clip's path for form (inside
 * `audioRoot`), without touching the disk; this resolves symlinks at read time so a link inside
 * `audioRoot` cannot make the engine read a file outside it. Contract: resolves to the real path
 * to open, or throws `BackendError` `AUDIO_CLIP_OUTSIDE_ROOT` / `AUDIO_CLIP_UNREADABLE`.
 */
import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, sep } from 'node:path';
import { BackendError } from '../errors.js';

/** The real path of `path`, which must lie inside the real `audioRoot` (no check without a root). */
export async function realClipPath(path: string, audioRoot: string | undefined): Promise<string> {
  if (audioRoot === undefined) return path;
  let real: string;
  let root: string;
  try {
    [real, root] = await Promise.all([realpath(path), realpath(audioRoot)]);
  } catch (error) {
    throw new BackendError('engine', 'AUDIO_CLIP_UNREADABLE', `cannot read audio clip ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  const inside = relative(root, real);
  if (inside === '' || inside.split(sep)[0] === '..' || isAbsolute(inside)) {
    throw new BackendError('engine', 'AUDIO_CLIP_OUTSIDE_ROOT', `audio clip ${path} resolves outside audioRoot (a symlink leads out of it)`);
  }
  return real;
}
