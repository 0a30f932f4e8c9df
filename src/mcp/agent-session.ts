/**
 * One MCP session as the registrar sees it: its own agent actor (`agent:<client name>#<session
 * id>`, registered on first use) and an engine acting as that actor only (`engine.forActor`),
 * sharing the host's registrar, backend and device. The session tracks the streams it started
 * (what `heard` each ended with) and tells its client of their state changes. It holds no other
 * actor's handle, so nothing an agent sends can act as anyone else.
 */
import type { ActorHandle } from '../registrar/actor-handle.js';
import type { AudioRegistrar } from '../registrar/registrar.js';
import type { TransitionEvent } from '../registrar/types.js';
import type { VoiceEngine } from '../engine/voice-engine.js';
import type { PlayResult } from '../engine/speech-types.js';
import type { Heard } from '../streaming/heard.js';
import type { SchedulePolicy } from '../streaming/schedule-policy.js';

/** A stream event told to the client (as an MCP logging message). */
export interface StreamNotice {
  event: 'started' | 'interrupted' | 'stopped' | 'failed';
  stream_id: string;
  attestation_id: string;
  /** Who decided it, `"kind:id"`. */
  actor: string;
  conversation_id?: string;
}

/** A stream this session started. */
export interface TrackedPlay {
  streamId: string;
  /** The attestation of the stream's start. */
  startAttestationId: string;
  /** Aborts the play as its caller: the engine asks the registrar, as the owner, to end the stream. */
  abort: () => void;
  /** Settles when playback ends (never rejects): the play's result, or its error. */
  done: Promise<{ result: PlayResult | null; error: unknown }>;
  settled: boolean;
  /** What the listener heard, once the play ended. */
  heard: Heard | null;
  conversationId?: string;
}

/** Streams remembered per session once ended (running ones are always kept). */
const ENDED_STREAMS_KEPT = 100;

/** The part of a client name kept in the actor id: letters, digits and `._-`, at most 64 characters. */
export function sanitiseClientName(name: unknown): string {
  const cleaned = (typeof name === 'string' ? name : '').replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
  return cleaned.length > 0 ? cleaned : 'client';
}

/** The session's agent: its handle, its engine, its streams. */
export class AgentSession {
  /** The transport's session id (or one made up for a transport without any). */
  readonly sessionId: string;
  readonly #registrar: AudioRegistrar;
  readonly #hostEngine: VoiceEngine;
  readonly #notify: (notice: StreamNotice) => void;
  readonly #clientName: () => unknown;
  readonly #policy: SchedulePolicy;
  #actor: ActorHandle | null = null;
  #engine: Promise<VoiceEngine> | null = null;
  readonly #plays = new Map<string, TrackedPlay>();
  /** Waiting for the start of the play being launched (one launch at a time, see `launch`). */
  #onStart: ((streamId: string, attestationId: string) => void) | null = null;
  /** Waiting for the launched stream's first audio. */
  #onPlaying: ((streamId: string) => void) | null = null;
  #launchTail: Promise<unknown> = Promise.resolve();
  #closed = false;
  readonly #stopListening: () => void;

  /** A session whose actor is named from `clientName()` (read on first use, after the MCP handshake). */
  constructor(options: { sessionId: string; registrar: AudioRegistrar; engine: VoiceEngine; clientName: () => unknown; notify: (notice: StreamNotice) => void; policy: SchedulePolicy }) {
    this.#policy = options.policy;
    this.sessionId = options.sessionId;
    this.#registrar = options.registrar;
    this.#hostEngine = options.engine;
    this.#clientName = options.clientName;
    this.#notify = options.notify;
    this.#stopListening = this.#registrar.onTransition((event) => this.#onTransition(event));
  }

  /** Whether the agent actor was registered yet (it is on the first tool call). */
  get registered(): boolean {
    return this.#actor !== null;
  }

  /** The session's agent actor (registered on first use). */
  get actor(): ActorHandle {
    this.#actor ??= this.#registrar.registerActor(`agent:${sanitiseClientName(this.#clientName())}#${sanitiseClientName(this.sessionId)}`);
    return this.#actor;
  }

  /** The engine acting as this session's agent. */
  engine(): Promise<VoiceEngine> {
    this.#engine ??= this.#hostEngine.forActor(this.actor, { policy: this.#policy });
    return this.#engine;
  }

