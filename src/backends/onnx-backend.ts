/**
 * The base class of the phoneme-driven ONNX backends (Kokoro, Piper). It owns what they do the
 * same way: the retry policy and phonemizer from the common options, the model loaded lazily into
 * its worker (shared by concurrent calls, loaded again when the worker died, released on
 * `close()`), health that tries the load, counted runs, and turning model output into a chunk.
 * Subclasses check their model's signature, build its feeds and map voices.
 */
import { z } from 'zod';
import type { EngineOutput } from '../graph/engine-output.js';
import { BaseBackend, type BackendCapabilities, type BackendHealth } from './backend.js';
import { applyGainInPlace, dbToGain } from './gain.js';
import { LazyLoad } from './lazy-load.js';
import { checkModelPins, modelVerifyOptions, verifyModelFile } from '../security/model-verify.js';
import { assertModelFile, loadOnnxModel, type FeedTensor, type OnnxModel } from './onnx-session.js';
import type { Phonemizer } from './phoneme-text.js';
import { phonemize } from './phonemize.js';

/** Option fields every ONNX backend accepts (spread into each backend's zod object). */
export const onnxBackendCommonOptions = {
  /** ONNX Runtime intra-op threads; default: ONNX Runtime's choice. */
  intraOpNumThreads: z.number().int().min(1).max(256).optional(),
  /** Text -> IPA; default: espeak-ng through `phonemize`. */
  phonemizer: z
    .custom<Phonemizer>((value) => typeof value === 'function', 'expected a function (text, language, signal) => Promise<string>')
    .optional(),
  /** Retry/timeout policy of the base class (partial). */
  policy: z
    .object({
      maxRetries: z.number().int().min(0).max(10).optional(),
      retryBaseMs: z.number().min(0).max(60_000).optional(),
      firstChunkTimeoutMs: z.number().positive().max(600_000).optional(),
    })
    .strict()
    .optional(),
  /** Pins of the model file (SHA-256, Ed25519 signature), checked before every load: see security/model-verify.ts. */
  ...modelVerifyOptions,
};

/** The parsed options an `OnnxBackend` reads (each backend's parsed options extend these). */
export type OnnxBackendOptions = z.output<z.ZodObject<typeof onnxBackendCommonOptions>> & { modelPath: string };

/** Base class of the ONNX backends; subclasses implement `openModel`, `synthesizeOnce` and `voices`. */
export abstract class OnnxBackend<Options extends OnnxBackendOptions, Model extends { onnx: OnnxModel }> extends BaseBackend {
  readonly capabilities: BackendCapabilities = { streaming: true, wordTimings: false, phonemes: true, remote: false };
  /** The validated options. */
  protected readonly options: Options;
  /** Text -> IPA: the `phonemizer` option, else espeak-ng. */
  protected readonly phonemizer: Phonemizer;
  /** The model, opened on first use; a model whose worker died is opened again. */
  protected readonly model = new LazyLoad(() => this.openModel(), (loaded) => loaded.onnx.alive);
  private runCount = 0;

  /** Takes options already validated by the subclass's schema; files are opened on first use or `load()`. */
  protected constructor(options: Options) {
    super(options.policy ?? {});
    checkModelPins(options, 'options');
    this.options = options;
    this.phonemizer = options.phonemizer ?? ((text, language, signal) => phonemize(text, language, signal));
  }

  /** Number of ONNX runs so far (one per sentence, or per piece of a sentence too long for one run). */
  get inferenceRuns(): number {
    return this.runCount;
  }

  /** Opens the model (and the files it needs) now instead of on first use; rejects with the load error. */
  async load(): Promise<void> {
    await this.model.get();
  }

  /** `unavailable`, with the load error as detail, when the model cannot be loaded. */
  override async health(): Promise<BackendHealth> {
    const base = await super.health();
    if (base.status === 'unavailable') return { ...base, modelLoaded: false };
    try {
      await this.load();
      return base;
    } catch (error) {
      return { backend: this.name, status: 'unavailable', modelLoaded: false, detail: error instanceof Error ? error.message : String(error) };
    }
  }

  /** Refuses new calls and stops the model's worker; idempotent. */
  override async close(): Promise<void> {
    const model = this.model.take();
    await super.close();
    if (model) await model.then((loaded) => loaded.onnx.release()).catch(() => undefined);
  }

  /** Opens the model and everything a run needs (use `loadCheckedModel`). */
  protected abstract openModel(): Promise<Model>;

  /** Loads `modelPath` into a worker and checks it with `inspect`; the worker is released when the check throws. */
  protected async loadCheckedModel(inspect: (onnx: OnnxModel) => Model): Promise<Model> {
    await assertModelFile(this.name, this.options.modelPath, 'model file');
    // With pins, the bytes checked are the bytes loaded: a file swapped after the check never runs.
    const verified = await verifyModelFile(this.name, this.options.modelPath, this.options);
    const onnx = await loadOnnxModel(this.name, this.options.modelPath, { intraOpNumThreads: this.options.intraOpNumThreads }, verified);
    try {
      return inspect(onnx);
    } catch (error) {
      await onnx.release();
      throw error;
    }
  }

  /** Runs the model once (counted in `inferenceRuns`) and returns `outputName`'s samples. */
  protected runModel(onnx: OnnxModel, feeds: Record<string, FeedTensor>, outputName: string, signal: AbortSignal): Promise<Float32Array> {
    this.runCount += 1;
    return onnx.run(feeds, outputName, signal);
  }

  /**
   * A mono chunk of model output with the segment's volume applied. Always limited to the
   * true-peak ceiling (never clipped): neural vocoders overshoot full scale now and then.
   */
  protected outputChunk(samples: Float32Array, volumeDb: number, sampleRateHz: number, phonemes: string): EngineOutput {
    return { pcm: applyGainInPlace(samples, dbToGain(volumeDb), sampleRateHz), sampleRateHz, channels: 1, metadata: { phonemes } };
  }
}
