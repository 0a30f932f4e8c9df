/**
 * Checks word timings against the audio they describe: after a pause, a word's start must be where
 * the sound comes back (the first 5 ms frame whose RMS exceeds a threshold), within a tolerance.
 * Returns the violations (empty when every checked word starts at its onset).
 */
import type { WordTiming } from '../../src/graph/engine-output.js';

/** RMS of 5 ms frames (the last partial frame dropped). */
function frameRms(pcm: Float32Array, sampleRateHz: number): { frameMs: number; levels: number[] } {
  const frame = Math.round(sampleRateHz * 0.005);
  const levels: number[] = [];
  for (let start = 0; start + frame <= pcm.length; start += frame) {
    let sum = 0;
    for (let index = start; index < start + frame; index++) sum += (pcm[index] ?? 0) ** 2;
    levels.push(Math.sqrt(sum / frame));
  }
  return { frameMs: (frame / sampleRateHz) * 1000, levels };
}

/** One word whose start is not at the sound's onset. */
export interface OnsetViolation {
  word: string;
  startMs: number;
  onsetMs: number | undefined;
}

/**
 * Checks every word that follows at least `minPauseMs` of silence in the timings (and the first
 * word): the sound's onset, searched from the previous word's end (past its fading tail), must be within `toleranceMs` of
 * the word's `startMs`. Returns the words that fail, and how many words were checked.
 */
export function checkWordOnsets(
  pcm: Float32Array,
  sampleRateHz: number,
  timings: readonly WordTiming[],
  options: { toleranceMs: number; minPauseMs: number; threshold: number },
): { checked: number; violations: OnsetViolation[] } {
  const { frameMs, levels } = frameRms(pcm, sampleRateHz);
  const violations: OnsetViolation[] = [];
  let checked = 0;
  timings.forEach((timing, index) => {
    const previousEnd = index === 0 ? 0 : (timings[index - 1]?.endMs ?? 0);
    if (index > 0 && timing.startMs - previousEnd < options.minPauseMs) return;
    checked += 1;
    // From the previous word's end, past its fading tail, to where the sound comes back.
    let from = Math.floor(previousEnd / frameMs);
    if (index > 0) while (from < levels.length && (levels[from] ?? 0) > options.threshold) from += 1;
    const frame = levels.findIndex((level, at) => at >= from && level > options.threshold);
    const onsetMs = frame < 0 ? undefined : frame * frameMs;
    if (onsetMs === undefined || Math.abs(onsetMs - timing.startMs) > options.toleranceMs) violations.push({ word: timing.word, startMs: timing.startMs, onsetMs });
  });
  return { checked, violations };
}
