/**
 * Checks of a device capture against an expectation computed independently of the mixer: where
 * each stream's voice started (the callback's `started` event), how many frames it holds and its
 * constant level give the expected mix; subtracting the known streams recovers one stream's own
 * contribution, whose gain envelope (a duck: down on attack, back up on release) is checked frame
 * by frame. Each check returns its problems (empty when the capture is right), so a test can plant
 * a violation and show that it is caught.
 */

/** One stream as the capture should hold it: from `start` (capture index), `frames` frames at `level`. */
export interface Track {
  start: number;
  frames: number;
  level: number;
}

/** Float32 rounding of sums of a few levels below 1 stays far below this. */
export const MIX_TOLERANCE = 1e-6;

/** The sum of `tracks` over capture frames [0, length), at unity gain. */
export function expectedMix(tracks: readonly Track[], length: number): Float64Array {
  const expected = new Float64Array(length);
  for (const { start, frames, level } of tracks) {
    for (let index = Math.max(0, start); index < Math.min(length, start + frames); index++) expected[index] = (expected[index] ?? 0) + level;
  }
  return expected;
}

/** Frames in [from, to) where `captured` and `expected` differ by more than `tolerance`: how many, and the first. */
export function mismatches(captured: ArrayLike<number>, expected: ArrayLike<number>, from = 0, to = captured.length, tolerance = MIX_TOLERANCE): { count: number; first: number } {
  let count = 0;
  let first = -1;
  for (let index = from; index < to; index++) {
    if (Math.abs((captured[index] ?? 0) - (expected[index] ?? 0)) <= tolerance) continue;
    if (first < 0) first = index;
    count += 1;
  }
  return { count, first };
}

/** `captured` minus the known `tracks`: what the remaining stream(s) contributed, frame by frame. */
export function contribution(captured: ArrayLike<number>, tracks: readonly Track[]): Float64Array {
  const known = expectedMix(tracks, captured.length);
  const rest = new Float64Array(captured.length);
  for (let index = 0; index < captured.length; index++) rest[index] = (captured[index] ?? 0) - (known[index] ?? 0);
  return rest;
}

/** What a ducked stream's contribution must look like. */
export interface DuckExpectation {
  /** Its level unducked, and ducked (level × the duck gain). */
  full: number;
  ducked: number;
  /** Ramp lengths in frames (attack down, release up). */
  attackFrames: number;
  releaseFrames: number;
  /** The higher stream's first frame and the frame after its last. */
  higherStart: number;
  higherEnd: number;
  /** The window checked: the ducked stream plays throughout. */
  from: number;
  to: number;
}

/** Where the duck's ramps were found (the first changed frame of each ramp and its first frame at the target), and what is wrong with its shape. */
export interface DuckShape {
  problems: string[];
  downAt: number;
  downEnd: number;
  upAt: number;
  upEnd: number;
}

/** Ramps may be off by a frame or two at their ends (a ramp's first and last frames). */
const RAMP_SLACK_FRAMES = 2;
/** A ducked level is a product of float32 gains: compare it with this tolerance. */
const GAIN_TOLERANCE = 1e-5;

/**
 * Checks a ducked stream's own contribution: `full` until it ducks (no later than the higher
 * stream's start), a monotone ramp of `attackFrames` down to `ducked`, `ducked` at least until the
 * higher stream ended, a monotone ramp of `releaseFrames` back up, then `full` to the window's end.
 */
export function duckShape(lower: ArrayLike<number>, expect: DuckExpectation): DuckShape {
  const problems: string[] = [];
  const at = (index: number) => lower[index] ?? 0;
  const near = (index: number, level: number) => Math.abs(at(index) - level) <= GAIN_TOLERANCE;
  let index = expect.from;
  while (index < expect.to && near(index, expect.full)) index++;
  const downAt = index;
  if (downAt >= expect.to) return { problems: [`never ducked in frames ${expect.from}–${expect.to}`], downAt, downEnd: -1, upAt: -1, upEnd: -1 };
  // A ramp's first frame still carries the old gain: the ramp began one frame before the first changed one.
  if (downAt - 1 > expect.higherStart) problems.push(`ducked at frame ${downAt}, after the higher stream started at ${expect.higherStart}`);
  while (index < expect.to && !near(index, expect.ducked)) {
    if (at(index) > at(index - 1) + GAIN_TOLERANCE) problems.push(`the attack ramp rises at frame ${index}`);
    if (at(index) < expect.ducked - GAIN_TOLERANCE) problems.push(`below the ducked level at frame ${index} (${at(index)})`);
    if (problems.length > 4) break;
    index++;
  }
  const downEnd = index;
  if (Math.abs(downEnd - (downAt - 1) - expect.attackFrames) > RAMP_SLACK_FRAMES) problems.push(`attack ramp of ${downEnd - (downAt - 1)} frames, expected ${expect.attackFrames}`);
  while (index < expect.to && near(index, expect.ducked)) index++;
  const upAt = index;
  if (upAt - 1 < expect.higherEnd) problems.push(`left the ducked level at frame ${upAt}, before the higher stream ended at ${expect.higherEnd}`);
  if (upAt >= expect.to) return { problems: [...problems, `never restored by frame ${expect.to}`], downAt, downEnd, upAt, upEnd: -1 };
  while (index < expect.to && !near(index, expect.full)) {
    if (at(index) < at(index - 1) - GAIN_TOLERANCE) problems.push(`the release ramp falls at frame ${index}`);
    if (problems.length > 8) break;
    index++;
  }
  const upEnd = index;
  if (Math.abs(upEnd - (upAt - 1) - expect.releaseFrames) > RAMP_SLACK_FRAMES) problems.push(`release ramp of ${upEnd - (upAt - 1)} frames, expected ${expect.releaseFrames}`);
  for (; index < expect.to; index++) {
    if (!near(index, expect.full)) {
      problems.push(`not back at the full level at frame ${index} (${at(index)})`);
      break;
    }
  }
  return { problems, downAt, downEnd, upAt, upEnd };
}
