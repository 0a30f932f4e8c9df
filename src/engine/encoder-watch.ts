/**
 * EncoderWatch: the progress timeout of one file's encoder (an ffmpeg child for mp3, ogg, opus,
 * flac...). It runs only while the writer waits on the encoder (a chunk not taken yet, or the
 * end of the encoding) and starts over at every sign of progress (a chunk taken, bytes out); it
 * pauses while the output target takes the encoder's bytes (a FIFO's reader sets that pace: it is
 * the caller's, not the encoder's). When the encoder makes no progress for `timeoutMs` it calls
 * `onStall` once and stays quiet afterwards. The timer never keeps the process alive.
 */

/** See the module comment. */
export class EncoderWatch {
  readonly #timeoutMs: number;
  readonly #onStall: () => void;
  #timer: NodeJS.Timeout | undefined;
  /** Waits on the encoder in progress (a push and the end may overlap), and writes to the output target in progress. */
  readonly #pending = { waiting: 0, outside: 0 };
  #stopped = false;

  /** A watch that calls `onStall` after `timeoutMs` without progress while the writer waits on the encoder. */
  constructor(timeoutMs: number, onStall: () => void) {
    this.#timeoutMs = timeoutMs;
    this.#onStall = onStall;
  }

  /** Awaits `work`, which only the encoder can complete: the timeout runs until it settles. */
  waitFor<T>(work: Promise<T>): Promise<T> {
    return this.#during('waiting', work);
  }

  /** Awaits `work` of the output target (not the encoder's): the timeout pauses meanwhile. */
  outside<T>(work: Promise<T>): Promise<T> {
    return this.#during('outside', work);
  }

  /** The encoder made progress: the timeout starts over. */
  progress(): void {
    this.#restart();
  }

  /** Ends the watch (the encoder finished or was given up); idempotent. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #during<T>(kind: 'waiting' | 'outside', work: Promise<T>): Promise<T> {
    this.#pending[kind]++;
    this.#restart();
    try {
      return await work;
    } finally {
      this.#pending[kind]--;
      this.#restart();
    }
  }

  #restart(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#stopped || this.#pending.waiting === 0 || this.#pending.outside > 0) return;
    this.#timer = setTimeout(() => {
      this.#stopped = true;
      this.#onStall();
    }, this.#timeoutMs);
    this.#timer.unref();
  }
}
