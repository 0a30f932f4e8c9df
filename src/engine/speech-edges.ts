/**
 * Pauses as asked: the silence a backend puts around each piece of speech is trimmed, so a
 * requested pause is the only pause. espeak-ng, for one, ends every piece with ~300 ms of silence
 * and starts it with ~12 ms; left in place, a 100 ms `<break>` became 413 ms.
 *
 * The rule (docs/ENGINE.md, "Pauses"): a sample is *sound* when its magnitude exceeds
 * `EDGE_THRESHOLD_DB` (−40 dB) relative to the peak of the backend chunk it is in: relative only,
 * since the audio already carries the requested volume (`<prosody volume="-60dB">` is speech, not
 * silence). `EDGE_FLOOR` (−140 dBFS) only makes digital near-zero silence. A chunk with word
 * timings but no sound by that rule is kept whole, untrimmed: speech is never dropped. A segment keeps
 * up to `EDGE_MARGIN_MS` (5 ms) of what comes before its first sound and after its last: the
 * backend's own sub-threshold onset and decay (a consonant's start is never clipped); a backend
 * with less keeps what it has, nothing is added. Everything beyond that margin is the backend's
 * silence and is dropped. Quiet stretches *inside* a segment (between its chunks, or inside one)
 * are the backend's phrasing and stay. The engine then sizes each requested pause so that the
 * kept tail + silence + the kept head of what follows = the request.
 *
 * Streaming-friendly: a chunk's sound and the margin after it go out at once; only the rest of its
 * quiet tail is held back until the next chunk of the segment shows it was inner phrasing (then it
 * goes out first) or the segment ends (then it is dropped).
 */
import type { EngineOutputMetadata, WordTiming } from '../graph/engine-output.js';

/** Threshold of sound, relative to the peak of the chunk: −40 dB. */
export const EDGE_THRESHOLD_DB = -40;
/** Absolute floor of the threshold: −140 dBFS (digital near-zero, never quiet speech). */
export const EDGE_FLOOR = 1e-7;
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

  /** Frames kept before the segment's first sound (known once it had sound). */
  headFrames = 0;
  /** Frames kept after the segment's last sound so far (final once it ended). */
  tailFrames = 0;

  /** Whether the segment has had sound yet. */
  get hasSound(): boolean {
    return !this.#leading;
  }

  /** Takes the next chunk of the segment; returns what can be emitted now. `speech`: it has word timings (kept whole if it has no sound). */
  push(pcm: Float32Array, speech = false): TrimmedChunk {
    const span = soundSpan(pcm) ?? (speech && pcm.length > 0 ? { first: 0, last: pcm.length - 1 } : null);
    if (!span) {
      if (!this.#leading) this.#hold(pcm);
      return { pcm: new Float32Array(0), shiftMs: 0 };
    }
    let out: Float32Array;
    let shiftFrames: number;
    const end = Math.min(pcm.length, span.last + 1 + this.#marginFrames);
    this.tailFrames = end - (span.last + 1);
    if (this.#leading) {
      this.#leading = false;
      const kept = Math.min(span.first, this.#marginFrames);
      this.headFrames = kept;
      out = pcm.slice(span.first - kept, end);
      shiftFrames = kept - span.first;
    } else if (this.#heldFrames === 0 && end === pcm.length) {
      // Sound to the last frame and nothing held back (mid-segment): the chunk goes out as it came, uncopied.
      out = pcm;
      shiftFrames = 0;
    } else {
      out = new Float32Array(this.#heldFrames + end);
      let offset = 0;
      for (const part of this.#held) {
        out.set(part, offset);
        offset += part.length;
      }
      out.set(pcm.subarray(0, end), offset);
      shiftFrames = this.#heldFrames;
      this.#held = [];
      this.#heldFrames = 0;
    }
    this.#hold(pcm.subarray(end));
    return { pcm: out, shiftMs: (shiftFrames / this.#sampleRateHz) * 1000 };
  }

  /** Ends the segment: the held quiet tail (beyond the margin already out) is dropped. */
  end(): void {
    this.#held = [];
    this.#heldFrames = 0;
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
    ...(metadata.visemes ? { visemes: metadata.visemes.map((viseme) => ({ ...viseme, startMs: at(viseme.startMs), endMs: at(viseme.endMs) })) } : {}),
  };
}
