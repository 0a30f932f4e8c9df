/**
 * Helpers shared by the backend tests: building a segment, draining a synthesis stream, reading
 * its samples back as s16 values, and catching a rejection to assert on it.
 */
import { NEUTRAL_PROSODY, type EngineOutput, type Prosody, type SynthesisSegment } from '../../src/graph/engine-output.js';

/** What a test may set on a segment besides its text; `prosody` fields override the neutral prosody. */
export type SegmentExtras = Partial<Omit<SynthesisSegment, 'text' | 'prosody'>> & { prosody?: Partial<Prosody> };

/** A segment of `text` with neutral prosody, changed by `extras`. */
export function segment(text: string, extras: SegmentExtras = {}): SynthesisSegment {
  const { prosody, ...rest } = extras;
  return { text, ...rest, prosody: { ...NEUTRAL_PROSODY, ...prosody } };
}

/** Every chunk of a synthesis stream, in order. */
export async function collect(chunks: AsyncIterable<EngineOutput>): Promise<EngineOutput[]> {
  const out: EngineOutput[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

/** The chunks' samples as the s16 integers they were decoded from. */
export function samplesOf(chunks: EngineOutput[]): number[] {
  return chunks.flatMap((chunk) => Array.from(chunk.pcm, (value) => Math.round(value * 32768)));
}

import { rejection } from './errors.js';

export { rejection };

/** Drains `chunks`, calling `onChunk` on each, and returns the error the stream ends with (fails the test when it ends without one). */
export function streamError(chunks: AsyncIterable<EngineOutput>, onChunk: (chunk: EngineOutput) => unknown = () => undefined): Promise<Error> {
  return rejection(
    (async () => {
      for await (const chunk of chunks) await onChunk(chunk);
    })(),
  );
}
