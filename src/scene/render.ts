/**
 * Rendering a scene: each layer to a stereo bus of the scene's length (sources decoded or
 * generated, looped, faded, levelled and placed), ducking from the buses they duck for, then the
 * sum, interleaved. Pure arithmetic on seeded sources: the same scene, seed and engine synthesis
 * give the same bytes.
 */
import { resolve } from 'node:path';
import { InputError } from '../errors.js';
import { cafe, crowd } from './babble.js';
import { balanceGains, levelToRatio, positionGains } from './levels.js';
import { applyFades, fitTo, loopTo } from './loop.js';
import { ambianceOf, effectOf, type PlanarAudio } from './procedural.js';
import { forkRandom } from './random.js';
import { duckGainCurve, speakingFrames } from './ducking.js';
import { conversationEndMs, dialogueConversation, placeConversation } from './dialogue.js';
import type { BedLayer, DialogueLayer, GeneratorContext, LayerKind, SceneEffect } from './scene-schema.js';
import type { SceneEngine } from './scene-engine.js';
import { loadAudioFile } from './sources.js';
import type { MixLimits } from './playable.js';

/** A layer as the scene holds it: validated, named. */
export type HeldLayer = (DialogueLayer | BedLayer) & { name: string };

/** Where a layer sits in the rendered mix. */
export interface RenderedLayerInfo {
  name: string;
  kind: LayerKind;
  startMs: number;
  endMs: number;
}

/** A rendered scene: interleaved stereo float32 and where everything landed. */
export interface RenderedScene {
  /** Interleaved stereo PCM (L, R, L, R...). */
  pcm: Float32Array;
  sampleRate: number;
  channels: 2;
  frames: number;
  durationMs: number;
  layers: RenderedLayerInfo[];
  /** Each effect's start, ms and frame (frame = round(atMs · sampleRate / 1000)). */
  effects: Array<{ atMs: number; frame: number }>;
  /** Every dialogue turn, ms from the start of the scene. */
  turns: Array<{ layer: string; speaker: string; startMs: number; endMs: number }>;
}

/** What `renderScene` needs besides the engine. */
export interface RenderInput {
  durationMs: number | undefined;
  seed: number;
  sampleRate: number;
  layers: readonly HeldLayer[];
  effects: readonly SceneEffect[];
  /** Relative file paths resolve against it. */
  baseDir: string;
  /** Tighter bounds an engine asks for (a guest engine's): no file sources, a smaller mix. */
  limits?: MixLimits;
}

const msToFrames = (ms: number, sampleRate: number): number => Math.round((ms / 1000) * sampleRate);

/**
 * Most memory a render's mix may take (bytes): one stereo float32 bus per layer, one for the
 * effects, the mix itself and a gain curve per ducking layer. A one-hour scene at 48 kHz with four
 * layers and effects fits; more layers, a higher rate or a longer scene is `SCENE_TOO_LARGE`
 * before anything is allocated (rather than the process running out of memory).
 */
export const MAX_SCENE_MIX_BYTES = 8 * 1024 ** 3;

/** Most memory the effects' sounds may take together before they are placed (bytes). */
export const MAX_EFFECT_SOUND_BYTES = 1024 ** 3;

/**
 * Every effect's sound, one after the other (never thousands of ffmpeg children at once), refused
 * with `SCENE_TOO_LARGE` as soon as they pass MAX_EFFECT_SOUND_BYTES together.
 */
async function loadEffects(input: RenderInput, engine: SceneEngine): Promise<PlanarAudio[]> {
  const sounds: PlanarAudio[] = [];
  let bytes = 0;
  for (const [index, effect] of input.effects.entries()) {
    const sound = await effectSound(effect, index, input, engine);
    bytes += sound.reduce((total, channel) => total + channel.byteLength, 0);
    if (bytes > MAX_EFFECT_SOUND_BYTES) {
      throw new InputError(`scene.effects.${index}: the effects' sounds up to this one take more than the ${MAX_EFFECT_SOUND_BYTES / 1024 ** 3} GiB a scene may hold; use fewer or shorter effects`, { code: 'SCENE_TOO_LARGE', field: `scene.effects.${index}` });
    }
    sounds.push(sound);
  }
  return sounds;
}

