/**
 * The scene's data model, validated with zod at every edge: `new Scene(options)`, each `add…`
 * call and the JSON scene file (docs/SCENES.md) use the same schemas, so an error names the
 * path of the bad field (e.g. `scene.layers.2.duckAmount`).
 */
import { z } from 'zod';
import { AMBIANCE_GENERATORS, EFFECT_GENERATORS, type PlanarAudio } from './procedural.js';
import { levelSchema, spatialPositionSchema } from './levels.js';
import type { SeededRandom } from './random.js';
import { namedRecord } from '../validation.js';
import type { DialogueEngine, SceneEngine } from './scene-engine.js';

/** Kinds of layer a scene mixes. */
export const LAYER_KINDS = ['dialogue', 'music', 'ambiance', 'effects', 'custom'] as const;
/** See LAYER_KINDS. */
export type LayerKind = (typeof LAYER_KINDS)[number];

/** Longest scene, ms (one hour). */
export const MAX_SCENE_MS = 3_600_000;

/** Schema of `new Scene(options)`. */
export const sceneOptionsSchema = z.strictObject({
  /** Length of the mix; default: until the last dialogue turn, effect or non-looping layer ends. */
  durationMs: z.number().finite().positive().max(MAX_SCENE_MS).optional(),
  /** Seed of every procedural sound (default 0): the same seed renders the same bytes. */
  seed: z.number().int().min(0).max(0xffffffff).default(0),
  /** Rate of the mix in Hz (default 48 000). */
  sampleRate: z.number().int().min(8000).max(192_000).default(48_000),
});

/** What a generator function gets. */
export interface GeneratorContext {
  sampleRate: number;
  /** Frames the layer needs (beds); for an effect, 0: the generator picks its own length. */
  frames: number;
  /** This layer's own seeded random stream. */
  random: SeededRandom;
  engine: SceneEngine;
}

/** A custom sound: planar channels (1 or 2) or a mono array, at `context.sampleRate`. */
export type SoundGenerator = (context: GeneratorContext) => PlanarAudio | Float32Array | Promise<PlanarAudio | Float32Array>;

const generatorFunctionSchema = z.custom<SoundGenerator>((value) => typeof value === 'function', 'expected a function (context) => PCM');
const msSchema = z.number().finite().min(0).max(MAX_SCENE_MS);

/** Fields every layer has. */
const layerBase = {
  /** Name of the layer (unique; default its kind and index). Other layers' `duckFor` may name it. */
  name: z.string().min(1).max(100).optional(),
  /** Level: a ratio (1 = as is) or dB (`-6` or `"-6dB"`). */
  volume: levelSchema.default(1),
  /** Where the layer sits (mono sources are panned, stereo ones balanced; both attenuated by distance). */
  position: spatialPositionSchema.optional(),
};

/** Schema of the fields of a bed layer (music, ambiance, custom): timing, loop, fades, ducking. */
const bedFields = {
  ...layerBase,
  /** An audio file (WAV, FLAC, MP3, Opus, Ogg, AAC...), relative to the scene file or the working directory. */
  file: z.string().min(1).max(4096).optional(),
  /** A procedural ambiance. */
  generator: z.enum(AMBIANCE_GENERATORS).optional(),
  /** A function making the sound (API only). */
  source: generatorFunctionSchema.optional(),
  startMs: msSchema.default(0),
  /** Where the layer stops (default: the end of the scene). */
  endMs: msSchema.optional(),
  /** Repeat the source until `endMs` (seamless, crossfaded loop points). */
  loop: z.boolean().optional(),
  /** Crossfade at each loop point, ms (default 50; 0 repeats the source as is). */
  loopCrossfadeMs: z.number().finite().min(0).max(10_000).default(50),
  fadeInMs: msSchema.default(0),
  fadeOutMs: msSchema.default(0),
  /** Layer kinds or names this layer dips under (e.g. `["dialogue"]`). */
  duckFor: z.array(z.string().min(1).max(100)).max(16).optional(),
  /** How deep it dips: dB (`-12`, `"-12dB"`) or the ratio it keeps (`0.25`). Default −12 dB. */
  duckAmount: levelSchema.default(-12),
  /** Time to reach the full dip after the dialogue starts, ms (default 80). */
  duckAttackMs: z.number().finite().min(0).max(10_000).default(80),
  /** Time to come back after the dialogue stops, ms (default 400). */
  duckReleaseMs: z.number().finite().min(0).max(10_000).default(400),
  /** How long a pause in the dialogue must last before the release starts, ms (default 250). */
  duckHoldMs: z.number().finite().min(0).max(10_000).default(250),
  /** Dialogue envelope above which it counts as speaking, dBFS (default −40). */
  duckThresholdDb: z.number().finite().min(-100).max(0).default(-40),
};

const oneSource = (layer: { file?: unknown; generator?: unknown; source?: unknown }): boolean =>
  [layer.file, layer.generator, layer.source].filter((value) => value !== undefined).length === 1;
