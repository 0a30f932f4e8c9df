/**
 * Options of VoiceEngine and of its speak/stream/play calls, validated with zod at the edge.
 */
import { z } from 'zod';
import type { SpeechBackend } from '../backends/backend.js';
import { EMOTION_NAMES, INPUT_FORMATS, PRESET_NAMES, PROSODY_LIMITS } from '../compiler/index.js';
import { AudioOutput } from '../audio/output.js';
import { ActorHandle } from '../registrar/actor-handle.js';
import { AuditLogger } from '../security/audit-log.js';
import type { ContentFilter } from '../security/content-filter.js';
import type { Heard } from '../streaming/heard.js';
import { textStreamOptionsSchema } from '../streaming/text-source.js';
import { AudioRegistrar } from '../registrar/registrar.js';
import { dropPolicySchema, SCHEDULE_DEFAULTS, schedulePolicySchema } from '../streaming/schedule-policy.js';
import { pluginEntrySchema } from '../plugins/manifest.js';
import { watermarkOptionsSchema } from '../security/watermark.js';

const backendObjectSchema = z.custom<SpeechBackend>(
  (value) =>
    typeof value === 'object' && value !== null && typeof (value as SpeechBackend).synthesize === 'function' && typeof (value as SpeechBackend).name === 'string',
  { message: 'expected a backend name or a SpeechBackend object' },
);

/** A backend given by built-in name (`espeak`, `kokoro`, ...) or as an object. */
export const backendRefSchema = z.union([z.string().min(1).max(100), backendObjectSchema]);

/** Schema of `new VoiceEngine(options)`. */
export const voiceEngineOptionsSchema = z.strictObject({
  /** The backend to speak with (default `espeak`, the embedded voice). */
  backend: backendRefSchema.default('espeak'),
  /** Options for a backend given by name, e.g. `{ modelPath, voicesPath }` for kokoro. */
  backendOptions: z.record(z.string(), z.unknown()).optional(),
  /** Backends to fall back on, in order, when the main one fails (reported as `degraded`). */
  fallback: z.array(backendRefSchema).max(8).optional(),
  /** The registrar that decides every stream's lifecycle (default: a new in-memory one). */
  registrar: z.instanceof(AudioRegistrar).optional(),
  /**
   * The actor the engine's streams belong to: its ActorHandle (from the same registrar's
   * `registerActor`), or a `"kind:id"` name the engine registers (default `system:voice-engine`).
   */
  actor: z
    .union([z.custom<ActorHandle>((value) => ActorHandle.isHandle(value), 'expected an ActorHandle'), z.string().regex(/^(user|agent|plugin|system):\S{1,128}$/, 'expected "kind:id" or an ActorHandle')])
    .default('system:voice-engine'),
  /** Output sample rate; default: the backend's own rate (no resampling). */
  sampleRateHz: z.number().int().min(8000).max(192_000).optional(),
  /** Device for `play()` (default: one opened on first use with the platform's audio system). */
  output: z.instanceof(AudioOutput).optional(),
  /**
   * Backend of the device the engine opens itself (ignored with `output`): `'null'` runs headless.
   * Default: `VOICE_SOUNDBOARD_AUDIO_BACKEND`, else `'default'` (falling back to null with one warning).
   */
  audioBackend: z.enum(['default', 'null']).optional(),
  /** Playback device (id or name from `listOutputDevices()`) the engine opens itself (ignored with `output`). */
  audioDevice: z.string().min(1).max(1024).optional(),
  /**
   * Pins the session of every stream of this engine (host's choice): a call that names another
   * session is an InputError, so an agent's engine cannot step outside a user's session override.
   */
  sessionId: z.string().min(1).max(200).optional(),
  /** Pins the user of every stream of this engine, likewise. */
  userId: z.string().min(1).max(200).optional(),
  /**
   * How this engine's plays meet the plays already on the device (docs/ENGINE.md, "Scheduling");
   * default: `queue` at equal or lower priority, `duck` when the play outranks every playing one.
   */
  policy: schedulePolicySchema.optional(),
  /** Gain of the streams a `duck` play ducks, in dB (default -12; -40 to 0: a duck never silences). */
  duckDb: z.number().min(-40).max(0).default(SCHEDULE_DEFAULTS.duckDb),
  /** Ramp down when ducking, in ms (default 30). */
  duckAttackMs: z.number().min(0).max(10_000).default(SCHEDULE_DEFAULTS.duckAttackMs),
  /** Ramp back up after the ducking play ends, in ms (default 250). */
  duckReleaseMs: z.number().min(0).max(10_000).default(SCHEDULE_DEFAULTS.duckReleaseMs),
  /** Plays of this engine waiting for the device at most (default 64); what a full queue does is `dropPolicy`. */
  maxQueue: z.number().int().min(1).max(10_000).default(SCHEDULE_DEFAULTS.maxQueue),
  /** Plays of this engine admitted on the device at once, whatever their policy (default 8, leaving voices to other engines). */
  maxConcurrent: z.number().int().min(1).max(64).default(SCHEDULE_DEFAULTS.maxConcurrent),
  /**
   * A play that has no audio to play for this long (from its admission to its first audio, or
   * between two chunks) is failed by the runtime (attested) and releases its turn (default 10 000 ms).
   * `speakToFile()` gives its encoder as long to make progress before failing the stream likewise,
   * and, without `play`, its backend as long to give the next chunk (backend-stall.ts).
   */
  admissionTimeoutMs: z.number().int().min(1).max(600_000).default(SCHEDULE_DEFAULTS.admissionTimeoutMs),
  /** A full queue: `graceful` refuses the new play, `drop-oldest` drops the oldest waiting one, `block` makes the caller wait (default `graceful`). */
  dropPolicy: dropPolicySchema.default(SCHEDULE_DEFAULTS.dropPolicy),
  /** Real-time mode: play() keeps at most one device period + 20 ms (and `maxLatencyMs`) queued ahead of the device. */
  realtime: z.boolean().default(false),
  /** Real-time mode: the most audio queued ahead of the device, in ms (default 50; at least one device period). */
  maxLatencyMs: z.number().min(1).max(10_000).default(SCHEDULE_DEFAULTS.maxLatencyMs),
  /** Plugins to load before the first call: paths or package specifiers, or `{ source, grant, trusted, limits, policy }` (docs/PLUGINS.md). */
  plugins: z.array(pluginEntrySchema).max(64).optional(),
  /** Judges every text before synthesis: allow, deny (the stream fails, attested) or replace (docs/SECURITY.md). */
  contentFilter: z.custom<ContentFilter>((value) => typeof value === 'function', { message: 'expected a function (text, context) => allow() | deny(reason) | replace(text)' }).optional(),
  /** Marks every stream's audio with a keyed inaudible watermark carrying `payload` (docs/WATERMARK.md). */
  watermark: watermarkOptionsSchema.optional(),
  /** Security audit log (docs/SECURITY.md): plugin violations and content-filter denials and replacements. */
  audit: z.instanceof(AuditLogger).optional(),
});

