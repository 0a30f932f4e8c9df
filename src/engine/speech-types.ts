/**
 * What the engine returns: sentence-level audio chunks (stream), whole results (speak), health.
 */
import type { Attestation } from '../attestation/record.js';
import type { FallbackFailure } from '../backends/fallback.js';
import type { EngineOutputMetadata } from '../graph/engine-output.js';
import type { Heard } from '../streaming/heard.js';
import type { PluginInfo } from '../plugins/plugin.js';

/** One chunk of audio from `VoiceEngine.stream()`. */
export interface AudioChunk {
  /** The registrar stream this chunk belongs to (what `interrupt()` takes). */
  streamId: string;
  /** 0-based position in the stream. */
  index: number;
  /** What produced it: a sentence (`speech`), a pause (`silence`) or a clip (`audio`). */
  kind: 'speech' | 'silence' | 'audio';
  /** Interleaved float32 PCM in [-1, 1]. */
  pcm: Float32Array;
  sampleRateHz: number;
  channels: number;
  /** Where the chunk starts in the stream's audio, and how long it is. */
  startMs: number;
  durationMs: number;
  /** The sentence text (speech chunks). */
  text?: string;
  /** Graph node the chunk came from. */
  nodeId: string;
  /** SSML marks reached just before this chunk. */
  marks: string[];
  /**
   * Phonemes, word timings and visemes. Each timing has two clocks, in ms of audio: `startMs`/`endMs`
   * from this chunk's first sample, `streamStartMs`/`streamEndMs` from the stream's first sample
   * (= this chunk's `startMs` + the chunk-relative time). `source` says whether the backend measured
   * them (`reported`) or they were estimated (`estimated`).
   */
  metadata: EngineOutputMetadata;
  /** Backend that produced it (speech chunks). */
  backend?: string;
}

/** How the engine degraded: a later backend served because earlier ones failed. */
export interface Degradation {
  /** The backend that served. */
  servedBy: string;
  failures: FallbackFailure[];
}

/** The result of `VoiceEngine.speak()`. */
export interface SpeechResult {
  /** The whole utterance, interleaved float32 PCM. */
  audio: Float32Array;
  sampleRateHz: number;
  channels: number;
  durationMs: number;
  /** The registrar stream of this utterance. */
  streamId: string;
  /** Every attestation of this utterance's lifecycle, in order. */
  attestations: readonly Attestation[];
  /** Synthesis time divided by audio duration (below 1 = faster than real time). */
  realtimeFactor: number;
  /** Backend that produced the audio. */
  backend: string;
  /** Set when a fallback backend served. */
  degraded?: Degradation;
  /** True when an allowed interrupt ended the utterance early. */
  interrupted?: boolean;
  /** The decision that ended the stream early (an interrupt or stop by anyone, close()), with its attestation. */
  endedBy?: { readonly action: string; readonly actor: string | null; readonly attestationId: string | null; readonly seq: number | null; readonly reason: string | null };
  /** Marks reached, with their position. */
  marks: Array<{ name: string; timeMs: number }>;
  /** play() only: what reached the device (words heard, where it was cut). */
  heard?: Heard;
  /** Loudness after normalisation, when `targetLufs` was asked. */
  loudness?: SpeechLoudness;
}

/** What loudness normalisation did to a whole result (`SpeechResult.loudness`). */
export interface SpeechLoudness {
  /** Integrated loudness of the output in LUFS. */
  integratedLufs: number;
  /** True peak of the output in dBTP. */
  truePeakDb: number;
  /** Gain applied before the limiter in dB. */
  gainDb: number;
  /** True when the true-peak limiter reduced the gain anywhere (to keep `truePeakLimitDb`). */
  limited: boolean;
  /** The limiter's largest gain reduction in dB (0 when not limited). */
  peakReductionDb: number;
}

/**
 * The result of `VoiceEngine.play()`: a SpeechResult whose `audio` is there only when the call
 * asked `retainAudio: true` (by default play() keeps no audio, so its memory stays bounded).
 */
export type PlayResult = Omit<SpeechResult, 'audio'> & {
  audio?: Float32Array;
  /** Periods in which this stream ran dry on the device while playing (silence instead of speech): 0 for a clean play. */
  underruns: number;
};

/** The result of `VoiceEngine.health()`. */
export interface EngineHealth {
  backend: string;
  modelLoaded: boolean;
  /** Resident memory of the process in MB. */
  memoryMb: number;
  /** Utterances being synthesized right now plus play() calls waiting for the device. */
  queueDepth: number;
  status: 'ok' | 'degraded' | 'unavailable';
  detail?: string;
  /** The audio device play() uses: backend and device opened, and why it fell back to null (or null); null before it opens. */
  audio: { backend: string; device: string; fallback: string | null } | null;
  /** Loaded plugins, each labelled `isolate` or `trusted`, with its faults and whether it was disabled. */
  plugins?: PluginInfo[];
}
