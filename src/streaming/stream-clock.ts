/**
 * The stream clock of word timings and visemes. Backends give times from the first sample of the
 * chunk that carries them (`startMs`/`endMs`); the engine adds `streamStartMs`/`streamEndMs`, from
 * the first sample of the stream, when it emits the chunk (chunk `startMs` + chunk-relative time).
 * Both clocks count audio samples, not wall time: stream time T is where T ms of the stream's
 * audio have been produced (or, in `play()`, reached the device).
 */
import type { EngineOutputMetadata, VisemeEvent } from '../graph/engine-output.js';

/** `metadata` with stream-clock times on every word timing and viseme of a chunk starting at `chunkStartMs`. */
export function withStreamClock(metadata: EngineOutputMetadata, chunkStartMs: number): EngineOutputMetadata {
  if (!metadata.wordTimings && !metadata.visemes) return metadata;
  const onStream = <T extends { startMs: number; endMs: number }>(timing: T): T => ({ ...timing, streamStartMs: chunkStartMs + timing.startMs, streamEndMs: chunkStartMs + timing.endMs });
  return {
    ...metadata,
    ...(metadata.wordTimings ? { wordTimings: metadata.wordTimings.map(onStream) } : {}),
    ...(metadata.visemes ? { visemes: metadata.visemes.map(onStream) } : {}),
  };
}

/** Visemes of several outputs joined into one chunk: each part's times shifted by where it starts (as `joinWordTimings`). */
export function joinVisemes(parts: ReadonlyArray<{ visemes?: readonly VisemeEvent[] | undefined; offsetMs: number }>): VisemeEvent[] | undefined {
  const joined = parts.flatMap((part) => (part.visemes ?? []).map((viseme) => ({ ...viseme, startMs: viseme.startMs + part.offsetMs, endMs: viseme.endMs + part.offsetMs })));
  return joined.length > 0 ? joined : undefined;
}
