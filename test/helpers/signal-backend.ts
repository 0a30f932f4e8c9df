/**
 * A backend fixture that speaks a known signal: sample n of everything it ever yields (across
 * segments and chunks) is `signalAt(n)`, never zero, so a device capture can be located (its first
 * non-zero sample) and compared sample for sample with what was synthesized. Optionally keeps a
 * WeakRef to every chunk it yields, so a test can count how many are still reachable after a full
 * GC (what a consumer retains), without measuring RSS.
 */
import { BaseBackend, type BackendCapabilities, type VoiceInfo } from '../../src/backends/backend.js';
import type { EngineOutput, SynthesisSegment } from '../../src/graph/engine-output.js';

/** Sample `n` of a SignalBackend's output: a deterministic saw-like pattern in [0.1, 0.5), never zero, exact in float32. */
export function signalAt(n: number): number {
  return Math.fround(0.1 + ((n * 37) % 400) / 1000);
}

/** The first `count` samples of a SignalBackend's output, from sample `from`. */
export function signal(count: number, from = 0): Float32Array {
  const out = new Float32Array(count);
  for (let index = 0; index < count; index += 1) out[index] = signalAt(from + index);
  return out;
}

/** Shape of what a SignalBackend yields. */
export interface SignalBackendOptions {
  sampleRateHz: number;
  /** Frames of each chunk; every segment yields `chunksPerSegment` of them. */
  framesPerChunk: number;
  chunksPerSegment?: number;
  /** Keep a WeakRef to every chunk yielded (see `reachableChunks`). */
  track?: boolean;
}

/** Yields the known signal, continuing across segments, in equal chunks. */
export class SignalBackend extends BaseBackend {
  readonly name = 'signal';
  readonly capabilities: BackendCapabilities = { streaming: true, wordTimings: false, phonemes: false, remote: false };
  readonly options: SignalBackendOptions;
  /** Samples yielded so far. */
  samples = 0;
  /** Chunks yielded so far. */
  chunks = 0;
  readonly #refs: WeakRef<Float32Array>[] = [];

  constructor(options: SignalBackendOptions) {
    super();
    this.options = options;
  }

  async voices(): Promise<VoiceInfo[]> {
    return [];
  }

  /** How many of the chunks yielded so far are still reachable (call after a full GC, in a later task than the yield). */
  reachableChunks(): number {
    return this.#refs.reduce((count, ref) => count + (ref.deref() === undefined ? 0 : 1), 0);
  }

  protected async *synthesizeOnce(_segment: SynthesisSegment): AsyncIterable<EngineOutput> {
    const { sampleRateHz, framesPerChunk, chunksPerSegment = 1 } = this.options;
    for (let chunk = 0; chunk < chunksPerSegment; chunk += 1) {
      const pcm = signal(framesPerChunk, this.samples);
      this.samples += framesPerChunk;
      this.chunks += 1;
      if (this.options.track) this.#refs.push(new WeakRef(pcm));
      yield { pcm, sampleRateHz, channels: 1, metadata: {} };
    }
  }
}