  /** A stream of this session, or undefined. */
  play(streamId: string): TrackedPlay | undefined {
    return this.#plays.get(streamId);
  }

  /** This session's streams, oldest first. */
  plays(): TrackedPlay[] {
    return [...this.#plays.values()];
  }

  /** The session's latest stream that has not ended, or undefined. */
  current(): TrackedPlay | undefined {
    return this.plays().reverse().find((play) => !play.settled);
  }

  /**
   * Starts `play` (a call of the session engine's play()) and resolves with its stream once its
   * audio started (the registrar allowed its play) or it ended, or rejects with why it could not
   * start. Launches are one at a time so each start is matched with its own call; the speech
   * itself goes on after this resolves.
   */
  launch(play: (engine: VoiceEngine, signal: AbortSignal) => Promise<PlayResult>, conversationId?: string): Promise<TrackedPlay> {
    const launched = this.#launchTail.then(() => this.#launchNow(play, conversationId));
    this.#launchTail = launched.catch(() => undefined);
    return launched;
  }

  /** Ends the session: its streams are stopped (its engine closes); nothing is told any more. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const engine = this.#engine;
    if (engine) await (await engine.catch(() => null))?.close();
    this.#stopListening();
  }

  async #launchNow(play: (engine: VoiceEngine, signal: AbortSignal) => Promise<PlayResult>, conversationId: string | undefined): Promise<TrackedPlay> {
    if (this.#closed) throw new Error('the MCP session is closed');
    const engine = await this.engine();
    return new Promise<TrackedPlay>((resolve, reject) => {
      let tracked: TrackedPlay | null = null;
      const controller = new AbortController();
      const running = play(engine, controller.signal);
      let onPlaying: ((streamId: string) => void) | null = null;
      const settle = (): void => {
        // Only this launch's handler: a later launch may be waiting by now.
        if (onPlaying !== null && this.#onPlaying === onPlaying) this.#onPlaying = null;
        if (tracked) resolve(tracked);
      };
      this.#onStart = (streamId, attestationId) => {
        this.#onStart = null;
        const entry: TrackedPlay = { streamId, startAttestationId: attestationId, abort: () => controller.abort(), done: Promise.resolve({ result: null, error: null }), settled: false, heard: null, ...(conversationId ? { conversationId } : {}) };
        tracked = entry;
        entry.done = running.then(
          (result) => ({ result, error: null }),
          (error: unknown) => ({ result: null, error }),
        );
        void entry.done.then(({ result }) => {
          entry.settled = true;
          entry.heard = result?.heard ?? null;
          settle();
          this.#forgetEnded();
        });
        this.#plays.set(streamId, entry);
        // Resolved when the audio starts (the stream can then be interrupted), or when it ends first.
        onPlaying = (playingId) => {
          if (playingId === streamId) settle();
        };
        this.#onPlaying = onPlaying;
      };
      running.catch((error: unknown) => {
        if (tracked) return;
        this.#onStart = null;
        reject(error);
      });
    });
  }

  #onTransition(event: TransitionEvent): void {
    if (this.#closed) return;
    if (event.action === 'start' && this.#actor !== null && event.actor === this.#actor.key && this.#onStart) this.#onStart(event.streamId, event.attestationId);
    if (event.stateAfter === 'playing' && this.#onPlaying) this.#onPlaying(event.streamId);
    const tracked = this.#plays.get(event.streamId);
    if (!tracked) return;
    const kind = event.action === 'start' ? 'started' : event.stateAfter === 'interrupting' ? 'interrupted' : event.stateAfter === 'stopped' ? 'stopped' : event.stateAfter === 'failed' ? 'failed' : null;
    if (kind === null) return;
    this.#notify({ event: kind, stream_id: event.streamId, attestation_id: event.attestationId, actor: event.actor, ...(tracked.conversationId ? { conversation_id: tracked.conversationId } : {}) });
  }

  /** Keeps running streams and the latest ended ones. */
  #forgetEnded(): void {
    const ended = this.plays().filter((play) => play.settled);
    for (const play of ended.slice(0, Math.max(0, ended.length - ENDED_STREAMS_KEPT))) this.#plays.delete(play.streamId);
  }
}
