/**
 * A scene as the engine plays it live: the mix rendered at the device's rate, handed to
 * `engine.play` as ONE registrar stream (start → compile, with the sha256 of the mix as its graph
 * hash → synthesize → play → stop). The dialogue inside was synthesized first by `engine.speak`,
 * one (device-less) stream per utterance; the device hears only the mix, through the play
 * stream's sink, in chunks of `MIX_CHUNK_MS` so an allowed interrupt cuts it within a chunk.
 */
import { createHash } from 'node:crypto';

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

/** Anything `engine.play` renders to a mix first (a Scene). */
export interface PlayableMix {
  /** Renders the mix at `sampleRateHz`, using `engine` for any synthesis. */
  renderMix(engine: unknown, sampleRateHz: number): Promise<RenderedMix>;
}

/** A RenderedMix of interleaved `pcm`. */
export function renderedMix(label: string, pcm: Float32Array, channels: number, sampleRateHz: number): RenderedMix {
  const contentHash = `sha256:${createHash('sha256').update(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength)).digest('hex')}`;
  return Object.freeze({ kind: 'rendered-mix', label, pcm, channels, sampleRateHz, contentHash });
}

/** Whether `value` is a RenderedMix. */
export function isRenderedMix(value: unknown): value is RenderedMix {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'rendered-mix' && (value as { pcm?: unknown }).pcm instanceof Float32Array;
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
