/**
 * Reading a null device's capture in tests: the device position (the capture index of the next
 * frame), everything captured so far, and how long a constant level lasts from a frame on.
 */
import type { AudioOutput } from '../../src/audio/output.js';

/** The capture index of the next frame the device renders (frames rendered since it opened). */
export function position(output: AudioOutput): number {
  const stats = output.stats();
  return stats.deviceFrames;
}

/** Everything the device captured since it opened (readCapture() hands each frame out once). */
const captures = new WeakMap<AudioOutput, Float32Array>();
export function capturedSoFar(output: AudioOutput): Float32Array {
  const before = captures.get(output) ?? new Float32Array(0);
  const fresh = output.readCapture();
  const all = new Float32Array(before.length + fresh.length);
  all.set(before);
  all.set(fresh, before.length);
  captures.set(output, all);
  return all;
}

/** Frames from `from` on that stay at `level` (until the first frame that is not). */
export function framesAtLevel(captured: Float32Array, from: number, level: number): number {
  let index = from;
  while (index < captured.length && Math.abs((captured[index] ?? 0) - level) < 1e-6) index += 1;
  return index - from;
}
