/**
 * Programme loudness per ITU-R BS.1770-4 / EBU R128: K-weighting, mean square over 400 ms blocks
 * with 75 % overlap, an absolute gate at -70 LUFS and a relative gate 10 LU below the
 * absolute-gated loudness; plus true peak and normalisation to a target loudness through a gain
 * and, under a true-peak ceiling, the look-ahead true-peak limiter (limiter.ts).
 */
import { z } from 'zod';
import { InputError } from '../errors.js';
import { parseInput } from '../validation.js';
import { kWeightedSquares } from './k-weighting.js';
import { applyGainCurve, limiterGainCurve, limiterReport } from './limiter.js';
import { sanitizePcm } from './pcm.js';
import { samplePeak, truePeak, truePeakEnvelope } from './true-peak.js';

/** Options of `measureLoudness`. */
export interface LoudnessOptions {
  sampleRateHz: number;
  channels: number;
}

/** What `measureLoudness` found. Levels are -Infinity for silence (or audio shorter than 400 ms). */
export interface LoudnessMeasurement {
  /** Gated programme loudness in LUFS. */
  integratedLufs: number;
  /** True peak in dBTP (8x oversampled below 96 kHz, 4x below 192 kHz). */
  truePeakDb: number;
  /** Largest sample magnitude in dBFS. */
  samplePeakDb: number;
  /** Loudness of the loudest 400 ms block in LUFS (the maximum momentary loudness). */
  momentaryMaxLufs: number;
  /** 400 ms blocks measured, and how many passed both gates. */
  blockCount: number;
  gatedBlockCount: number;
}

/** Options of `normalizeLoudness`. */
export interface NormalizeLoudnessOptions extends LoudnessOptions {
  /** Loudness to reach in LUFS (EBU R128 broadcast: -23; streaming platforms: about -14 to -16). */
  targetLufs: number;
  /**
   * Optional ceiling for the true peak in dBTP (e.g. -1): the look-ahead true-peak limiter keeps
   * the output under it while the gain still reaches the target. Without it: a plain gain.
   */
  truePeakLimitDb?: number;
  /** Limiter look-ahead (= attack) in ms (default 5). */
  lookaheadMs?: number;
  /** Limiter release time constant in ms (default 60). */
  releaseMs?: number;
}

/** What `normalizeLoudness` did. */
export interface NormalizedLoudness {
  /** The scaled copy of the input. */
  pcm: Float32Array;
  /** Gain applied before the limiter in dB (0 for silence). */
  gainDb: number;
  /** True when the limiter reduced the gain anywhere to keep the true peak under the ceiling. */
  limited: boolean;
  /** The limiter's largest gain reduction in dB (0 when not limited). */
  peakReductionDb: number;
  /** Measurement of the input. */
  before: LoudnessMeasurement;
  /** Measurement of the output. */
  after: LoudnessMeasurement;
}

/** Zod schema of `LoudnessOptions`. */
export const loudnessOptionsSchema = z.object({
  sampleRateHz: z.number().int().min(8000).max(768000),
  channels: z.number().int().min(1).max(64),
});

/** Zod schema of `NormalizeLoudnessOptions`. */
export const normalizeLoudnessOptionsSchema = loudnessOptionsSchema.extend({
  targetLufs: z.number().min(-70).max(0),
  truePeakLimitDb: z.number().min(-60).max(6).optional(),
  lookaheadMs: z.number().min(0.5).max(50).default(5),
  releaseMs: z.number().min(1).max(2000).default(60),
});

const pcmSchema = z.instanceof(Float32Array, { message: 'expected a Float32Array' });

const BLOCK_SECONDS = 0.4;
const STEP_SECONDS = 0.1;
const ABSOLUTE_GATE_LUFS = -70;
const RELATIVE_GATE_LU = -10;
/** The -0.691 dB offset makes a 1 kHz sine at 0 dBFS on one channel read -3.01 LUFS. */
const LOUDNESS_OFFSET_DB = -0.691;

/**
 * Channel weights G_i of BS.1770-4 for the usual layouts: 1 for left, right and centre, 1.41 for
 * the surrounds, 0 for LFE (5.1 order L R C LFE Ls Rs). Other layouts weigh every channel 1.
 */
export function channelWeights(channels: number): number[] {
  if (channels === 6) return [1, 1, 1, 0, 1.41, 1.41];
  if (channels === 5) return [1, 1, 1, 1.41, 1.41];
  return new Array<number>(channels).fill(1);
}

function toLoudness(meanSquare: number): number {
  return meanSquare > 0 ? LOUDNESS_OFFSET_DB + 10 * Math.log10(meanSquare) : -Infinity;
}

function toDb(linear: number): number {
  return linear > 0 ? 20 * Math.log10(linear) : -Infinity;
}

