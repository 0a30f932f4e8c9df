/** A backend that "speaks" a constant level: a fade or a cut is easy to find in a device capture. */
import { BaseBackend, type BackendCapabilities, type VoiceInfo } from '../../src/backends/backend.js';
import type { EngineOutput, SynthesisSegment } from '../../src/graph/engine-output.js';

/** The level, rate and length of what a ConstantLevelBackend yields for each segment. */
export interface ConstantLevelOptions {
  level: number;
  sampleRateHz: number;
  framesPerSegment: number;
}

/** Yields `framesPerSegment` mono frames at `level` for every segment. */
export class ConstantLevelBackend extends BaseBackend {
  readonly name = 'constant-level';
  readonly capabilities: BackendCapabilities = { streaming: true, wordTimings: false, phonemes: false, remote: false };
  readonly options: ConstantLevelOptions;

  constructor(options: ConstantLevelOptions) {
    super();
    this.options = options;
  }

  async voices(): Promise<VoiceInfo[]> {
    return [];
  }

  protected async *synthesizeOnce(_segment: SynthesisSegment): AsyncIterable<EngineOutput> {
    const { level, sampleRateHz, framesPerSegment } = this.options;
    yield { pcm: new Float32Array(framesPerSegment).fill(level), sampleRateHz, channels: 1, metadata: {} };
  }
}
