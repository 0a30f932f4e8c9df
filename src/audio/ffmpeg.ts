/**
 * The ffmpeg child process used for compressed formats (mp3, opus, ...): a cached probe of which
 * encoders a given ffmpeg binary has, and a stdin→stdout runner with cancellation. Never used on
 * the playback hot path; only for encoding files and responses.
 */
import { spawn } from 'node:child_process';
import { AbortError, AudioError } from '../errors.js';

/** Default ffmpeg command, looked up on PATH (the `VOICE_SOUNDBOARD_FFMPEG` env var overrides). */
export const DEFAULT_FFMPEG_PATH = process.env['VOICE_SOUNDBOARD_FFMPEG'] ?? 'ffmpeg';

/** What a probe of one ffmpeg binary found. */
export interface FfmpegProbe {
  /** Whether the binary ran. */
  found: boolean;
  /** Why it did not run (e.g. `spawn ffmpeg ENOENT`), when it did not. */
  error?: string;
  /** Names of the audio encoders it lists (e.g. `libmp3lame`, `libopus`, `flac`). */
  encoders: ReadonlySet<string>;
}

const probes = new Map<string, Promise<FfmpegProbe>>();

/** Probes `ffmpegPath -encoders` once per path (cached for the process lifetime). */
export function probeFfmpeg(ffmpegPath: string = DEFAULT_FFMPEG_PATH): Promise<FfmpegProbe> {
  let probe = probes.get(ffmpegPath);
  if (probe === undefined) {
    probe = runProbe(ffmpegPath);
    probes.set(ffmpegPath, probe);
  }
  return probe;
}

async function runProbe(ffmpegPath: string): Promise<FfmpegProbe> {
  try {
    const { stdout } = await runFfmpeg(ffmpegPath, ['-hide_banner', '-encoders']);
    const encoders = new Set<string>();
    // Lines look like " A....D libmp3lame           libmp3lame MP3 ..." (A = audio).
    for (const line of new TextDecoder().decode(stdout).split('\n')) {
      const match = /^\s*A[.A-Z]{5}\s+(\S+)/.exec(line);
      if (match) encoders.add(match[1]!);
    }
    return { found: true, encoders };
  } catch (error) {
    return { found: false, error: error instanceof Error ? error.message : String(error), encoders: new Set() };
  }
}

/** Options of `runFfmpeg`. */
export interface RunFfmpegOptions {
  /** Bytes written to ffmpeg's stdin (then closed). */
  input?: Uint8Array;
  /** Cancels the run: the child is killed and the promise rejects with `AbortError`. */
  signal?: AbortSignal;
}

/**
 * Runs ffmpeg with `args` and resolves with its stdout once it exits with status 0.
 * Rejects with `AudioError` `FFMPEG_NOT_FOUND` when the binary cannot be started and
 * `FFMPEG_FAILED` (with the end of stderr) when it exits non-zero.
 */
export function runFfmpeg(
  ffmpegPath: string,
  args: readonly string[],
  options: RunFfmpegOptions = {},
): Promise<{ stdout: Uint8Array; stderr: string }> {
  const { input, signal } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortError());
      return;
    }
    const child = spawn(ffmpegPath, ['-nostdin', ...args], { stdio: 'pipe' });
    const stdoutChunks: Buffer[] = [];
    const stderrChunks: Buffer[] = [];
    let settled = false;
    const finish = (error: Error | undefined, stdout?: Uint8Array, stderr?: string): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (error !== undefined) reject(error);
      else resolve({ stdout: stdout ?? new Uint8Array(0), stderr: stderr ?? '' });
    };
    const onAbort = (): void => {
      child.kill('SIGKILL');
      finish(new AbortError('ffmpeg was cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => stdoutChunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderrChunks.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      const code = error.code === 'ENOENT' || error.code === 'EACCES' ? 'FFMPEG_NOT_FOUND' : 'FFMPEG_FAILED';
      finish(new AudioError(code, `could not start ffmpeg ("${ffmpegPath}"): ${error.message}`, { cause: error }));
    });
    child.on('close', (status, killSignal) => {
      const stderr = Buffer.concat(stderrChunks).toString('utf8');
      if (status === 0) {
        const stdout = Buffer.concat(stdoutChunks);
        finish(undefined, new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.byteLength), stderr);
        return;
      }
      const how = killSignal === null ? `exit status ${status}` : `signal ${killSignal}`;
      const tail = stderr.trim().split('\n').slice(-5).join('\n');
      finish(new AudioError('FFMPEG_FAILED', `ffmpeg failed (${how}): ${tail}`));
    });
    // ffmpeg may exit before reading everything (a bad argument): its exit status reports that,
    // so a broken pipe here is not a separate error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/**
 * Streams `input` through ffmpeg (stdin) and yields its stdout as it comes, with backpressure on
 * both sides. The child is killed when the consumer stops early, the signal aborts or the input
 * throws; a non-zero exit rejects with `AudioError` `FFMPEG_FAILED` after the output so far.
 */
export async function* streamFfmpeg(
  ffmpegPath: string,
  args: readonly string[],
  input: AsyncIterable<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array, void, undefined> {
  if (signal?.aborted) throw new AbortError('ffmpeg was cancelled');
  const child = spawn(ffmpegPath, ['-nostdin', ...args], { stdio: 'pipe' });
  const stderrChunks: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderrChunks.push(chunk));
  let startError: NodeJS.ErrnoException | undefined;
  const exited = new Promise<{ status: number | null; killSignal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (error: NodeJS.ErrnoException) => {
      startError = error;
      resolve({ status: null, killSignal: null });
    });
    child.on('close', (status, killSignal) => resolve({ status, killSignal }));
  });
  const onAbort = (): void => {
    child.kill('SIGKILL');
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  child.stdin.on('error', () => undefined); // a dead child shows up in its exit status
  const iterator = input[Symbol.asyncIterator]();
  let inputError: unknown;
  let stopped = false;
  const pump = (async (): Promise<void> => {
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done || stopped) break;
        if (!child.stdin.write(next.value)) {
          // Wait for ffmpeg to read (or to die: then close fires instead of drain).
          await new Promise<void>((resolve) => {
            const done = (): void => {
              child.stdin.off('drain', done);
              child.stdin.off('close', done);
              resolve();
            };
            child.stdin.on('drain', done);
            child.stdin.on('close', done);
          });
          if (child.stdin.destroyed) break;
        }
      }
      child.stdin.end();
    } catch (error) {
      inputError = error;
      child.kill('SIGKILL');
    }
  })();
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
    const { status, killSignal } = await exited;
    await pump;
    if (signal?.aborted) throw new AbortError('ffmpeg was cancelled');
    if (inputError !== undefined) throw inputError;
    if (startError !== undefined) {
      const code = startError.code === 'ENOENT' || startError.code === 'EACCES' ? 'FFMPEG_NOT_FOUND' : 'FFMPEG_FAILED';
      throw new AudioError(code, `could not start ffmpeg ("${ffmpegPath}"): ${startError.message}`, { cause: startError });
    }
    if (status !== 0) {
      const how = killSignal === null ? `exit status ${status}` : `signal ${killSignal}`;
      const tail = Buffer.concat(stderrChunks).toString('utf8').trim().split('\n').slice(-5).join('\n');
      throw new AudioError('FFMPEG_FAILED', `ffmpeg failed (${how}): ${tail}`);
    }
  } finally {
    stopped = true;
    signal?.removeEventListener('abort', onAbort);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    // Release the caller's input iterator if the pump is still holding it.
    void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
}
