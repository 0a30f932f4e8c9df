/**
 * What `voice-soundboard speak` refuses before it opens anything, and how it stops when asked to:
 * - `-o` and `--attestations` naming one file (by path, symlink or hard link: device + inode, or
 *   the resolved path of a file not there yet) is a usage error: the audio would replace the log;
 * - `-o -` when standard output was closed at startup (Node put /dev/null there) fails
 *   `OUTPUT_CLOSED` instead of "writing" the speech nowhere; `-o /dev/stderr` silences progress
 *   (it would be mixed into the audio);
 * - `watchInterrupts()` turns SIGINT/SIGTERM/SIGHUP into an AbortSignal the engine call takes (the
 *   stream ends attested as aborted by the caller, the temp file is removed) and the exit code
 *   130/143/129; a second signal exits without waiting for the engine, but only once no output
 *   commit is in progress (an in-place copy into a hard-linked file is never cut off half-way).
 */
import { fstatSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { commitsSettled } from '../audio/output-target.js';
import { processDescriptorOf, reopenedOnDevNull, walkLinks } from '../audio/process-descriptor.js';
import { AudioError, InputError } from '../errors.js';

/** What a path (or `-`, standard output) is: `node:<dev>:<ino>` when it exists, `path:<resolved>` when not yet. */
async function identity(path: string): Promise<string | null> {
  try {
    const stats = path === '-' ? fstatSync(1) : await stat(path);
    return `node:${stats.dev}:${stats.ino}`;
  } catch {
    if (path === '-') return null;
    // Not there yet: where it would be created, symlinks followed.
    const walk = await walkLinks(path, () => null);
    return walk !== null && 'last' in walk ? `path:${walk.last}` : null;
  }
}

/** Throws a usage error (exit 2, naming both flags) when `-o` and `--attestations` are the same file. */
export async function refuseOutputOverLog(output: string | undefined, attestations: string | undefined): Promise<void> {
  if (output === undefined || attestations === undefined) return;
  const [a, b] = await Promise.all([identity(output), identity(attestations)]);
  if (a === null || a !== b) return;
  throw new InputError(
    `-o/--output and --attestations name the same file (${output === '-' ? 'standard output' : output}); the audio would replace the attestation log: give them different paths`,
    { code: 'CLI_USAGE', field: '--attestations' },
  );
}

/** Throws OUTPUT_CLOSED when `-o -` would write to a standard output that was closed at startup. */
export function refuseClosedStdout(output: string | undefined, stdout: NodeJS.WritableStream): void {
  if (output !== '-' || stdout !== process.stdout || !reopenedOnDevNull(1)) return;
  throw new AudioError('OUTPUT_CLOSED', '-o -: standard output was closed when voice-soundboard started (Node put /dev/null there); redirect it, e.g. -o - > out.wav, or write a file with -o out.wav');
}

/** True when `-o` names this process's standard error (`/dev/stderr`, `/dev/fd/2`, ...) and `stderr` is that descriptor: progress must stay out of the audio. */
export async function audioGoesToStderr(output: string | undefined, stderr: NodeJS.WritableStream): Promise<boolean> {
  if (output === undefined || output === '-' || stderr !== process.stderr) return false;
  return (await processDescriptorOf(output)) === 2;
}

/** SIGINT/SIGTERM/SIGHUP as an abort of the running command. */
export interface Interrupts {
  /** Aborted on the first SIGINT, SIGTERM or SIGHUP (reason: the signal's name). */
  readonly signal: AbortSignal;
  /** 130 after SIGINT, 143 after SIGTERM, 129 after SIGHUP, undefined before any. */
  exitCode(): number | undefined;
  /** Removes the handlers (the default behaviour comes back). */
  dispose(): void;
}

const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;

/** Installs SIGINT/SIGTERM/SIGHUP handlers that abort `signal`; a second signal exits with the first one's code as soon as no output commit is in progress. */
export function watchInterrupts(): Interrupts {
  const controller = new AbortController();
  let code: number | undefined;
  const handlers = Object.entries(SIGNAL_NUMBERS).map(([name, number]) => {
    const handler = () => {
      const first = code;
      if (first !== undefined) return void commitsSettled().then(() => process.exit(first));
      code = 128 + number;
      controller.abort(name);
    };
    process.on(name, handler);
    return () => void process.removeListener(name, handler);
  });
  return {
    signal: controller.signal,
    exitCode: () => code,
    dispose: () => handlers.forEach((remove) => remove()),
  };
}
