/**
 * Chunks whose wait may be given up: a run's chunks iterated with each wait for the next one
 * under a watch (a timeout) that can end the wait before the run answers. A run whose backend
 * ignores its abort signal would otherwise hold the call forever; given up, its pending answer is
 * left to settle on its own (and ignored), and the run is not closed (closing it would wait for
 * that answer too). Ending the loop early otherwise closes the run, as `for await` does.
 */

/** What a watch rejects a wait with to give it up: `error` is what the call then throws. */
export class GivenUp extends Error {
  /** The error the call ends with. */
  readonly error: Error;

  /** Gives a wait up with `error`. */
  constructor(error: Error) {
    super(error.message);
    this.error = error;
  }
}

/**
 * `chunks`, each `next()` awaited through `waitFor`, which resolves with its result or rejects
 * (GivenUp: the wait is abandoned and the call throws its `error`; anything else: the run's error).
 */
export async function* givenUpWaits<T>(chunks: AsyncGenerator<T, void, undefined>, waitFor: (next: Promise<IteratorResult<T, void>>) => Promise<IteratorResult<T, void>>): AsyncGenerator<T, void, undefined> {
  let closed = false;
  try {
    for (;;) {
      const next = chunks.next();
      let result: IteratorResult<T, void>;
      try {
        result = await waitFor(next);
      } catch (error) {
        if (!(error instanceof GivenUp)) throw error;
        closed = true;
        next.catch(() => undefined);
        throw error.error;
      }
      if (result.done) {
        closed = true;
        return;
      }
      yield result.value;
    }
  } finally {
    if (!closed) await chunks.return(undefined);
  }
}
