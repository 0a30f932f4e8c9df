/**
 * The espeak-ng WebAssembly build (npm package `espeak-ng`, an optional dependency, GPL-3: loaded
 * at run time, never bundled or linked) kept warm in a worker thread.
 *
 * The package is an Emscripten build of the espeak-ng command-line program: instantiating it runs
 * `main` once, which costs 210–300 ms (compiling 18 MB of WebAssembly and unpacking the voice data).
 * The worker (program in espeak-worker.ts) compiles and instantiates it once, snapshots the linear
 * memory right after start-up (before `main` ever ran), and every call restores that snapshot and
 * calls `main` again: all C globals start clean each time, and a call costs a 32 MB memory copy
 * plus the synthesis itself.
 *
 * Why a worker: a sentence takes ~9 ms of synchronous WebAssembly; on the main thread that froze
 * timers, I/O and the feed of the audio ring buffer, and an abort could only act between sentences.
 * In the worker the main thread only posts a request and receives the WAV as a transferred buffer.
 * An abort rejects the caller at once; a run already executing finishes in the worker and its
 * result is dropped (answers are matched by id, so it never answers a later call). The worker is
 * unref'd while idle, so it never keeps the process alive; a worker that died is started again on
 * the next call (`sharedEspeakWasm` reloads an instance that is no longer `alive`).
 */
import { access } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AbortError, BackendError } from '../errors.js';
import { ESPEAK_WORKER_SOURCE, type EspeakWorkerInit, type EspeakWorkerMessage, type EspeakWorkerRequest } from './espeak-worker.js';
import { LazyLoad } from './lazy-load.js';

/** The npm package name of the WASM build. */
export const ESPEAK_WASM_PACKAGE = 'espeak-ng';

/** What one call of the program produced. */
export interface EspeakWasmRunResult {
  exitCode: number;
  stdoutLines: string[];
  stderrLines: string[];
  /** Contents of the requested output files that exist after the run. */
  files: Map<string, Uint8Array>;
}

/** Options of one call. */
export interface EspeakWasmRun {
  /** Command-line arguments, without the program name and without the text. */
  args: readonly string[];
  /** Text to speak: written to a file in the in-memory file system and passed as `-f`. */
  inputText?: string;
  /** In-memory paths to read back after the run (e.g. the `-w` WAV path); removed afterwards. */
  outputFiles?: readonly string[];
  signal?: AbortSignal;
}

function unavailable(packageName: string, cause: unknown): BackendError {
  return new BackendError(
    'espeak',
    'ESPEAK_NOT_FOUND',
    `the WASM build ${JSON.stringify(packageName)} could not be loaded; install espeak-ng (apt-get install espeak-ng) or the espeak-ng npm package`,
    { cause },
  );
}

/** Where the package's `espeak-ng.js` and `.wasm` are; `ESPEAK_NOT_FOUND` if it is not installed. */
async function locate(packageName: string): Promise<EspeakWorkerInit> {
  try {
    const entryPath = createRequire(import.meta.url).resolve(packageName);
    const wasmPath = entryPath.replace(/\.js$/, '.wasm');
    await access(wasmPath);
    return { entryUrl: pathToFileURL(entryPath).href, wasmPath };
  } catch (error) {
    throw unavailable(packageName, error);
  }
}

interface PendingRun {
  resolve: (result: EspeakWasmRunResult) => void;
  reject: (error: Error) => void;
}

