/**
 * One MCP session as the registrar sees it: its own agent actor (`agent:<client name>#<session
 * id>`, registered on first use) and an engine acting as that actor only (`engine.forActor`),
 * sharing the host's registrar, backend and device. The session tracks the streams it started
 * (what `heard` each ended with) and tells its client of their state changes. It holds no other
 * actor's handle, so nothing an agent sends can act as anyone else.
 */
import type { ActorHandle } from '../registrar/actor-handle.js';
import type { AudioRegistrar } from '../registrar/registrar.js';
import type { RegistrarResult, TransitionEvent } from '../registrar/types.js';
import type { VoiceEngine } from '../engine/voice-engine.js';
import { endingAction } from '../engine/play-guards.js';
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

/** What a session play is given: its abort signal and the callback telling the session its stream. */
export interface PlayHooks {
  signal: AbortSignal;
  onStreamStart: (streamId: string) => void;
}

/** A dialogue playing (a Conversation): `interrupt()` ends it, also between two turns. */
export interface LiveDialogue {
  readonly id: string;
  interrupt(options?: { reason?: string }): RegistrarResult[];
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
  /** Places reserved by tools whose streams are starting (see `reserve`). */
  #reserved = 0;
  /** Dialogues of this session still playing. */
  readonly #dialogues = new Set<LiveDialogue>();
  /** Streams waiting for their first audio, and what to do then. */
  readonly #playing = new Map<string, () => void>();
  #closed = false;
  /** Settles once the streams going at close have ended (stopped by the agent, or played out). */
  #leaving: Promise<void> = Promise.resolve();
  #engineClosing: Promise<void> | null = null;
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

  /** The session's latest stream that has not ended (its play goes on, its stream is not stopped or failed), or undefined. */
  current(): TrackedPlay | undefined {
    return this.plays()
      .reverse()
      .find((play) => this.#live(play));
  }

  /** Whether a play goes on: not settled, its stream not stopped or failed. */
  #live(play: TrackedPlay): boolean {
    if (play.settled) return false;
    const state = this.#registrar.getState(play.streamId)?.state;
    return state !== 'stopped' && state !== 'failed';
  }

  /**
   * Starts `play` (a call of the session engine's play() given `hooks`) and resolves with its
   * stream once its audio started (the registrar allowed its play) or it ended, or rejects with
   * why it could not start. The speech itself goes on after this resolves.
   */
  launch(play: (engine: VoiceEngine, hooks: PlayHooks) => Promise<PlayResult>, conversationId?: string): Promise<TrackedPlay> {
    return this.start(play, conversationId).tracked;
  }

