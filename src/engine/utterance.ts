/**
 * One utterance as the engine runs it: its state (the stream's lifecycle, how it ended, which
 * backend served it), the hooks that drive a run, and what a finished utterance turns into
 * (a SpeechResult without its audio, or the error of a stream someone else failed). Pure
 * bookkeeping: nothing here requests anything of the registrar or touches a device.
 */
import { AudioError } from '../errors.js';
import type { FallbackFailure } from '../backends/fallback.js';
import type { SpeechGraph } from '../graph/speech-graph.js';
import type { Permit } from '../registrar/types.js';
import type { RenderedMix } from '../scene/playable.js';
import type { GainTarget } from '../streaming/scheduler.js';
import type { SinkClosure } from '../streaming/stream-sink.js';
import type { TextTransform } from './input-validation.js';
import type { AudioChunk, SpeechResult } from './speech-types.js';
import type { StreamLifecycle } from './stream-lifecycle.js';

/** What the engine speaks: text, a live text source, or a rendered mix (play() only). */
export type SpeechInput = string | AsyncIterable<string> | RenderedMix;

/** Rate used for silence when a text produces no speech at all to take the rate from. */
export const FALLBACK_RATE_HZ = 24_000;

/** State of one utterance while it runs; `speak()` reads it afterwards. */
export interface Utterance {
  lifecycle: StreamLifecycle;
  /** The graph compiled while validating (recompiled only when an override changes the rate); null for a live text source. */
  graph: SpeechGraph | null;
  /** The plugins' transformText for this utterance: each distinct text passes it once (see `transformOnce`). */
  transform: TextTransform;
  backend: string;
  failures: FallbackFailure[];
  interrupted: boolean;
  /** The registrar halted while this utterance ran: it ends with RegistrarHaltedError. */
  halted: boolean;
  /** The decision of someone else (or of close()) that ended this stream early, if any. */
  endedBy: SinkClosure | null;
  /** The runtime is ending the stream itself (natural end): its own stop is not an interruption. */
  finishing: boolean;
}

/** A running utterance as the engine tracks it: how to abort it and when it has ended. */
export interface ActiveUtterance {
  controller: AbortController;
  utterance: Utterance;
  done: Promise<void>;
}

/** How a run is driven: loudness per sentence, and the device hooks of play(). */
export interface RunHooks {
  perSentenceLoudness: boolean;
  /** Called with the permit of the allowed play, before the first chunk is yielded. */
  onPlay?: (permit: Permit) => void;
  /** Awaited after the last chunk, before the natural-end stop (play() drains the device here). */
  beforeEnd?: () => Promise<unknown>;
  /** Awaited before the runtime fails the stream for an error of the run (play() lets a covered stream's device play what it holds). */
  beforeFail?: () => Promise<void>;
}

/** An error's message (or the value as text). */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Duration in ms of `samples` interleaved samples of `channels` channels at `sampleRateHz`. */
export function durationMs(samples: number, channels: number, sampleRateHz: number): number {
  return (samples / channels / sampleRateHz) * 1000;
}

/** The sink as a gain target when it has per-stream gain (a mixer voice), else null. */
export function gainTargetOf(sink: object): GainTarget | null {
  const candidate = sink as Partial<GainTarget>;
  return typeof candidate.setGain === 'function' ? (candidate as GainTarget) : null;
}

/** Calls a caller's listener; its failure must not change how the stream ended (it is ignored). */
export function callQuietly<T>(listener: ((value: T) => void) | undefined, value: T): void {
  try {
    listener?.(value);
  } catch {
    // The listener's own error is the caller's business; the stream's outcome stands.
  }
}

/** The error a stream ends with when someone else's allowed `fail` ended it. */
export function streamFailed(utterance: Utterance): AudioError {
  const by = utterance.endedBy;
  const error = new AudioError('STREAM_FAILED', `stream ${utterance.lifecycle.streamId} was failed by ${by?.actor ?? 'the registrar'}${by?.reason ? ` (${by.reason})` : ''}; attestation ${by?.attestationId ?? 'unknown'}`);
  return Object.assign(error, { attestationId: by?.attestationId ?? null });
}

/** The marks reached before each of `chunks`, at the chunk's start. */
export function marksOf(chunks: readonly AudioChunk[]): SpeechResult['marks'] {
  return chunks.flatMap((chunk) => chunk.marks.map((name) => ({ name, timeMs: chunk.startMs })));
}

/** The SpeechResult (but its audio) of an utterance of `samples` mono samples that reached `marks`. */
export function resultOf(utterance: Utterance, marks: SpeechResult['marks'], samples: number, sampleRateHz: number, startedMs: number): Omit<SpeechResult, 'audio'> {
  const total = durationMs(samples, 1, sampleRateHz);
  return {
    sampleRateHz,
    channels: 1,
    durationMs: total,
    streamId: utterance.lifecycle.streamId,
    attestations: [...utterance.lifecycle.attestations],
    realtimeFactor: total > 0 ? (performance.now() - startedMs) / total : 0,
    backend: utterance.backend,
    ...(utterance.failures.length > 0 ? { degraded: { servedBy: utterance.backend, failures: utterance.failures } } : {}),
    ...(utterance.interrupted ? { interrupted: true } : {}),
    ...(utterance.endedBy ? { endedBy: utterance.endedBy } : {}),
    marks,
  };
}
