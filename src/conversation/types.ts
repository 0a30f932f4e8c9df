/**
 * The seam between conversations and scenes: what a rendered conversation looks like. A
 * `Conversation` renders to one clip per turn placed on a timeline; a `Scene` places those clips
 * (and music, ambiance, effects) into its own stereo mix. Times are ms from the start of the
 * conversation; PCM is mono float32 at `sampleRate`.
 */
import type { WordTiming } from '../graph/engine-output.js';

/** A point in the listener's space: x left (−1) … right (+1), y down … up, z near (0) … far. */
export interface SpatialPosition {
  x: number;
  y: number;
  z: number;
}

/** One rendered turn of a conversation. */
export interface RenderedTurn {
  /** Index of the turn in the conversation (0-based, in script order). */
  index: number;
  speaker: string;
  /** Voice the turn was spoken with. */
  voice: string;
  /** Start of the turn's audio, ms from the start of the conversation. */
  startMs: number;
  /** End of the turn's audio, ms from the start of the conversation. */
  endMs: number;
  /** Mono PCM of this turn alone. */
  pcm: Float32Array;
  /** Word timings, with `streamStartMs`/`streamEndMs` relative to the start of the conversation. */
  words: WordTiming[];
  /** Where the speaker stands, when the cast placed them. */
  position?: SpatialPosition;
}

/** A conversation rendered offline: every turn's clip and where it sits. */
export interface RenderedConversation {
  sampleRate: number;
  /** End of the last turn, ms. */
  durationMs: number;
  turns: RenderedTurn[];
}
