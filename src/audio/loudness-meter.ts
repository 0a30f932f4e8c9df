/**
 * LoudnessMeter: BS.1770-4 integrated loudness and true peak measured chunk by chunk, for audio
 * too long to hold (the two-pass file writer). K-weighting keeps its filter state across chunks;
 * energy is summed in 100 ms steps, and the 400 ms blocks (75 % overlap) are sums of four steps,
 * so the meter holds one number per 100 ms of audio (about 288 KB per hour), never the samples.
 * The analysis it returns is what `normalizationGain` (loudness.ts) takes; for audio whose length
 * is a whole number of steps it matches `measureLoudness` to float rounding.
 */
import { kWeightingCoefficients, type BiquadCoefficients } from './k-weighting.js';
import { channelWeights, type LoudnessAnalysis } from './loudness.js';
import { samplePeak, TruePeakDetector } from './true-peak.js';

/** Incremental loudness and true-peak measurement of interleaved float32 PCM. Not thread-safe. */
export class LoudnessMeter {
  readonly sampleRateHz: number;
  readonly channels: number;
  readonly #shelf: BiquadCoefficients;
  readonly #highPass: BiquadCoefficients;
  readonly #weights: number[];
  /** Transposed direct form II state per channel: s1, s2, h1, h2. */
  readonly #state: Float64Array;
  readonly #stepFrames: number;
  readonly #blockFrames: number;
  readonly #detector: TruePeakDetector;
  #steps: number[] = [];
  #stepEnergy = 0;
  #framesSeen = 0;
  #truePeak = 0;
  #samplePeak = 0;

  /** A meter for one programme at `sampleRateHz` with `channels` interleaved channels. */
  constructor(options: { sampleRateHz: number; channels: number }) {
    this.sampleRateHz = options.sampleRateHz;
    this.channels = options.channels;
    [this.#shelf, this.#highPass] = kWeightingCoefficients(options.sampleRateHz);
    this.#weights = channelWeights(options.channels);
    this.#state = new Float64Array(4 * options.channels);
    this.#stepFrames = 0.1 * options.sampleRateHz;
    this.#blockFrames = Math.round(0.4 * options.sampleRateHz);
    this.#detector = new TruePeakDetector(options);
  }

  /** Adds the next chunk (a whole number of frames). */
  push(pcm: Float32Array): void {
    const channels = this.channels;
    const frames = pcm.length / channels;
    const s = this.#shelf;
    const h = this.#highPass;
    const state = this.#state;
    let nextStepEnd = Math.round((this.#steps.length + 1) * this.#stepFrames);
    for (let i = 0; i < frames; i++) {
      let energy = 0;
      for (let c = 0; c < channels; c++) {
        const weight = this.#weights[c]!;
        const x = pcm[i * channels + c]!;
        const o = 4 * c;
        const shelved = s.b0 * x + state[o]!;
        state[o] = s.b1 * x - s.a1 * shelved + state[o + 1]!;
        state[o + 1] = s.b2 * x - s.a2 * shelved;
        const weighted = h.b0 * shelved + state[o + 2]!;
        state[o + 2] = h.b1 * shelved - h.a1 * weighted + state[o + 3]!;
        state[o + 3] = h.b2 * shelved - h.a2 * weighted;
        energy += weight * weighted * weighted;
      }
      this.#stepEnergy += energy;
      this.#framesSeen++;
      if (this.#framesSeen === nextStepEnd) {
        this.#steps.push(this.#stepEnergy);
        this.#stepEnergy = 0;
        nextStepEnd = Math.round((this.#steps.length + 1) * this.#stepFrames);
      }
    }
    this.#samplePeak = Math.max(this.#samplePeak, samplePeak(pcm));
    // Only a new maximum matters: the detector may skip what cannot exceed the peak so far.
    this.#detector.process(pcm, this.#detector.peak);
  }

  /** Frames measured so far. */
  get frames(): number {
    return this.#framesSeen;
  }

  /** The analysis so far (flushes the true-peak oversampler: call once, at the end). */
  finish(): LoudnessAnalysis {
    this.#detector.flush(this.#detector.peak);
    this.#truePeak = this.#detector.peak;
    const blockCount = Math.max(0, this.#steps.length - 3);
    const blocks = new Float64Array(blockCount);
    for (let j = 0; j < blockCount; j++) {
      blocks[j] = (this.#steps[j]! + this.#steps[j + 1]! + this.#steps[j + 2]! + this.#steps[j + 3]!) / this.#blockFrames;
    }
    return { blocks, truePeak: Math.max(this.#truePeak, this.#samplePeak), samplePeak: this.#samplePeak };
  }
}
