/**
 * The MCP `dialogue` tool's player: the lines become a `Conversation` (src/conversation/) played
 * live by the session's agent. Each turn is its own registrar stream owned by the agent, with the
 * conversation id, turn, speaker and voice in its start metadata, and it is tracked by the session
 * like any `speak` (notifications, `interrupt`, `query_state`). Speakers get distinct voices from
 * the conversation's default cast; a line's `voice` casts its speaker (the first one given) and
 * is used for that line. One allowed interrupt of a turn ends the conversation: later turns never
 * start.
 */
import { Conversation } from '../conversation/conversation.js';
import type { ConversationEngine, LiveTurnOptions } from '../conversation/engine-face.js';
import type { ConversationPlayResult } from '../conversation/live.js';
import type { VoiceEngine } from '../engine/voice-engine.js';
import type { AgentSession, TrackedPlay } from './agent-session.js';

/** One line of a dialogue. */
export interface DialogueLine {
  speaker: string;
  text: string;
  voice?: string | undefined;
}

/** A dialogue once its first turn is audible (or ended). */
export interface StartedDialogue {
  conversationId: string;
  first: TrackedPlay;
  /** Settles when the conversation ends (never rejects). */
  done: Promise<ConversationPlayResult | null>;
  /** Ends the conversation between turns or during one (see `Conversation.interrupt`). */
  conversation: Conversation;
}

/** The conversation of `lines`: each speaker cast to the first voice a line of theirs names. */
export function conversationOf(lines: readonly DialogueLine[]): Conversation {
  const named = new Map<string, [string, { voice: string }]>();
  for (const line of lines) {
    const key = line.speaker.trim().toLowerCase();
    if (line.voice !== undefined && !named.has(key)) named.set(key, [line.speaker.trim(), { voice: line.voice }]);
  }
  // Own properties only: a speaker may be called "__proto__" (an assignment would set the prototype; the cast's parsing keeps it).
  const cast = Object.fromEntries(named.values());
  return new Conversation(
    lines.map((line) => ({ speaker: line.speaker, text: line.text })),
    { cast },
  );
}

/**
 * The voice a line names, else the first one a line of the same speaker names, else undefined
 * (the conversation's cast decides: the same first voice, or a default of the engine's backend).
 */
function voiceOfLine(lines: readonly DialogueLine[], index: number): string | undefined {
  const line = lines[index];
  if (line === undefined) return undefined;
  if (line.voice !== undefined) return line.voice;
  const key = line.speaker.trim().toLowerCase();
  return lines.find((other) => other.voice !== undefined && other.speaker.trim().toLowerCase() === key)?.voice;
}

/** The session engine as the conversation drives it: each turn's play is tracked by the session. */
function trackedEngine(session: AgentSession, engine: VoiceEngine, conversation: Conversation, lines: readonly DialogueLine[], onTurn: (play: Promise<TrackedPlay>) => void): ConversationEngine {
  return {
    stream: (text, options) => engine.stream(text, options),
    play: (text, options: LiveTurnOptions = {}) => {
      const turn = options.streamMetadata?.conversationTurn;
      const voice = (typeof turn === 'number' ? voiceOfLine(lines, turn) : undefined) ?? options.voice;
      const started = session.start(
        (sessionEngine, hooks) =>
          sessionEngine.play(text, {
            ...options,
            ...(voice !== undefined ? { voice } : {}),
            streamMetadata: { ...options.streamMetadata, ...(voice !== undefined ? { voice } : {}) },
            signal: options.signal ? AbortSignal.any([options.signal, hooks.signal]) : hooks.signal,
            onStreamStart: (streamId) => {
              hooks.onStreamStart(streamId);
              options.onStreamStart?.(streamId);
            },
          }),
        conversation.id,
      );
      onTurn(started.tracked);
      return started.running;
    },
    interrupt: (streamId, options) => engine.interrupt(streamId, options),
    voices: (options) => engine.voices(options),
    runtimeActor: engine.runtimeActor,
    registrar: engine.registrar,
  };
}

/** Starts the dialogue; resolves once its first turn is audible (or ended), or rejects with why it could not start. */
export async function playDialogue(session: AgentSession, lines: readonly DialogueLine[]): Promise<StartedDialogue> {
  const conversation = conversationOf(lines);
  const engine = await session.engine();
  let firstTurn: Promise<TrackedPlay> | null = null;
  let onFirst!: (play: Promise<TrackedPlay>) => void;
  const first = new Promise<Promise<TrackedPlay>>((resolve) => (onFirst = resolve));
  const face = trackedEngine(session, engine, conversation, lines, (play) => {
    if (firstTurn !== null) return;
    firstTurn = play;
    onFirst(play);
  });
  const playing = conversation.play(face);
  const done = playing.then(
    (result) => result,
    () => null,
  );
  // The conversation may fail before its first turn started (then there is none to wait for).
  const ended = playing.then(
    () => {
      throw new Error('the dialogue ended before its first line started');
    },
    (error: unknown) => {
      throw error;
    },
  );
  ended.catch(() => undefined);
  const head = await Promise.race([first.then((play) => play), ended]);
  return { conversationId: conversation.id, first: head, done, conversation };
}
