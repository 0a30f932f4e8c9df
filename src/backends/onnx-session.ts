/**
 * Shared ONNX Runtime plumbing for the neural backends: model loading with errors that name the
 * file, signature checks, and inference that honours an AbortSignal — all off the main thread.
 *
 * Why a worker: onnxruntime-node's `session.run` returns a promise but executes synchronously on the
 * calling thread (it is only deferred with `setImmediate`), so a 1–3 s Kokoro run on the main thread
 * would freeze timers, I/O and the feed of the audio ring buffer. Each model therefore lives in its
 * own `worker_threads` worker, which imports onnxruntime-node lazily (importing this package never
 * loads its native code); inputs and outputs cross as transferred buffers. The worker is unref'd
 * while idle, so an unclosed backend never keeps the process alive.
 */
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type * as Ort from 'onnxruntime-node';
import { AbortError, BackendError } from '../errors.js';

/** Session tuning a backend passes through from its validated options. */
export interface OnnxSessionOptions {
  /** Threads ONNX Runtime uses inside one operator; default: ONNX Runtime's choice (the core count). */
  intraOpNumThreads?: number | undefined;
}

/** One input tensor of a run. Its `data` buffer is transferred to the worker (detached here): pass fresh arrays. */
export type FeedTensor =
  | { type: 'int64'; data: BigInt64Array; dims: number[] }
  | { type: 'int32'; data: Int32Array; dims: number[] }
  | { type: 'float32'; data: Float32Array; dims: number[] };

/** Shape and element type of a model input (dynamic dims are strings). */
export interface InputInfo {
  type: string;
  shape: ReadonlyArray<number | string>;
}

/** A loaded model, running in its own worker thread. */
export interface OnnxModel {
  path: string;
  /** Tensor inputs by name. */
  inputs: ReadonlyMap<string, InputInfo>;
  outputNames: readonly string[];
  /** False once the worker died; load the model again. */
  readonly alive: boolean;
  /**
   * Runs the model once and returns the float32 data of `outputName`. Rejects with `AbortError` as
   * soon as `signal` aborts (a run already executing finishes in the worker and is discarded),
   * `BackendError` `BACKEND_INFERENCE_FAILED` when ONNX Runtime fails, and retryable
   * `BACKEND_WORKER_FAILED` when the worker dies.
   */
  run(feeds: Record<string, FeedTensor>, outputName: string, signal: AbortSignal): Promise<Float32Array>;
  /** Stops the worker and frees the session; idempotent. */
  release(): Promise<void>;
}

interface WorkerInit {
  ortUrl: string;
  modelPath: string;
  /** The model's verified bytes (security/model-verify.ts), loaded instead of the path when given. */
  modelBytes: Uint8Array | null;
  sessionOptions: Ort.InferenceSession.SessionOptions;
}

type RunRequest = { id: number; feeds: Record<string, FeedTensor>; outputName: string };

type WorkerMessage =
  | { kind: 'ready'; inputs: Array<{ name: string; type: string; shape: Array<number | string> }>; outputNames: string[] }
  | { kind: 'load-failed'; message: string }
  | { kind: 'result'; id: number; data: Float32Array }
  | { kind: 'run-failed'; id: number; message: string };

/**
 * The worker's program, shipped as source text (`eval: true`) so it works the same from the built
 * package and from TypeScript sources under a test runner (a transpiled function's text may call
 * helpers that do not exist in the worker). It loads onnxruntime-node and the model, posts
 * `ready` (input metadata, output names) or `load-failed`, then answers each `RunRequest` with
 * `result` (the output's float32 data, transferred) or `run-failed`. Plain ES2022, no imports.
 */
