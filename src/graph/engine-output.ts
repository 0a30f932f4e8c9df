/**
 * The contract between the compiler and the backends (frozen, versioned). The compiler cuts a
 * SpeechGraph into `SynthesisSegment`s; a backend turns each into `EngineOutput` chunks: pure PCM
 * and metadata. Backends never see registrar state.
 */

/** Version of the segment/output contract (1.1.0: optional `SynthesisSegment.parts`, additive). */
export const ENGINE_OUTPUT_VERSION = '1.1.0';

/** Prosody of a segment, as multipliers and offsets from the voice's neutral delivery. */
export interface Prosody {
  /** Speaking-rate multiplier: 1 = normal, 0.5 = half speed, 2 = double. */
  rate: number;
  /** Pitch offset in semitones: 0 = neutral. */
  pitchSemitones: number;
  /** Loudness offset in dB: 0 = neutral. */
  volumeDb: number;
}

/** One piece of text for one voice with one prosody: the unit a backend synthesizes. */
export interface SynthesisSegment {
  /** Normalised text to speak (numbers, dates, abbreviations already expanded). */
  text: string;
  /** Voice id within the backend, or undefined for the backend's default. */
  voice?: string;
  /** BCP-47 language, e.g. `en-US`. */
  language?: string;
  /** True when `language` is the compiler's default, not asked for: a backend may prefer its voice's own language. */
  languageIsDefault?: boolean;
  prosody: Prosody;
  /** Id of the graph node this segment came from (for timings and marks). */
  nodeId?: string;
  /**
   * The same content as a complete SSML document (only from `ssml` graph nodes). Backends that
   * accept SSML natively may send it instead of `text` + `prosody`; all others ignore it.
   */
  ssml?: string;
  /**
   * The sentence's pieces in order when it changes delivery inside (emphasis, a prosody span):
   * `text` is their concatenation and `prosody` the delivery of most of it. Only backends with
   * `inlineProsody` get segments with parts (one call per sentence, no hole at each change);
   * any other backend may ignore them and speak `text` with `prosody`.
   */
  parts?: readonly SegmentPart[];
}

/** One piece of a sentence with its own delivery (see `SynthesisSegment.parts`). */
export interface SegmentPart {
  text: string;
  prosody: Prosody;
  /** SSML emphasis level of the piece (`strong`, `moderate`, `none`, `reduced`), when emphasised. */
  emphasis?: string;
}

/** Where a word timing comes from: measured by the backend, or estimated from the audio and text. */
export type WordTimingSource = 'reported' | 'estimated';

/**
 * A word's position in the audio. Two clocks, both in ms: `startMs`/`endMs` from the first sample
 * of the chunk that carries it (what backends produce); `streamStartMs`/`streamEndMs` from the first
 * sample of the stream (`VoiceEngine.stream()`/`speak()` fill them: chunk's `startMs` + chunk-relative
 * time, so they can be compared with the stream's position and across chunks).
 */
export interface WordTiming {
  word: string;
  startMs: number;
  endMs: number;
  /**
   * `reported`: the backend measured it (the engine's own word events, alignment, model durations);
   * `estimated`: derived afterwards from the text and the audio.
   */
  source: WordTimingSource;
  /** Start in ms from the start of the stream (set by the engine, absent from a backend's output). */
  streamStartMs?: number;
  /** End in ms from the start of the stream (set by the engine). */
  streamEndMs?: number;
}

/**
 * A viseme for lip sync: one of the 15 Oculus Lipsync visemes (`sil PP FF TH DD kk CH SS nn RR aa E
 * ih oh ou`, see src/backends/visemes.ts), on the same two clocks as `WordTiming`.
 */
export interface VisemeEvent {
  viseme: string;
  startMs: number;
  endMs: number;
  /** `reported` when derived from measured phoneme times, `estimated` when spread over a word's span. */
  source: WordTimingSource;
  /** Start in ms from the start of the stream (set by the engine). */
  streamStartMs?: number;
  /** End in ms from the start of the stream (set by the engine). */
  streamEndMs?: number;
}

/** Metadata a backend may attach to a chunk. */
export interface EngineOutputMetadata {
  /** IPA or backend-specific phoneme string of the chunk. */
  phonemes?: string;
  /** Words in order, chunk-relative (and stream-relative once the engine emitted the chunk). */
  wordTimings?: WordTiming[];
  /** Visemes in order, on the same clocks as `wordTimings`. */
  visemes?: VisemeEvent[];
}

/** One chunk of synthesized audio: float32 PCM in [-1, 1], interleaved when channels > 1. */
export interface EngineOutput {
  pcm: Float32Array;
  sampleRateHz: number;
  channels: number;
  metadata: EngineOutputMetadata;
}

/** Options a caller passes to a backend for one synthesis call. */
export interface SynthesisOptions {
  /** Voice id within the backend (overrides the segment's). */
  voice?: string;
  /** Preferred output rate; backends produce their native rate and report it. */
  sampleRateHz?: number;
}

/** Neutral prosody. */
export const NEUTRAL_PROSODY: Readonly<Prosody> = Object.freeze({ rate: 1, pitchSemitones: 0, volumeDb: 0 });