/** Refuses a render whose buses would pass MAX_SCENE_MIX_BYTES (or the engine's tighter `limits.maxMixBytes`). */
function checkMixBudget(input: RenderInput, durationMs: number): void {
  const frames = msToFrames(durationMs, input.sampleRate);
  const buses = input.layers.length + (input.effects.length > 0 ? 1 : 0) + 1;
  const curves = input.layers.filter((layer) => layer.kind !== 'dialogue' && (layer.duckFor?.length ?? 0) > 0).length;
  const bytes = frames * (8 * buses + 4 * curves);
  const limit = Math.min(MAX_SCENE_MIX_BYTES, input.limits?.maxMixBytes ?? MAX_SCENE_MIX_BYTES);
  if (bytes > limit) {
    throw new InputError(
      `scene: rendering ${(durationMs / 1000).toFixed(1)} s at ${input.sampleRate} Hz with ${input.layers.length} layers needs ${(bytes / 1024 ** 3).toFixed(1)} GiB, more than the ${limit / 1024 ** 3} GiB ${limit < MAX_SCENE_MIX_BYTES ? 'this engine lets a scene take' : 'a scene may take'}; shorten it, lower sampleRate or use fewer layers`,
      { code: 'SCENE_TOO_LARGE', field: 'scene.durationMs' },
    );
  }
}

/** Refuses file sources when the engine's limits forbid them (a guest engine's), before anything is read or synthesized. */
function checkFileSources(input: RenderInput): void {
  if (input.limits === undefined || input.limits.allowFiles) return;
  const forbidden = (field: string) =>
    new InputError(`${field}: this engine (made by forActor) reads no audio file for a scene (a file source is for its host's calls): use a generator or a source`, {
      code: 'SCENE_SOURCE_FORBIDDEN',
      field,
    });
  for (const layer of input.layers) if (layer.kind !== 'dialogue' && layer.file !== undefined) throw forbidden(`scene.layers.${layer.name}.file`);
  input.effects.forEach((effect, index) => {
    if (effect.file !== undefined) throw forbidden(`scene.effects.${index}.file`);
  });
}

/** A generator's output as planar audio. */
function planar(audio: PlanarAudio | Float32Array): PlanarAudio {
  return audio instanceof Float32Array ? [audio] : audio.slice(0, 2);
}

/** The raw sound of a bed layer, `frames` long when generated (files keep their own length). */
async function bedSound(layer: BedLayer & { name: string }, frames: number, input: RenderInput, engine: SceneEngine): Promise<PlanarAudio> {
  const field = `layers.${layer.name}`;
  const random = forkRandom(input.seed, `layer:${layer.name}`);
  if (layer.file !== undefined) return loadAudioFile(resolve(input.baseDir, layer.file), input.sampleRate, field);
  if (layer.source !== undefined) return planar(await layer.source({ sampleRate: input.sampleRate, frames, random, engine }));
  switch (layer.generator) {
    case 'crowd':
      return crowd(frames, input.sampleRate, random, engine);
    case 'cafe':
      return cafe(frames, input.sampleRate, random, engine);
    case undefined:
      throw new InputError(`${field}: expected exactly one of file, generator or source`, { field });
    default:
      return ambianceOf(layer.generator, frames, input.sampleRate, random);
  }
}

