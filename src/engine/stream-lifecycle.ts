/**
 * One stream's lifecycle as the engine drives it. The owner (the engine's actor, often an agent)
 * starts the stream and registers its graph; the runtime, a `system` actor acting for the owner
 * (spec §3.2), requests synthesize, play, the natural-end stop and fail, so an accessibility
 * override that bars agents from stopping a stream never traps it in `playing`. Each effect runs
 * only with the permit of an allowed decision (`registrar.require`); a denial throws
 * RegistrarDeniedError before the effect: no partial effect.
 */
import type { Attestation } from '../attestation/record.js';
import type { AudioRegistrar } from '../registrar/registrar.js';
import type { OverrideView, Permit, RegistrarResult } from '../registrar/types.js';
import type { TransitionAction } from '../registrar/core.js';
import type { ActorHandle } from '../registrar/actor-handle.js';

/** Registrar metadata of a new stream. */
export interface StreamMetadata {
  sessionId?: string | undefined;
  userId?: string | undefined;
  priority?: 'system' | 'assistant' | 'background' | number | undefined;
  /** Plugin actors the owner lets mutate this stream's graph (`plugin:<name>`). */
  allowPlugins?: string[] | undefined;
  /** Extension fields (speak option `streamMetadata`), recorded with the start. */
  [extra: string]: string | number | boolean | string[] | undefined;
}

/** Drives start → compile → synthesize → play → stop (or fail) for one stream. */
export class StreamLifecycle {
  readonly #registrar: AudioRegistrar;
  readonly #owner: ActorHandle;
  readonly #runtime: ActorHandle;
  readonly #attestations: Attestation[] = [];
  #streamId: string | null = null;
  #ended = false;

  /** `owner` starts and compiles; `runtime` (a system actor) does the rest. */
  constructor(registrar: AudioRegistrar, owner: ActorHandle, runtime: ActorHandle) {
    this.#registrar = registrar;
    this.#owner = owner;
    this.#runtime = runtime;
  }

  /** The stream id, once `start` was allowed. */
  get streamId(): string {
    if (this.#streamId === null) throw new Error('StreamLifecycle: start() was not allowed yet');
    return this.#streamId;
  }

  /** Every attestation of this stream's requests so far (allowed and denied). */
  get attestations(): readonly Attestation[] {
    return this.#attestations;
  }

  /** Creates the stream (owned by the engine's actor). */
  start(metadata: StreamMetadata): Permit {
    const clean = Object.fromEntries(Object.entries(metadata).filter(([, value]) => value !== undefined));
    const permit = this.#step('start', this.#owner, { metadata: clean });
    this.#streamId = permit.streamId;
    return permit;
  }

  /** The accessibility override that covers this stream now, if any. */
  override(): OverrideView | null {
    return this.#registrar.overrideFor(this.streamId);
  }

  /** Registers the compiled graph's hash. */
  compile(graphHash: string): Permit {
    return this.#step('compile', this.#owner, { target: this.streamId, metadata: { graphHash } });
  }

  /** Registers a graph that grows as a live text source arrives (no hash can exist yet). */
  compileLive(): Permit {
    return this.#step('compile', this.#owner, { target: this.streamId, metadata: { textSource: 'live' } });
  }

  /** Commits the graph; synthesis may begin. */
  synthesize(): Permit {
    return this.#step('synthesize', this.#runtime, { target: this.streamId });
  }

  /** Audio may be delivered. */
  play(): Permit {
    return this.#step('play', this.#runtime, { target: this.streamId });
  }

  /** `play()` whose permit is taken once the play decision is on disk (registrar option `effectsAwaitDurability`). */
  playWhenDurable(): Promise<Permit> {
    return this.#registrar.requireDurable(this.#request('play', this.#runtime, { target: this.streamId }), { action: 'play' });
  }

  /** Natural end (or end after a cancellation/interrupt). Idempotent once ended. */
  stop(reason: string): void {
    if (this.#ended || this.#streamId === null) return;
    const state = this.#registrar.getState(this.#streamId)?.state;
    if (state === 'stopped' || state === 'failed') {
      this.#ended = true;
      return;
    }
    if (state === 'playing' || state === 'interrupting') {
      this.#step('stop', this.#runtime, { target: this.#streamId, reason });
    } else {
      // Ended before any audio was delivered: the table allows no stop from here, so the stream fails with the reason.
      this.#step('fail', this.#runtime, { target: this.#streamId, reason });
    }
    this.#ended = true;
  }

  /** Gives up on the stream without a request: the registrar halted and would deny it anyway. */
  abandon(): void {
    this.#ended = true;
  }

  /** Records a failure with its reason; never throws (the original error matters more). */
  fail(reason: string): void {
    if (this.#ended || this.#streamId === null) return;
    this.#ended = true;
    const result = this.#registrar.request({ action: 'fail', actor: this.#runtime, target: this.#streamId, reason: reason.slice(0, 1000) });
    this.#attestations.push(result.attestation);
  }

  #request(action: TransitionAction, actor: ActorHandle, fields: { target?: string; reason?: string; metadata?: Record<string, unknown> }): RegistrarResult {
    const result: RegistrarResult = this.#registrar.request({ action, actor, ...fields });
    this.#attestations.push(result.attestation);
    return result;
  }

  #step(action: TransitionAction, actor: ActorHandle, fields: { target?: string; reason?: string; metadata?: Record<string, unknown> }): Permit {
    const permit = this.#registrar.require(this.#request(action, actor, fields), { action });
    if (action !== 'start' && permit.streamId !== this.#streamId) throw new Error(`registrar answered for ${permit.streamId}, expected ${this.#streamId}`);
    return permit;
  }
}
