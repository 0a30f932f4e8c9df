/**
 * A look-ahead true-peak limiter: a gain, then a smooth gain reduction wherever the gained
 * signal's true peak (TruePeakDetector, 8x oversampled below 96 kHz) would exceed a ceiling.
 *
 * The gain curve, per frame k with envelope e[k] (the largest interpolated magnitude of the
 * interval [k, k+1), after the gain g):
 * - need[k] = min(r(e[k-1]), r(e[k])) with r(e) = min(1, ceiling / e): both intervals a frame
 *   touches stay under the ceiling;
 * - hold[k] = the minimum of need over the last L frames (L = look-ahead);
 * - env[k] follows hold down at once and back up with a one-pole release;
 * - G[m] = the mean of env over [m, m + L - 1] (a box filter: the attack is a smooth ramp over
 *   the look-ahead, no step, no zipper).
 * Every env in that window is at most need[m], so G[m] ≤ need[m]: a peak is never passed, and
 * the output is x[m]·g·G[m], delayed by the look-ahead when streaming. Nothing clips: no sample
 * is forced to a value, the gain only scales.
 *
 * Broken input (a failing model, a custom backend) cannot switch it off: the entry points read
 * their input through `sanitizePcm` (NaN/±Infinity → 0, magnitudes clamped to ±32; a copy, the
 * caller's array is never changed), a NaN envelope needs gain 0, and the box filter's running sum
 * is recomputed from its ring every L frames so a deep reduction leaves no rounding behind.
 */
import { z } from 'zod';
import { parseInput } from '../validation.js';
import { sanitizePcm } from './pcm.js';
import { TruePeakDetector, truePeakEnvelope } from './true-peak.js';

/** Options of `TruePeakLimiter` / `limitTruePeak`. */
export interface TruePeakLimiterOptions {
  sampleRateHz: number;
  channels: number;
  /** The true-peak ceiling in dBTP (default -1). */
  ceilingDb?: number;
  /** Gain applied before limiting, in dB (default 0). */
  gainDb?: number;
  /** Look-ahead = attack time in ms (default 5). */
  lookaheadMs?: number;
  /** Release time constant in ms (default 60). */
  releaseMs?: number;
}

/** Zod schema of `TruePeakLimiterOptions`. */
export const truePeakLimiterOptionsSchema = z.object({
  sampleRateHz: z.number().int().min(1000).max(768000),
  channels: z.number().int().min(1).max(64),
  ceilingDb: z.number().min(-60).max(6).default(-1),
  gainDb: z.number().min(-120).max(120).default(0),
  lookaheadMs: z.number().min(0.5).max(50).default(5),
  releaseMs: z.number().min(1).max(2000).default(60),
});

/** What a limiter did. */
export interface LimiterReport {
  /** True when any gain reduction was applied. */
  limited: boolean;
  /** The largest gain reduction in dB (0 when not limited). */
  peakReductionDb: number;
}

/** Gain reductions smaller than this (about 0.0004 dB) do not count as limiting. */
const LIMITED_BELOW = 1 - 5e-5;

/** The gain computer: takes need[k] one frame at a time, yields G[k - L + 1] once known. Not thread-safe. */
export class LimiterGain {
  readonly lookaheadFrames: number;
  readonly #release: number;
  /** Monotonic deque of (frame, need) for the sliding minimum over L frames. */
  readonly #dequeFrames: Int32Array;
  readonly #dequeValues: Float64Array;
  #dequeHead = 0;
  #dequeSize = 0;
  /** The last L env values (ring) and their sum. */
  readonly #ring: Float64Array;
  #ringSum: number;
  /** Ring slot of the next env value (frame mod L). */
  #slot = 0;
  #frame = 0;
  #env = 1;
  #minGain = 1;
  /** Consecutive frames with env exactly 1: after L of them, a need of 1 gives G = 1 at once. */
  #quietFrames = 0;

  /** A gain computer with `lookaheadFrames` of look-ahead and a release of `releaseFrames` (time constant). */
  constructor(lookaheadFrames: number, releaseFrames: number) {
    this.lookaheadFrames = Math.max(1, Math.round(lookaheadFrames));
    this.#release = Math.exp(-1 / Math.max(1, releaseFrames));
    this.#dequeFrames = new Int32Array(this.lookaheadFrames + 1);
    this.#dequeValues = new Float64Array(this.lookaheadFrames + 1);
    this.#ring = new Float64Array(this.lookaheadFrames).fill(1);
    this.#ringSum = this.lookaheadFrames;
  }

  /** Smallest gain produced so far (1 when never limited). */
  get minGain(): number {
    return this.#minGain;
  }