const WORKER_SOURCE = `
const describe = (error) => (error instanceof Error ? error.message : String(error));
(async () => {
  const { parentPort: port, workerData: init } = await import('node:worker_threads');
  let ort;
  let session;
  try {
    const module = await import(init.ortUrl);
    ort = typeof module.InferenceSession === 'function' ? module : module.default;
    session = await ort.InferenceSession.create(init.modelBytes ?? init.modelPath, init.sessionOptions);
  } catch (error) {
    port.postMessage({ kind: 'load-failed', message: describe(error) });
    return;
  }
  const inputs = session.inputMetadata
    .filter((input) => input.isTensor)
    .map((input) => ({ name: input.name, type: input.type, shape: [...input.shape] }));
  port.postMessage({ kind: 'ready', inputs, outputNames: [...session.outputNames] });
  port.on('message', async (request) => {
    try {
      const feeds = {};
      for (const [name, feed] of Object.entries(request.feeds)) feeds[name] = new ort.Tensor(feed.type, feed.data, feed.dims);
      const output = (await session.run(feeds))[request.outputName];
      if (!output || output.type !== 'float32') throw new Error('output "' + request.outputName + '" is not a float32 tensor');
      const data = Float32Array.from(output.data);
      port.postMessage({ kind: 'result', id: request.id, data }, [data.buffer]);
    } catch (error) {
      port.postMessage({ kind: 'run-failed', id: request.id, message: describe(error) });
    }
  });
})();
`;

/** Where onnxruntime-node is, as a URL the worker can import; `BACKEND_UNAVAILABLE` if it is not installed. */
function resolveOnnxRuntime(backend: string): string {
  try {
    return pathToFileURL(createRequire(import.meta.url).resolve('onnxruntime-node')).href;
  } catch (error) {
    throw new BackendError(
      backend,
      'BACKEND_UNAVAILABLE',
      'onnxruntime-node is not installed; install it with `npm install onnxruntime-node` (it ships CPU binaries for linux, macOS and Windows)',
      { cause: error },
    );
  }
}

/**
 * Checks that `path` is a regular file; otherwise throws `BackendError` `BACKEND_MODEL_NOT_FOUND`
 * (missing) or `BACKEND_MODEL_INVALID` (a directory, unreadable), naming `what` and the path.
 */
export async function assertModelFile(backend: string, path: string, what: string): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new BackendError(backend, 'BACKEND_MODEL_NOT_FOUND', `${what} not found: ${path}`, { cause: error });
    }
    throw new BackendError(backend, 'BACKEND_MODEL_INVALID', `${what} cannot be read: ${path} (${code ?? String(error)})`, { cause: error });
  }
  if (!info.isFile()) throw new BackendError(backend, 'BACKEND_MODEL_INVALID', `${what} is not a file: ${path}`);
}

interface PendingRun {
  resolve: (data: Float32Array) => void;
  reject: (error: Error) => void;
}

/**
 * Loads an ONNX model file into a CPU session in a new worker thread. Errors name the path:
 * `BACKEND_MODEL_NOT_FOUND`, `BACKEND_MODEL_INVALID` (not an ONNX model ONNX Runtime accepts),
 * `BACKEND_UNAVAILABLE` (onnxruntime-node missing).
 */
