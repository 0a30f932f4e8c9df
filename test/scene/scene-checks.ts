/**
 * Measurements of rendered scene audio, each returning its problems (empty when right) so a test
 * can plant a violation and show it is caught: a tone's level by projection (DC and other tones
 * over whole periods do not leak in), onsets, L/R energy, and jumps (second differences).
 */

/** Left (0) or right (1) channel of interleaved stereo. */
export function channelOf(pcm: Float32Array, channel: 0 | 1): Float32Array {
  const out = new Float32Array(pcm.length / 2);
  for (let index = 0; index < out.length; index++) out[index] = pcm[2 * index + channel]!;
  return out;
}

/** Amplitude of the `frequencyHz` sine in `signal[from, from + frames)` (frames: whole periods). */
export function toneAmplitude(signal: Float32Array, sampleRate: number, frequencyHz: number, from: number, frames: number): number {
  let sine = 0;
  let cosine = 0;
  for (let index = 0; index < frames; index++) {
    const phase = (2 * Math.PI * frequencyHz * (from + index)) / sampleRate;
    sine += signal[from + index]! * Math.sin(phase);
    cosine += signal[from + index]! * Math.cos(phase);
  }
  return (2 / frames) * Math.hypot(sine, cosine);
}

/** Frame of the first sample above `threshold` at or after `from`, or -1. */
export function onsetAfter(signal: Float32Array, from: number, threshold = 1e-3): number {
  for (let index = Math.max(0, from); index < signal.length; index++) if (Math.abs(signal[index]!) > threshold) return index;
  return -1;
}

/** Energy ratio left/right in dB over frames [from, to). */
export function leftRightDb(pcm: Float32Array, from: number, to: number): number {
  let left = 0;
  let right = 0;
  for (let index = from; index < to; index++) {
    left += pcm[2 * index]! ** 2;
    right += pcm[2 * index + 1]! ** 2;
  }
  return 10 * Math.log10(left / right);
}

/** Largest |second difference| of `signal` (a jump of J shows as about J; a smooth tone as ω²·A). */
export function largestJump(signal: Float32Array, from = 1, to = signal.length - 1): number {
  let largest = 0;
  for (let index = Math.max(1, from); index < Math.min(to, signal.length - 1); index++) {
    largest = Math.max(largest, Math.abs(signal[index + 1]! - 2 * signal[index]! + signal[index - 1]!));
  }
  return largest;
}

/** Problems with a music tone's ducking: `depthDb` (±1 dB) in `during` windows, back to 0 dB (±1 dB) in `after` windows, relative to `before`. */
export function duckingProblems(signal: Float32Array, sampleRate: number, toneHz: number, windows: { before: number; during: number[]; after: number[]; frames: number }, depthDb: number): string[] {
  const level = (from: number): number => toneAmplitude(signal, sampleRate, toneHz, from, windows.frames);
  const reference = level(windows.before);
  const problems: string[] = [];
  for (const from of windows.during) {
    const db = 20 * Math.log10(level(from) / reference);
    if (Math.abs(db - depthDb) > 1) problems.push(`during dialogue at frame ${from}: ${db.toFixed(2)} dB, expected ${depthDb} ± 1 dB`);
  }
  for (const from of windows.after) {
    const db = 20 * Math.log10(level(from) / reference);
    if (Math.abs(db) > 1) problems.push(`after dialogue at frame ${from}: ${db.toFixed(2)} dB, expected 0 ± 1 dB`);
  }
  return problems;
}
