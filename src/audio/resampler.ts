/**
 * Band-limited sample-rate conversion: a polyphase Kaiser-windowed sinc filter for any ratio.
 *
 * The ratio is reduced to `up/down`; output frame n sits at input time n·down/up, tracked exactly
 * as an integer and a remainder, so streaming and one-shot give bit-identical output. When `up`
 * is small (all the common speech rates: 22050↔24000 is 160/147, 16000→22050 is 441/320) each
 * output phase has its own exact coefficient row; otherwise a table of `MAX_PHASES` rows is
 * linearly interpolated (error below -100 dB). The filter is zero-phase (centred), so output
 * frame 0 lines up with input frame 0 and a one-shot call returns ceil(frames·up/down) frames.
 */
import { z } from 'zod';
import { InputError } from '../errors.js';
import { parseInput } from '../validation.js';
import { kaiserBeta, kaiserLengthSamples, kaiserSinc } from './kaiser.js';

/** Options of a `Resampler` / `resample`. */
export interface ResamplerOptions {
  inputRateHz: number;
  outputRateHz: number;
  /** Interleaved channels of the PCM (default 1). */
  channels?: number;
  /** Stopband attenuation of the anti-alias/anti-image filter in dB (default 90, at least 40). */
  stopbandAttenuationDb?: number;
  /**
   * Passband edge as a fraction of the lower of the two Nyquist frequencies (default 0.9): the
   * filter is flat below it and reaches full attenuation at that Nyquist.
   */
  passbandFraction?: number;
}

/** Zod schema of `ResamplerOptions`. */
export const resamplerOptionsSchema = z.object({
  inputRateHz: z.number().int().min(1).max(1_000_000),
  outputRateHz: z.number().int().min(1).max(1_000_000),
  channels: z.number().int().min(1).max(64).default(1),
  stopbandAttenuationDb: z.number().min(40).max(200).default(90),
  passbandFraction: z.number().gt(0.5).lt(1).default(0.9),
});

/** Phase rows kept when the reduced `up` factor is larger than this (then interpolated). */
const MAX_PHASES = 1024;
/**
 * Largest half filter length in input frames (the filter grows with the decimation ratio:
 * about 114 taps per unit of ratio at the defaults, so this allows ratios up to about 500).
 */
const MAX_HALF_TAPS = 32768;