  /** Adds need[k] for the next frame k; returns G[k - L + 1] (NaN while k < L - 1: no frame is due yet). */
  push(need: number): number {
    const L = this.lookaheadFrames;
    const frame = this.#frame++;
    // Idle fast path: every need, env and ring value of the last L frames is 1 (the deque holds only 1s).
    if (need === 1 && this.#quietFrames >= L) return 1;
    // Sliding minimum of need over [frame - L + 1, frame]: a ring of capacity L + 1 used as a deque.
    const capacity = L + 1;
    const frames = this.#dequeFrames;
    const values = this.#dequeValues;
    let size = this.#dequeSize;
    let head = this.#dequeHead;
    let tail = head + size - 1;
    if (tail >= capacity) tail -= capacity;
    while (size > 0 && values[tail]! >= need) {
      size--;
      tail = tail === 0 ? capacity - 1 : tail - 1;
    }
    tail = tail + 1 === capacity ? 0 : tail + 1;
    frames[tail] = frame;
    values[tail] = need;
    size++;
    if (frames[head]! <= frame - L) {
      head = head + 1 === capacity ? 0 : head + 1;
      size--;
    }
    this.#dequeHead = head;
    this.#dequeSize = size;
    const hold = values[head]!;
    // Down at once (the box filter smooths the attack), up with the release.
    let env = hold <= this.#env ? hold : hold - (hold - this.#env) * this.#release;
    // A release within 1e-9 of unity is unity (1e-8 dB): lets the idle fast path begin.
    if (hold === 1 && env > 1 - 1e-9) env = 1;
    this.#env = env;
    this.#quietFrames = env === 1 ? this.#quietFrames + 1 : 0;
    const slot = this.#slot;
    this.#slot = slot + 1 === L ? 0 : slot + 1;
    this.#ringSum += env - this.#ring[slot]!;
    this.#ring[slot] = env;
    // Entering idle: the ring is all ones; its sum is L exactly (no accumulated rounding).
    if (this.#quietFrames >= L) this.#ringSum = L;
    // Once per L frames the sum is recomputed (O(1) per frame): rounding never accumulates.
    else if (slot === L - 1) this.#ringSum = sumOf(this.#ring);
    if (frame < L - 1) return Number.NaN;
    const gain = Math.min(1, this.#ringSum / L);
    if (gain < this.#minGain) this.#minGain = gain;
    return gain;
  }
}

/** The sum of `values` (the ring's exact sum, without the running one's rounding). */
function sumOf(values: Float64Array): number {
  let sum = 0;
  for (const value of values) sum += value;
  return sum;
}

/** need(e) for one interval: the gain that brings a gained envelope value to the ceiling (0 for NaN). */
function required(envelope: number, ceiling: number): number {
  if (envelope <= ceiling) return 1;
  return Number.isNaN(envelope) ? 0 : ceiling / envelope;
}

/**
 * The limiter's gain curve G (one value per frame, in (0, 1]) for a precomputed true-peak
 * `envelope` of the input, a pre-gain `gain` and a linear `ceiling`. Same arithmetic as
 * `TruePeakLimiter`; lets loudness normalisation try several gains on one envelope.
 */
export function limiterGainCurve(envelope: Float32Array, gain: number, ceiling: number, lookaheadFrames: number, releaseFrames: number): { curve: Float64Array; minGain: number } {
  const computer = new LimiterGain(lookaheadFrames, releaseFrames);
  const L = computer.lookaheadFrames;
  const curve = new Float64Array(envelope.length);
  let previous = 1;
  let out = 0;
  for (let k = 0; k < envelope.length + L - 1; k++) {
    const current = k < envelope.length ? required(envelope[k]! * gain, ceiling) : 1;
    const value = computer.push(Math.min(previous, current));
    previous = current;
    if (k >= L - 1) curve[out++] = value;
  }
  return { curve, minGain: computer.minGain };
}

/** Limiter settings in frames. */
function framesOf(parsed: z.infer<typeof truePeakLimiterOptionsSchema>): { lookaheadFrames: number; releaseFrames: number } {
  return {
    lookaheadFrames: Math.max(1, Math.round((parsed.lookaheadMs * parsed.sampleRateHz) / 1000)),
    releaseFrames: (parsed.releaseMs * parsed.sampleRateHz) / 1000,
  };
}

/** A report from the smallest gain a limiter applied. */
export function limiterReport(minGain: number): LimiterReport {
  return minGain < LIMITED_BELOW ? { limited: true, peakReductionDb: -20 * Math.log10(minGain) } : { limited: false, peakReductionDb: 0 };
}

/**
 * Streaming true-peak limiter for interleaved float32 PCM: `process` returns the frames it can
 * complete (it holds back the look-ahead plus the detector's), `flush` the rest; together one
 * output frame per input frame, in order. Not thread-safe; allocates per call.
 */
export class TruePeakLimiter {
  readonly #channels: number;
  readonly #gain: number;
  readonly #ceiling: number;
  readonly #detector: TruePeakDetector;
  readonly #computer: LimiterGain;
  #pending: Float32Array;
  #pendingFrames = 0;
  #previousNeed = 1;
  #flushed = false;

  /** A limiter with `options` (validated; throws InputError naming the field). */
  constructor(options: TruePeakLimiterOptions) {
    const parsed = parseInput(truePeakLimiterOptionsSchema, options, 'options');
    const { lookaheadFrames, releaseFrames } = framesOf(parsed);
    this.#channels = parsed.channels;
    this.#gain = 10 ** (parsed.gainDb / 20);
    this.#ceiling = 10 ** (parsed.ceilingDb / 20);
    this.#detector = new TruePeakDetector({ sampleRateHz: parsed.sampleRateHz, channels: parsed.channels });
    this.#computer = new LimiterGain(lookaheadFrames, releaseFrames);
    this.#pending = new Float32Array(4096 * parsed.channels);
  }

  /** What the limiter did so far. */
  get report(): LimiterReport {
    return limiterReport(this.#computer.minGain);
  }

  /** Takes the next chunk (whole frames; read through `sanitizePcm`) and returns the limited frames it completes. */
  process(input: Float32Array): Float32Array {
    const chunk = sanitizePcm(input);
    this.#append(chunk);
    // Below this input level the gained signal cannot reach the ceiling: no interpolation needed.
    return this.#apply(this.#detector.process(chunk, this.#ceiling / this.#gain), false);
  }

  /** Ends the stream: the remaining frames. */
  flush(): Float32Array {
    if (this.#flushed) return new Float32Array(0);
    this.#flushed = true;
    return this.#apply(this.#detector.flush(this.#ceiling / this.#gain), true);
  }

  #append(chunk: Float32Array): void {
    const needed = this.#pendingFrames * this.#channels + chunk.length;
    if (needed > this.#pending.length) {
      const grown = new Float32Array(Math.max(needed, this.#pending.length * 2));
      grown.set(this.#pending.subarray(0, this.#pendingFrames * this.#channels));
      this.#pending = grown;
    }
    this.#pending.set(chunk, this.#pendingFrames * this.#channels);
    this.#pendingFrames += chunk.length / this.#channels;
  }

  /** Feeds the envelope to the gain computer and outputs every frame whose gain is known. */
  #apply(envelope: Float32Array, end: boolean): Float32Array {
    const channels = this.#channels;
    const computer = this.#computer;
    const extra = end ? computer.lookaheadFrames - 1 : 0;
    const gains: number[] = [];
    for (let k = 0; k < envelope.length + extra; k++) {
      const current = k < envelope.length ? required(envelope[k]! * this.#gain, this.#ceiling) : 1;
      const gain = computer.push(Math.min(this.#previousNeed, current));
      this.#previousNeed = current;
      if (!Number.isNaN(gain)) gains.push(gain);
    }
    const out = new Float32Array(gains.length * channels);
    for (let i = 0; i < gains.length; i++) {
      const scale = this.#gain * gains[i]!;
      for (let c = 0; c < channels; c++) out[i * channels + c] = this.#pending[i * channels + c]! * scale;
    }
    // Drop the frames output.
    this.#pending.copyWithin(0, gains.length * channels, this.#pendingFrames * channels);
    this.#pendingFrames -= gains.length;
    return out;
  }
}

/** Limits a whole interleaved buffer (same output as one `TruePeakLimiter` fed once, then flushed). */
export function limitTruePeak(input: Float32Array, options: TruePeakLimiterOptions): LimiterReport & { pcm: Float32Array } {
  const parsed = parseInput(truePeakLimiterOptionsSchema, options, 'options');
  const pcm = sanitizePcm(input);
  const { lookaheadFrames, releaseFrames } = framesOf(parsed);
  const gain = 10 ** (parsed.gainDb / 20);
  const ceiling = 10 ** (parsed.ceilingDb / 20);
  const envelope = truePeakEnvelope(pcm, parsed.sampleRateHz, parsed.channels, ceiling / gain);
  const { curve, minGain } = limiterGainCurve(envelope, gain, ceiling, lookaheadFrames, releaseFrames);
  return { pcm: applyGainCurve(pcm, parsed.channels, gain, curve), ...limiterReport(minGain) };
}

/** x[n]·gain·curve[frame of n] as a new buffer. */
export function applyGainCurve(pcm: Float32Array, channels: number, gain: number, curve: Float64Array): Float32Array {
  const out = new Float32Array(pcm.length);
  for (let frame = 0; frame < curve.length; frame++) {
    const scale = gain * curve[frame]!;
    for (let c = 0; c < channels; c++) out[frame * channels + c] = pcm[frame * channels + c]! * scale;
  }
  return out;
}
