/**
 * The synthetic-speech watermark's public face: `watermarkOptionsSchema` (the engine option
 * `watermark: { key, payload }`), `createWatermarkEmbedder` (one per stream, chunk by chunk),
 * `applyWatermark` (a whole buffer), `detectWatermark(audio, key)` → `{ present, payload,
 * confidence }`, and `watermarkId` (the non-secret id written into file tags).
 *
 * The mark is keyed and 35 dB under the host by construction: per 40 ms frame it adds a small,
 * host-shaped vector to the complex spectrum between 125 Hz and 2 kHz so that the spectrum's
 * normalised projection on a keyed direction encodes one bit of a convolutionally coded message
 * (32-bit payload and keyed CRC-24, 112 coded bits repeated every 4.48 s). Layout and numbers:
 * watermark-layout.ts; embedding: watermark-embed.ts; code: watermark-code.ts; search:
 * watermark-detect.ts; measured robustness: docs/WATERMARK.md.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { parseInput } from '../validation.js';
import { WatermarkEmbedder } from './watermark-embed.js';
import { searchWatermark } from './watermark-detect.js';
import { keyMaterial, MIN_RATE_HZ } from './watermark-layout.js';

export { WatermarkEmbedder } from './watermark-embed.js';

/** Schema of the `watermark` option: a secret key (at least 8 characters) and a 32-bit payload. */
export const watermarkOptionsSchema = z.strictObject({
  /** The secret the mark is keyed with; detection needs the same key. */
  key: z.string().min(8, 'expected a key of at least 8 characters').max(4096),
  /** 32 bits carried by the mark, e.g. a stream or tenant id (an unsigned integer below 2^32). */
  payload: z.number().int().min(0).max(0xffff_ffff),
});

/** What callers may pass as `watermark`. */
export type WatermarkOptions = z.input<typeof watermarkOptionsSchema>;

/** What `detectWatermark` found. */
export interface WatermarkDetection {
  /** True only when a sync word and the keyed CRC matched: a wrong key or unmarked audio gives false. */
  present: boolean;
  /** The 32-bit payload when present, else null. */
  payload: number | null;
  /** How clearly the repetitions agree, in [0, 1] (above about 0.6 for a clean mark). */
  confidence: number;
  /**
   * Why nothing was found when the clip itself may be the cause: shorter than 3 s, silent in the
   * marked band, or with less speech than the detector needs after codecs and noise.
   */
  reason?: string;
}

/** Audio to inspect: PCM (interleaved when `channels` > 1) and its rate. */
export interface WatermarkAudio {
  pcm: Float32Array;
  sampleRateHz: number;
  /** Interleaved channels (default 1); they are mixed to mono. */
  channels?: number;
}

const audioSchema = z.object({
  pcm: z.instanceof(Float32Array, { message: 'expected a Float32Array' }),
  sampleRateHz: z.number().int().min(8000).max(768_000),
  channels: z.number().int().min(1).max(64).default(1),
});

/** Creates the embedder of one stream (validates the options; the stream's rate must be a multiple of 25 Hz, ≥ 16 kHz, or it passes through unmarked). */
export function createWatermarkEmbedder(options: WatermarkOptions): WatermarkEmbedder {
  const { key, payload } = parseInput(watermarkOptionsSchema, options, 'watermark');
  return new WatermarkEmbedder(key, payload);
}

/** Marks a whole mono buffer (what a stream's embedder does chunk by chunk); returns a new array. */
export function applyWatermark(pcm: Float32Array, sampleRateHz: number, options: WatermarkOptions): Float32Array {
  parseInput(z.instanceof(Float32Array, { message: 'expected a Float32Array' }), pcm, 'pcm');
  parseInput(z.number().int().min(MIN_RATE_HZ).max(768_000).multipleOf(25), sampleRateHz, 'sampleRateHz');
  return createWatermarkEmbedder(options).process(pcm, sampleRateHz);
}

/**
 * Looks for the mark of `key` in `audio` (any rate ≥ 8 kHz, any offset: it may be cut from a longer
 * clip, re-encoded, resampled or re-levelled). Needs at least 3 s of audio (shorter gives
 * `present: false` with a reason); after codecs (Opus at 24 kbps included) and noise about 12 s of
 * speech (docs/WATERMARK.md). Cost: linear-log in the length (about 40 ms per second of audio here).
 */
export function detectWatermark(audio: WatermarkAudio, key: string): WatermarkDetection {
  const { pcm, sampleRateHz, channels } = parseInput(audioSchema, audio, 'audio');
  parseInput(watermarkOptionsSchema.shape.key, key, 'key');
  if (pcm.length % channels !== 0) {
    throw new InputError(`audio.pcm: expected a sample count divisible by channels (${channels}) (received ${pcm.length})`, { field: 'audio.pcm' });
  }
  const mono = channels === 1 ? pcm : mixToMono(pcm, channels);
  return searchWatermark(mono, sampleRateHz, keyMaterial(key));
}

/** A non-secret id of a watermark for file tags: `wm2-` (the mark of this scheme: 112-bit tail-biting message; `wm1-` files were marked with the 124-bit one this detector does not read) + 8 hex of the key's fingerprint + `-` + the payload in hex. */
export function watermarkId(options: WatermarkOptions): string {
  const { key, payload } = parseInput(watermarkOptionsSchema, options, 'watermark');
  const fingerprint = createHash('sha256').update('voice-soundboard watermark key id\0').update(key).digest('hex').slice(0, 8);
  return `wm2-${fingerprint}-${payload.toString(16).padStart(8, '0')}`;
}

function mixToMono(pcm: Float32Array, channels: number): Float32Array {
  const mono = new Float32Array(pcm.length / channels);
  for (let frame = 0; frame < mono.length; frame++) {
    let sum = 0;
    for (let channel = 0; channel < channels; channel++) sum += pcm[frame * channels + channel] ?? 0;
    mono[frame] = sum / channels;
  }
  return mono;
}
