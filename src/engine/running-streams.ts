/**
 * RunningStreams: the engine's utterances being run, by stream id, and how they obey decisions,
 * whoever makes them. An interrupt, stop or fail of one of them (other than the runtime's own
 * natural-end stop) records who ended it and aborts its synthesis; a registrar halt aborts every
 * one (fail-closed); closing the engine asks the registrar, as the runtime, to end each with reason
 * `engine_closed` (stop when it plays, fail before), or as the owner when an accessibility override
 * covers it (a refused one plays on to its end), aborts the others (a halted registrar decides
 * nothing) and waits until every run has ended. A run is in here from its start to its end
 * (utterance-run.ts adds and deletes it).
 */
import { AbortError, AudioError } from '../errors.js';
import { RegistrarHaltedError } from '../registrar/errors.js';
import type { ActorHandle } from '../registrar/actor-handle.js';
import type { AudioRegistrar } from '../registrar/registrar.js';
import type { HaltInfo, TransitionEvent } from '../registrar/types.js';
import type { ActiveUtterance } from './utterance.js';
import { endingAction } from './play-guards.js';

/** The running utterances of one engine (see the module comment). */
export class RunningStreams {
  readonly #registrar: AudioRegistrar;
  readonly #runtime: ActorHandle;
  readonly #entries = new Map<string, ActiveUtterance>();

  /** Streams decided by `registrar`; `runtime` is the engine's runtime actor (its own stops are not interruptions). */
  constructor(registrar: AudioRegistrar, runtime: ActorHandle) {
    this.#registrar = registrar;
    this.#runtime = runtime;
  }

  /** Tracks a run that has started. */
  add(streamId: string, entry: ActiveUtterance): void {
    this.#entries.set(streamId, entry);
  }

  /** Forgets a run that has ended. */
  delete(streamId: string): void {
    this.#entries.delete(streamId);
  }

  /** Stream ids of the running utterances. */
  ids(): string[] {
    return [...this.#entries.keys()];
  }

  /** How many utterances are running. */
  get size(): number {
    return this.#entries.size;
  }

  /** Obeys a decision on one of the running streams, whoever made it. */
  obey(event: TransitionEvent): void {
    const active = this.#entries.get(event.streamId);
    if (!active || (event.stateAfter !== 'interrupting' && event.stateAfter !== 'stopped' && event.stateAfter !== 'failed')) return;
    const { utterance, controller } = active;
    if (utterance.finishing && event.actor === this.#runtime.key) return;
    utterance.endedBy ??= { action: event.action, actor: event.actor, attestationId: event.attestationId, seq: event.seq, reason: event.reason };
    if (event.action !== 'fail') utterance.interrupted = true;
    controller.abort(new AbortError(`stream ${event.streamId}: ${event.action} by ${event.actor}`));
  }

  /** The registrar halted: every run stops and ends with RegistrarHaltedError. */
  haltAll(halt: HaltInfo): void {
    for (const { controller, utterance } of this.#entries.values()) {
      utterance.halted = true;
      controller.abort(new RegistrarHaltedError(`the registrar halted (${halt.cause}): every stream was stopped (fail-closed)`));
    }
  }

  /**
   * Ends every running stream for a closing engine (`engine_closed`) and resolves once each run has
   * ended. Closing is the owner's act: a stream an accessibility override covers is asked to end by
   * `owner` (allowed for a user owning a covering override, refused for an agent), never by the
   * runtime for it; one the registrar refuses to end plays on to its natural end, and this waits for it.
   */
  async endAll(owner: ActorHandle): Promise<void> {
    const running = [...this.#entries.entries()];
    const playingOn = new Set<string>();
    for (const [streamId] of running) {
      const action = endingAction(this.#registrar.getState(streamId)?.state);
      if (action === null) continue;
      const covered = this.#registrar.overrideFor(streamId) !== null;
      const result = this.#registrar.request({ action, actor: covered ? owner : this.#runtime, target: streamId, reason: 'engine_closed' });
      if (covered && !result.allowed && !this.#registrar.halted) playingOn.add(streamId);
    }
    // A stream the registrar could not end (it halted) is stopped here without a request.
    for (const [streamId, { controller }] of running) {
      if (!playingOn.has(streamId)) controller.abort(new AudioError('ENGINE_CLOSED', 'the engine was closed'));
    }
    await Promise.allSettled(running.map(([, entry]) => entry.done));
  }
}

// Hardening, as VoiceEngine: no caller can swap a method of this class for its own (a patched prototype would reach every engine).
Object.freeze(RunningStreams.prototype);
Object.freeze(RunningStreams);