function validatePcm(pcm: Float32Array, channels: number): void {
  parseInput(pcmSchema, pcm, 'pcm');
  if (pcm.length % channels !== 0) {
    throw new InputError(`pcm: expected a sample count divisible by channels (${channels}) (received ${pcm.length})`, {
      field: 'pcm',
    });
  }
}

/** Channel-weighted squares of the K-weighted signal, one per frame. */
function weightedSquares(pcm: Float32Array, sampleRateHz: number, channels: number): Float64Array {
  const frames = pcm.length / channels;
  const total = new Float64Array(frames);
  const squares = channels === 1 ? total : new Float64Array(frames);
  const weights = channelWeights(channels);
  for (let c = 0; c < channels; c++) {
    const weight = weights[c]!;
    if (weight === 0) continue;
    kWeightedSquares(pcm, channels, c, sampleRateHz, squares);
    if (channels === 1) break;
    for (let i = 0; i < frames; i++) total[i]! += weight * squares[i]!;
  }
  return total;
}

/** Mean squares of every complete 400 ms block (hop 100 ms) of per-frame `squares`. */
function blocksOf(squares: Float64Array, sampleRateHz: number): Float64Array {
  const frames = squares.length;
  const blockFrames = Math.round(BLOCK_SECONDS * sampleRateHz);
  const stepFrames = STEP_SECONDS * sampleRateHz;
  const blockCount = frames < blockFrames ? 0 : Math.floor((frames - blockFrames) / stepFrames + 1e-9) + 1;
  // Prefix sums of the energy make every block an O(1) difference.
  const energyPrefix = new Float64Array(frames + 1);
  let running = 0;
  for (let i = 0; i < frames; i++) {
    running += squares[i]!;
    energyPrefix[i + 1] = running;
  }
  const blocks = new Float64Array(blockCount);
  for (let j = 0; j < blockCount; j++) {
    const start = Math.round(j * stepFrames);
    blocks[j] = (energyPrefix[start + blockFrames]! - energyPrefix[start]!) / blockFrames;
  }
  return blocks;
}

/** Gated loudness of the blocks: the mean of those louder than `gateLufs`, and how many were. */
function gatedMean(blocks: Float64Array, gateLufs: number): { meanSquare: number; count: number } {
  let sum = 0;
  let count = 0;
  for (const meanSquare of blocks) {
    if (toLoudness(meanSquare) > gateLufs) {
      sum += meanSquare;
      count++;
    }
  }
  return { meanSquare: count > 0 ? sum / count : 0, count };
}

/** Measures integrated loudness (LUFS), true peak (dBTP) and sample peak of interleaved float32 PCM. */
export function measureLoudness(pcm: Float32Array, options: LoudnessOptions): LoudnessMeasurement {
  const { sampleRateHz, channels } = parseInput(loudnessOptionsSchema, options, 'options');
  validatePcm(pcm, channels);
  return summarize(analyse(pcm, sampleRateHz, channels), 1);
}

/** The gain-independent part of a measurement: block energies and linear peaks (LoudnessMeter builds one incrementally). */
export interface LoudnessAnalysis {
  blocks: Float64Array;
  truePeak: number;
  samplePeak: number;
}

function analyse(pcm: Float32Array, sampleRateHz: number, channels: number): LoudnessAnalysis {
  return {
    blocks: blocksOf(weightedSquares(pcm, sampleRateHz, channels), sampleRateHz),
    truePeak: truePeak(pcm, sampleRateHz, channels),
    samplePeak: samplePeak(pcm),
  };
}

/**
 * The measurement of the analysed signal scaled by `gain`: every stage before the gates is linear,
 * so block energies scale by gain² and peaks by |gain|; only the gating is recomputed.
 */
function summarize(analysis: LoudnessAnalysis, gain: number): LoudnessMeasurement {
  const energyGain = gain * gain;
  const blocks = energyGain === 1 ? analysis.blocks : analysis.blocks.map((meanSquare) => meanSquare * energyGain);
  const absolute = gatedMean(blocks, ABSOLUTE_GATE_LUFS);
  // Blocks must pass both gates: for very quiet programmes the relative gate lies below -70 LUFS.
  const relativeGateLufs = Math.max(ABSOLUTE_GATE_LUFS, toLoudness(absolute.meanSquare) + RELATIVE_GATE_LU);
  const relative = absolute.count > 0 ? gatedMean(blocks, relativeGateLufs) : { meanSquare: 0, count: 0 };
  let loudestBlock = 0;
  for (const meanSquare of blocks) loudestBlock = Math.max(loudestBlock, meanSquare);
  return {
    integratedLufs: toLoudness(relative.meanSquare),
    truePeakDb: toDb(analysis.truePeak * Math.abs(gain)),
    samplePeakDb: toDb(analysis.samplePeak * Math.abs(gain)),
    momentaryMaxLufs: toLoudness(loudestBlock),
    blockCount: blocks.length,
    gatedBlockCount: relative.count,
  };
}

