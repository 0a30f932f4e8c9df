/**
 * The MCP `dialogue` tool's player until the conversation module (src/conversation/) is merged:
 * it plays the lines in order as the session agent's streams, each line one stream tagged with the
 * dialogue's conversation id (in the session's tracking and its notifications). A line cut short
 * (interrupted, stopped, failed) ends the dialogue: the remaining lines are not played. The lead
 * can swap the body for `engine.play(new Conversation(lines))` without touching the tool.
 */
import { randomUUID } from 'node:crypto';
import type { AgentSession, TrackedPlay } from './agent-session.js';

/** One line of a dialogue. */
export interface DialogueLine {
  speaker: string;
  text: string;
  voice?: string | undefined;
}

/** Starts the dialogue; resolves once its first line's stream started (the rest follows in order). */
export async function playDialogue(session: AgentSession, lines: readonly DialogueLine[]): Promise<{ conversationId: string; first: TrackedPlay; done: Promise<void> }> {
  const conversationId = `conv-${randomUUID()}`;
  const playLine = (line: DialogueLine) => session.launch((engine, signal) => engine.play(line.text, { signal, ...(line.voice !== undefined ? { voice: line.voice } : {}) }), conversationId);
  const [head, ...rest] = lines;
  if (!head) throw new Error('dialogue: no lines');
  const first = await playLine(head);
  const done = (async () => {
    let previous = first;
    for (const line of rest) {
      const ended = await previous.done;
      if (ended.error || ended.result?.interrupted || ended.result?.endedBy) return;
      previous = await playLine(line);
    }
    await previous.done;
  })().catch(() => undefined);
  return { conversationId, first, done };
}
