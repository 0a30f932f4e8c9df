/**
 * What a scene needs from an engine: `speak` (dialogue utterances, crowd voices). A structural
 * type, so scene/ does not import engine/ (imports point down); a VoiceEngine fits it.
 */
import { convertChannels } from '../audio/channels.js';
import type { ConversationEngine } from '../conversation/engine-face.js';

/** The part of VoiceEngine a scene uses. */
export interface SceneEngine {
  /** Synthesizes `text` whole (one registrar stream per call). */
  speak(text: string, options?: { voice?: string; rate?: number; sampleRateHz?: number; streamMetadata?: Record<string, string | number | boolean> }): Promise<{ audio: Float32Array; sampleRateHz: number; channels: number }>;
}

/** Interleaved PCM of `channels` channels averaged to mono. */
export function toMonoPlanar(pcm: Float32Array, channels: number): Float32Array {
  return channels === 1 ? pcm : convertChannels(pcm, { inputChannels: channels, outputChannels: 1 });
}

/** The engine a renderable dialogue source (a Conversation) is rendered with: the scene's engine, which must also stream turns (a VoiceEngine does). */
export type DialogueEngine = SceneEngine & ConversationEngine;

/** Whether the scene's engine can render a Conversation (has `stream`, `play`, `voices` and a registrar). */
export function isDialogueEngine(engine: SceneEngine): engine is DialogueEngine {
  const candidate = engine as Partial<ConversationEngine>;
  return typeof candidate.stream === 'function' && typeof candidate.play === 'function' && typeof candidate.voices === 'function' && typeof candidate.registrar === 'object' && candidate.registrar !== null;
}
