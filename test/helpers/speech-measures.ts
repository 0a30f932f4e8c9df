/**
 * Measures on rendered speech, independent of the engine's own data: a voice's median pitch
 * (autocorrelation over voiced 40 ms frames), speech onsets and offsets (1 ms RMS frames against
 * a threshold under the loudest frame), and where a known clip sits in a mix
 * (cross-correlation around an expected offset).
 */
import { frameRms } from './pause-gaps.js';

/** Median fundamental frequency (Hz) of the voiced parts of `pcm` (60–500 Hz), or 0 when none is voiced. */
export function medianPitchHz(pcm: Float32Array, sampleRateHz: number): number {
  const frame = Math.round(sampleRateHz * 0.04);
  const hop = Math.round(sampleRateHz * 0.01);
  const minLag = Math.floor(sampleRateHz / 500);
  const maxLag = Math.ceil(sampleRateHz / 60);
  let peak = 0;
  for (const value of pcm) peak = Math.max(peak, Math.abs(value));
  const pitches: number[] = [];
  for (let start = 0; start + frame + maxLag < pcm.length; start += hop) {
    let energy = 0;
    for (let i = start; i < start + frame; i++) energy += (pcm[i] as number) ** 2;
    if (Math.sqrt(energy / frame) < peak * 0.05) continue;
    let bestLag = 0;
    let best = 0;
    for (let lag = minLag; lag <= maxLag; lag++) {
      let sum = 0;
      let norm = 0;
      for (let i = start; i < start + frame; i++) {
        sum += (pcm[i] as number) * (pcm[i + lag] as number);
        norm += (pcm[i + lag] as number) ** 2;
      }
      const score = sum / Math.sqrt(energy * norm + 1e-12);
      if (score > best) {
        best = score;
        bestLag = lag;
      }
    }
    // Voiced frames only: a strong periodicity.
    if (best > 0.6 && bestLag > 0) pitches.push(sampleRateHz / bestLag);
  }
  if (pitches.length === 0) return 0;
  pitches.sort((a, b) => a - b);
  return pitches[Math.floor(pitches.length / 2)] as number;
}

/** Sound runs of `pcm` (ms): runs of frames above `belowPeakDb` of the loudest, split by at least `minGapMs` of quiet. */
export function speechRuns(pcm: Float32Array, sampleRateHz: number, minGapMs: number, belowPeakDb = -40): Array<{ onsetMs: number; offsetMs: number }> {
  const rms = frameRms(pcm, sampleRateHz);
  let loudest = 0;
  for (const value of rms) loudest = Math.max(loudest, value);
  const threshold = loudest * 10 ** (belowPeakDb / 20);
  // A frame is a whole number of samples (22 at 22.05 kHz): its index times its own length is the time.
  const frameMs = (Math.max(1, Math.round(sampleRateHz / 1000)) / sampleRateHz) * 1000;
  const runs: Array<{ onsetMs: number; offsetMs: number }> = [];
  let lastSpeech = -Infinity;
  for (let frame = 0; frame < rms.length; frame++) {
    if ((rms[frame] as number) <= threshold) continue;
    const current = runs.at(-1);
    if (current && (frame - lastSpeech - 1) * frameMs < minGapMs) current.offsetMs = (frame + 1) * frameMs;
    else runs.push({ onsetMs: frame * frameMs, offsetMs: (frame + 1) * frameMs });
    lastSpeech = frame;
  }
  return runs;
}

/** Where `clip` best matches `mix` within ±`searchMs` of `expectedMs` (ms, by normalised cross-correlation). */
export function locateClipMs(mix: Float32Array, clip: Float32Array, sampleRateHz: number, expectedMs: number, searchMs = 50): number {
  const expected = Math.round((expectedMs / 1000) * sampleRateHz);
  const search = Math.round((searchMs / 1000) * sampleRateHz);
  const length = Math.min(clip.length, Math.round(sampleRateHz * 0.25));
  let bestOffset = expected;
  let best = -Infinity;
  for (let offset = Math.max(0, expected - search); offset <= expected + search && offset + length <= mix.length; offset++) {
    let sum = 0;
    let norm = 0;
    for (let i = 0; i < length; i++) {
      sum += (clip[i] as number) * (mix[offset + i] as number);
      norm += (mix[offset + i] as number) ** 2;
    }
    const score = sum / Math.sqrt(norm + 1e-12);
    if (score > best) {
      best = score;
      bestOffset = offset;
    }
  }
  return (bestOffset / sampleRateHz) * 1000;
}
