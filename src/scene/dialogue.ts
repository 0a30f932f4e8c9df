/**
 * A dialogue layer's audio: a RenderedConversation (from the conversation seam,
 * src/conversation/types.ts) made from what the layer holds (scripted turns or one utterance,
 * each synthesized with `engine.speak`; a rendered conversation as is; a renderable one rendered),
 * then placed in stereo: every turn at its speaker's position (constant-power pan and distance).
 */
import { Conversation, renderInHeldMix } from '../conversation/conversation.js';
import type { RenderedConversation, RenderedTurn, SpatialPosition } from '../conversation/types.js';
import { InputError } from '../errors.js';
import { positionGains } from './levels.js';
import type { PlanarAudio } from './procedural.js';
import type { DialogueLayer } from './scene-schema.js';
import { isDialogueEngine, toMonoPlanar, type SceneEngine } from './scene-engine.js';
import { resamplePlanar } from './sources.js';

/** What `record` holds for `speaker` itself: never a member of Object.prototype (a speaker may be named `constructor`). */
function ownEntry<Value>(record: Readonly<Record<string, Value>> | undefined, speaker: string): Value | undefined {
  return record !== undefined && Object.hasOwn(record, speaker) ? record[speaker] : undefined;
}

/** Speaks the layer's turns (or its one utterance) one after the other, `gapMs` apart. */
async function speakTurns(layer: DialogueLayer, engine: SceneEngine, sampleRate: number): Promise<RenderedConversation> {
  const turns = layer.turns ?? [{ speaker: 'narrator', text: layer.text ?? '', voice: layer.voice, atMs: undefined }];
  const rendered: RenderedTurn[] = [];
  let cursorMs = 0;
  for (const [index, turn] of turns.entries()) {
    const voice = turn.voice ?? ownEntry(layer.cast, turn.speaker);
    // Each turn's stream says in its start metadata who spoke it, with which voice, in which layer.
    const streamMetadata = { sceneLayer: layer.name ?? 'dialogue', sceneTurn: index, speaker: turn.speaker, voice: voice ?? 'default' };
    const result = await engine.speak(turn.text, { ...(voice !== undefined ? { voice } : {}), sampleRateHz: sampleRate, streamMetadata });
    const [mono] = resamplePlanar([toMonoPlanar(result.audio, result.channels)], result.sampleRateHz, sampleRate);
    const pcm = mono ?? new Float32Array(0);
    const startMs = turn.atMs ?? (index === 0 ? 0 : cursorMs + layer.gapMs);
    const endMs = startMs + (pcm.length / sampleRate) * 1000;
    rendered.push({ index, speaker: turn.speaker, voice: voice ?? '', startMs, endMs, pcm, words: [] });
    cursorMs = Math.max(cursorMs, endMs);
  }
  return { sampleRate, durationMs: cursorMs, turns: rendered };
}

/** The layer's conversation, rendered. */
export async function dialogueConversation(layer: DialogueLayer, engine: SceneEngine, sampleRate: number): Promise<RenderedConversation> {
  const source = layer.conversation;
  if (source === undefined) return speakTurns(layer, engine, sampleRate);
  if (!('render' in source && typeof source.render === 'function')) return source as RenderedConversation;
  if (!isDialogueEngine(engine)) throw new InputError(`layers.${layer.name ?? 'dialogue'}.conversation: rendering a conversation needs an engine that streams turns (a VoiceEngine); render it first and pass the RenderedConversation`, { field: 'conversation' });
  // A Conversation renders within the scene's own mix slot (a guest holds one mix at a time; this is
  // part of it); any other source's render is a caller's, and a conversation it renders takes the slot.
  return source instanceof Conversation ? renderInHeldMix(source, engine) : source.render(engine);
}

/** The placed dialogue: stereo, `frames` long, each turn at `layer.startMs` + its own start. */
export function placeConversation(conversation: RenderedConversation, layer: DialogueLayer, sampleRate: number, frames: number, gain: number): PlanarAudio {
  const out: PlanarAudio = [new Float32Array(frames), new Float32Array(frames)];
  for (const turn of conversation.turns) {
    const [pcm] = resamplePlanar([turn.pcm], conversation.sampleRate, sampleRate);
    const position: SpatialPosition | undefined = ownEntry(layer.positions, turn.speaker) ?? turn.position ?? layer.position;
    const gains = positionGains(position);
    const at = Math.round(((layer.startMs + turn.startMs) / 1000) * sampleRate);
    const left = out[0]!;
    const right = out[1]!;
    for (let offset = 0; offset < pcm!.length && at + offset < frames; offset++) {
      const sample = pcm![offset]! * gain;
      left[at + offset]! += sample * gains.left;
      right[at + offset]! += sample * gains.right;
    }
  }
  return out;
}

/** Where the last turn of a placed conversation ends, ms from the start of the scene. */
export function conversationEndMs(conversation: RenderedConversation, layer: DialogueLayer): number {
  const lastEnd = conversation.turns.reduce((end, turn) => Math.max(end, turn.startMs + (turn.pcm.length / conversation.sampleRate) * 1000), 0);
  return layer.startMs + lastEnd;
}
