/**
 * Emotions and delivery presets, and how prosodies combine. An emotion or preset maps to a rate
 * multiplier, a pitch offset, a loudness offset and a pause scale; these travel as `Prosody` on
 * every segment, so they reach the audio whatever the backend.
 */
import type { Prosody } from '../graph/engine-output.js';

/** An emotion's delivery: prosody plus how much longer (>1) or shorter (<1) its pauses are. */
export interface EmotionProfile extends Prosody {
  /** Multiplier of sentence and paragraph pauses. */
  pauseScale: number;
}

/** A preset's delivery: prosody plus the pauses between sentences and paragraphs. */
export interface PresetProfile extends Prosody {
  sentencePauseMs: number;
  paragraphPauseMs: number;
}

/** The emotions the compiler knows (options, `{joy}…{/joy}` markup). */
export const EMOTIONS = Object.freeze({
  neutral: Object.freeze({ rate: 1, pitchSemitones: 0, volumeDb: 0, pauseScale: 1 }),
  joy: Object.freeze({ rate: 1.1, pitchSemitones: 2, volumeDb: 2, pauseScale: 0.9 }),
  sadness: Object.freeze({ rate: 0.85, pitchSemitones: -2, volumeDb: -3, pauseScale: 1.4 }),
  anger: Object.freeze({ rate: 1.1, pitchSemitones: 1, volumeDb: 5, pauseScale: 0.8 }),
  fear: Object.freeze({ rate: 1.15, pitchSemitones: 3, volumeDb: -1, pauseScale: 0.9 }),
  surprise: Object.freeze({ rate: 1.05, pitchSemitones: 4, volumeDb: 3, pauseScale: 1 }),
  calm: Object.freeze({ rate: 0.9, pitchSemitones: -1, volumeDb: -2, pauseScale: 1.3 }),
  excited: Object.freeze({ rate: 1.2, pitchSemitones: 3, volumeDb: 4, pauseScale: 0.75 }),
} satisfies Record<string, EmotionProfile>);

/** An emotion name. */
export type EmotionName = keyof typeof EMOTIONS;

/** The emotion names, for schemas and messages. */
export const EMOTION_NAMES = Object.freeze(Object.keys(EMOTIONS) as EmotionName[]);

/** Pauses used when no preset is chosen. */
export const DEFAULT_PACING = Object.freeze({ sentencePauseMs: 200, paragraphPauseMs: 500 });

/** The delivery presets. */
export const PRESETS = Object.freeze({
  assistant: Object.freeze({ rate: 1, pitchSemitones: 0, volumeDb: 0, ...DEFAULT_PACING }),
  narrator: Object.freeze({ rate: 0.95, pitchSemitones: -1, volumeDb: 0, sentencePauseMs: 350, paragraphPauseMs: 800 }),
  announcer: Object.freeze({ rate: 1.05, pitchSemitones: 1, volumeDb: 4, sentencePauseMs: 250, paragraphPauseMs: 600 }),
  whisper: Object.freeze({ rate: 0.9, pitchSemitones: -2, volumeDb: -12, sentencePauseMs: 300, paragraphPauseMs: 700 }),
} satisfies Record<string, PresetProfile>);

/** A preset name. */
export type PresetName = keyof typeof PRESETS;

/** The preset names, for schemas and messages. */
export const PRESET_NAMES = Object.freeze(Object.keys(PRESETS) as PresetName[]);

/** Bounds every final prosody is clamped to (the SpeechGraph schema enforces the same). */
export const PROSODY_LIMITS = Object.freeze({
  rate: Object.freeze({ min: 0.25, max: 4 }),
  pitchSemitones: Object.freeze({ min: -24, max: 24 }),
  volumeDb: Object.freeze({ min: -96, max: 20 }),
});

function clamp(value: number, limits: { min: number; max: number }): number {
  return Math.min(limits.max, Math.max(limits.min, value));
}

/** Whether `name` is an emotion the compiler knows. */
export function isEmotionName(name: string): name is EmotionName {
  return Object.hasOwn(EMOTIONS, name);
}

/** Applies `change` on top of `base`: rates multiply, pitch and volume offsets add. Unclamped. */
export function combineProsody(base: Prosody, change: Prosody): Prosody {
  return {
    rate: base.rate * change.rate,
    pitchSemitones: base.pitchSemitones + change.pitchSemitones,
    volumeDb: base.volumeDb + change.volumeDb,
  };
}

/** Clamps to `PROSODY_LIMITS` and rounds (3 decimals) so equal inputs give byte-equal graphs. */
export function clampProsody(prosody: Prosody): Prosody {
  const round = (value: number) => Math.round(value * 1000) / 1000;
  return {
    rate: round(clamp(prosody.rate, PROSODY_LIMITS.rate)),
    pitchSemitones: round(clamp(prosody.pitchSemitones, PROSODY_LIMITS.pitchSemitones)),
    volumeDb: round(clamp(prosody.volumeDb, PROSODY_LIMITS.volumeDb)),
  };
}

/** The prosody part of an emotion or preset profile. */
export function prosodyOf(profile: Prosody): Prosody {
  return { rate: profile.rate, pitchSemitones: profile.pitchSemitones, volumeDb: profile.volumeDb };
}
