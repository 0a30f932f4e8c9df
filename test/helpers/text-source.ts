/**
 * Live text sources for tests: an iterator over fixed deltas that records whether it was closed
 * (`return()` called before it ran out), and can fail or stall after its deltas. A hand-written
 * iterator rather than an async generator: a generator stalled on an await cannot take return()
 * until the await settles, while a network stream's iterator (like this one) can.
 */

/** What a recording source saw. */
export interface SourceRecord {
  /** Deltas handed out so far. */
  pulled: number;
  /** The consumer closed the source (return()) before it ended on its own. */
  closedEarly: boolean;
  /** The source ran out by itself. */
  ended: boolean;
}

/** Options of `recordingSource`. */
export interface RecordingSourceOptions {
  /** After the deltas: throw this error instead of ending. */
  failWith?: Error;
  /** After the deltas: wait until closed instead of ending (an LLM that stalls). */
  stall?: boolean;
}

/** An AsyncIterable of `deltas` with a record of how it was consumed. */
export function recordingSource(deltas: readonly unknown[], options: RecordingSourceOptions = {}): { source: AsyncIterable<string>; record: SourceRecord } {
  const record: SourceRecord = { pulled: 0, closedEarly: false, ended: false };
  let wakeStalled: ((result: IteratorResult<string>) => void) | undefined;
  const iterator: AsyncIterator<string> = {
    next: async () => {
      if (record.closedEarly) return { done: true, value: undefined };
      if (record.pulled < deltas.length) return { done: false, value: deltas[record.pulled++] as string };
      if (options.failWith) throw options.failWith;
      if (options.stall) return new Promise<IteratorResult<string>>((resolve) => (wakeStalled = resolve));
      record.ended = true;
      return { done: true, value: undefined };
    },
    return: async () => {
      if (!record.ended) record.closedEarly = true;
      wakeStalled?.({ done: true, value: undefined });
      return { done: true, value: undefined };
    },
  };
  return { source: { [Symbol.asyncIterator]: () => iterator }, record };
}

/** Splits `text` into LLM-like deltas: each word with its leading space. */
export function tokenize(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}
