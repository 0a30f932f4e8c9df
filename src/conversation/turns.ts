/**
 * What a conversation is made of, validated with zod at the edge: turns (speaker, text and
 * turn-taking), the cast (speaker → voice, backend, prosody, emotion, position) and the options of
 * `new Conversation`. A cast is keyed by speaker names as written (`namedRecord`: `__proto__` and
 * `constructor` are names like any other). `castFor` completes the cast with distinct defaults for
 * what it leaves out: a different voice for each speaker of a backend from that backend's default
 * list (default-voices.ts picks it from the backend's own voices), or, for a one-voice backend, a
 * different pitch and rate.
 */
import { z } from 'zod';
import { EMOTION_NAMES } from '../compiler/index.js';
import { namedRecord } from '../validation.js';
import type { SpatialPosition } from './types.js';

/** Gap between two turns when neither the turn nor the options say (ms). */
export const DEFAULT_GAP_MS = 250;
/** Overlap of a barge-in turn that gives none (ms). */
export const DEFAULT_BARGE_IN_OVERLAP_MS = 300;
/**
 * Voices preferred for speakers the cast leaves out, in order of first appearance, when the
 * backend offers them (espeak-ng: two genders and two accents, so neighbours always differ in
 * pitch or timbre). Another backend's speakers get voices from its own list (default-voices.ts).
 */
export const DEFAULT_VOICES = Object.freeze(['en-us', 'en-us+f3', 'en-gb+m3', 'en-us+f5', 'en-gb', 'en-gb+f4']);
/** For a one-voice backend (one voice listed, or `defaultVoices: []`): pitch (semitones) and rate by speaker order. */
export const DEFAULT_PROSODY_STEPS = Object.freeze([
  { pitchSemitones: 0, rate: 1 },
  { pitchSemitones: 6, rate: 1.1 },
  { pitchSemitones: -5, rate: 0.92 },
  { pitchSemitones: 10, rate: 1.05 },
  { pitchSemitones: -9, rate: 0.95 },
  { pitchSemitones: 3, rate: 1.15 },
]);

/** A speaker's name: one line of printable text (it is written into subtitles and stream metadata). */
const speakerSchema = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .refine((name) => !/[\p{Cc}\p{Zl}\p{Zp}]/u.test(name), 'expected a name without control characters or line breaks');
const emotionSchema = z.enum(EMOTION_NAMES as [string, ...string[]]);
const unit = z.number().finite().min(-1).max(1);

/** Schema of a SpatialPosition: x −1 (left) … +1 (right), y −1 … +1, z 0 (near) … 100 (far). */
export const spatialPositionSchema = z.strictObject({ x: unit, y: unit.default(0), z: z.number().finite().min(0).max(100).default(0) });

/** Schema of one turn of `new Conversation(turns)`. */
export const conversationTurnSchema = z
  .strictObject({
    speaker: speakerSchema,
    text: z.string().trim().min(1).max(100_000),
    /** Silence before this turn, after the previous one ends (default: the conversation's `gapMs`). */
    gapMs: z.number().finite().min(0).max(60_000).optional(),
    /** This turn starts this long before the previous one ends (both are heard at once). */
    overlapMs: z.number().finite().min(0).max(60_000).optional(),
    /** This turn cuts in: the previous turn fades out where this one starts (overlap default 300 ms). */
    bargeIn: z.boolean().optional(),
    /** Emotion of this turn (over the cast's). */
    emotion: emotionSchema.optional(),
  })
  .refine((turn) => !(turn.gapMs !== undefined && turn.overlapMs !== undefined), { message: 'a turn cannot have both gapMs and overlapMs', path: ['overlapMs'] });

/** One turn as callers write it. */
export type ConversationTurnInput = { speaker: string; text: string; gapMs?: number; overlapMs?: number; bargeIn?: boolean; emotion?: string };
/** One validated turn. */
export type ConversationTurn = z.output<typeof conversationTurnSchema>;