/** One warm instance of the espeak-ng WASM program, in its own worker thread. Create with `EspeakWasm.load()`. */
export class EspeakWasm {
  private readonly pending = new Map<number, PendingRun>();
  private nextId = 0;
  /** Why the instance can no longer run (set once, when the worker dies or is closed). */
  private death: { code: 'BACKEND_WORKER_FAILED' | 'BACKEND_CLOSED'; message: string } | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (message: EspeakWorkerMessage) => this.onMessage(message));
    worker.on('error', (error) => this.fail('BACKEND_WORKER_FAILED', `the espeak-ng (wasm) worker failed: ${error.message}`));
    worker.on('exit', (code) => this.fail('BACKEND_WORKER_FAILED', `the espeak-ng (wasm) worker exited (code ${code})`));
    worker.unref();
  }

  /**
   * Starts a worker that loads, compiles and instantiates the WASM build: `packageName` is the npm
   * package (default `espeak-ng`) or the path of its `espeak-ng.js` (a vendored copy; the `.wasm`
   * must sit next to it). Rejects with `ESPEAK_NOT_FOUND` when it cannot be loaded.
   */
  static async load(packageName: string = ESPEAK_WASM_PACKAGE): Promise<EspeakWasm> {
    const init = await locate(packageName);
    const worker = new Worker(ESPEAK_WORKER_SOURCE, { eval: true, workerData: init, execArgv: [], name: 'espeak-wasm' });
    try {
      await new Promise<void>((resolve, reject) => {
        const settle = () => {
          worker.off('message', onMessage);
          worker.off('error', onError);
          worker.off('exit', onExit);
        };
        const onMessage = (message: EspeakWorkerMessage) => {
          settle();
          if (message.kind === 'ready') resolve();
          else reject(unavailable(packageName, new Error(message.kind === 'load-failed' ? message.message : `unexpected ${message.kind} message`)));
        };
        const onError = (error: Error) => {
          settle();
          reject(unavailable(packageName, error));
        };
        const onExit = (code: number) => {
          settle();
          reject(unavailable(packageName, new Error(`the worker exited (code ${code}) while loading`)));
        };
        worker.on('message', onMessage);
        worker.on('error', onError);
        worker.on('exit', onExit);
      });
    } catch (error) {
      await worker.terminate();
      throw error;
    }
    return new EspeakWasm(worker);
  }

  /** False once the worker died or was closed; load a new instance. */
  get alive(): boolean {
    return this.death === undefined;
  }

  /**
   * Runs the program once with `args` on a clean copy of its start-up memory. Resolves with the
   * exit code, printed lines and requested files. Rejects with `AbortError` as soon as `signal`
   * aborts (a run already executing finishes in the worker and is discarded), with `BackendError`
   * `ESPEAK_FAILED` if the program crashed, and retryable `BACKEND_WORKER_FAILED` if the worker died.
   */
  run(run: EspeakWasmRun): Promise<EspeakWasmRunResult> {
    return new Promise<EspeakWasmRunResult>((resolve, reject) => {
      const signal = run.signal;
      if (signal?.aborted) return reject(new AbortError('espeak-ng (wasm) run was aborted before it started'));
      if (this.death !== undefined) return reject(this.deathError());
      const id = this.nextId++;
      const onAbort = () => {
        this.pending.delete(id);
        if (this.pending.size === 0) this.worker.unref();
        reject(new AbortError('espeak-ng (wasm) run was aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (result) => (signal?.removeEventListener('abort', onAbort), resolve(result)),
        reject: (error) => (signal?.removeEventListener('abort', onAbort), reject(error)),
      });
      this.worker.ref();
      const request: EspeakWorkerRequest = { id, args: [...run.args], outputFiles: [...(run.outputFiles ?? [])], ...(run.inputText === undefined ? {} : { inputText: run.inputText }) };
      this.worker.postMessage(request);
    });
  }

  /** Stops the worker; calls still pending reject with `BACKEND_CLOSED`. Idempotent. */
  async close(): Promise<void> {
    if (this.death !== undefined) return;
    this.fail('BACKEND_CLOSED', 'the espeak-ng (wasm) instance was closed');
    await this.worker.terminate();
  }

  /**
   * Test hook: ends the worker abruptly, as a crash would (pending calls reject with retryable
   * `BACKEND_WORKER_FAILED`, the next `sharedEspeakWasm()` starts a new worker).
   */
  async crashForTests(): Promise<void> {
    await this.worker.terminate();
  }

  private onMessage(message: EspeakWorkerMessage): void {
    if (message.kind !== 'result' && message.kind !== 'run-failed') return;
    const run = this.pending.get(message.id);
    this.pending.delete(message.id);
    if (this.pending.size === 0) this.worker.unref();
    if (!run) return; // aborted meanwhile: the result is dropped
    if (message.kind === 'run-failed') {
      run.reject(new BackendError('espeak', 'ESPEAK_FAILED', `espeak-ng (wasm) crashed: ${message.message}`));
      return;
    }
    run.resolve({ exitCode: message.exitCode, stdoutLines: message.stdoutLines, stderrLines: message.stderrLines, files: new Map(message.files) });
  }

  /** Marks the instance dead (first reason wins) and rejects every pending call with it. */
  private fail(code: 'BACKEND_WORKER_FAILED' | 'BACKEND_CLOSED', message: string): void {
    if (this.death !== undefined) return;
    this.death = { code, message };
    for (const run of this.pending.values()) run.reject(this.deathError());
    this.pending.clear();
  }

  /** The error a call gets from a dead instance: a crashed worker is retryable, a closed one is not. */
  private deathError(): BackendError {
    const death = this.death ?? { code: 'BACKEND_CLOSED', message: 'the espeak-ng (wasm) instance was closed' };
    return new BackendError('espeak', death.code, death.message, { retryable: death.code === 'BACKEND_WORKER_FAILED' });
  }
}

/** A process-wide instance of one package, and how many open engines use it. */
interface SharedInstance {
  load: LazyLoad<EspeakWasm>;
  users: number;
}
const shared = new Map<string, SharedInstance>();

function sharedEntry(packageName: string): SharedInstance {
  let entry = shared.get(packageName);
  if (!entry) {
    entry = { load: new LazyLoad(() => EspeakWasm.load(packageName), (instance) => instance.alive), users: 0 };
    shared.set(packageName, entry);
  }
  return entry;
}

/**
 * The process-wide warm instance of a WASM build, loaded on first use. A failed load is not
 * cached, and an instance whose worker died is replaced by a new one.
 */
export function sharedEspeakWasm(packageName: string = ESPEAK_WASM_PACKAGE): Promise<EspeakWasm> {
  return sharedEntry(packageName).load.get();
}

/** A claim on the shared instance of one package; releasing the last claim stops its worker. */
export interface EspeakWasmLease {
  /** The shared instance (started again if its worker died). */
  get(): Promise<EspeakWasm>;
  /** Gives the claim back; the worker stops when no claim is left. Idempotent. */
  release(): Promise<void>;
}

/**
 * Loads (or reuses) the shared instance of `packageName` and claims it until `release()`. Rejects
 * with `ESPEAK_NOT_FOUND` when the package cannot be loaded (no claim is then held).
 */
export async function leaseEspeakWasm(packageName: string = ESPEAK_WASM_PACKAGE): Promise<EspeakWasmLease> {
  const entry = sharedEntry(packageName);
  entry.users += 1;
  try {
    await entry.load.get();
  } catch (error) {
    entry.users -= 1;
    throw error;
  }
  let released = false;
  return {
    get: () => entry.load.get(),
    async release() {
      if (released) return;
      released = true;
      entry.users -= 1;
      if (entry.users > 0) return;
      const instance = entry.load.take();
      if (instance) await instance.then((loaded) => loaded.close(), () => undefined);
    },
  };
}