function greatestCommonDivisor(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * A stateful resampler for interleaved float32 PCM: feed chunks to `process`, then call `flush`
 * once at the end. The concatenated output equals `resample` on the concatenated input exactly.
 * Not thread-safe (one instance per stream); allocates per call.
 */
export class Resampler {
  /** Input rate in Hz. */
  readonly inputRateHz: number;
  /** Output rate in Hz. */
  readonly outputRateHz: number;
  /** Interleaved channels. */
  readonly channels: number;
  /** Input frames the filter looks ahead (its delay, absorbed by `flush`). */
  readonly lookaheadFrames: number;

  private readonly up: number;
  private readonly down: number;
  private readonly phases: number;
  private readonly halfTaps: number;
  private readonly taps: number;
  /** (phases + 1) rows of `taps` coefficients; row `phases` is row 0 shifted by one frame. */
  private readonly table: Float64Array;
  /** Input frames from `historyStartFrame` on, interleaved; frames before 0 are zeros. */
  private history: Float32Array;
  private historyFrames: number;
  private historyStartFrame: number;
  private inputFramesTotal = 0;
  private outputFramesTotal = 0;
  /** Position of the next output frame in input frames: `positionFrame + remainder / up`. */
  private positionFrame = 0;
  private remainder = 0;
  private flushed = false;

  /** Designs the filter for `options` (validated; throws `InputError` naming the bad field). */
  constructor(options: ResamplerOptions) {
    const parsed = parseInput(resamplerOptionsSchema, options, 'options');
    this.inputRateHz = parsed.inputRateHz;
    this.outputRateHz = parsed.outputRateHz;
    this.channels = parsed.channels;
    const divisor = greatestCommonDivisor(parsed.inputRateHz, parsed.outputRateHz);
    this.up = parsed.outputRateHz / divisor;
    this.down = parsed.inputRateHz / divisor;
    this.phases = Math.min(this.up, MAX_PHASES);

    const lowerNyquistHz = Math.min(parsed.inputRateHz, parsed.outputRateHz) / 2;
    const passbandEdgeHz = parsed.passbandFraction * lowerNyquistHz;
    const cutoffHz = (passbandEdgeHz + lowerNyquistHz) / 2;
    const transitionHz = lowerNyquistHz - passbandEdgeHz;
    const attenuationDb = parsed.stopbandAttenuationDb;
    const halfWidthFrames = kaiserLengthSamples(attenuationDb, transitionHz / parsed.inputRateHz) / 2;
    if (halfWidthFrames > MAX_HALF_TAPS) {
      throw new InputError(
        `options: ${parsed.inputRateHz} -> ${parsed.outputRateHz} Hz needs a ${Math.ceil(2 * halfWidthFrames)}-tap filter (limit ${2 * MAX_HALF_TAPS}); resample in steps or lower stopbandAttenuationDb`,
        { code: 'RESAMPLE_RATIO_UNSUPPORTED', field: 'options.outputRateHz' },
      );
    }
    const halfTaps = this.up === this.down ? 1 : Math.ceil(halfWidthFrames);
    this.halfTaps = halfTaps;
    this.lookaheadFrames = this.up === this.down ? 0 : halfTaps;
    this.taps = 2 * halfTaps;
    this.table = new Float64Array((this.phases + 1) * this.taps);
    if (this.up !== this.down) {
      const kernel = kaiserSinc(cutoffHz / parsed.inputRateHz, halfWidthFrames, kaiserBeta(attenuationDb));
      for (let phase = 0; phase <= this.phases; phase++) {
        const fraction = phase / this.phases;
        const row = phase * this.taps;
        let sum = 0;
        // Tap k multiplies input frame (position - halfTaps + 1 + k), at offset fraction + halfTaps - 1 - k.
        for (let k = 0; k < this.taps; k++) {
          const value = kernel.at(fraction + halfTaps - 1 - k);
          this.table[row + k] = value;
          sum += value;
        }
        // Unit DC gain on every phase removes the small per-phase gain ripple of a truncated sinc.
        for (let k = 0; k < this.taps; k++) this.table[row + k]! /= sum;
      }
    }
    this.historyFrames = halfTaps - 1;
    this.historyStartFrame = -(halfTaps - 1);
    this.history = new Float32Array(Math.max(1, this.historyFrames * this.channels));
  }

  /** Consumes one chunk of interleaved input and returns the output frames it completes. */
  process(chunk: Float32Array): Float32Array {
    if (this.flushed) throw new InputError('resampler: process() called after flush()', { code: 'RESAMPLER_FLUSHED' });
    if (!(chunk instanceof Float32Array)) {
      throw new InputError('chunk: expected a Float32Array', { field: 'chunk' });
    }
    if (chunk.length % this.channels !== 0) {
      throw new InputError(
        `chunk: expected a sample count divisible by channels (${this.channels}) (received ${chunk.length})`,
        { field: 'chunk' },
      );
    }
    const frames = chunk.length / this.channels;
    this.inputFramesTotal += frames;
    if (this.up === this.down) {
      this.outputFramesTotal += frames;
      return chunk.slice();
    }
    this.append(chunk);
    // Output frames whose last tap (position + halfTaps) is already in: n·down < (end - halfTaps)·up.
    const endFrame = this.historyStartFrame + this.historyFrames;
    const limit = (endFrame - this.halfTaps) * this.up - (this.positionFrame * this.up + this.remainder);
    const count = limit > 0 ? Math.ceil(limit / this.down) : 0;
    return this.produce(count);
  }

  /** Ends the stream: returns the remaining output (the filter tail over implied trailing silence). */
  flush(): Float32Array {
    if (this.flushed) return new Float32Array(0);
    this.flushed = true;
    const targetFrames = Math.ceil((this.inputFramesTotal * this.up) / this.down);
    if (this.up === this.down) return new Float32Array(0);
    this.append(new Float32Array((this.halfTaps + 1) * this.channels));
    return this.produce(targetFrames - this.outputFramesTotal);
  }

  private append(chunk: Float32Array): void {
    const channels = this.channels;
    // Drop frames no future output needs: below position - halfTaps + 1.
    const keepFrom = this.positionFrame - this.halfTaps + 1;
    const dropFrames = Math.max(0, Math.min(this.historyFrames, keepFrom - this.historyStartFrame));
    const keptFrames = this.historyFrames - dropFrames;
    const neededSamples = (keptFrames + chunk.length / channels) * channels;
    if (neededSamples > this.history.length) {
      const grown = new Float32Array(Math.max(neededSamples, this.history.length * 2));
      grown.set(this.history.subarray(dropFrames * channels, this.historyFrames * channels));
      this.history = grown;
    } else if (dropFrames > 0) {
      this.history.copyWithin(0, dropFrames * channels, this.historyFrames * channels);
    }
    this.history.set(chunk, keptFrames * channels);
    this.historyFrames = keptFrames + chunk.length / channels;
    this.historyStartFrame += dropFrames;
  }

  private produce(frameCount: number): Float32Array {
    const channels = this.channels;
    const taps = this.taps;
    const table = this.table;
    const history = this.history;
    const up = this.up;
    const down = this.down;
    const phases = this.phases;
    const exact = phases === up;
    const firstTapOffset = 1 - this.halfTaps - this.historyStartFrame;
    let positionFrame = this.positionFrame;
    let remainder = this.remainder;
    const out = new Float32Array(Math.max(0, frameCount) * channels);
    for (let n = 0; n < frameCount; n++) {
      const phasePosition = exact ? remainder : (remainder * phases) / up;
      const phase = Math.floor(phasePosition);
      const weight = phasePosition - phase;
      const row = phase * taps;
      const base = (positionFrame + firstTapOffset) * channels;
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        if (weight === 0) {
          if (channels === 1) {
            // The common mono case without the stride: the hottest loop of the package.
            for (let k = 0; k < taps; k++) sum += history[base + k]! * table[row + k]!;
          } else {
            for (let k = 0, at = base + c; k < taps; k++, at += channels) sum += history[at]! * table[row + k]!;
          }
        } else {
          let next = 0;
          for (let k = 0, at = base + c; k < taps; k++, at += channels) {
            const sample = history[at]!;
            sum += sample * table[row + k]!;
            next += sample * table[row + taps + k]!;
          }
          sum += weight * (next - sum);
        }
        out[n * channels + c] = sum;
      }
      remainder += down;
      if (remainder >= up) {
        positionFrame += Math.floor(remainder / up);
        remainder %= up;
      }
    }
    this.positionFrame = positionFrame;
    this.remainder = remainder;
    this.outputFramesTotal += frameCount;
    return out;
  }
}

/** Resamples a whole interleaved buffer (same result as one `Resampler` fed once, then flushed). */
export function resample(pcm: Float32Array, options: ResamplerOptions): Float32Array {
  parseInput(z.instanceof(Float32Array, { message: 'expected a Float32Array' }), pcm, 'pcm');
  const resampler = new Resampler(options);
  const body = resampler.process(pcm);
  const tail = resampler.flush();
  const out = new Float32Array(body.length + tail.length);
  out.set(body, 0);
  out.set(tail, body.length);
  return out;
}
