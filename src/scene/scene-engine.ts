/**
 * What a scene needs from an engine: `speak` (dialogue utterances, crowd voices). A structural
 * type, so scene/ does not import engine/ (imports point down); a VoiceEngine fits it.
 */
import { convertChannels } from '../audio/channels.js';

/** The part of VoiceEngine a scene uses. */
export interface SceneEngine {
  /** Synthesizes `text` whole (one registrar stream per call). */
  speak(text: string, options?: { voice?: string; rate?: number; sampleRateHz?: number }): Promise<{ audio: Float32Array; sampleRateHz: number; channels: number }>;
}

/** Interleaved PCM of `channels` channels averaged to mono. */
export function toMonoPlanar(pcm: Float32Array, channels: number): Float32Array {
  return channels === 1 ? pcm : convertChannels(pcm, { inputChannels: channels, outputChannels: 1 });
}
