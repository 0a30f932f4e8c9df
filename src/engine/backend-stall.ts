/**
 * BackendStallWatch: the stalled-backend timeout of a `speakToFile()` without `play` (a play has
 * the admission timeout, play-guards.ts, and the same option). While the call waits for the run's
 * next chunk (from the stream's start to its first audio, and between two chunks) for
 * `timeoutMs` (engine option `admissionTimeoutMs`), the runtime fails the stream (attested, reason
 * naming the stall and the option), which aborts the backend's synthesis, and the wait rejects at
 * once with the stream's STREAM_FAILED error (BACKEND_STALLED when the registrar halted or the
 * stream had ended), even when the backend ignores its abort signal: its call is then left to
 * settle on its own. Not counted: the writer's work between chunks (the encoder has its own
 * timeout) and, after `stop()`, the file's end of encoding. The timer never keeps the process alive.
 */
import type { AudioRegistrar } from '../registrar/registrar.js';
import { runtimeGivesUp } from './play-guards.js';
import type { Utterance } from './utterance.js';

/** See the module comment. */
export class BackendStallWatch {
  readonly #registrar: AudioRegistrar;
  readonly #utterance: () => Utterance | undefined;
  readonly #timeoutMs: number;
  /** Rejects the wait in progress with the stall's error (set while one runs). */
  #onStall: ((error: Error) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  /** A watch over the run of `utterance()` (the stream the runtime fails) with `timeoutMs` per wait. */
  constructor(registrar: AudioRegistrar, utterance: () => Utterance | undefined, timeoutMs: number) {
    this.#registrar = registrar;
    this.#utterance = utterance;
    this.#timeoutMs = timeoutMs;
  }

  /** No more timeout from here on (the run reached its end: what follows is the file's, under the encoder's own timeout). Idempotent. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** `chunks` with each wait for the next one under the timeout; ending the loop early closes `chunks` (unless it stalled). */
  async *watched<T>(chunks: AsyncGenerator<T, void, undefined>): AsyncGenerator<T, void, undefined> {
    let stalled = false;
    let done = false;
    try {
      for (;;) {
        const next = chunks.next();
        let result: IteratorResult<T, void>;
        try {
          result = await this.#waitFor(next);
        } catch (error) {
          stalled = error instanceof StallError;
          // A backend that ignores its abort may settle later, either way: its answer is not wanted.
          if (stalled) next.catch(() => undefined);
          throw stalled ? (error as StallError).error : error;
        }
        if (result.done) {
          done = true;
          return;
        }
        yield result.value;
      }
    } finally {
      clearTimeout(this.#timer);
      // The consumer stopped early: the run ends where it is. A stalled run cannot be closed (its wait never ends).
      if (!done && !stalled) await chunks.return(undefined);
    }
  }

  /** Awaits `next` under the timeout (none once stopped). */
  #waitFor<T>(next: Promise<T>): Promise<T> {
    if (this.#stopped) return next;
    return new Promise<T>((resolve, reject) => {
      this.#onStall = (error) => reject(new StallError(error));
      this.#timer = setTimeout(() => this.#stall(), this.#timeoutMs);
      this.#timer.unref();
      next.then(resolve, reject).finally(() => {
        clearTimeout(this.#timer);
        this.#onStall = undefined;
      });
    });
  }

  /** The timeout fired: the runtime fails the stream (attested) and the wait rejects with its error. */
  #stall(): void {
    const onStall = this.#onStall;
    if (this.#stopped || !onStall) return;
    onStall(runtimeGivesUp(this.#utterance(), this.#registrar, `the backend gave no audio for ${this.#timeoutMs} ms (admissionTimeoutMs): the stream was given up`, 'BACKEND_STALLED'));
  }
}

/** The stall's error, told apart from the run's own errors. */
class StallError extends Error {
  readonly error: Error;
  constructor(error: Error) {
    super(error.message);
    this.error = error;
  }
}