/** The sound of one effect. */
async function effectSound(effect: SceneEffect, index: number, input: RenderInput, engine: SceneEngine): Promise<PlanarAudio> {
  const random = forkRandom(input.seed, `effect:${index}`);
  if (effect.file !== undefined) return loadAudioFile(resolve(input.baseDir, effect.file), input.sampleRate, `effects.${index}`);
  if (effect.source !== undefined) return planar(await effect.source({ sampleRate: input.sampleRate, frames: 0, random, engine } satisfies GeneratorContext));
  return effectOf(effect.generator ?? 'beep', input.sampleRate, random, effect);
}

/** Adds `sound` (mono panned, stereo balanced) × `gain` into `bus` from frame `at`. */
function place(bus: PlanarAudio, sound: PlanarAudio, at: number, gain: number, position: Parameters<typeof positionGains>[0]): void {
  const gains = sound.length === 1 ? positionGains(position) : balanceGains(position);
  const left = sound[0]!;
  const right = sound[1] ?? left;
  const frames = bus[0]!.length;
  for (let offset = Math.max(0, -at); offset < left.length && at + offset < frames; offset++) {
    bus[0]![at + offset]! += left[offset]! * gain * gains.left;
    bus[1]![at + offset]! += right[offset]! * gain * gains.right;
  }
}

/** Whether a bed layer loops (ambiances and generated beds loop by default, files do not). */
function loops(layer: BedLayer): boolean {
  return layer.loop ?? (layer.kind === 'ambiance' || layer.file === undefined);
}

