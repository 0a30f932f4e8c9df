/**
 * A real backend wrapped to count what it does: the texts it was asked to synthesize and the
 * chunks it yielded (a test instrument around real code, not a mock).
 */
import type { BackendCapabilities, BackendHealth, BackendMetrics, SpeechBackend, VoiceInfo } from '../../src/backends/backend.js';
import type { EngineOutput, SynthesisOptions, SynthesisSegment } from '../../src/graph/engine-output.js';

/** Delegates to `inner`, recording each call's text and counting the chunks yielded. */
export class CountingBackend implements SpeechBackend {
  /** Texts of the segments asked for, in order. */
  calls: string[] = [];
  /** Chunks yielded so far. */
  yielded = 0;
  constructor(private readonly inner: SpeechBackend) {}
  get name(): string {
    return this.inner.name;
  }
  get capabilities(): BackendCapabilities {
    return this.inner.capabilities;
  }
  voices(): Promise<VoiceInfo[]> {
    return this.inner.voices();
  }
  async *synthesize(toSpeak: SynthesisSegment, options?: SynthesisOptions, signal?: AbortSignal): AsyncIterable<EngineOutput> {
    this.calls.push(toSpeak.text);
    for await (const output of this.inner.synthesize(toSpeak, options, signal)) {
      this.yielded += 1;
      yield output;
    }
  }
  health(): Promise<BackendHealth> {
    return this.inner.health();
  }
  metrics(): BackendMetrics {
    return this.inner.metrics();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
