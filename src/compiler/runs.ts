/**
 * The compiler's intermediate form: a flat list of runs that every input format (plain text,
 * light markup, SSML) is read into, and that the graph builder turns into a SpeechGraph.
 */
import type { Prosody } from '../graph/engine-output.js';
import type { EmotionName } from './emotion.js';

/** Delivery of a text run, before the options' preset/emotion/rate are applied. */
export interface RunStyle {
  /** Changes from SSML prosody and emphasis, combined (rates multiply, offsets add). */
  readonly relative: Prosody;
  /** Emotion of the run (a markup span or the options' emotion). */
  readonly emotion?: EmotionName;
  readonly emphasis?: string;
  readonly voice?: string;
  readonly language: string;
}

/** Text to speak. `spoken`, when set, is already normalised (say-as, sub) and is used as is. */
export interface TextRun {
  readonly kind: 'text';
  readonly text: string;
  readonly spoken?: string;
  readonly style: RunStyle;
}

/** An explicit pause (`<break>`, `[pause]`). */
export interface BreakRun {
  readonly kind: 'break';
  readonly durationMs: number;
}

/** A forced sentence or paragraph end (`<s>`, `<p>`, a blank line). */
export interface BoundaryRun {
  readonly kind: 'boundary';
  readonly level: 'sentence' | 'paragraph';
}

/** A local audio clip. */
export interface AudioRun {
  readonly kind: 'audio';
  readonly path: string;
  readonly fallbackText: string;
}

/** A named mark. */
export interface MarkRun {
  readonly kind: 'mark';
  readonly name: string;
}

/** One item of the intermediate form. */
export type Run = TextRun | BreakRun | BoundaryRun | AudioRun | MarkRun;

/** Style with no changes. */
export function neutralStyle(language: string, voice: string | undefined, emotion: EmotionName | undefined): RunStyle {
  return { relative: { rate: 1, pitchSemitones: 0, volumeDb: 0 }, language, ...(voice ? { voice } : {}), ...(emotion ? { emotion } : {}) };
}
