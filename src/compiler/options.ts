/**
 * Options of `compile`, validated with zod at the edge (`parseInput` -> `InputError` naming the field).
 */
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { EMOTION_NAMES, PRESET_NAMES, PROSODY_LIMITS } from './emotion.js';
import { DEFAULT_MAX_SENTENCE_CHARS } from './sentences.js';

/** Default `maxInputChars`: 100,000 characters (a long chapter). */
export const DEFAULT_MAX_INPUT_CHARS = 100_000;
/** Default `maxDepth` of SSML element nesting. */
export const DEFAULT_MAX_DEPTH = 32;

/** Input formats: `auto` reads SSML when the text starts with `<speak` or `<?xml`, else light markup. */
export const INPUT_FORMATS = ['text', 'ssml', 'markup', 'auto'] as const;

/** Schema of the options of `compile`. */
export const compileOptionsSchema = z.strictObject({
  format: z.enum(INPUT_FORMATS).default('auto'),
  /** BCP-47 language of the text (SSML xml:lang overrides). */
  language: z.string().regex(/^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$/, 'expected a BCP-47 language tag such as en-US').default('en-US'),
  /** Default voice id for the backend (SSML `<voice name>` overrides). */
  voice: z.string().min(1).max(200).optional(),
  /** Emotion of the whole text (markup spans override). */
  emotion: z.enum(EMOTION_NAMES as [string, ...string[]]).optional(),
  /** Delivery preset: prosody and pauses. */
  preset: z.enum(PRESET_NAMES as [string, ...string[]]).optional(),
  /** Speaking-rate multiplier applied to everything (1 = normal). */
  rate: z.number().finite().min(PROSODY_LIMITS.rate.min).max(PROSODY_LIMITS.rate.max).optional(),
  /**
   * The speaking rate of every node, whatever the text or the other options ask (`rate`, a preset's
   * or an emotion's rate, SSML `<prosody rate>`, markup): an accessibility override's `speechRate`,
   * which no caller may undo. Pitch, volume and pauses are shaped as usual.
   */
  fixedRate: z.number().finite().min(PROSODY_LIMITS.rate.min).max(PROSODY_LIMITS.rate.max).optional(),
  /** Read unknown or malformed markup as text instead of throwing. */
  lenient: z.boolean().default(false),
  /** Allow SSML `<audio>` with local files. */
  allowAudio: z.boolean().default(false),
  /** Absolute directory audio sources must stay inside (relative sources resolve against it). */
  audioRoot: z.string().min(1).refine(isAbsolute, 'expected an absolute directory path').optional(),
  maxInputChars: z.number().int().min(1).max(10_000_000).default(DEFAULT_MAX_INPUT_CHARS),
  maxDepth: z.number().int().min(1).max(1000).default(DEFAULT_MAX_DEPTH),
  /** Sentences longer than this are cut at a comma or space (keeps streaming latency bounded). */
  maxSentenceChars: z.number().int().min(20).max(100_000).default(DEFAULT_MAX_SENTENCE_CHARS),
  /** Produce `ssml` nodes (with canonical SSML) instead of `text` nodes, for SSML-native backends. */
  emitSsml: z.boolean().default(false),
});

/** Options as a caller writes them (everything optional). */
export type CompileOptions = z.input<typeof compileOptionsSchema>;

/** Options after validation, defaults filled in. */
export type ResolvedCompileOptions = z.output<typeof compileOptionsSchema>;