/** Renders the scene (see the module comment). */
export async function renderScene(input: RenderInput, engine: SceneEngine): Promise<RenderedScene> {
  const { sampleRate } = input;
  checkFileSources(input);
  if (input.durationMs !== undefined) checkMixBudget(input, input.durationMs);
  // Sources whose length decides the scene's length come first: dialogue, effects, files.
  const dialogues = await Promise.all(input.layers.filter((layer): layer is DialogueLayer & { name: string } => layer.kind === 'dialogue').map(async (layer) => ({ layer, conversation: await dialogueConversation(layer, engine, sampleRate) })));
  const effectSounds = await loadEffects(input, engine);
  const beds = input.layers.filter((layer): layer is BedLayer & { name: string } => layer.kind !== 'dialogue');
  const files = new Map<string, PlanarAudio>();
  for (const layer of beds) if (layer.file !== undefined) files.set(layer.name, await bedSound(layer, 0, input, engine));

  let naturalMs = 0;
  for (const { layer, conversation } of dialogues) naturalMs = Math.max(naturalMs, conversationEndMs(conversation, layer));
  input.effects.forEach((effect, index) => (naturalMs = Math.max(naturalMs, effect.atMs + ((effectSounds[index]![0]?.length ?? 0) / sampleRate) * 1000)));
  for (const layer of beds) {
    if (layer.endMs !== undefined) naturalMs = Math.max(naturalMs, layer.endMs);
    else if (!loops(layer) && files.has(layer.name)) naturalMs = Math.max(naturalMs, layer.startMs + ((files.get(layer.name)![0]?.length ?? 0) / sampleRate) * 1000);
  }
  const durationMs = input.durationMs ?? naturalMs;
  if (!(durationMs > 0)) {
    throw new InputError('scene.durationMs: the scene has no length (no dialogue, effect, file or endMs ends anywhere); give durationMs', { code: 'SCENE_EMPTY', field: 'scene.durationMs' });
  }
  checkMixBudget(input, durationMs);
  const frames = msToFrames(durationMs, sampleRate);
  const buses = new Map<string, { kind: LayerKind; audio: PlanarAudio }>();
  const layerInfo: RenderedLayerInfo[] = [];
  const turns: RenderedScene['turns'] = [];

  for (const { layer, conversation } of dialogues) {
    buses.set(layer.name, { kind: 'dialogue', audio: placeConversation(conversation, layer, sampleRate, frames, levelToRatio(layer.volume)) });
    layerInfo.push({ name: layer.name, kind: 'dialogue', startMs: layer.startMs, endMs: Math.min(durationMs, conversationEndMs(conversation, layer)) });
    for (const turn of conversation.turns) turns.push({ layer: layer.name, speaker: turn.speaker, startMs: layer.startMs + turn.startMs, endMs: layer.startMs + turn.endMs });
  }
  for (const layer of beds) {
    const start = Math.min(frames, msToFrames(layer.startMs, sampleRate));
    const end = Math.min(frames, layer.endMs !== undefined ? msToFrames(layer.endMs, sampleRate) : frames);
    const span = Math.max(0, end - start);
    const raw = files.get(layer.name) ?? (await bedSound(layer, span, input, engine));
    const shaped = loops(layer) ? loopTo(raw, span, msToFrames(layer.loopCrossfadeMs, sampleRate)) : fitTo(raw, Math.min(span, raw[0]?.length ?? 0));
    applyFades(shaped, msToFrames(layer.fadeInMs, sampleRate), msToFrames(layer.fadeOutMs, sampleRate));
    const bus: PlanarAudio = [new Float32Array(frames), new Float32Array(frames)];
    place(bus, shaped, start, levelToRatio(layer.volume), layer.position);
    buses.set(layer.name, { kind: layer.kind, audio: bus });
    layerInfo.push({ name: layer.name, kind: layer.kind, startMs: layer.startMs, endMs: ((start + (shaped[0]?.length ?? 0)) / sampleRate) * 1000 });
  }
  if (input.effects.length > 0) {
    const bus: PlanarAudio = [new Float32Array(frames), new Float32Array(frames)];
    input.effects.forEach((effect, index) => place(bus, effectSounds[index]!, msToFrames(effect.atMs, sampleRate), levelToRatio(effect.volume), effect.position));
    buses.set('effects', { kind: 'effects', audio: bus });
    layerInfo.push({ name: 'effects', kind: 'effects', startMs: 0, endMs: durationMs });
  }

  // Ducking: every gain curve comes from the buses as they were before any ducking (no feedback).
  const curves = new Map<string, Float32Array>();
  for (const layer of beds) {
    if (!layer.duckFor || layer.duckFor.length === 0) continue;
    const key = new Float32Array(frames);
    for (const [name, bus] of buses) {
      if (name === layer.name || !(layer.duckFor.includes(name) || layer.duckFor.includes(bus.kind))) continue;
      const [left, right] = bus.audio as [Float32Array, Float32Array];
      for (let index = 0; index < frames; index++) {
        const level = Math.max(Math.abs(left[index]!), Math.abs(right[index]!));
        if (level > key[index]!) key[index] = level;
      }
    }
    const shape = { depthDb: 20 * Math.log10(Math.max(1e-6, levelToRatio(layer.duckAmount))), attackMs: layer.duckAttackMs, releaseMs: layer.duckReleaseMs, holdMs: layer.duckHoldMs, thresholdDb: layer.duckThresholdDb };
    curves.set(layer.name, duckGainCurve(speakingFrames(key, sampleRate, shape), sampleRate, shape));
  }

  const pcm = new Float32Array(frames * 2);
  for (const [name, bus] of buses) {
    const curve = curves.get(name);
    const [left, right] = bus.audio as [Float32Array, Float32Array];
    if (curve) {
      for (let index = 0; index < frames; index++) {
        pcm[2 * index]! += left[index]! * curve[index]!;
        pcm[2 * index + 1]! += right[index]! * curve[index]!;
      }
    } else {
      for (let index = 0; index < frames; index++) {
        pcm[2 * index]! += left[index]!;
        pcm[2 * index + 1]! += right[index]!;
      }
    }
  }
  return {
    pcm,
    sampleRate,
    channels: 2,
    frames,
    durationMs: (frames / sampleRate) * 1000,
    layers: layerInfo,
    effects: input.effects.map((effect) => ({ atMs: effect.atMs, frame: msToFrames(effect.atMs, sampleRate) })),
    turns,
  };
}
