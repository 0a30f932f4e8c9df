/**
 * Pauses as asked: the silence a backend puts around each piece of speech is trimmed, so a
 * requested pause is the only pause. espeak-ng, for one, ends every piece with ~300 ms of silence
 * and starts it with ~12 ms; left in place, a 100 ms `<break>` became 413 ms.
 *
 * The rule (docs/ENGINE.md, "Pauses"): a sample is *sound* when its magnitude exceeds
 * `EDGE_THRESHOLD_DB` (−40 dB) relative to the peak of the backend chunk it is in, and at least
 * `EDGE_FLOOR` (−60 dBFS, so a quiet chunk's noise floor is not taken for speech). A segment keeps
 * exactly `EDGE_MARGIN_MS` (5 ms) before its first sound and after its last: the backend's own
 * sub-threshold onset and decay where it has them (a consonant's start is never clipped), zeros
 * where it has less. Everything beyond that margin is the backend's silence and is dropped. Quiet
 * stretches *inside* a segment (between its chunks, or inside one) are the backend's phrasing and stay.
 * The engine then sizes each requested pause so that margin + silence + margin = the request.
 *
 * Streaming-friendly: a chunk's sound goes out at once; only its quiet tail is held back until the
 * next chunk of the segment shows it was inner phrasing (then it goes out first) or the segment
 * ends (then all but the margin is dropped).
 */
import type { EngineOutputMetadata, WordTiming } from '../graph/engine-output.js';

/** Threshold of sound, relative to the peak of the chunk: −40 dB. */
export const EDGE_THRESHOLD_DB = -40;
/** Absolute floor of the threshold: −60 dBFS. */
export const EDGE_FLOOR = 0.001;
/** Sub-threshold audio kept before the first and after the last sound of a segment, in ms. */
export const EDGE_MARGIN_MS = 5;

const RELATIVE_THRESHOLD = 10 ** (EDGE_THRESHOLD_DB / 20);

/** Frames of the edge margin at `sampleRateHz`. */
export function edgeMarginFrames(sampleRateHz: number): number {
  return Math.round((EDGE_MARGIN_MS * sampleRateHz) / 1000);
}

/** First and last sample of sound in `pcm` (mono) by the rule above, or null when it is all silence. */
export function soundSpan(pcm: Float32Array): { first: number; last: number } | null {
  let peak = 0;
  for (const sample of pcm) peak = Math.max(peak, Math.abs(sample));
  const threshold = Math.max(EDGE_FLOOR, peak * RELATIVE_THRESHOLD);
  let first = 0;
  while (first < pcm.length && Math.abs(pcm[first] as number) <= threshold) first += 1;
  if (first === pcm.length) return null;
  let last = pcm.length - 1;
  while (last > first && Math.abs(pcm[last] as number) <= threshold) last -= 1;
  return { first, last };
}

/** What `EdgeTrimmer.push` lets out: audio to emit now, and how far the chunk's own times moved. */
export interface TrimmedChunk {
  pcm: Float32Array;
  /** Add to the chunk's own times (word timings) to place them in `pcm`. */
  shiftMs: number;
}

/** Trims one segment's leading and trailing silence as its chunks arrive (mono, one rate). */
export class EdgeTrimmer {
  readonly #sampleRateHz: number;
  readonly #marginFrames: number;
  /** No sound yet in this segment. */
  #leading = true;
  /** The quiet tail after the last sound so far, held back. */
  #held: Float32Array[] = [];
  #heldFrames = 0;

  /** A trimmer for one segment at `sampleRateHz`. */
  constructor(sampleRateHz: number) {
    this.#sampleRateHz = sampleRateHz;
    this.#marginFrames = edgeMarginFrames(sampleRateHz);
  }

  /** Frames of margin the segment starts and ends with once it had sound. */
  get marginFrames(): number {
    return this.#marginFrames;
  }

  /** Whether the segment has had sound yet. */
  get hasSound(): boolean {
    return !this.#leading;
  }

  /** Takes the next chunk of the segment; returns what can be emitted now. */
  push(pcm: Float32Array): TrimmedChunk {
    const span = soundSpan(pcm);
    if (!span) {
      if (!this.#leading) this.#hold(pcm);
      return { pcm: new Float32Array(0), shiftMs: 0 };
    }
    let out: Float32Array;
    let shiftFrames: number;
    if (this.#leading) {
      this.#leading = false;
      const kept = Math.min(span.first, this.#marginFrames);
      const pad = this.#marginFrames - kept;
      out = new Float32Array(pad + span.last + 1 - (span.first - kept));
      out.set(pcm.subarray(span.first - kept, span.last + 1), pad);
      shiftFrames = pad - (span.first - kept);
    } else {
      out = new Float32Array(this.#heldFrames + span.last + 1);
      let offset = 0;
      for (const part of this.#held) {
        out.set(part, offset);
        offset += part.length;
      }
      out.set(pcm.subarray(0, span.last + 1), offset);
      shiftFrames = this.#heldFrames;
      this.#held = [];
      this.#heldFrames = 0;
    }
    this.#hold(pcm.subarray(span.last + 1));
    return { pcm: out, shiftMs: (shiftFrames / this.#sampleRateHz) * 1000 };
  }

  /** Ends the segment: its closing margin (empty when it never had sound); the rest of the tail is dropped. */
  end(): Float32Array {
    if (this.#leading) return new Float32Array(0);
    const out = new Float32Array(this.#marginFrames);
    let offset = 0;
    for (const part of this.#held) {
      if (offset >= out.length) break;
      const take = part.subarray(0, out.length - offset);
      out.set(take, offset);
      offset += take.length;
    }
    this.#held = [];
    this.#heldFrames = 0;
    return out;
  }

  #hold(pcm: Float32Array): void {
    if (pcm.length === 0) return;
    this.#held.push(pcm);
    this.#heldFrames += pcm.length;
  }
}

/** `metadata` with its word timings and visemes moved by `shiftMs` (clamped at 0); the same object when unmoved. */
export function shiftMetadata(metadata: EngineOutputMetadata, shiftMs: number): EngineOutputMetadata {
  if (shiftMs === 0 || (!metadata.wordTimings && !metadata.visemes)) return metadata;
  const at = (ms: number): number => Math.max(0, ms + shiftMs);
  const move = (timing: WordTiming): WordTiming => ({ ...timing, startMs: at(timing.startMs), endMs: at(timing.endMs) });
  return {
    ...metadata,
    ...(metadata.wordTimings ? { wordTimings: metadata.wordTimings.map(move) } : {}),
    ...(metadata.visemes ? { visemes: metadata.visemes.map((viseme) => ({ ...viseme, startMs: at(viseme.startMs) })) } : {}),
  };
}
