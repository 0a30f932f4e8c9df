/**
 * What a scene needs from an engine: `speak` (dialogue utterances, crowd voices). A structural
 * type, so scene/ does not import engine/ (imports point down); a VoiceEngine fits it.
 */

/** The part of VoiceEngine a scene uses. */
export interface SceneEngine {
  /** Synthesizes `text` whole (one registrar stream per call). */
  speak(text: string, options?: { voice?: string; rate?: number; sampleRateHz?: number }): Promise<{ audio: Float32Array; sampleRateHz: number; channels: number }>;
}

/** Interleaved PCM of `channels` channels averaged to mono. */
export function toMonoPlanar(pcm: Float32Array, channels: number): Float32Array {
  if (channels === 1) return pcm;
  const frames = Math.floor(pcm.length / channels);
  const out = new Float32Array(frames);
  for (let frame = 0; frame < frames; frame++) {
    let sum = 0;
    for (let channel = 0; channel < channels; channel++) sum += pcm[frame * channels + channel]!;
    out[frame] = sum / channels;
  }
  return out;
}
