/**
 * Turn-taking on a sample clock: where each rendered turn starts (after a gap, or overlapping the
 * previous one, or barging in and cutting it with a short fade), the per-turn timeline, and the
 * mono mixdown of the turns at their offsets. Every start is a whole sample, so the timeline's ms
 * and the PCM agree exactly. Pure: no I/O, no engine.
 */
import type { WordTiming } from '../graph/engine-output.js';
import type { RenderedConversation, RenderedTurn } from './types.js';

/**
 * Longest conversation rendered offline (ms, one hour, as a scene): the render holds every turn
 * and the mixdown in memory, so a script of long pauses is refused (`CONVERSATION_TOO_LONG`) rather
 * than allocating gigabytes. Live play holds no mix and has no such bound.
 */
export const MAX_CONVERSATION_RENDER_MS = 3_600_000;

/** Fade-out of a turn cut by a barge-in (ms): short enough to sound like a cut, long enough not to click. */
export const BARGE_IN_FADE_MS = 10;

/** One turn's synthesized clip, before it is placed. */
export interface TurnClip {
  index: number;
  speaker: string;
  voice: string;
  pcm: Float32Array;
  /** Word timings relative to the clip's first sample (ms). */
  words: WordTiming[];
  /** Silence before the turn (ms), already scaled by any pause amplification; ignored when overlapping. */
  gapMs: number;
  /** Overlap with the turn before (ms), or undefined. */
  overlapMs: number | undefined;
  bargeIn: boolean;
  position?: RenderedTurn['position'];
}

/** One line of `conversation.timeline()`: who speaks when, and each word's time. */
export interface TimelineEntry {
  index: number;
  speaker: string;
  voice: string;
  startMs: number;
  endMs: number;
  text: string;
  words: Array<{ word: string; startMs: number; endMs: number }>;
}

/** Level under a clip's peak below which its first and last samples count as silence (dB). */
export const EDGE_SILENCE_DB = -50;

/**
 * A clip without the near-silent margins a backend leaves at its edges (below `EDGE_SILENCE_DB`
 * of its peak), so a turn starts and ends where it is heard: gaps are silences between speakers.
 * Returns the trimmed clip and how much was cut from its start (ms), to shift its word times.
 */
export function trimEdges(pcm: Float32Array, sampleRateHz: number): { pcm: Float32Array; headMs: number } {
  let peak = 0;
  for (const value of pcm) peak = Math.max(peak, Math.abs(value));
  if (peak === 0) return { pcm, headMs: 0 };
  const floor = peak * 10 ** (EDGE_SILENCE_DB / 20);
  let first = 0;
  while (first < pcm.length && Math.abs(pcm[first] as number) < floor) first += 1;
  let last = pcm.length - 1;
  while (last > first && Math.abs(pcm[last] as number) < floor) last -= 1;
  return { pcm: pcm.subarray(first, last + 1), headMs: msOf(first, sampleRateHz) };
}

function framesOf(ms: number, sampleRateHz: number): number {
  return Math.round((ms / 1000) * sampleRateHz);
}

function msOf(frames: number, sampleRateHz: number): number {
  return (frames / sampleRateHz) * 1000;
}

/**
 * Places the clips: the first at its gap, each next one `gapMs` after everything before has ended,
 * or `overlapMs` before that end (at the earliest where the previous turn starts). A barge-in cuts
 * the previous turn where it starts, with a `BARGE_IN_FADE_MS` fade; its words after the cut go.
 */
export function placeTurns(clips: readonly TurnClip[], sampleRateHz: number): RenderedConversation {
  const turns: RenderedTurn[] = [];
  const startFrames: number[] = [];
  let endFrame = 0;
  for (const clip of clips) {
    let start: number;
    const previous = turns.at(-1);
    const previousStart = startFrames.at(-1) ?? 0;
    if (previous === undefined) start = framesOf(clip.gapMs, sampleRateHz);
    else if (clip.overlapMs !== undefined) start = Math.max(previousStart, endFrame - framesOf(clip.overlapMs, sampleRateHz));
    else start = endFrame + framesOf(clip.gapMs, sampleRateHz);
    if (previous !== undefined && clip.bargeIn) {
      const keep = Math.min(previous.pcm.length, start - previousStart + framesOf(BARGE_IN_FADE_MS, sampleRateHz));
      const cut = previous.pcm.slice(0, keep);
      const fade = Math.min(keep, framesOf(BARGE_IN_FADE_MS, sampleRateHz));
      for (let i = 0; i < fade; i++) cut[keep - fade + i] = (cut[keep - fade + i] as number) * (1 - (i + 1) / fade);
      previous.pcm = cut;
      previous.endMs = msOf(previousStart + keep, sampleRateHz);
      previous.words = previous.words.filter((word) => (word.streamStartMs ?? word.startMs) < previous.endMs);
      endFrame = Math.max(...turns.map((turn, i) => (startFrames[i] as number) + turn.pcm.length));
    }
    const startMs = msOf(start, sampleRateHz);
    turns.push({
      index: clip.index,
      speaker: clip.speaker,
      voice: clip.voice,
      startMs,
      endMs: msOf(start + clip.pcm.length, sampleRateHz),
      pcm: clip.pcm,
      words: clip.words.map((word) => ({ ...word, streamStartMs: startMs + word.startMs, streamEndMs: startMs + word.endMs })),
      ...(clip.position ? { position: clip.position } : {}),
    });
    startFrames.push(start);
    endFrame = Math.max(endFrame, start + clip.pcm.length);
  }
  return { sampleRate: sampleRateHz, durationMs: msOf(endFrame, sampleRateHz), turns };
}

/** The mono mixdown of a rendered conversation: every turn added in at its start. */
export function mixdown(rendered: RenderedConversation): Float32Array {
  const out = new Float32Array(framesOf(rendered.durationMs, rendered.sampleRate));
  for (const turn of rendered.turns) {
    const start = framesOf(turn.startMs, rendered.sampleRate);
    for (let i = 0; i < turn.pcm.length && start + i < out.length; i++) out[start + i] = (out[start + i] as number) + (turn.pcm[i] as number);
  }
  return out;
}

/** The timeline of a rendered conversation (texts by turn index). */
export function timelineOf(rendered: RenderedConversation, texts: readonly string[]): TimelineEntry[] {
  return rendered.turns.map((turn) => ({
    index: turn.index,
    speaker: turn.speaker,
    voice: turn.voice,
    startMs: turn.startMs,
    endMs: turn.endMs,
    text: texts[turn.index] ?? '',
    words: turn.words.map((word) => ({ word: word.word, startMs: word.streamStartMs ?? turn.startMs + word.startMs, endMs: word.streamEndMs ?? turn.startMs + word.endMs })),
  }));
}
