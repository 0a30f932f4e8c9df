/**
 * Levels and placement of a scene's layers: a level given in dB or as a ratio, and
 * `SpatialPosition` → stereo gains (constant-power panning and inverse-distance attenuation).
 *
 * Pan law: x ∈ [−1, 1] maps to θ = (x + 1)·π/4; left gain cos θ, right gain sin θ, so
 * left² + right² = 1 wherever the source stands (centre: both −3.01 dB). Distance: d = √(x²+y²+z²);
 * a source within one unit of the listener plays at full level, farther ones at 1/d (−6 dB per
 * doubling), so a source panned hard left at the listener's side (x = −1) is not attenuated.
 */
import { z } from 'zod';
import type { SpatialPosition } from '../conversation/types.js';

/** A level: a number (ratio when ≥ 0, dB when < 0) or a string such as `"-12dB"` / `"-12 dB"`. */
export type Level = number | string;

/** Zod schema of a `Level` (the message says what is accepted). */
export const levelSchema = z.union([
  z.number().finite().min(-120).max(16),
  z.string().regex(/^\s*[-+]?\d+(\.\d+)?\s*dB\s*$/i, 'expected a ratio (a number ≥ 0), a negative number of dB, or a string such as "-12dB"'),
]);

/** Zod schema of a `SpatialPosition` (x within [−1, 1]; y and z any distance up to 1000). */
export const spatialPositionSchema = z.strictObject({
  x: z.number().finite().min(-1).max(1),
  y: z.number().finite().min(-1000).max(1000).default(0),
  z: z.number().finite().min(0).max(1000).default(0),
});

/** A linear gain from dB. */
export function dbToRatio(db: number): number {
  return 10 ** (db / 20);
}

/** The linear gain a `Level` means (`"-6dB"` → 0.501, `-6` → 0.501, `0.5` → 0.5). */
export function levelToRatio(level: Level): number {
  if (typeof level === 'string') return dbToRatio(Number.parseFloat(level.replace(/dB/i, '')));
  return level < 0 ? dbToRatio(level) : level;
}

/** Stereo gains of a mono source at a position. */
export interface StereoGains {
  left: number;
  right: number;
}

/** The constant-power pan of `x` alone (no distance): left² + right² = 1. */
export function panGains(x: number): StereoGains {
  const theta = ((Math.min(1, Math.max(-1, x)) + 1) * Math.PI) / 4;
  return { left: Math.cos(theta), right: Math.sin(theta) };
}

/** The attenuation of a source at `position`: 1 within one unit of the listener, 1/d beyond. */
export function distanceGain(position: SpatialPosition): number {
  const distance = Math.hypot(position.x, position.y, position.z);
  return 1 / Math.max(1, distance);
}

/** Gains of a mono source at `position`: constant-power pan times distance attenuation. */
export function positionGains(position: SpatialPosition | undefined): StereoGains {
  if (!position) return panGains(0);
  const pan = panGains(position.x);
  const distance = distanceGain(position);
  return { left: pan.left * distance, right: pan.right * distance };
}

/**
 * Gains of a stereo source at `position`: a balance (the far side is turned down with the same
 * law, normalised so the centre is unity and the near side never goes above it) times distance.
 */
export function balanceGains(position: SpatialPosition | undefined): StereoGains {
  if (!position) return { left: 1, right: 1 };
  const pan = panGains(position.x);
  const distance = distanceGain(position);
  return { left: Math.min(1, pan.left * Math.SQRT2) * distance, right: Math.min(1, pan.right * Math.SQRT2) * distance };
}
