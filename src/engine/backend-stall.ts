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
import { givenUpWaits, GivenUp } from './given-up-wait.js';
import { runtimeGivesUp } from './play-guards.js';
import type { Utterance } from './utterance.js';

/** See the module comment. */
export class BackendStallWatch {
  readonly #registrar: AudioRegistrar;
  readonly #utterance: () => Utterance | undefined;
  readonly #timeoutMs: number;
  /** The timer of the wait in progress (what `stop()` clears). */
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
  watched<T>(chunks: AsyncGenerator<T, void, undefined>): AsyncGenerator<T, void, undefined> {
    return givenUpWaits(chunks, (next) => this.#waitFor(next));
  }

  /** Awaits `next` under the timeout (none once stopped); each wait has its own timer, cleared once `next` settles. */
  #waitFor<T>(next: Promise<T>): Promise<T> {
    if (this.#stopped) return next;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.#stopped) reject(new GivenUp(this.#stall()));
      }, this.#timeoutMs);
      timer.unref();
      this.#timer = timer;
      next.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  /** The timeout fired on a pending wait: the runtime fails the stream (attested); returns the call's error. */
  #stall(): Error {
    return runtimeGivesUp(this.#utterance(), this.#registrar, `the backend gave no audio for ${this.#timeoutMs} ms (admissionTimeoutMs): the stream was given up`, 'BACKEND_STALLED');
  }
}
