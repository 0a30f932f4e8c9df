/**
 * Runs the system `espeak-ng` program as a separate process (espeak-ng is GPL-3: it is never
 * linked, only executed). Text goes in through stdin (`--stdin`) so it can never be parsed as a
 * command-line option and is not limited by the argument-length limit.
 */
import { spawn } from 'node:child_process';
import { AbortError, BackendError } from '../errors.js';

/** Program name looked up on PATH when no explicit path is given. */
export const DEFAULT_ESPEAK_BINARY = 'espeak-ng';

/** Largest stdout accepted from one run, in bytes (about 25 minutes of 22050 Hz s16 audio). */
const MAX_STDOUT_BYTES = 64 * 1024 * 1024;
/** Largest stderr kept for error messages, in characters. */
const MAX_STDERR_CHARS = 2000;

/** What one run of the program produced. */
export interface EspeakProcessResult {
  stdout: Buffer;
  stderr: string;
}

/** Options of one run. */
export interface EspeakProcessRun {
  /** Path or PATH name of the program. */
  binaryPath: string;
  /** Command-line arguments (without the program name). */
  args: readonly string[];
  /** Text written to stdin (pass `--stdin` in `args`). */
  stdinText?: string;
  /** Kills the process (SIGKILL) when aborted; the promise rejects with `AbortError`. */
  signal?: AbortSignal;
}

/**
 * Runs espeak-ng once and resolves with its output. Rejects with `BackendError`
 * `ESPEAK_NOT_FOUND` when the program is missing, `ESPEAK_FAILED` on a non-zero exit (quoting
 * stderr), and `AbortError` when `signal` aborts.
 */
export function runEspeakProcess(run: EspeakProcessRun): Promise<EspeakProcessResult> {
  return new Promise((resolve, reject) => {
    if (run.signal?.aborted) return reject(new AbortError('espeak-ng run was aborted before it started'));
    const child = spawn(run.binaryPath, [...run.args], { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    const stdoutChunks: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let settled = false;
    const finish = (error: Error | undefined, result?: EspeakProcessResult) => {
      if (settled) return;
      settled = true;
      run.signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(result as EspeakProcessResult);
    };
    const onAbort = () => {
      child.kill('SIGKILL');
      finish(new AbortError('espeak-ng run was aborted'));
    };
    run.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.byteLength;
      if (stdoutBytes > MAX_STDOUT_BYTES) {
        child.kill('SIGKILL');
        finish(new BackendError('espeak', 'ESPEAK_FAILED', `espeak-ng wrote more than ${MAX_STDOUT_BYTES} bytes`));
        return;
      }
      stdoutChunks.push(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      if (stderr.length < MAX_STDERR_CHARS) stderr += text;
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'EACCES') {
        finish(
          new BackendError('espeak', 'ESPEAK_NOT_FOUND', `cannot run ${JSON.stringify(run.binaryPath)} (${error.code}); install espeak-ng (apt-get install espeak-ng) or the espeak-ng npm package`, {
            cause: error,
          }),
        );
      } else {
        finish(new BackendError('espeak', 'ESPEAK_FAILED', `espeak-ng could not start: ${error.message}`, { cause: error, retryable: true }));
      }
    });
    child.on('close', (exitCode, exitSignal) => {
      if (exitCode === 0) {
        finish(undefined, { stdout: Buffer.concat(stdoutChunks), stderr });
        return;
      }
      const how = exitSignal ? `was killed by ${exitSignal}` : `exited with code ${exitCode}`;
      const detail = stderr.trim().slice(0, MAX_STDERR_CHARS);
      finish(new BackendError('espeak', 'ESPEAK_FAILED', `espeak-ng ${how}${detail ? `: ${detail}` : ''}`));
    });
    // A process that exits before reading stdin closes the pipe; that surfaces through 'close'.
    child.stdin.on('error', () => undefined);
    child.stdin.end(run.stdinText ?? '');
  });
}

const availability = new Map<string, Promise<boolean>>();

/** Whether the program at `binaryPath` runs (`--version` exits 0). Cached per path. */
export function isEspeakProcessAvailable(binaryPath: string = DEFAULT_ESPEAK_BINARY): Promise<boolean> {
  let probe = availability.get(binaryPath);
  if (!probe) {
    probe = runEspeakProcess({ binaryPath, args: ['--version'] }).then(
      (result) => result.stdout.toString('utf8').includes('eSpeak'),
      () => false,
    );
    availability.set(binaryPath, probe);
  }
  return probe;
}