  /**
   * Starts `play` as `launch` does, and also gives the play's own promise (`running`, what the
   * engine's play() returns): a conversation turn is such a play. Each play is matched with its
   * stream by its own `onStreamStart`, so plays may start concurrently.
   */
  start(play: (engine: VoiceEngine, hooks: PlayHooks) => Promise<PlayResult>, conversationId?: string): { running: Promise<PlayResult>; tracked: Promise<TrackedPlay> } {
    if (this.#closed) {
      const closed = Promise.reject(new Error('the MCP session is closed'));
      closed.catch(() => undefined);
      return { running: closed, tracked: closed as Promise<never> };
    }
    let resolveTracked!: (play: TrackedPlay) => void;
    let rejectTracked!: (error: unknown) => void;
    const tracked = new Promise<TrackedPlay>((resolve, reject) => ((resolveTracked = resolve), (rejectTracked = reject)));
    // A caller may not wait for it (a conversation's later turns): its failure is the play's own.
    tracked.catch(() => undefined);
    // The play's promise, boxed (a promise resolved with a rejected one would reject unhandled).
    let resolveRunning!: (box: { running: Promise<PlayResult> }) => void;
    const runningLater = new Promise<{ running: Promise<PlayResult> }>((resolve) => (resolveRunning = resolve));
    const controller = new AbortController();
    let entry: TrackedPlay | null = null;
    const onStreamStart = (streamId: string): void => {
      const created: TrackedPlay = { streamId, startAttestationId: this.#registrar.getState(streamId)?.lastAttestation ?? '', abort: () => controller.abort(), done: Promise.resolve({ result: null, error: null }), settled: false, heard: null, ...(conversationId ? { conversationId } : {}) };
      entry = created;
      created.done = runningLater.then((box) => box.running).then(
        (result) => ({ result, error: null }),
        (error: unknown) => ({ result: null, error }),
      );
      void created.done.then(({ result }) => {
        created.settled = true;
        created.heard = result?.heard ?? null;
        this.#playing.delete(streamId);
        resolveTracked(created);
        this.#forgetEnded();
      });
      this.#plays.set(streamId, created);
      // Resolved when the audio starts (the stream can then be interrupted), or when it ends first.
      this.#playing.set(streamId, () => resolveTracked(created));
      this.#tell(created, 'started', created.startAttestationId, this.actor.key);
    };
    const running = this.engine().then((engine) => {
      if (this.#closed) throw new Error('the MCP session is closed');
      return play(engine, { signal: controller.signal, onStreamStart });
    });
    resolveRunning({ running });
    running.catch((error: unknown) => {
      if (entry === null) rejectTracked(error);
    });
    return { running, tracked };
  }

  /**
   * Streams of this session that take (or will take) a voice of the device: each dialogue playing
   * counts once (its turns play one after another), and each other stream not yet stopped or failed.
   */
  activeCount(): number {
    const inDialogue = new Set(this.dialogues().map((dialogue) => dialogue.id));
    const others = this.plays().filter((play) => (play.conversationId === undefined || !inDialogue.has(play.conversationId)) && this.#live(play)).length;
    return this.#reserved + inDialogue.size + others;
  }

  /**
   * Counts one more stream (in `activeCount`) until the returned release is called: a tool
   * reserves its place in the same tick it checked the cap, and releases it once its stream (or
   * dialogue) is tracked or failed, so concurrent calls cannot all pass the check.
   */
  reserve(): () => void {
    this.#reserved += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#reserved -= 1;
    };
  }

  /** Tracks a dialogue of this session until `done` settles. */
  dialogueStarted(dialogue: LiveDialogue, done: Promise<unknown>): void {
    this.#dialogues.add(dialogue);
    void done.finally(() => this.#dialogues.delete(dialogue));
  }

  /** The session's dialogues still playing, oldest first. */
  dialogues(): LiveDialogue[] {
    return [...this.#dialogues];
  }

  /**
   * Ends the session. Its client leaving is the agent's own act: each of its streams still going
   * is ended by the agent's request (`stop`, or `fail` before its audio), which the registrar may
   * deny (a user's accessibility override): such speech plays on to its end before the session's
   * engine closes. `force` (the host closing the server) ends what still plays at once, as the
   * runtime and by the host's authority (covered speech too), then closes the engine. No dialogue
   * starts another turn once closing began; nothing is told to the client any more. Idempotent.
   */
  async close(options: { force?: boolean } = {}): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      const going = this.plays().filter((play) => this.#live(play));
      for (const play of going) play.abort();
      this.#leaving = Promise.all(going.map((play) => play.done)).then(() => undefined);
    }
    if (options.force !== true) await this.#leaving;
    else this.#hostEnds();
    this.#engineClosing ??= (async () => {
      const engine = this.#engine;
      if (engine) await (await engine.catch(() => null))?.close();
      this.#stopListening();
    })();
    await this.#engineClosing;
  }

  /**
   * The host closing the server ends what the session still runs, as the runtime (the host holds
   * the registrar, which hands it the runtime's handle), covered by an override or not: the
   * engine's own close() would leave covered speech playing (closing is the owner's act there, and
   * the owner is the agent).
   */
  #hostEnds(): void {
    if (this.#registrar.halted) return;
    const runtime = this.#registrar.registerActor(this.#hostEngine.runtimeActor);
    for (const play of this.plays().filter((tracked) => this.#live(tracked))) {
      const action = endingAction(this.#registrar.getState(play.streamId)?.state);
      if (action !== null) this.#registrar.request({ action, actor: runtime, target: play.streamId, reason: 'engine_closed' });
    }
  }

  #onTransition(event: TransitionEvent): void {
    if (this.#closed) return;
    if (event.stateAfter === 'playing') this.#playing.get(event.streamId)?.();
    const tracked = this.#plays.get(event.streamId);
    // The start is told by the play's onStreamStart (it comes right after this transition).
    if (!tracked || event.action === 'start') return;
    const kind = event.stateAfter === 'interrupting' ? 'interrupted' : event.stateAfter === 'stopped' ? 'stopped' : event.stateAfter === 'failed' ? 'failed' : null;
    if (kind !== null) this.#tell(tracked, kind, event.attestationId, event.actor);
  }

  #tell(play: TrackedPlay, event: StreamNotice['event'], attestationId: string, actor: string): void {
    if (this.#closed) return;
    this.#notify({ event, stream_id: play.streamId, attestation_id: attestationId, actor, ...(play.conversationId ? { conversation_id: play.conversationId } : {}) });
  }

  /** Keeps running streams and the latest ended ones. */
  #forgetEnded(): void {
    const ended = this.plays().filter((play) => play.settled);
    for (const play of ended.slice(0, Math.max(0, ended.length - ENDED_STREAMS_KEPT))) this.#plays.delete(play.streamId);
  }
}
