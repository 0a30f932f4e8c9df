/**
 * Shared ONNX Runtime plumbing for the neural backends: a lazy import of onnxruntime-node (so
 * importing the package never loads 300 MB of native code), model loading with errors that name
 * the file, signature checks, and one inference run that honours an AbortSignal.
 *
 * `session.run` executes on ONNX Runtime's own threads and resolves asynchronously, so the event
 * loop keeps running during inference; the backends additionally run one sentence (or one piece of
 * at most the model's token limit) per call.
 */
import { stat } from 'node:fs/promises';
import type * as Ort from 'onnxruntime-node';
import { z } from 'zod';
import { AbortError, BackendError } from '../errors.js';

/** The onnxruntime-node module. */
export type OrtModule = typeof Ort;
/** An ONNX Runtime inference session. */
export type OrtSession = Ort.InferenceSession;
/** An ONNX Runtime tensor. */
export type OrtTensor = Ort.Tensor;

/** Session tuning a user may set (validated with zod by each backend's options). */
export const onnxSessionOptionsSchema = z
  .object({
    /** Threads ONNX Runtime uses inside one operator; default: ONNX Runtime's choice (the core count). */
    intraOpNumThreads: z.number().int().min(1).max(256).optional(),
  })
  .strict();

/** Session tuning a user may set. */
export type OnnxSessionOptions = z.output<typeof onnxSessionOptionsSchema>;

let ortPromise: Promise<OrtModule> | undefined;

/** Imports onnxruntime-node once; a failure is a `BackendError` `BACKEND_UNAVAILABLE` saying what to do. */
export function importOnnxRuntime(backend: string): Promise<OrtModule> {
  ortPromise ??= import('onnxruntime-node').then(
    (module) => {
      // ESM import of a CommonJS package: the API is on the namespace or on its default export.
      const candidate = module as OrtModule & { default?: OrtModule };
      return typeof candidate.InferenceSession === 'function' ? candidate : (candidate.default as OrtModule);
    },
    (error: unknown) => {
      ortPromise = undefined;
      throw new BackendError(
        backend,
        'BACKEND_UNAVAILABLE',
        `onnxruntime-node could not be loaded (${error instanceof Error ? error.message : String(error)}); ` +
          'install it with `npm install onnxruntime-node` (it ships CPU binaries for linux/macOS/windows x64 and arm64)',
        { cause: error },
      );
    },
  );
  return ortPromise;
}

/**
 * Checks that `path` is a readable regular file; otherwise throws `BackendError`
 * `BACKEND_MODEL_NOT_FOUND` (missing) or `BACKEND_MODEL_INVALID` (a directory, unreadable),
 * naming `what` and the path.
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

/** A loaded model: the session and the input metadata by name. */
export interface OnnxModel {
  ort: OrtModule;
  session: OrtSession;
  path: string;
  /** Tensor inputs by name (element type and shape; dynamic dims are strings). */
  inputs: ReadonlyMap<string, { type: string; shape: ReadonlyArray<number | string> }>;
  outputNames: readonly string[];
}

/** Loads an ONNX model file into a CPU session; errors name the path (`BACKEND_MODEL_NOT_FOUND` / `_INVALID`). */
export async function loadOnnxModel(backend: string, path: string, options: OnnxSessionOptions = {}): Promise<OnnxModel> {
  await assertModelFile(backend, path, 'model file');
  const ort = await importOnnxRuntime(backend);
  let session: OrtSession;
  try {
    session = await ort.InferenceSession.create(path, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      interOpNumThreads: 1,
      logSeverityLevel: 3,
      ...(options.intraOpNumThreads === undefined ? {} : { intraOpNumThreads: options.intraOpNumThreads }),
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new BackendError(backend, 'BACKEND_MODEL_INVALID', `model file is not a loadable ONNX model: ${path} (${reason})`, { cause: error });
  }
  const inputs = new Map<string, { type: string; shape: ReadonlyArray<number | string> }>();
  for (const input of session.inputMetadata) {
    if (input.isTensor) inputs.set(input.name, { type: input.type, shape: input.shape });
  }
  return { ort, session, path, inputs, outputNames: session.outputNames };
}

/**
 * Throws `BackendError` `BACKEND_MODEL_INVALID` unless the model has every input in `required`
 * with the given element type, naming what it expected and what the model has.
 */
export function assertInputs(backend: string, model: OnnxModel, kind: string, required: Record<string, readonly string[]>): void {
  for (const [name, types] of Object.entries(required)) {
    const input = model.inputs.get(name);
    if (!input || !types.includes(input.type)) {
      const has = [...model.inputs].map(([inputName, meta]) => `${inputName}:${meta.type}`).join(', ');
      throw new BackendError(
        backend,
        'BACKEND_MODEL_INVALID',
        `${model.path} is not a ${kind} model: expected input "${name}" of type ${types.join('|')}; the model has ${has || 'no tensor inputs'}`,
      );
    }
  }
  if (model.outputNames.length === 0) throw new BackendError(backend, 'BACKEND_MODEL_INVALID', `${model.path} has no outputs`);
}

/**
 * Runs the session once and returns the float32 data of `outputName`. Throws `AbortError` if
 * `signal` aborts before or during the run (the run itself cannot be interrupted; its result is
 * dropped), and `BackendError` `BACKEND_INFERENCE_FAILED` when ONNX Runtime fails.
 */
export async function runForFloat32(
  backend: string,
  model: OnnxModel,
  feeds: Record<string, OrtTensor>,
  outputName: string,
  signal: AbortSignal,
): Promise<Float32Array> {
  if (signal.aborted) throw new AbortError('synthesis was aborted');
  let results: Ort.InferenceSession.ReturnType;
  try {
    results = await model.session.run(feeds);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new BackendError(backend, 'BACKEND_INFERENCE_FAILED', `inference failed on ${model.path}: ${reason}`, { cause: error });
  }
  if (signal.aborted) throw new AbortError('synthesis was aborted');
  const output = results[outputName];
  if (!output || output.type !== 'float32' || !(output.data instanceof Float32Array)) {
    throw new BackendError(backend, 'BACKEND_MODEL_INVALID', `${model.path}: output "${outputName}" is not a float32 tensor`);
  }
  return output.data;
}

/**
 * Copies model output into PCM in [-1, 1], applying a gain in dB (0 = unchanged). Neural vocoders
 * overshoot full scale now and then; clamping keeps the EngineOutput contract.
 */
export function toPcm(samples: Float32Array, gainDb: number): Float32Array {
  const gain = gainDb === 0 ? 1 : 10 ** (gainDb / 20);
  const pcm = new Float32Array(samples.length);
  for (let index = 0; index < samples.length; index++) {
    const value = (samples[index] as number) * gain;
    // NaN (a broken model) becomes silence rather than poisoning the mixer downstream.
    pcm[index] = value > 1 ? 1 : value < -1 ? -1 : Number.isNaN(value) ? 0 : value;
  }
  return pcm;
}
