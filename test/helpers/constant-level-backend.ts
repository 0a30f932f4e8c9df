/** A backend that "speaks" a constant level: a fade or a cut is easy to find in a device capture; it can stall on demand. */
import { BaseBackend, type BackendCapabilities, type VoiceInfo } from '../../src/backends/backend.js';
import type { EngineOutput, SynthesisOptions, SynthesisSegment } from '../../src/graph/engine-output.js';

/** The level, rate and length of what a ConstantLevelBackend yields for each segment. */
export interface ConstantLevelOptions {
  level: number;
  sampleRateHz: number;
  framesPerSegment: number;
  /** Yields each segment in this many equal chunks (default 1). */
  chunksPerSegment?: number;
  /** The level of a segment by its text (default: `level` for every segment). */
  levelFor?: (text: string) => number;
  /** A stall on demand: a segment whose text this returns a promise for waits for it (or its signal's abort) before any audio. */
  stallFor?: (text: string) => Promise<void> | undefined;
}

/** Yields `framesPerSegment` mono frames at `level` for every segment. */
export class ConstantLevelBackend extends BaseBackend {
  readonly name = 'constant-level';
  readonly capabilities: BackendCapabilities = { streaming: true, wordTimings: false, phonemes: false, remote: false };
  readonly options: ConstantLevelOptions;
  /** Chunks yielded so far (what synthesis produced, for backpressure checks). */
  yieldedChunks = 0;

  constructor(options: ConstantLevelOptions) {
    super();
    this.options = options;
  }

  async voices(): Promise<VoiceInfo[]> {
    return [];
  }

  protected async *synthesizeOnce(segment: SynthesisSegment, _options: SynthesisOptions, signal: AbortSignal): AsyncIterable<EngineOutput> {
    const { sampleRateHz, framesPerSegment, chunksPerSegment = 1 } = this.options;
    const stall = this.options.stallFor?.(segment.text);
    if (stall) {
      await Promise.race([stall, new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))]);
      if (signal.aborted) return;
    }
    const level = this.options.levelFor?.(segment.text) ?? this.options.level;
    const frames = Math.floor(framesPerSegment / chunksPerSegment);
    for (let chunk = 0; chunk < chunksPerSegment; chunk++) {
      this.yieldedChunks += 1;
      yield { pcm: new Float32Array(frames).fill(level), sampleRateHz, channels: 1, metadata: {} };
    }
  }
}