/** What callers may pass to `new VoiceEngine(...)`. */
export type VoiceEngineOptions = z.input<typeof voiceEngineOptionsSchema>;

/** The engine's options as validated (defaults filled in). */
export type ParsedEngineOptions = ReturnType<typeof voiceEngineOptionsSchema.parse>;

/** Start-metadata fields the registrar reads itself: `streamMetadata` cannot set them. */
const RESERVED_STREAM_METADATA: ReadonlySet<string> = new Set(['sessionId', 'userId', 'priority', 'newOwner', 'preemptFor', 'scope', 'scopeId', 'speechRate', 'pauseAmplification', 'forcedCaptions', 'graphHash', 'allowPlugins']);

/** Schema of the options of `speak`, `stream` and `play`. */
export const speakOptionsSchema = z.strictObject({
  /** Voice id within the backend. */
  voice: z.string().min(1).max(200).optional(),
  /** Use another backend for this call (by name; created once and kept). */
  backend: z.string().min(1).max(100).optional(),
  /** How to read the text (default `auto`: SSML when it starts with `<speak`, else light markup). */
  format: z.enum(INPUT_FORMATS).default('auto'),
  language: z.string().min(2).max(35).optional(),
  emotion: z.enum(EMOTION_NAMES as [string, ...string[]]).optional(),
  preset: z.enum(PRESET_NAMES as [string, ...string[]]).optional(),
  /** Speaking-rate multiplier (1 = normal). */
  rate: z.number().finite().min(PROSODY_LIMITS.rate.min).max(PROSODY_LIMITS.rate.max).optional(),
  /**
   * Read unknown or malformed markup as text instead of failing. Default: lenient for plain text
   * and light markup (free text full of `{…}` and `[…]` still speaks), strict for SSML.
   */
  lenient: z.boolean().optional(),
  /** Allow SSML `<audio>` with local files under `audioRoot`. */
  allowAudio: z.boolean().default(false),
  audioRoot: z.string().min(1).optional(),
  /** Output sample rate for this call (default: the engine's, else the backend's). */
  sampleRateHz: z.number().int().min(8000).max(192_000).optional(),
  /** Loudness target in LUFS (speak: integrated over the whole text; stream/play: per sentence). */
  targetLufs: z.number().min(-70).max(0).optional(),
  /** True-peak ceiling in dBTP with `targetLufs` (default -1): the true-peak limiter keeps the output under it while the target is met. */
  truePeakLimitDb: z.number().min(-20).max(0).default(-1),
  /** Registrar metadata of the stream. */
  sessionId: z.string().min(1).max(200).optional(),
  userId: z.string().min(1).max(200).optional(),
  /** Registrar and scheduling priority: `system` (10) > `assistant` (5, default) > `background` (1), or 1–10. */
  priority: z.union([z.enum(['system', 'assistant', 'background']), z.number().int().min(1).max(10)]).optional(),
  /** play(): how this play meets the plays already on the device (overrides the engine's `policy`). */
  policy: schedulePolicySchema.optional(),
  /** Cancels the call; the stream is stopped (not failed) in the registrar. */
  signal: z.custom<AbortSignal>(isAbortSignal, 'expected an AbortSignal').optional(),
  /** Longest text accepted, in characters (default 100,000; the compiler's `maxInputChars`): longer is INPUT_TOO_LARGE. */
  maxInputChars: z.number().int().min(1).max(10_000_000).optional(),
  /** Called after each sentence with progress (for long texts). */
  onProgress: z.custom<(progress: SpeechProgress) => void>((value) => typeof value === 'function', { message: 'expected a function' }).optional(),
  /** How a live text source (an AsyncIterable of deltas) is cut into pieces to speak (stream/play). */
  textStream: textStreamOptionsSchema.optional(),
  /**
   * play() only: called once when the stream is cut before its end (an interrupt, stop or fail by
   * anyone, or the caller's abort), with what the listener heard, before play() settles.
   */
  onInterrupted: z.custom<(heard: Heard) => void>((value) => typeof value === 'function', { message: 'expected a function' }).optional(),
  /** Extra fields of the stream's `start` metadata in the registrar (e.g. a conversation's id); not the fields the registrar reads. */
  streamMetadata: z
    .record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'expected a name of letters, digits and _'), z.union([z.string().max(200), z.number().finite(), z.boolean()]))
    .refine((fields) => Object.keys(fields).length <= 16 && !Object.keys(fields).some((key) => RESERVED_STREAM_METADATA.has(key)), { message: `at most 16 fields, none of ${[...RESERVED_STREAM_METADATA].join(', ')}` })
    .optional(),
  /** Called with the stream id as soon as the registrar allowed the stream's start. */
  onStreamStart: z.custom<(streamId: string) => void>((value) => typeof value === 'function', { message: 'expected a function' }).optional(),
  /** This call's watermark (overrides the engine's `watermark`), e.g. a payload per stream. */
  watermark: watermarkOptionsSchema.optional(),
});

/** What callers may pass to `speak`, `stream` and `play`. */
export type SpeakOptions = z.input<typeof speakOptionsSchema>;

/** A call's speak options as validated (defaults filled in). */
export type ParsedSpeakOptions = ReturnType<typeof speakOptionsSchema.parse>;

/** Schema of the options of `play`: the speak options and what the result keeps. */
export const playOptionsSchema = speakOptionsSchema.extend({
  /**
   * Keep every chunk played and return them joined in `result.audio` (default false: play() runs
   * in bounded memory whatever the length, and its result carries no audio).
   */
  retainAudio: z.boolean().default(false),
});

/** What callers may pass to `play`. */
export type PlayOptions = z.input<typeof playOptionsSchema>;

/** Progress of a long synthesis. */
export interface SpeechProgress {
  /** Speech steps done and in all (for a live text source: in all so far). */
  done: number;
  total: number;
  /** Audio produced so far, in ms. */
  audioMs: number;
}

/** Whether `value` is a real AbortSignal (an object only dressed as one fails `AbortSignal.any`). */
function isAbortSignal(value: unknown): boolean {
  if (!(value instanceof AbortSignal)) return false;
  try {
    AbortSignal.any([value]);
    return true;
  } catch {
    return false;
  }
}
