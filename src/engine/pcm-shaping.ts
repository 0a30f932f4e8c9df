/**
 * PCM shaping between a backend and the engine's output: one output rate for every chunk
 * (streaming resampler per segment), mono working layout, per-sentence loudness for streams.
 */
import { convertChannels } from '../audio/channels.js';
import { normalizeLoudness } from '../audio/loudness.js';
import { Resampler } from '../audio/resampler.js';

/** Mixes interleaved PCM down to mono (the engine's working layout). */
export function toMono(pcm: Float32Array, channels: number): Float32Array {
  return channels === 1 ? pcm : convertChannels(pcm, { inputChannels: channels, outputChannels: 1 });
}

/** Per-sentence loudness normalisation for streaming (integrated loudness needs the whole text). */
export function sentenceLoudness(pcm: Float32Array, sampleRateHz: number, target: { targetLufs?: number | undefined; truePeakLimitDb: number }): Float32Array {
  if (target.targetLufs === undefined) return pcm;
  const result = normalizeLoudness(pcm, { sampleRateHz, channels: 1, targetLufs: target.targetLufs, truePeakLimitDb: target.truePeakLimitDb });
  return Number.isFinite(result.before.integratedLufs) ? result.pcm : pcm;
}

/**
 * Converts every chunk to one output rate: the one asked for, else the rate of the first audio.
 * One streaming resampler per segment, flushed at its end so no audio is lost or smeared.
 */
export class RateConverter {
  rateHz: number | undefined;
  #resampler: Resampler | undefined;

  constructor(rateHz: number | undefined) {
    this.rateHz = rateHz;
  }

  convert(pcm: Float32Array, inputRateHz: number, flush: boolean): Float32Array {
    this.rateHz ??= inputRateHz;
    if (flush) {
      const tail = this.#resampler?.flush() ?? new Float32Array(0);
      this.#resampler = undefined;
      return tail;
    }
    if (inputRateHz === this.rateHz) return pcm;
    if (!this.#resampler || this.#resampler.inputRateHz !== inputRateHz) {
      this.#resampler = new Resampler({ inputRateHz, outputRateHz: this.rateHz });
    }
    return this.#resampler.process(pcm);
  }
}
