/**
 * Scene: dialogue, music, ambiance, effects and custom layers mixed into one stereo track.
 * Build it with `addDialogue` / `addMusic` / `addAmbiance` / `addEffect` / `addLayer` (each
 * validated; errors name the field), then `render(engine)` → interleaved stereo PCM (the same seed
 * renders the same bytes), `renderToFile(engine, path)` → any supported format, or
 * `engine.play(scene)` → live, as one registrar stream (playable.ts). docs/SCENES.md.
 */
import { z } from 'zod';
import { writeAudioFile, type WrittenAudioFile } from '../audio/file-writer.js';
import { audioFormatSchema } from '../audio/encode.js';
import { InputError } from '../errors.js';
import { parseInput } from '../validation.js';
import { holdingMixOf } from '../conversation/engine-face.js';
import type { RenderedConversation } from '../conversation/types.js';
import { AMBIANCE_GENERATORS, EFFECT_GENERATORS, type AmbianceGenerator, type EffectGenerator } from './procedural.js';
import { mixLimitsOf, renderedMix, type PlayableMix, type RenderedMix } from './playable.js';
import { renderScene, type HeldLayer, type RenderedScene } from './render.js';
import {
  bedLayerSchema,
  dialogueLayerSchema,
  effectSchema,
  layerSchema,
  sceneOptionsSchema,
  type SceneEffect,
  type SceneEffectInput,
  type SceneLayerInput,
  type SceneOptions,
  type SoundGenerator,
} from './scene-schema.js';
import type { DialogueEngine, SceneEngine } from './scene-engine.js';

/** What a dialogue layer speaks: one utterance, a rendered conversation, or one that renders itself. */
export type DialogueSource = string | RenderedConversation | { render(engine: DialogueEngine): Promise<RenderedConversation> };

/** Options of `addDialogue` (the dialogue layer's fields but its source). */
export type DialogueOptions = Omit<Extract<SceneLayerInput, { kind: 'dialogue' }>, 'kind' | 'turns' | 'text' | 'conversation'>;
/** Options of `addMusic` / `addAmbiance` (a bed layer's fields but its kind and source). */
export type BedOptions = Omit<Extract<SceneLayerInput, { kind: 'music' | 'ambiance' | 'custom' }>, 'kind' | 'file' | 'generator' | 'source'>;
/** Options of `addEffect` (an effect's fields but its time and source). */
export type EffectOptions = Omit<SceneEffectInput, 'atMs' | 'file' | 'generator' | 'source'>;

/** Options of `render`. */
export interface SceneRenderOptions {
  /** Render at this rate instead of the scene's own. */
  sampleRate?: number;
}

/** Options of `renderToFile`. */
export interface SceneFileOptions extends SceneRenderOptions {
  /** Output format (default: from the extension). */
  audioFormat?: z.input<typeof audioFormatSchema>;
  /** Bitrate for lossy formats, kbit/s. */
  bitrateKbps?: number;
}

const renderOptionsSchema = z.strictObject({ sampleRate: z.number().int().min(8000).max(192_000).optional() });
const fileOptionsSchema = renderOptionsSchema.extend({ audioFormat: audioFormatSchema.optional(), bitrateKbps: z.number().int().min(6).max(640).optional() });
const engineSchema = z.custom<SceneEngine>((value) => typeof value === 'object' && value !== null && typeof (value as SceneEngine).speak === 'function', 'expected an engine with speak()');

/** Scene's renderMix without a slot (set in its static block; sceneMixInHeldSlot). */
let mixHeld: (scene: Scene, engine: unknown, sampleRateHz: number) => Promise<RenderedMix>;

/**
 * `scene.renderMix` for an engine whose play already holds the engine's mix slot (engine.play(scene)):
 * takes no second slot. Internal: not exported by the package, so only that play reaches it.
 */
export function sceneMixInHeldSlot(scene: Scene, engine: unknown, sampleRateHz: number): Promise<RenderedMix> {
  return mixHeld(scene, engine, sampleRateHz);
}

/** A scene of layers and timed effects, mixed to stereo. */
export class Scene implements PlayableMix {
  /** Length asked for, ms (undefined: until the last sound ends). */
  readonly durationMs: number | undefined;
  readonly seed: number;
  /** Rate of the mix, Hz. */
  readonly sampleRate: number;
  readonly #layers: HeldLayer[] = [];
  readonly #effects: SceneEffect[] = [];
  /** Directory relative file paths resolve against (the scene file's, or the working directory). */
  #baseDir = process.cwd();

  /** Validates the options (InputError naming the field). */
  constructor(options: SceneOptions = {}) {
    const parsed = parseInput(sceneOptionsSchema, options, 'options');
    this.durationMs = parsed.durationMs;
    this.seed = parsed.seed;
    this.sampleRate = parsed.sampleRate;
  }

  /** Sets the directory relative file paths resolve against (scene files use their own directory). */
  withBaseDir(directory: string): this {
    this.#baseDir = parseInput(z.string().min(1), directory, 'directory');
    return this;
  }