/** Refinements of the gain when it moves blocks across the absolute gate (usually none needed). */
const MAX_GAIN_REFINEMENTS = 4;
/** Steps of the gain search under the limiter (secant; usually 2 to 4). */
const MAX_LIMITER_STEPS = 12;
/** The limiter's search stops within this many LU of the target. */
const TARGET_TOLERANCE_LU = 0.05;
/** The search never goes beyond this much gain over the plain gain (a target out of reach under the ceiling). */
const MAX_LIMITER_GAIN_DB = 20;
/** The detector interpolates exactly above the ceiling at this much more gain than the plain gain. */
const ENVELOPE_HEADROOM_DB = 6;
/** The limited output's true peak is interpolated exactly from this fraction of the ceiling up (-1 dB). */
const OUTPUT_PEAK_FLOOR = 10 ** (-1 / 20);
/** Final checks of the output's true peak (each lowers the limiter's ceiling by the overshoot). */
const MAX_CEILING_CORRECTIONS = 2;

/**
 * The search for the pre-limiter gain that brings the limited output to `targetLufs`: yields the
 * gain (dB) to try next, takes the output's integrated loudness at that gain, returns the best
 * gain tried. Loudness rises monotonically with the gain, more slowly as the limiter works
 * harder: secant steps from the plain gain, at most MAX_LIMITER_GAIN_DB above it.
 */
export function* limitedGainSearch(targetLufs: number, plainGainDb: number): Generator<number, number, number> {
  let previous = { gainDb: plainGainDb, lufs: yield plainGainDb };
  let best = previous;
  const clamp = (gainDb: number): number => Math.min(plainGainDb + MAX_LIMITER_GAIN_DB, Math.max(plainGainDb, gainDb));
  let nextDb = clamp(plainGainDb + (targetLufs - previous.lufs));
  for (let step = 0; step < MAX_LIMITER_STEPS && nextDb !== previous.gainDb; step++) {
    const current = { gainDb: nextDb, lufs: yield nextDb };
    if (Math.abs(targetLufs - current.lufs) < Math.abs(targetLufs - best.lufs)) best = current;
    if (Math.abs(targetLufs - best.lufs) < TARGET_TOLERANCE_LU) break;
    const slope = (current.lufs - previous.lufs) / (current.gainDb - previous.gainDb);
    nextDb = clamp(current.gainDb + (targetLufs - current.lufs) / (Number.isFinite(slope) && slope > 0.05 ? slope : 0.05));
    previous = current;
  }
  return best.gainDb;
}

/**
 * Scales PCM so its integrated loudness reaches `targetLufs`. With `truePeakLimitDb`, the gain is
 * followed by the look-ahead true-peak limiter (limiter.ts) and the gain is searched so that the
 * limited output, not the input, reaches the target: the output meets both the target and the
 * ceiling, and `limited` says whether the limiter acted. `after` is a measurement of the output.
 * Silence (no block above the absolute gate) is returned unchanged with `gainDb` 0. The input is
 * read through `sanitizePcm` (NaN/±Infinity → 0, clamped to ±32); the caller's array is not changed.
 */
