/**
 * Shaping a layer's audio in time: seamless loops and fades.
 *
 * A loop of a source N frames long with a crossfade of C frames repeats a period of P = N − C
 * frames. The first pass plays the source from its start; every later pass plays the "loop
 * body", whose first C frames are the source's head faded in over its tail (frames P…N−1) faded
 * out, equal-power. At each seam the output goes from frame P−1 of the source to (almost) frame P
 * of the source, which follow each other in the original: no jump, so no click, whatever the
 * content. A crossfade of 0 repeats the source as is (a click wherever its ends do not meet).
 */
import type { PlanarAudio } from './procedural.js';

/** `audio` repeated to `frames` frames with crossfaded loop points (see the module comment). */
export function loopTo(audio: PlanarAudio, frames: number, crossfadeFrames: number): PlanarAudio {
  const length = audio[0]?.length ?? 0;
  if (length === 0) return audio.map(() => new Float32Array(frames));
  // The crossfade may take at most half the source (the period must stay longer than it).
  const fade = Math.max(0, Math.min(crossfadeFrames, Math.floor(length / 2)));
  const period = length - fade;
  return audio.map((source) => {
    const body = new Float32Array(period);
    body.set(source.subarray(0, period));
    for (let index = 0; index < fade; index++) {
      const phase = (index + 0.5) / fade;
      const fadeIn = Math.sin((phase * Math.PI) / 2);
      const fadeOut = Math.cos((phase * Math.PI) / 2);
      body[index] = source[index]! * fadeIn + source[period + index]! * fadeOut;
    }
    const out = new Float32Array(frames);
    out.set(source.subarray(0, Math.min(period, frames)));
    for (let at = period; at < frames; at += period) out.set(body.subarray(0, Math.min(period, frames - at)), at);
    return out;
  });
}

/** Fades `audio` in place: in over the first `fadeInFrames`, out over the last `fadeOutFrames` (raised cosine). */
export function applyFades(audio: PlanarAudio, fadeInFrames: number, fadeOutFrames: number): PlanarAudio {
  for (const channel of audio) {
    const length = channel.length;
    const fadeIn = Math.min(fadeInFrames, length);
    for (let index = 0; index < fadeIn; index++) channel[index]! *= (1 - Math.cos((Math.PI * index) / fadeIn)) / 2;
    const fadeOut = Math.min(fadeOutFrames, length);
    for (let index = 0; index < fadeOut; index++) channel[length - 1 - index]! *= (1 - Math.cos((Math.PI * index) / fadeOut)) / 2;
  }
  return audio;
}

/** `audio` cut or padded with silence to exactly `frames` frames. */
export function fitTo(audio: PlanarAudio, frames: number): PlanarAudio {
  return audio.map((channel) => {
    if (channel.length === frames) return channel;
    const out = new Float32Array(frames);
    out.set(channel.subarray(0, Math.min(frames, channel.length)));
    return out;
  });
}