  /** A copy of this scene with another seed (same layers and effects). */
  withSeed(seed: number): Scene {
    const copy = new Scene({ seed, sampleRate: this.sampleRate, ...(this.durationMs !== undefined ? { durationMs: this.durationMs } : {}) }).withBaseDir(this.#baseDir);
    copy.#layers.push(...this.#layers);
    copy.#effects.push(...this.#effects);
    return copy;
  }

  /** Adds any layer (`kind` dialogue, music, ambiance or custom); see docs/SCENES.md for the fields. */
  addLayer(layer: SceneLayerInput): this {
    const parsed = parseInput(layerSchema, layer, 'layer');
    const name = parsed.name ?? `${parsed.kind}-${this.#layers.length}`;
    if (name === 'effects' || this.#layers.some((held) => held.name === name)) {
      throw new InputError(`layer.name: a layer named ${JSON.stringify(name)} exists already (names are unique; "effects" is the effects layer)`, { field: 'layer.name' });
    }
    this.#layers.push({ ...parsed, name });
    return this;
  }

  /** Adds a dialogue layer: one utterance (text), a RenderedConversation, or anything with `render(engine)`. */
  addDialogue(source: DialogueSource, options: DialogueOptions = {}): this {
    const body = typeof source === 'string' ? { text: source } : { conversation: source };
    parseInput(dialogueLayerSchema, { kind: 'dialogue', ...options, ...body }, 'dialogue');
    return this.addLayer({ kind: 'dialogue', ...options, ...body } as SceneLayerInput);
  }

  /** Adds a music layer from an audio file (plays once unless `loop`). */
  addMusic(file: string, options: BedOptions = {}): this {
    return this.#addBed('music', { file }, options);
  }

  /** Adds an ambiance: a procedural one by name (`rain`, `wind`, `room-tone`, `crowd`, `cafe`) or an audio file; loops by default. */
  addAmbiance(source: AmbianceGenerator | string, options: BedOptions = {}): this {
    const isGenerator = (AMBIANCE_GENERATORS as readonly string[]).includes(source);
    return this.#addBed('ambiance', isGenerator ? { generator: source as AmbianceGenerator } : { file: source }, options);
  }

  /** Adds an effect at `atMs` (placed to the sample): a generator by name, an audio file, or a function. */
  addEffect(atMs: number, fileOrGenerator: EffectGenerator | string | SoundGenerator, options: EffectOptions = {}): this {
    const source =
      typeof fileOrGenerator === 'function'
        ? { source: fileOrGenerator }
        : (EFFECT_GENERATORS as readonly string[]).includes(fileOrGenerator)
          ? { generator: fileOrGenerator as EffectGenerator }
          : { file: fileOrGenerator };
    this.#effects.push(parseInput(effectSchema, { ...options, atMs, ...source }, 'effect'));
    return this;
  }

  /**
   * Renders the mix: interleaved stereo float32 at the scene's rate, and where everything landed.
   * The engine's own MixLimits hold whichever way it renders (play, render, renderToFile).
   */
  async render(engine: SceneEngine, options: SceneRenderOptions = {}): Promise<RenderedScene> {
    parseInput(engineSchema, engine, 'engine');
    const parsed = parseInput(renderOptionsSchema, options, 'options');
    // A guest engine holds one mix at a time (its slot, taken for the render: HOLD_MIX).
    return holdingMixOf(engine, 'scene', () => this.#render(engine, parsed.sampleRate ?? this.sampleRate));
  }

  /** The render itself, within the engine's own MixLimits; the caller holds the mix slot. */
  #render(engine: SceneEngine, sampleRate: number): Promise<RenderedScene> {
    const limits = mixLimitsOf(engine);
    return renderScene({ durationMs: this.durationMs, seed: this.seed, sampleRate, layers: this.#layers, effects: this.#effects, baseDir: this.#baseDir, ...(limits ? { limits } : {}) }, engine);
  }

  /** Renders and writes the mix to `path` in any supported format (atomic: complete file or none). */
  async renderToFile(engine: SceneEngine, path: string, options: SceneFileOptions = {}): Promise<{ file: WrittenAudioFile; scene: Omit<RenderedScene, 'pcm'> }> {
    const { audioFormat, bitrateKbps, ...renderOptions } = parseInput(fileOptionsSchema, options, 'options');
    parseInput(z.string().min(1), path, 'path');
    const { pcm, ...scene } = await this.render(engine, renderOptions);
    const file = await writeAudioFile(path, pcm, { sampleRateHz: scene.sampleRate, channels: 2, ...(audioFormat ? { format: audioFormat } : {}), ...(bitrateKbps ? { bitrateKbps } : {}) });
    return { file, scene };
  }

  /**
   * The mix for `engine.play(scene)`, rendered at the device's rate (within the engine's own MixLimits, which `render` asks it
   * for: a caller's `limits` cannot loosen them). Called directly it takes the engine's mix slot like `render`.
   */
  async renderMix(engine: unknown, sampleRateHz: number): Promise<RenderedMix> {
    const checked = parseInput(engineSchema, engine, 'engine');
    return holdingMixOf(checked, 'scene', () => this.#mix(checked, sampleRateHz));
  }

  /** renderMix's render, within a slot its caller holds (sceneMixInHeldSlot). */
  async #mix(engine: SceneEngine, sampleRateHz: number): Promise<RenderedMix> {
    const rendered = await this.#render(engine, parseInput(renderOptionsSchema, { sampleRate: sampleRateHz }, 'options').sampleRate ?? this.sampleRate);
    return renderedMix('scene', rendered.pcm, 2, rendered.sampleRate);
  }

  static {
    // Module-private, not a method: engine.play(scene) holds the slot from the render to the end of the play.
    mixHeld = (scene, engine, sampleRateHz) => scene.#mix(parseInput(engineSchema, engine, 'engine'), sampleRateHz);
  }

  #addBed(kind: 'music' | 'ambiance', source: { file: string } | { generator: AmbianceGenerator }, options: BedOptions): this {
    parseInput(bedLayerSchema, { kind, ...options, ...source }, kind);
    return this.addLayer({ kind, ...options, ...source } as SceneLayerInput);
  }
}