export function normalizeLoudness(input: Float32Array, options: NormalizeLoudnessOptions): NormalizedLoudness {
  const parsed = parseInput(normalizeLoudnessOptionsSchema, options, 'options');
  const { sampleRateHz, channels, targetLufs, truePeakLimitDb } = parsed;
  validatePcm(input, channels);
  // NaN/±Infinity → 0, magnitudes clamped to ±32 (a copy): broken samples cannot defeat the ceiling.
  const pcm = sanitizePcm(input);
  const squares = weightedSquares(pcm, sampleRateHz, channels);
  const blocks = blocksOf(squares, sampleRateHz);
  const unlimited = { limited: false, peakReductionDb: 0 };
  if (truePeakLimitDb === undefined) {
    const plain = normalizationGain({ blocks, truePeak: truePeak(pcm, sampleRateHz, channels), samplePeak: samplePeak(pcm) }, targetLufs);
    return { pcm: scaled(pcm, plain.gainDb), ...plain, ...unlimited };
  }
  const ceiling = 10 ** (truePeakLimitDb / 20);
  // The envelope the limiter needs doubles as the true-peak meter: exact above its floor.
  const loudness = normalizationGain({ blocks, truePeak: 0, samplePeak: 0 }, targetLufs);
  let floorGain = 10 ** ((loudness.gainDb + ENVELOPE_HEADROOM_DB) / 20);
  let envelope = truePeakEnvelope(pcm, sampleRateHz, channels, ceiling / floorGain);
  let peak = samplePeak(envelope);
  if (peak <= ceiling / floorGain) peak = truePeak(pcm, sampleRateHz, channels);
  const plain = normalizationGain({ blocks, truePeak: peak, samplePeak: samplePeak(pcm) }, targetLufs);
  if (plain.before.integratedLufs === -Infinity) return { pcm: pcm.slice(), ...plain, ...unlimited };
  if (plain.after.truePeakDb <= truePeakLimitDb) return { pcm: scaled(pcm, plain.gainDb), ...plain, ...unlimited };

  const lookaheadFrames = (parsed.lookaheadMs * sampleRateHz) / 1000;
  const releaseFrames = (parsed.releaseMs * sampleRateHz) / 1000;
  const curves = new Map<number, Float64Array>();
  const blocksScaled = new Float64Array(squares.length);
  const search = limitedGainSearch(targetLufs, plain.gainDb);
  let step = search.next();
  while (!step.done) {
    const gain = 10 ** (step.value / 20);
    if (gain > floorGain) {
      // Beyond the headroom: the envelope must be exact lower down.
      floorGain = gain * 10 ** (ENVELOPE_HEADROOM_DB / 20);
      envelope = truePeakEnvelope(pcm, sampleRateHz, channels, ceiling / floorGain);
    }
    const { curve } = limiterGainCurve(envelope, gain, ceiling, lookaheadFrames, releaseFrames);
    curves.set(step.value, curve);
    // The search weighs the K-weighted input by the gain curve: the curve varies slowly against
    // the K-weighting, so this matches weighting the limited output to well under 0.01 LU.
    for (let i = 0; i < squares.length; i++) blocksScaled[i] = squares[i]! * curve[i]! * curve[i]!;
    step = search.next(summarize({ blocks: blocksOf(blocksScaled, sampleRateHz), truePeak: 0, samplePeak: 0 }, gain).integratedLufs);
  }
  const gainDb = step.value;
  const gain = 10 ** (gainDb / 20);
  let { curve, minGain } = { curve: curves.get(gainDb)!, minGain: 1 };
  for (const value of curve) minGain = Math.min(minGain, value);
  // The output of a limiter that acted peaks at about its ceiling: the meter interpolates from 1 dB below.
  const measureOutput = (pcmOut: Float32Array): LoudnessMeasurement =>
    summarize({ blocks: blocksOf(weightedSquares(pcmOut, sampleRateHz, channels), sampleRateHz), truePeak: truePeak(pcmOut, sampleRateHz, channels, ceiling * OUTPUT_PEAK_FLOOR), samplePeak: samplePeak(pcmOut) }, 1);
  let out = applyGainCurve(pcm, channels, gain, curve);
  let after = measureOutput(out);
  // Heavy, fast gain changes can leave a residual inter-sample overshoot: lower the ceiling by it.
  let limiterCeiling = ceiling;
  for (let check = 0; check < MAX_CEILING_CORRECTIONS && after.truePeakDb > truePeakLimitDb; check++) {
    limiterCeiling *= 10 ** ((truePeakLimitDb - after.truePeakDb) / 20) * 0.999;
    ({ curve, minGain } = limiterGainCurve(envelope, gain, limiterCeiling, lookaheadFrames, releaseFrames));
    out = applyGainCurve(pcm, channels, gain, curve);
    after = measureOutput(out);
  }
  return { pcm: out, gainDb, ...limiterReport(minGain), before: plain.before, after };
}

/** A copy of `pcm` scaled by `gainDb`. */
function scaled(pcm: Float32Array, gainDb: number): Float32Array {
  const gain = 10 ** (gainDb / 20);
  const out = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = pcm[i]! * gain;
  return out;
}

/**
 * The plain gain that brings an analysed programme to `targetLufs` (0 dB for silence), with the
 * measurements before and after; blocks the gain moves across the absolute gate are re-gated.
 */
export function normalizationGain(analysis: LoudnessAnalysis, targetLufs: number): { gainDb: number; before: LoudnessMeasurement; after: LoudnessMeasurement } {
  const before = summarize(analysis, 1);
  if (before.integratedLufs === -Infinity) return { gainDb: 0, before, after: before };
  let gainDb = targetLufs - before.integratedLufs;
  // A gain can lift quiet blocks over the -70 LUFS gate (or drop them under it), which moves the
  // integrated value; a few cheap re-gatings of the cached blocks settle it.
  for (let i = 0; i < MAX_GAIN_REFINEMENTS; i++) {
    const errorLu = targetLufs - summarize(analysis, 10 ** (gainDb / 20)).integratedLufs;
    if (Math.abs(errorLu) < 0.001) break;
    gainDb += errorLu;
  }
  return { gainDb, before, after: summarize(analysis, 10 ** (gainDb / 20)) };
}
