/**
 * Programme loudness per ITU-R BS.1770-4 / EBU R128: K-weighting, mean square over 400 ms blocks
 * with 75 % overlap, an absolute gate at -70 LUFS and a relative gate 10 LU below the
 * absolute-gated loudness; plus true peak and gain normalisation to a target loudness.
 */
import { z } from 'zod';
import { InputError } from '../errors.js';
import { parseInput } from '../validation.js';
import { kWeightedSquares } from './k-weighting.js';
import { samplePeak, truePeak } from './true-peak.js';

/** Options of `measureLoudness`. */
export interface LoudnessOptions {
  sampleRateHz: number;
  channels: number;
}

/** What `measureLoudness` found. Levels are -Infinity for silence (or audio shorter than 400 ms). */
export interface LoudnessMeasurement {
  /** Gated programme loudness in LUFS. */
  integratedLufs: number;
  /** True peak in dBTP (4x oversampled below 96 kHz). */
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
  /** Optional ceiling for the true peak in dBTP (e.g. -1): the gain is lowered to respect it. */
  truePeakLimitDb?: number;
}

/** What `normalizeLoudness` did. */
export interface NormalizedLoudness {
  /** The scaled copy of the input. */
  pcm: Float32Array;
  /** Gain applied in dB (0 for silence). */
  gainDb: number;
  /** True when the true-peak limit, not the target, decided the gain. */
  limitedByTruePeak: boolean;
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

/** Channel-weighted mean squares of every complete 400 ms block (hop 100 ms). */
function blockMeanSquares(pcm: Float32Array, sampleRateHz: number, channels: number): Float64Array {
  const frames = pcm.length / channels;
  const blockFrames = Math.round(BLOCK_SECONDS * sampleRateHz);
  const stepFrames = STEP_SECONDS * sampleRateHz;
  const blockCount = frames < blockFrames ? 0 : Math.floor((frames - blockFrames) / stepFrames + 1e-9) + 1;
  // Prefix sums of the weighted energy make every block an O(1) difference.
  const energyPrefix = new Float64Array(frames + 1);
  const squares = new Float64Array(frames);
  const weights = channelWeights(channels);
  for (let c = 0; c < channels; c++) {
    const weight = weights[c]!;
    if (weight === 0) continue;
    kWeightedSquares(pcm, channels, c, sampleRateHz, squares);
    let running = 0;
    for (let i = 0; i < frames; i++) {
      running += weight * squares[i]!;
      energyPrefix[i + 1]! += running;
    }
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
    blocks: blockMeanSquares(pcm, sampleRateHz, channels),
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

/**
 * Scales PCM so its integrated loudness reaches `targetLufs`, lowering the gain if needed so the
 * true peak stays at or below `truePeakLimitDb` (a plain gain: no limiter, no clipping added).
 * The input is analysed once; `after` is derived from that analysis (exact up to float32
 * rounding of the output). Silence (no block above the absolute gate) is returned unchanged with
 * `gainDb` 0.
 */
export function normalizeLoudness(pcm: Float32Array, options: NormalizeLoudnessOptions): NormalizedLoudness {
  const { sampleRateHz, channels, targetLufs, truePeakLimitDb } = parseInput(
    normalizeLoudnessOptionsSchema,
    options,
    'options',
  );
  validatePcm(pcm, channels);
  const plan = normalizationGain(analyse(pcm, sampleRateHz, channels), targetLufs, truePeakLimitDb);
  if (plan.before.integratedLufs === -Infinity) return { pcm: pcm.slice(), ...plan };
  const gain = 10 ** (plan.gainDb / 20);
  const out = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = pcm[i]! * gain;
  return { pcm: out, ...plan };
}

/**
 * The gain that brings an analysed programme to `targetLufs`, lowered so its true peak stays at
 * or below `truePeakLimitDb` (0 dB for silence), with the measurements before and after. Shared by
 * `normalizeLoudness` and the two-pass file writer (which applies it while streaming).
 */
export function normalizationGain(analysis: LoudnessAnalysis, targetLufs: number, truePeakLimitDb: number | undefined): Omit<NormalizedLoudness, 'pcm'> {
  const before = summarize(analysis, 1);
  if (before.integratedLufs === -Infinity) return { gainDb: 0, limitedByTruePeak: false, before, after: before };
  let gainDb = targetLufs - before.integratedLufs;
  // A gain can lift quiet blocks over the -70 LUFS gate (or drop them under it), which moves the
  // integrated value; a few cheap re-gatings of the cached blocks settle it.
  for (let i = 0; i < MAX_GAIN_REFINEMENTS; i++) {
    const errorLu = targetLufs - summarize(analysis, 10 ** (gainDb / 20)).integratedLufs;
    if (Math.abs(errorLu) < 0.001) break;
    gainDb += errorLu;
  }
  let limitedByTruePeak = false;
  if (truePeakLimitDb !== undefined && before.truePeakDb + gainDb > truePeakLimitDb) {
    gainDb = truePeakLimitDb - before.truePeakDb;
    limitedByTruePeak = true;
  }
  return { gainDb, limitedByTruePeak, before, after: summarize(analysis, 10 ** (gainDb / 20)) };
}
