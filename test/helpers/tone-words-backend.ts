/**
 * A backend fixture with known word timings: every word of a segment is a constant-level tone of
 * `toneFrames`, each followed by `gapFrames` of silence, and each output reports its words'
 * timings (`reported`, relative to the output). A cut is easy to find in a device capture: the
 * last non-silent sample.
 */
import { BaseBackend, type BackendCapabilities, type VoiceInfo } from '../../src/backends/backend.js';
import type { EngineOutput, SynthesisSegment, WordTiming } from '../../src/graph/engine-output.js';

/** Shape of a ToneWordsBackend's speech. */
export interface ToneWordsOptions {
  sampleRateHz: number;
  toneFrames: number;
  gapFrames: number;
  level: number;
  /** Milliseconds to wait before yielding the segment of each index (0-based), to make the device underrun. */
  stallMs?: Readonly<Record<number, number>>;
}

/** The words a ToneWordsBackend speaks for `text` (letters and digits only). */
export function toneWords(text: string): string[] {
  return text
    .split(/\s+/u)
    .map((word) => word.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ''))
    .filter((word) => word !== '');
}

/** Yields one output per segment: a tone per word, each followed by silence, and the reported timings. */
export class ToneWordsBackend extends BaseBackend {
  readonly name = 'tone-words';
  readonly capabilities: BackendCapabilities = { streaming: true, wordTimings: true, phonemes: false, remote: false };
  readonly options: ToneWordsOptions;
  /** Segments synthesized so far (their text). */
  readonly segments: string[] = [];

  constructor(options: ToneWordsOptions) {
    super();
    this.options = options;
  }

  async voices(): Promise<VoiceInfo[]> {
    return [];
  }

  protected async *synthesizeOnce(segment: SynthesisSegment): AsyncIterable<EngineOutput> {
    const { sampleRateHz, toneFrames, gapFrames, level } = this.options;
    this.segments.push(segment.text);
    const stall = this.options.stallMs?.[this.segments.length - 1] ?? 0;
    if (stall > 0) await new Promise((resolve) => setTimeout(resolve, stall));
    const words = toneWords(segment.text);
    if (words.length === 0) return;
    const pcm = new Float32Array(words.length * (toneFrames + gapFrames));
    const wordTimings: WordTiming[] = words.map((word, index) => {
      const startFrame = index * (toneFrames + gapFrames);
      pcm.fill(level, startFrame, startFrame + toneFrames);
      return { word, startMs: (startFrame / sampleRateHz) * 1000, endMs: ((startFrame + toneFrames) / sampleRateHz) * 1000, source: 'reported' };
    });
    yield { pcm, sampleRateHz, channels: 1, metadata: { wordTimings } };
  }
}
