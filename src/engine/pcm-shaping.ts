/**
 * PCM shaping between a backend and the engine's output: one output rate for every chunk
 * (streaming resampler per segment), mono working layout, per-sentence loudness for streams.
 */
import { convertChannels } from '../audio/channels.js';
import { limitTruePeak } from '../audio/limiter.js';
import { normalizeLoudness } from '../audio/loudness.js';
import { sanitizePcm } from '../audio/pcm.js';
import { Resampler } from '../audio/resampler.js';

/**
 * Mixes interleaved PCM down to mono (the engine's working layout). Every backend output enters
 * the engine here, so it is also where broken samples stop: NaN/±Infinity → 0, magnitudes clamped
 * to ±32 (`sanitizePcm`; a copy, the backend's array is not changed).
 */
export function toMono(pcm: Float32Array, channels: number): Float32Array {
  return sanitizePcm(channels === 1 ? pcm : convertChannels(pcm, { inputChannels: channels, outputChannels: 1 }));
}

/** A sentence shorter than one 400 ms BS.1770 block is measured repeated to this length. */
const SHORT_SENTENCE_LOOP_SECONDS = 2;

/**
 * Per-sentence loudness normalisation for streaming (integrated loudness needs the whole text):
 * each sentence reaches `targetLufs` on its own, under the true-peak ceiling through the limiter,
 * so sentences of any length land within the search's tolerance of the target and of each other.
 * A sentence shorter than one 400 ms block (no gated block) is measured as if repeated to 2 s:
 * its mean loudness over its own length. Silence is returned unchanged.
 */
export function sentenceLoudness(pcm: Float32Array, sampleRateHz: number, target: { targetLufs?: number | undefined; truePeakLimitDb: number }): Float32Array {
  if (target.targetLufs === undefined || pcm.length === 0) return pcm;
  const options = { sampleRateHz, channels: 1, targetLufs: target.targetLufs, truePeakLimitDb: target.truePeakLimitDb };
  const result = normalizeLoudness(pcm, options);
  if (Number.isFinite(result.before.integratedLufs) || pcm.length >= 0.4 * sampleRateHz) return result.pcm;
  const looped = new Float32Array(Math.ceil((SHORT_SENTENCE_LOOP_SECONDS * sampleRateHz) / pcm.length) * pcm.length);
  for (let offset = 0; offset < looped.length; offset += pcm.length) looped.set(pcm, offset);
  const { gainDb, before } = normalizeLoudness(looped, options);
  if (!Number.isFinite(before.integratedLufs)) return pcm;
  return limitTruePeak(pcm, { sampleRateHz, channels: 1, gainDb, ceilingDb: target.truePeakLimitDb }).pcm;
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
