/**
 * What the listener heard: pure computation from where each chunk started on the stream's frame
 * clock, the word timings each chunk carries (relative to the chunk start), and the frames of the
 * stream that reached the device at the end or at the cut. A word is `full` when its end was
 * played, `partial` when the cut fell inside it, `none` when it started after the cut. A sentence
 * may come in several chunks (a backend's pieces, a resampler's tail), each carrying the whole
 * sentence text: consecutive chunks of one sentence are read as one, its words taken from their
 * timings, or spread by letter count over the sentence (`estimated`) when none has any.
 * `text` is the text as spoken: the compiler's normalised sentence text (`42` is heard as "forty-two").
 * Bounds: at most MAX_WORD_TIMINGS_PER_CHUNK word timings of one chunk are read (the rest are
 * dropped and `wordsTruncated` says so); every append is a loop (no spread of a huge array).
 */
import type { WordTiming, WordTimingSource } from '../graph/engine-output.js';

/** How much of a word reached the listener. */
export type HeardLevel = 'full' | 'partial' | 'none';

/** One word of a played stream, on the stream's clock (ms from its first frame). */
export interface HeardWord {
  word: string;
  startMs: number;
  endMs: number;
  heard: HeardLevel;
  /** Where the timing came from (see WordTiming.source). */
  source: WordTimingSource;
}

/** What reached the device of one played stream. */
export interface Heard {
  /**
   * The text heard, as spoken: whole sentences (the compiler's normalised text, e.g. "forty-two"
   * for "42") when fully played, else the words heard (full or partial).
   */
  text: string;
  /** Every word synthesized for the stream, with how much of it was heard. */
  words: HeardWord[];
  /** Audio of the stream that reached the device, in ms (the fade of a cut included). */
  playedMs: number;
  /** Where the stream was cut (interrupt, stop, fail, abort) on its clock, or null when it played to its end. */
  cutAtMs: number | null;
  /** Present (true) when a chunk carried more than MAX_WORD_TIMINGS_PER_CHUNK word timings: `words` lacks the rest. */
  wordsTruncated?: true;
}

/** Most word timings read from one chunk (a backend's alignment of one sentence); more are dropped and flagged. */
export const MAX_WORD_TIMINGS_PER_CHUNK = 65_536;

/** Appends `items` to `target` one by one (a spread of a huge array overflows the call stack). */
function append<T>(target: T[], items: readonly T[]): void {
  for (const item of items) target.push(item);
}

/** One chunk as it went to the device: where it starts on the stream's frame clock. */
export interface PlayedChunk {
  startFrame: number;
  frames: number;
  /** The sentence text (speech chunks only; every chunk of a sentence carries all of it). */
  text?: string | undefined;
  /** Tells consecutive chunks of one sentence from a next sentence with the same text (e.g. the graph node id). */
  sentenceKey?: string | undefined;
  /** Word timings relative to the chunk start. */
  wordTimings?: readonly WordTiming[] | undefined;
}

/** The frames of the stream that reached the device. */
export interface PlayedPosition {
  playedFrames: number;
  /** The played frames when the cut was decided, or null for a natural end. */
  cutAtFrames: number | null;
  sampleRateHz: number;
}

/** Computes what was heard of `chunks` given the played position. */
export function heardOf(chunks: readonly PlayedChunk[], position: PlayedPosition): Heard {
  const msPerFrame = 1000 / position.sampleRateHz;
  const playedMs = position.playedFrames * msPerFrame;
  const words: HeardWord[] = [];
  const texts: string[] = [];
  const truncated = chunks.some((chunk) => (chunk.wordTimings?.length ?? 0) > MAX_WORD_TIMINGS_PER_CHUNK);
  for (const sentence of sentencesOf(chunks, msPerFrame)) {
    const timings = sentence.timings.length > 0 ? sentence.timings : joinWordTimings([{ wordTimings: spreadWords(sentence.text, (sentence.endFrame - sentence.startFrame) * msPerFrame), offsetMs: sentence.startFrame * msPerFrame }]) ?? [];
    const sentenceWords = timings.map((timing): HeardWord => ({ word: timing.word, startMs: timing.startMs, endMs: timing.endMs, heard: levelOf(timing.startMs, timing.endMs, playedMs), source: timing.source }));
    append(words, sentenceWords);
    if (sentence.endFrame <= position.playedFrames && sentenceWords.every((word) => word.heard === 'full')) texts.push(sentence.text);
    else {
      const heardWords = sentenceWords.filter((word) => word.heard !== 'none').map((word) => word.word);
      if (heardWords.length > 0) texts.push(heardWords.join(' '));
    }
  }
  return {
    text: texts.join(' '),
    words,
    playedMs,
    cutAtMs: position.cutAtFrames === null ? null : position.cutAtFrames * msPerFrame,
    ...(truncated ? { wordsTruncated: true as const } : {}),
  };
}

