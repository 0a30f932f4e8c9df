/**
 * Channel-count conversion of interleaved float32 PCM: mono to N channels by copying, N channels
 * to mono by averaging (so identical channels come back unchanged), and N to N as a copy.
 */
import { z } from 'zod';
import { InputError } from '../errors.js';
import { parseInput } from '../validation.js';

/** Options of `convertChannels`. */
export interface ConvertChannelsOptions {
  inputChannels: number;
  outputChannels: number;
}

const convertChannelsOptionsSchema = z.object({
  inputChannels: z.number().int().min(1).max(64),
  outputChannels: z.number().int().min(1).max(64),
});

/**
 * Converts interleaved PCM between channel counts: 1→N duplicates, N→1 averages, N→N copies.
 * Other pairs (e.g. 6→2, which needs a downmix matrix) throw `InputError` (`CHANNELS_UNSUPPORTED`).
 */
export function convertChannels(pcm: Float32Array, options: ConvertChannelsOptions): Float32Array {
  parseInput(z.instanceof(Float32Array, { message: 'expected a Float32Array' }), pcm, 'pcm');
  const { inputChannels, outputChannels } = parseInput(convertChannelsOptionsSchema, options, 'options');
  if (pcm.length % inputChannels !== 0) {
    throw new InputError(
      `pcm: expected a sample count divisible by inputChannels (${inputChannels}) (received ${pcm.length})`,
      { field: 'pcm' },
    );
  }
  const frames = pcm.length / inputChannels;
  if (inputChannels === outputChannels) return pcm.slice();
  if (inputChannels === 1) {
    const out = new Float32Array(frames * outputChannels);
    for (let i = 0; i < frames; i++) out.fill(pcm[i]!, i * outputChannels, (i + 1) * outputChannels);
    return out;
  }
  if (outputChannels === 1) {
    const out = new Float32Array(frames);
    for (let i = 0; i < frames; i++) {
      let sum = 0;
      for (let c = 0; c < inputChannels; c++) sum += pcm[i * inputChannels + c]!;
      out[i] = sum / inputChannels;
    }
    return out;
  }
  throw new InputError(
    `options: cannot convert ${inputChannels} channels to ${outputChannels} (supported: 1→N, N→1, N→N)`,
    { code: 'CHANNELS_UNSUPPORTED', field: 'options.outputChannels' },
  );
}

/** Mono to stereo (both channels equal the input). */
export function monoToStereo(pcm: Float32Array): Float32Array {
  return convertChannels(pcm, { inputChannels: 1, outputChannels: 2 });
}

/** Stereo to mono (the average of left and right). */
export function stereoToMono(pcm: Float32Array): Float32Array {
  return convertChannels(pcm, { inputChannels: 2, outputChannels: 1 });
}
