/**
 * Measures pauses in produced audio the way a listener's meter would, independently of the
 * engine's trim code: the PCM is cut into 1 ms frames, a frame is *speech* when its RMS is within
 * 40 dB of the loudest frame of the whole output, and a pause is a run of non-speech frames at
 * least `minGapMs` long (longer than the ~40–55 ms closures of stop consonants inside words).
 */

/** One pause found in the audio. */
export interface MeasuredGap {
  /** Where the pause starts, in ms from the start of the audio. */
  startMs: number;
  /** Its length, in ms (1 ms resolution). */
  lengthMs: number;
}

/** Speech threshold: 40 dB under the loudest 1 ms frame. */
const SPEECH_BELOW_PEAK_DB = -40;

/** RMS of each 1 ms frame of mono `pcm` (a frame is round(rate / 1000) samples). */
export function frameRms(pcm: Float32Array, sampleRateHz: number): Float64Array {
  const frameSamples = Math.max(1, Math.round(sampleRateHz / 1000));
  const frames = new Float64Array(Math.floor(pcm.length / frameSamples));
  for (let frame = 0; frame < frames.length; frame++) {
    let sum = 0;
    for (let index = frame * frameSamples; index < (frame + 1) * frameSamples; index++) sum += (pcm[index] as number) ** 2;
    frames[frame] = Math.sqrt(sum / frameSamples);
  }
  return frames;
}

/** The pauses between speech in `pcm` (not the silence before the first or after the last speech). */
export function measureGaps(pcm: Float32Array, sampleRateHz: number, minGapMs = 60): MeasuredGap[] {
  const rms = frameRms(pcm, sampleRateHz);
  let loudest = 0;
  for (const value of rms) loudest = Math.max(loudest, value);
  const threshold = loudest * 10 ** (SPEECH_BELOW_PEAK_DB / 20);
  const gaps: MeasuredGap[] = [];
  let lastSpeech = -1;
  for (let frame = 0; frame < rms.length; frame++) {
    if ((rms[frame] as number) <= threshold) continue;
    const quiet = frame - lastSpeech - 1;
    if (lastSpeech >= 0 && quiet >= minGapMs) gaps.push({ startMs: lastSpeech + 1, lengthMs: quiet });
    lastSpeech = frame;
  }
  return gaps;
}

/** The longest pause in `pcm` (0 when none is at least `minGapMs`). */
export function longestGapMs(pcm: Float32Array, sampleRateHz: number, minGapMs = 20): number {
  return Math.max(0, ...measureGaps(pcm, sampleRateHz, minGapMs).map((gap) => gap.lengthMs));
}