export async function loadOnnxModel(backend: string, path: string, options: OnnxSessionOptions = {}, verifiedBytes: Uint8Array | null = null): Promise<OnnxModel> {
  if (verifiedBytes === null) await assertModelFile(backend, path, 'model file');
  // An exact, unshared buffer, so it can move to the worker without a copy.
  const bytes = verifiedBytes === null ? null : verifiedBytes.byteOffset === 0 && verifiedBytes.byteLength === verifiedBytes.buffer.byteLength ? verifiedBytes : verifiedBytes.slice();
  const init: WorkerInit = {
    ortUrl: resolveOnnxRuntime(backend),
    modelPath: path,
    modelBytes: bytes,
    sessionOptions: {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      interOpNumThreads: 1,
      logSeverityLevel: 3,
      ...(options.intraOpNumThreads === undefined ? {} : { intraOpNumThreads: options.intraOpNumThreads }),
    },
  };
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: init, execArgv: [], name: `${backend}-onnx`, ...(bytes && bytes.buffer instanceof ArrayBuffer ? { transferList: [bytes.buffer] } : {}) });
  const pending = new Map<number, PendingRun>();
  let nextId = 0;
  let alive = true;
  let deathReason = '';

  const ready = await new Promise<Extract<WorkerMessage, { kind: 'ready' }>>((resolve, reject) => {
    const settle = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (message: WorkerMessage) => {
      settle();
      if (message.kind === 'ready') resolve(message);
      else {
        const reason = message.kind === 'load-failed' ? message.message : `unexpected ${message.kind} message`;
        reject(new BackendError(backend, 'BACKEND_MODEL_INVALID', `model file is not a loadable ONNX model: ${path} (${reason})`));
      }
    };
    const onError = (error: Error) => {
      settle();
      reject(new BackendError(backend, 'BACKEND_WORKER_FAILED', `inference worker failed while loading ${path}: ${error.message}`, { cause: error }));
    };
    const onExit = (code: number) => {
      settle();
      reject(new BackendError(backend, 'BACKEND_WORKER_FAILED', `inference worker exited (code ${code}) while loading ${path}`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  }).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });

  const failAll = (error: BackendError) => {
    alive = false;
    deathReason = error.message;
    for (const run of pending.values()) run.reject(error);
    pending.clear();
  };
  worker.on('message', (message: WorkerMessage) => {
    if (message.kind !== 'result' && message.kind !== 'run-failed') return;
    const run = pending.get(message.id);
    pending.delete(message.id);
    if (pending.size === 0) worker.unref();
    if (!run) return; // aborted meanwhile: the result is dropped
    if (message.kind === 'result') run.resolve(message.data);
    else run.reject(new BackendError(backend, 'BACKEND_INFERENCE_FAILED', `inference failed on ${path}: ${message.message}`));
  });
  worker.on('error', (error) => failAll(new BackendError(backend, 'BACKEND_WORKER_FAILED', `inference worker failed: ${error.message}`, { retryable: true, cause: error })));
  worker.on('exit', (code) => failAll(new BackendError(backend, 'BACKEND_WORKER_FAILED', `inference worker exited (code ${code})`, { retryable: true })));
  worker.unref();

  return {
    path,
    inputs: new Map(ready.inputs.map((input) => [input.name, { type: input.type, shape: input.shape }])),
    outputNames: ready.outputNames,
    get alive() {
      return alive;
    },
    run(feeds, outputName, signal) {
      return new Promise<Float32Array>((resolve, reject) => {
        if (signal.aborted) return reject(new AbortError('synthesis was aborted'));
        if (!alive) return reject(new BackendError(backend, 'BACKEND_WORKER_FAILED', deathReason || 'the model was released', { retryable: true }));
        const id = nextId++;
        const onAbort = () => {
          pending.delete(id);
          reject(new AbortError('synthesis was aborted'));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        pending.set(id, {
          resolve: (data) => (signal.removeEventListener('abort', onAbort), resolve(data)),
          reject: (error) => (signal.removeEventListener('abort', onAbort), reject(error)),
        });
        worker.ref();
        worker.postMessage({ id, feeds, outputName } satisfies RunRequest, Object.values(feeds).map((feed) => feed.data.buffer as ArrayBuffer));
      });
    },
    async release() {
      if (!alive) return;
      failAll(new BackendError(backend, 'BACKEND_CLOSED', 'the model was released'));
      await worker.terminate();
    },
  };
}

/**
 * Throws `BackendError` `BACKEND_MODEL_INVALID` unless the model has every input in `required`
 * with one of the given element types, naming what it expected and what the model has.
 */
export function assertInputs(backend: string, model: OnnxModel, kind: string, required: Record<string, readonly string[]>): void {
  for (const [name, types] of Object.entries(required)) {
    const input = model.inputs.get(name);
    if (!input || !types.includes(input.type)) {
      const has = [...model.inputs].map(([inputName, info]) => `${inputName}:${info.type}`).join(', ');
      throw new BackendError(
        backend,
        'BACKEND_MODEL_INVALID',
        `${model.path} is not a ${kind} model: expected input "${name}" of type ${types.join('|')}; the model has ${has || 'no tensor inputs'}`,
      );
    }
  }
  if (model.outputNames.length === 0) throw new BackendError(backend, 'BACKEND_MODEL_INVALID', `${model.path} has no outputs`);
}

