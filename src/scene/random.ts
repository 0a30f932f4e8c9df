/**
 * Seeded randomness for scenes: a small 32-bit generator (mulberry32-style mixing) and named
 * sub-streams, so a scene renders the same bytes for the same seed and adding one layer does not
 * change the noise of another (each layer draws from `forkRandom(seed, its own label)`).
 * Not cryptographic; deterministic across runs and machines (integer arithmetic only).
 */

/** A deterministic source of numbers in [0, 1). */
export interface SeededRandom {
  /** The next number in [0, 1). */
  next(): number;
  /** The next number in [min, max). */
  between(min: number, max: number): number;
  /** A roughly normal number (mean 0, deviation 1): the sum of four uniforms, scaled. */
  gaussian(): number;
}

/** FNV-1a of a string: turns a label into 32 bits. */
function hashLabel(label: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < label.length; index++) {
    hash ^= label.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** A generator seeded with `seed` (any integer; only its low 32 bits count). */
export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    between: (min, max) => min + (max - min) * next(),
    // Four uniforms have variance 4/12; scaling by sqrt(3) gives deviation 1.
    gaussian: () => (next() + next() + next() + next() - 2) * Math.sqrt(3),
  };
}

/** The generator of the sub-stream `label` of `seed` (independent of every other label). */
export function forkRandom(seed: number, label: string): SeededRandom {
  return seededRandom((Math.imul(seed >>> 0, 0x9e3779b1) ^ hashLabel(label)) >>> 0);
}
