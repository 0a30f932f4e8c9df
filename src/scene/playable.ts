/**
 * A scene as the engine plays it live: the mix rendered at the device's rate, handed to
 * `engine.play` as ONE registrar stream (start → compile, with the sha256 of the mix as its graph
 * hash → synthesize → play → stop). The dialogue inside was synthesized first by `engine.speak`,
 * one (device-less) stream per utterance; the device hears only the mix, through the play
 * stream's sink, in chunks of `MIX_CHUNK_MS` so an allowed interrupt cuts it within a chunk.
 * `PlayableMix` is public, so the engine trusts no mix it did not seal: `sealMix` checks the rate
 * and layout, copies the PCM (nothing can change it after its hash is taken), turns broken
 * samples (NaN, ±Infinity, beyond ±32) into sane ones and computes the hash itself; only a sealed
 * mix is audio to the engine (`isRenderedMix`), so what the compile registers is what is heard.
 */
import { createHash } from 'node:crypto';
import { sanitizePcm } from '../audio/pcm.js';
import { InputError } from '../errors.js';

/** Length of each chunk of a mix written to the device, ms. */
export const MIX_CHUNK_MS = 100;

/** A rendered mix ready for `engine.play`: interleaved PCM and its hash. */
export interface RenderedMix {
  readonly kind: 'rendered-mix';
  /** What it is (for logs): e.g. `scene`. */
  readonly label: string;
  readonly pcm: Float32Array;
  readonly channels: number;
  readonly sampleRateHz: number;
  /** `sha256:` of the PCM bytes: what the compile decision registers. */
  readonly contentHash: string;
}

/**
 * What an engine lets a mix it plays do (a guest engine made by `forActor`, whose calls a host may
 * relay from an agent, passes tighter ones): read local audio files, and take how much memory.
 */
export interface MixLimits {
  /** Whether file sources (a layer's or an effect's `file`) may be read. */
  readonly allowFiles: boolean;
  /** Most bytes the render's buses may take (a Scene's own bound is 8 GiB). */
  readonly maxMixBytes: number;
}

/**
 * The method an engine answers its MixLimits with (undefined: none beyond a scene's own), so a
 * scene rendered with it directly (`scene.render(engine)`, `renderToFile`) keeps them too.
 */
export const MIX_LIMITS_OF: unique symbol = Symbol('voice-soundboard.mixLimits');

/** The MixLimits `engine` asks for, when it is an engine that answers MIX_LIMITS_OF. */
export function mixLimitsOf(engine: unknown): MixLimits | undefined {
  const method = typeof engine === 'object' && engine !== null ? (engine as { [MIX_LIMITS_OF]?: unknown })[MIX_LIMITS_OF] : undefined;
  return typeof method === 'function' ? (method.call(engine) as MixLimits | undefined) : undefined;
}

/** Anything `engine.play` renders to a mix first (a Scene). */
export interface PlayableMix {
  /** Renders the mix at `sampleRateHz`, using `engine` for any synthesis, within `limits` when given. */
  renderMix(engine: unknown, sampleRateHz: number, limits?: MixLimits): Promise<RenderedMix>;
}

/** A RenderedMix of interleaved `pcm`. */
export function renderedMix(label: string, pcm: Float32Array, channels: number, sampleRateHz: number): RenderedMix {
  const contentHash = `sha256:${createHash('sha256').update(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength)).digest('hex')}`;
  return Object.freeze({ kind: 'rendered-mix', label, pcm, channels, sampleRateHz, contentHash });
}

const sealed = new WeakSet<object>();

/**
 * The engine's own copy of a mix a PlayableMix rendered (see the module comment): InputError
 * (field `mix`) when it is not a mix of 1 or 2 channels at `sampleRateHz`, whole frames only.
 */
export function sealMix(value: unknown, sampleRateHz: number): RenderedMix {
  const mix = value as Partial<RenderedMix> | null;
  const problem =
    typeof mix !== 'object' || mix === null || mix.kind !== 'rendered-mix' || !(mix.pcm instanceof Float32Array)
      ? 'expected what renderMix returns ({ kind: "rendered-mix", pcm: Float32Array, channels, sampleRateHz })'
      : mix.sampleRateHz !== sampleRateHz
        ? `rendered at ${String(mix.sampleRateHz)} Hz, not the ${sampleRateHz} Hz asked for`
        : mix.channels !== 1 && mix.channels !== 2
          ? `expected 1 or 2 channels (received ${String(mix.channels)})`
          : mix.pcm.length % mix.channels !== 0
            ? `${mix.pcm.length} samples are not whole frames of ${mix.channels} channels`
            : null;
  if (problem !== null) throw new InputError(`mix: ${problem}`, { code: 'MIX_INVALID', field: 'mix' });
  const valid = mix as RenderedMix;
  const pcm = sanitizePcm(valid.pcm);
  const result = renderedMix(typeof valid.label === 'string' ? valid.label.slice(0, 100) : 'mix', pcm === valid.pcm ? pcm.slice() : pcm, valid.channels, sampleRateHz);
  sealed.add(result);
  return result;
}

/** Whether `value` is a mix the engine sealed (`sealMix`): only those are played as audio. */
export function isRenderedMix(value: unknown): value is RenderedMix {
  return typeof value === 'object' && value !== null && sealed.has(value);
}

/** Whether `value` renders to a mix (has `renderMix`). */
export function isPlayableMix(value: unknown): value is PlayableMix {
  return typeof value === 'object' && value !== null && typeof (value as { renderMix?: unknown }).renderMix === 'function';
}

/** The mix in chunks of MIX_CHUNK_MS (views, no copy). */
export function* mixChunks(mix: RenderedMix): Generator<Float32Array> {
  const step = Math.max(1, Math.round((MIX_CHUNK_MS / 1000) * mix.sampleRateHz)) * mix.channels;
  for (let at = 0; at < mix.pcm.length; at += step) yield mix.pcm.subarray(at, Math.min(mix.pcm.length, at + step));
}
