/**
 * The behaviour every ONNX backend shares through `OnnxBackend` (aborts between sentence runs,
 * close, a missing model file reported by path from synthesis and health), as one suite run
 * against each backend on a real tiny model in its own worker.
 */
import { describe, expect, it } from 'vitest';
import type { SpeechBackend } from '../../src/backends/backend.js';
import { AbortError, BackendError } from '../../src/errors.js';
import type { EngineOutput } from '../../src/graph/engine-output.js';
import { collect, rejection, segment, streamError } from './synthesis.js';

/** What the suite needs of an ONNX backend besides the `SpeechBackend` interface. */
export interface OnnxSpeechBackend extends SpeechBackend {
  readonly inferenceRuns: number;
  load(): Promise<void>;
}

/** How to run the shared suite against one ONNX backend. */
export interface OnnxBackendContract {
  /** The backend's `name`. */
  name: string;
  /** The backend on a working test model, or on `modelPath` instead (called inside tests, after the file's `beforeAll`). */
  create(modelPath?: string): OnnxSpeechBackend;
  /** A path where no model file exists. */
  missingModelPath(): string;
}

/** Registers the shared suite for one ONNX backend. */
export function describeOnnxBackendContract(contract: OnnxBackendContract): void {
  describe(`${contract.name}: the ONNX backend contract`, () => {
    it('stops at an abort between sentence runs, and rejects an already-aborted call without a run', async () => {
      const backend = contract.create();
      const controller = new AbortController();
      const chunks: EngineOutput[] = [];

      const error = await streamError(backend.synthesize(segment('First sentence. Second sentence. Third sentence.'), {}, controller.signal), (chunk) => {
        chunks.push(chunk);
        controller.abort();
      });

      expect(error).toBeInstanceOf(AbortError);
      expect(chunks).toHaveLength(1);
      expect(backend.inferenceRuns).toBe(1);
      await expect(collect(backend.synthesize(segment('Hi.'), {}, AbortSignal.abort()))).rejects.toBeInstanceOf(AbortError);
      expect(backend.inferenceRuns).toBe(1);
      await backend.close();
    });

    it('refuses to synthesize after close, and close is idempotent', async () => {
      const backend = contract.create();
      await backend.load();

      await backend.close();
      await backend.close();

      await expect(collect(backend.synthesize(segment('Hi.')))).rejects.toMatchObject({ code: 'BACKEND_CLOSED', backend: contract.name });
      expect(await backend.health()).toMatchObject({ backend: contract.name, status: 'unavailable', modelLoaded: false });
    });

    it('reports a missing model file by path, from synthesize and from health', async () => {
      const missing = contract.missingModelPath();
      const backend = contract.create(missing);

      const error = await rejection(collect(backend.synthesize(segment('Hi.'))));

      expect(error).toBeInstanceOf(BackendError);
      expect(error).toMatchObject({ code: 'BACKEND_MODEL_NOT_FOUND', backend: contract.name, message: expect.stringContaining(missing) });
      expect(backend.metrics().retries).toBe(0);
      const health = await backend.health();
      expect(health).toMatchObject({ backend: contract.name, status: 'unavailable', modelLoaded: false });
      expect(health.detail).toContain(missing);
    });
  });
}