const oneSourceMessage = { message: 'expected exactly one of file, generator or source' };

/** Schema of a music, ambiance or custom layer. */
export const bedLayerSchema = z
  .strictObject({ kind: z.enum(['music', 'ambiance', 'custom']), ...bedFields })
  .refine(oneSource, oneSourceMessage);

/** One scripted turn of a dialogue layer, spoken with `engine.speak`. */
export const dialogueTurnSchema = z.strictObject({
  speaker: z.string().min(1).max(100).default('narrator'),
  text: z.string().min(1).max(100_000),
  /** Voice of the turn (default: the layer's cast for the speaker, else the engine's default). */
  voice: z.string().min(1).max(200).optional(),
  /** Start of the turn from the layer's start, ms (default: `gapMs` after the previous turn). */
  atMs: msSchema.optional(),
});

const renderedConversationSchema = z.custom<import('../conversation/types.js').RenderedConversation>(
  (value) => typeof value === 'object' && value !== null && Array.isArray((value as { turns?: unknown }).turns) && typeof (value as { sampleRate?: unknown }).sampleRate === 'number',
  'expected a RenderedConversation ({ sampleRate, durationMs, turns })',
);
const renderableSchema = z.custom<{ render(engine: DialogueEngine): Promise<import('../conversation/types.js').RenderedConversation> }>(
  (value) => typeof value === 'object' && value !== null && typeof (value as { render?: unknown }).render === 'function',
  'expected an object with render(engine)',
);

/** Schema of a dialogue layer: scripted turns, one utterance, or a (renderable) conversation. */
export const dialogueLayerSchema = z
  .strictObject({
    kind: z.literal('dialogue'),
    ...layerBase,
    /** Scripted turns, spoken one after the other. */
    turns: z.array(dialogueTurnSchema).min(1).max(10_000).optional(),
    /** One utterance (a narrator line). */
    text: z.string().min(1).max(100_000).optional(),
    /** A rendered conversation, or anything with `render(engine)` returning one (API only). */
    conversation: z.union([renderedConversationSchema, renderableSchema]).optional(),
    /** Voice by speaker for scripted turns (any name, `__proto__` and `constructor` included). */
    cast: namedRecord(z.string(), z.string().min(1).max(200)).optional(),
    /** Voice of `text`. */
    voice: z.string().min(1).max(200).optional(),
    /** Where each speaker stands (else the turn's own position, else the layer's). */
    positions: namedRecord(z.string(), spatialPositionSchema).optional(),
    /** Gap between scripted turns, ms (default 300). */
    gapMs: z.number().finite().min(0).max(60_000).default(300),
    /** Where the dialogue starts in the scene, ms. */
    startMs: msSchema.default(0),
  })
  .refine((layer) => [layer.turns, layer.text, layer.conversation].filter((value) => value !== undefined).length === 1, {
    message: 'expected exactly one of turns, text or conversation',
  });

/** Schema of one effect. */
export const effectSchema = z
  .strictObject({
    /** Where the effect starts, ms from the start of the scene (placed to the sample). */
    atMs: msSchema,
    file: z.string().min(1).max(4096).optional(),
    generator: z.enum(EFFECT_GENERATORS).optional(),
    source: generatorFunctionSchema.optional(),
    /** Generator parameters. */
    durationMs: z.number().finite().min(1).max(60_000).optional(),
    frequencyHz: z.number().finite().min(20).max(20_000).optional(),
    count: z.number().int().min(1).max(20).optional(),
    volume: levelSchema.default(1),
    position: spatialPositionSchema.optional(),
  })
  .refine(oneSource, oneSourceMessage);

/** Schema of any layer given to `addLayer` (effects go through `addEffect`). */
export const layerSchema = z.discriminatedUnion('kind', [dialogueLayerSchema, bedLayerSchema]);

/** Schema of a JSON scene file (docs/SCENES.md). */
export const sceneFileSchema = z.strictObject({
  ...sceneOptionsSchema.shape,
  layers: z.array(layerSchema).max(64).default([]),
  effects: z.array(effectSchema).max(10_000).default([]),
});

/** Options of `new Scene(...)` as a caller writes them. */
export type SceneOptions = z.input<typeof sceneOptionsSchema>;
/** A layer as a caller writes it (`addLayer`). */
export type SceneLayerInput = z.input<typeof layerSchema>;
/** A dialogue layer after validation. */
export type DialogueLayer = z.output<typeof dialogueLayerSchema>;
/** A bed layer after validation. */
export type BedLayer = z.output<typeof bedLayerSchema>;
/** An effect as a caller writes it. */
export type SceneEffectInput = z.input<typeof effectSchema>;
/** An effect after validation. */
export type SceneEffect = z.output<typeof effectSchema>;
/** A JSON scene file as written. */
export type SceneFile = z.input<typeof sceneFileSchema>;