/** One sentence as played: the span of its chunks, and their word timings on the stream clock (ms). */
interface PlayedSentence {
  text: string;
  key: string | undefined;
  startFrame: number;
  endFrame: number;
  timings: WordTiming[];
}

/** Groups consecutive chunks of one sentence (same key and text; chunks without text between them do not part them). */
function sentencesOf(chunks: readonly PlayedChunk[], msPerFrame: number): PlayedSentence[] {
  const sentences: PlayedSentence[] = [];
  for (const chunk of chunks) {
    if (chunk.text === undefined) continue;
    let sentence = sentences.at(-1);
    if (!sentence || sentence.key !== chunk.sentenceKey || sentence.text !== chunk.text) {
      sentence = { text: chunk.text, key: chunk.sentenceKey, startFrame: chunk.startFrame, endFrame: chunk.startFrame, timings: [] };
      sentences.push(sentence);
    }
    sentence.endFrame = chunk.startFrame + chunk.frames;
    const bounded = chunk.wordTimings && chunk.wordTimings.length > MAX_WORD_TIMINGS_PER_CHUNK ? chunk.wordTimings.slice(0, MAX_WORD_TIMINGS_PER_CHUNK) : chunk.wordTimings;
    append(sentence.timings, joinWordTimings([{ wordTimings: bounded, offsetMs: chunk.startFrame * msPerFrame }]) ?? []);
  }
  return sentences;
}

function levelOf(startMs: number, endMs: number, playedMs: number): HeardLevel {
  if (endMs <= playedMs) return 'full';
  return startMs < playedMs ? 'partial' : 'none';
}

/** Words of `text` spread over `durationMs` in proportion to their letters (no timing was reported). */
export function spreadWords(text: string, durationMs: number): WordTiming[] {
  const words = text
    .split(/\s+/u)
    .map((word) => word.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ''))
    .filter((word) => word !== '');
  const total = words.reduce((sum, word) => sum + [...word].length, 0);
  let cursor = 0;
  return words.map((word) => {
    const startMs = (cursor / total) * durationMs;
    cursor += [...word].length;
    return { word, startMs, endMs: (cursor / total) * durationMs, source: 'estimated' };
  });
}

/** Word timings of several outputs joined into one chunk: each part's times shifted by where it starts. */
export function joinWordTimings(parts: ReadonlyArray<{ wordTimings?: readonly WordTiming[] | undefined; offsetMs: number }>): WordTiming[] | undefined {
  const joined: WordTiming[] = [];
  for (const part of parts) for (const timing of part.wordTimings ?? []) joined.push({ ...timing, startMs: timing.startMs + part.offsetMs, endMs: timing.endMs + part.offsetMs });
  return joined.length > 0 ? joined : undefined;
}

/** What `HeardLedger.atEnd` reads from a stream's sink (StreamSink has it). */
export interface PlayedFramesSource {
  /** Resolves once the device rendered the stream's cut, if any. */
  settle(): Promise<void>;
  /** Frames of the stream the device played so far. */
  playedFrames(): number;
  /** Played frames when the closing decision arrived, or null. */
  readonly cutAtFrames: number | null;
}

/** Records where each chunk of a played stream starts on its frame clock, for `heardOf`. */
export class HeardLedger {
  readonly #chunks: PlayedChunk[] = [];
  #nextFrame = 0;

  /** Adds the next chunk written to the device (`frames` long); returns the frame it starts at. */
  add(frames: number, text: string | undefined, wordTimings: readonly WordTiming[] | undefined, sentenceKey?: string): number {
    const startFrame = this.#nextFrame;
    this.#chunks.push({ startFrame, frames, text, wordTimings, sentenceKey });
    this.#nextFrame += frames;
    return startFrame;
  }

  /** Frames of every chunk added so far. */
  get totalFrames(): number {
    return this.#nextFrame;
  }

  /**
   * What was heard at the end of the stream: once the device rendered a cut (fade and drop), the
   * sink's played frames against the chunks' places (no sink: nothing played).
   */
  async atEnd(sink: PlayedFramesSource | undefined, cut: boolean, sampleRateHz: number): Promise<Heard> {
    if (!sink) return this.heard({ playedFrames: 0, cutAtFrames: cut ? 0 : null, sampleRateHz });
    await sink.settle().catch(() => undefined);
    const playedFrames = sink.playedFrames();
    return this.heard({ playedFrames, cutAtFrames: cut ? (sink.cutAtFrames ?? playedFrames) : null, sampleRateHz });
  }

  /** What was heard at `position` (see `heardOf`); played frames beyond the chunks added count as none. */
  heard(position: PlayedPosition): Heard {
    const clamp = (frames: number): number => Math.min(Math.max(0, frames), this.#nextFrame);
    return heardOf(this.#chunks, { ...position, playedFrames: clamp(position.playedFrames), cutAtFrames: position.cutAtFrames === null ? null : clamp(position.cutAtFrames) });
  }
}