/** Schema of one speaker's entry in the cast. */
export const castEntrySchema = z.strictObject({
  /** Voice id within the backend (e.g. `en-us+f3`). */
  voice: z.string().min(1).max(200).optional(),
  /** Backend by name for this speaker (default: the engine's). */
  backend: z.string().min(1).max(100).optional(),
  /** Speaking-rate multiplier of this speaker. */
  rate: z.number().finite().min(0.25).max(4).optional(),
  /** Pitch offset in semitones (the turn is then read as plain text inside SSML prosody). */
  pitchSemitones: z.number().finite().min(-24).max(24).optional(),
  emotion: emotionSchema.optional(),
  /** Where the speaker stands (scenes pan and attenuate by it). */
  position: spatialPositionSchema.optional(),
});

/** A speaker's cast entry as callers write it. */
export type CastEntryInput = z.input<typeof castEntrySchema>;
/** A speaker's resolved cast entry. */
export type CastEntry = z.output<typeof castEntrySchema>;

/** Schema of the options of `new Conversation` and `Conversation.fromScript`. */
export const conversationOptionsSchema = z.strictObject({
  /** The conversation's id: the `conversationId` in each turn stream's metadata (default: a fresh one). */
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'expected 1–128 letters, digits, . _ : -').optional(),
  /** Speaker (case-insensitive; any name, `__proto__` included) → voice, backend, prosody, emotion and position. */
  cast: namedRecord(speakerSchema, castEntrySchema).optional(),
  /** Silence between turns by default (ms). */
  gapMs: z.number().finite().min(0).max(60_000).default(DEFAULT_GAP_MS),
  /**
   * Voices for speakers the cast gives none, in order; `[]` for a one-voice backend (pitch and
   * rate differ instead). Default: picked from each speaker's backend's own voices on render/play.
   */
  defaultVoices: z.array(z.string().min(1).max(200)).max(64).optional(),
});

/** Options of `new Conversation` as callers write them. */
export type ConversationOptions = z.input<typeof conversationOptionsSchema>;
/** Validated options. */
export type ResolvedConversationOptions = z.output<typeof conversationOptionsSchema>;

/** The key a speaker is known by (cast keys and speakers match case-insensitively). */
export function speakerKey(speaker: string): string {
  return speaker.trim().toLowerCase();
}

/**
 * What speakers of one backend the cast leaves without a voice get: voices handed out in turn,
 * `'prosody'` (a one-voice backend: pitch and rate steps) or `'none'` (the backend's own default).
 */
export type SpeakerDefaults = readonly string[] | 'prosody' | 'none';

/**
 * Every speaker's cast entry, in order of first appearance: the cast's own, completed for what it
 * leaves out with the defaults of the speaker's backend (`defaultsFor(entry.backend)`; undefined =
 * the engine's): the next voice of its list (counted per backend), else a pitch and rate step.
 */
export function castFor(turns: readonly ConversationTurn[], cast: Readonly<Record<string, CastEntry>> | undefined, defaultsFor: (backend: string | undefined) => SpeakerDefaults): Map<string, CastEntry> {
  const given = new Map(Object.entries(cast ?? {}).map(([speaker, entry]) => [speakerKey(speaker), entry]));
  const resolved = new Map<string, CastEntry>();
  const speakersOf = new Map<string | undefined, number>();
  for (const turn of turns) {
    const key = speakerKey(turn.speaker);
    if (resolved.has(key)) continue;
    const entry: CastEntry = { ...(given.get(key) ?? {}) };
    const order = speakersOf.get(entry.backend) ?? 0;
    speakersOf.set(entry.backend, order + 1);
    const defaults = entry.voice === undefined ? defaultsFor(entry.backend) : 'none';
    if (typeof defaults !== 'string' && defaults.length > 0) entry.voice = defaults[order % defaults.length];
    else if (defaults !== 'none') {
      const step = DEFAULT_PROSODY_STEPS[order % DEFAULT_PROSODY_STEPS.length] as { pitchSemitones: number; rate: number };
      entry.pitchSemitones ??= step.pitchSemitones;
      entry.rate ??= step.rate;
    }
    resolved.set(key, entry);
  }
  return resolved;
}

/** A cast position as the seam's SpatialPosition. */
export function positionOf(entry: CastEntry): SpatialPosition | undefined {
  return entry.position ? { x: entry.position.x, y: entry.position.y, z: entry.position.z } : undefined;
}
