/**
 * What a conversation needs of an engine, as a structural type: `VoiceEngine` has it, and the
 * conversation layer (below engine/ in the dependency direction) never imports the engine. Each
 * turn is one `stream()` (render) or one `play()` (live) call: one registrar stream per turn;
 * `voices()` says which voices speakers the cast leaves out may be given.
 */
import type { VoiceInfo } from '../backends/backend.js';
import type { WordTiming } from '../graph/engine-output.js';
import type { OverrideView, RegistrarResult, StreamView, TransitionEvent } from '../registrar/types.js';

/** Options a conversation passes for one turn (a subset of the engine's speak/play options). */
export interface TurnOptions {
  voice?: string;
  backend?: string;
  format?: 'text' | 'ssml' | 'markup' | 'auto';
  rate?: number;
  emotion?: string;
  sampleRateHz?: number;
  /** Extra fields of the turn stream's `start` metadata (the conversation id, turn, speaker). */
  streamMetadata?: Record<string, string | number | boolean>;
  /** Told the turn's stream id as soon as the registrar allowed its start. */
  onStreamStart?: (streamId: string) => void;
  signal?: AbortSignal;
}

/** Options of one live turn. */
export interface LiveTurnOptions extends TurnOptions {
  policy?: 'preempt' | 'queue' | 'duck' | 'mix';
  onProgress?: (progress: { done: number; total: number; audioMs: number }) => void;
}

/** A chunk of one turn's audio (what `stream()` yields). */
export interface TurnChunk {
  streamId: string;
  pcm: Float32Array;
  sampleRateHz: number;
  metadata: { wordTimings?: WordTiming[] | undefined };
}

/** What a live turn's play resolves with. */
export interface TurnPlayResult {
  streamId: string;
  durationMs: number;
  interrupted?: boolean;
  endedBy?: { readonly action: string; readonly actor: string | null; readonly reason: string | null };
}

/** The engine as a conversation uses it. */
export interface ConversationEngine {
  stream(text: string, options?: TurnOptions): AsyncIterable<TurnChunk>;
  play(text: string, options?: LiveTurnOptions): Promise<TurnPlayResult>;
  interrupt(streamId: string, options?: { reason?: string }): RegistrarResult;
  /** The voices of the engine's backend, or of the one `backend` names (where speakers' default voices come from). */
  voices(options?: { backend?: string }): Promise<VoiceInfo[]>;
  readonly runtimeActor: string;
  readonly registrar: {
    onTransition(listener: (event: TransitionEvent) => void): () => void;
    overrideFor(streamId: string): OverrideView | null;
    getState(streamId: string): StreamView | null;
  };
}

/**
 * The method an engine answers a whole-mix render with (a conversation's, a scene's): it takes the
 * engine's one mix slot when it has one (a guest made by `forActor` holds one mix at a time, each
 * holding its whole audio) and returns its release; it throws InputError naming `field` when the
 * slot is taken. Engines without it (the host's, any other) hold nothing.
 */
export const HOLD_MIX: unique symbol = Symbol('voice-soundboard.holdMix');

/** Runs `render` holding `engine`'s mix slot (HOLD_MIX) when it has one; released when it settles. */
export async function holdingMixOf<T>(engine: unknown, field: 'scene' | 'conversation', render: () => Promise<T>): Promise<T> {
  const method = typeof engine === 'object' && engine !== null ? (engine as { [HOLD_MIX]?: unknown })[HOLD_MIX] : undefined;
  const release = typeof method === 'function' ? (method.call(engine, field) as () => void) : undefined;
  try {
    return await render();
  } finally {
    release?.();
  }
}
