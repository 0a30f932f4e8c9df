/**
 * Ducking: a layer dips under the dialogue, sidechain-style. The key is the dialogue bus's actual
 * envelope (a peak follower, 10 ms decay); where it is above `thresholdDb` (held for `holdMs`
 * across the gaps between words) the dialogue counts as speaking. The ducked layer's gain, in dB,
 * moves linearly towards `depthDb` while speaking (reaching it `attackMs` after the dialogue
 * starts) and back to 0 dB after it (in `releaseMs`). A gain envelope, not a compressor (v3).
 */

/** How one layer ducks. */
export interface DuckShape {
  /** Gain while the dialogue speaks, dB (≤ 0). */
  depthDb: number;
  attackMs: number;
  releaseMs: number;
  holdMs: number;
  /** Envelope level above which the dialogue counts as speaking, dBFS. */
  thresholdDb: number;
}

/** Decay time of the key's peak follower, ms. */
const KEY_DECAY_MS = 10;

/** Whether the dialogue speaks at each frame of `key` (mono; the dialogue bus), with the hold applied. */
export function speakingFrames(key: Float32Array, sampleRate: number, shape: Pick<DuckShape, 'holdMs' | 'thresholdDb'>): Uint8Array {
  const speaking = new Uint8Array(key.length);
  const decay = Math.exp(-1 / ((KEY_DECAY_MS / 1000) * sampleRate));
  const threshold = 10 ** (shape.thresholdDb / 20);
  const holdFrames = Math.round((shape.holdMs / 1000) * sampleRate);
  let envelope = 0;
  let held = 0;
  for (let index = 0; index < key.length; index++) {
    const level = Math.abs(key[index]!);
    envelope = level > envelope ? level : envelope * decay;
    if (envelope > threshold) held = holdFrames + 1;
    if (held > 0) {
      speaking[index] = 1;
      held -= 1;
    }
  }
  return speaking;
}

/** The ducked layer's linear gain at each frame, from the dialogue's speaking frames. */
export function duckGainCurve(speaking: Uint8Array, sampleRate: number, shape: DuckShape): Float32Array {
  const gains = new Float32Array(speaking.length);
  const depth = Math.min(0, shape.depthDb);
  const attackStep = shape.attackMs > 0 ? -depth / ((shape.attackMs / 1000) * sampleRate) : Infinity;
  const releaseStep = shape.releaseMs > 0 ? -depth / ((shape.releaseMs / 1000) * sampleRate) : Infinity;
  let gainDb = 0;
  for (let index = 0; index < speaking.length; index++) {
    gainDb = speaking[index] === 1 ? Math.max(depth, gainDb - attackStep) : Math.min(0, gainDb + releaseStep);
    gains[index] = gainDb === 0 ? 1 : 10 ** (gainDb / 20);
  }
  return gains;
}
