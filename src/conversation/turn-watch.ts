/**
 * Watches the registrar streams of one conversation run (render or live play) and says when the
 * conversation ends: an allowed `interrupt` of any of its turns, or a `stop`/`fail` decided by
 * anyone but the runtime (the owner's abort, a user, a preemption), ends it, whoever asked;
 * later turns never start. The conversation's own barge-ins (a turn cutting the one before) are
 * registered first and do not end it. Also records when each turn started playing (live timing).
 */
import type { TransitionEvent } from '../registrar/types.js';
import type { ConversationEngine } from './engine-face.js';

/** The decision that ended a conversation early. */
export interface ConversationEnd {
  /** Index of the turn whose stream the decision concerned (-1: ended between turns). */
  turn: number;
  streamId: string | null;
  action: string;
  actor: string | null;
  reason: string | null;
}

/** The streams of one conversation run and how the run ended. */
export class TurnWatch {
  readonly #engine: ConversationEngine;
  readonly #turnOf = new Map<string, number>();
  readonly #bargedInto = new Set<string>();
  /** Turn streams someone other than the runtime interrupted, stopped or failed (the conversation's barge-ins left out). */
  readonly #endedByOthers = new Set<string>();
  readonly #playingAt = new Map<string, number>();
  readonly #playingWaiters = new Map<string, Array<(atMs: number) => void>>();
  readonly #controller = new AbortController();
  readonly #stopListening: () => void;
  #ended: ConversationEnd | null = null;

  /** Starts listening to the engine's registrar transitions. */
  constructor(engine: ConversationEngine) {
    this.#engine = engine;
    this.#stopListening = engine.registrar.onTransition((event) => this.#onTransition(event));
  }

  /** Aborted when the conversation ends early (waits between turns are cut short). */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** How the conversation ended early, or null while it runs (or when it ran to its end). */
  get ended(): ConversationEnd | null {
    return this.#ended;
  }

  /** The stream ids of the turns so far, by turn index. */
  streams(): Map<number, string> {
    return new Map([...this.#turnOf].map(([streamId, turn]) => [turn, streamId]));
  }

  /** Records a turn's stream (from the engine's `onStreamStart`). */
  add(streamId: string, turn: number): void {
    this.#turnOf.set(streamId, turn);
  }

  /** Marks a stream the conversation itself cuts (a barge-in): its interrupt does not end the conversation. */
  bargeInto(streamId: string): void {
    this.#bargedInto.add(streamId);
  }

  /** Unmarks it (the barge-in was refused): anyone's later interrupt of that stream ends the conversation again. */
  forgetBargeIn(streamId: string): void {
    this.#bargedInto.delete(streamId);
  }

  /** Whether someone other than the runtime interrupted, stopped or failed this turn's stream (not the conversation's own barge-in). */
  endedByOthers(streamId: string): boolean {
    return this.#endedByOthers.has(streamId);
  }

  /** Ends the conversation between turns (no stream to decide on). */
  end(end: ConversationEnd): void {
    if (this.#ended) return;
    this.#ended = end;
    this.#controller.abort(new Error(`conversation ended: ${end.action} by ${end.actor ?? 'the caller'}`));
  }

  /** Resolves with the time (performance.now()) the stream started playing. */
  playing(streamId: string): Promise<number> {
    const at = this.#playingAt.get(streamId);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve) => {
      const waiters = this.#playingWaiters.get(streamId) ?? [];
      waiters.push(resolve);
      this.#playingWaiters.set(streamId, waiters);
    });
  }

  /** Stops listening. Idempotent. */
  dispose(): void {
    this.#stopListening();
  }

  #onTransition(event: TransitionEvent): void {
    const turn = this.#turnOf.get(event.streamId);
    if (turn === undefined) return;
    if (event.stateAfter === 'playing' && !this.#playingAt.has(event.streamId)) {
      const now = performance.now();
      this.#playingAt.set(event.streamId, now);
      for (const resolve of this.#playingWaiters.get(event.streamId) ?? []) resolve(now);
      this.#playingWaiters.delete(event.streamId);
      return;
    }
    if (this.#bargedInto.has(event.streamId)) return;
    const decidedByOthers = event.action === 'interrupt' || ((event.action === 'stop' || event.action === 'fail') && event.actor !== this.#engine.runtimeActor);
    if (!decidedByOthers) return;
    this.#endedByOthers.add(event.streamId);
    this.end({ turn, streamId: event.streamId, action: event.action, actor: event.actor, reason: event.reason });
  }
}
