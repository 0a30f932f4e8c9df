/**
 * The registrar's listener lists (transitions, halts). Listeners come in two phases: `'effect'`
 * listeners (the runtime's sinks, which silence the device) are told before every `'observe'`
 * listener, so no observer can delay or prevent an effect. A throwing listener is reported as a
 * process warning and the others are still told. A value told while listeners are being told
 * about an earlier one (a decision made inside a listener) is told next, in order.
 */

/** Options of `onTransition` and `onHalt`. */
export interface ListenerOptions {
  /** `'effect'`: told first (the runtime's sinks); `'observe'` (default): told after every effect listener. */
  phase?: 'effect' | 'observe';
}

/** Listeners of one kind of value, by phase. Owned by one registrar (one JS thread). */
export class PhasedListeners<T> {
  readonly #effect = new Set<(value: T) => void>();
  readonly #observe = new Set<(value: T) => void>();
  readonly #pending: T[] = [];
  #telling = false;

  /** Adds a listener; returns the function that removes it. */
  add(listener: (value: T) => void, options: ListenerOptions = {}): () => void {
    const set = options.phase === 'effect' ? this.#effect : this.#observe;
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Whether anyone listens (lets the caller skip building the value). */
  get empty(): boolean {
    return this.#effect.size === 0 && this.#observe.size === 0;
  }

  /** Tells every listener, effect phase first; values told from inside a listener queue behind. */
  tell(value: T): void {
    this.#pending.push(value);
    if (this.#telling) return;
    this.#telling = true;
    try {
      for (let next = this.#pending.shift(); next !== undefined; next = this.#pending.shift()) {
        for (const listener of [...this.#effect, ...this.#observe]) callSafely(listener, next);
      }
    } finally {
      this.#telling = false;
    }
  }
}

/**
 * Calls a listener; whatever it throws (even a value that cannot be turned into a string) is
 * reported as a process warning and never reaches the registrar or the other listeners.
 */
export function callSafely<T>(listener: (value: T) => void, value: T): void {
  try {
    listener(value);
  } catch (error) {
    let text = 'a value that cannot be printed';
    try {
      text = error instanceof Error ? String(error.message) : String(error);
    } catch {
      // keep the placeholder
    }
    try {
      process.emitWarning(`registrar listener threw: ${text.slice(0, 500)}`, { code: 'VOICE_SOUNDBOARD_LISTENER' });
    } catch {
      // A warning that cannot be emitted must not break the decision either.
    }
  }
}
