/**
 * The attacks of the watermark robustness test and bench: real codecs through ffmpeg (MP3 64 kbps,
 * Opus 24 kbps), resampling to 16 kHz (ffmpeg's resampler, not ours), ±6 dB gain, white noise at
 * 20 dB SNR from a seeded generator, and a crop; plus the clip sources (espeak-ng speech, seeded
 * music-like and noise clips), the mark's SNR and how far under the local speech level it sits.
 */
import { execFileSync } from 'node:child_process';
import { runFfmpeg } from '../../src/audio/ffmpeg.js';
import { decodeF32le, encodeF32le } from '../../src/audio/pcm.js';
import { decodeWav } from '../../src/audio/wav.js';
import { resample } from '../../src/audio/resampler.js';
import { dftTable, frameSamplesAt } from '../../src/security/watermark-embed.js';
import { MARKED_BINS } from '../../src/security/watermark-layout.js';
import { seededRandom } from './hostile-text.js';

export { seededRandom };

/** Mono PCM at a rate. */
export interface Clip {
  pcm: Float32Array;
  sampleRateHz: number;
}

/** A seeded standard normal generator (Box-Muller). */
export function seededGaussian(seed: number): () => number {
  const uniform = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
}

/** Speech from the espeak-ng binary (a separate process, as a user's file would be). */
export function espeakClip(text: string, voice: string, speed = 160, sampleRateHz = 22_050): Clip {
  const wav = execFileSync('espeak-ng', ['-v', voice, '-s', String(speed), '--stdout', text], { maxBuffer: 64 << 20 });
  const decoded = decodeWav(new Uint8Array(wav));
  const pcm = decoded.sampleRateHz === sampleRateHz ? decoded.pcm : resample(decoded.pcm, { inputRateHz: decoded.sampleRateHz, outputRateHz: sampleRateHz });
  return { pcm, sampleRateHz };
}

/** A seeded music-like clip: chords of decaying harmonic notes with a little vibrato, or band noise. */
export function synthClip(seed: number, kind: 'music' | 'noise', seconds = 6, sampleRateHz = 22_050): Clip {
  const random = seededRandom(seed);
  const gaussian = seededGaussian(seed + 1);
  const pcm = new Float32Array(Math.round(seconds * sampleRateHz));
  if (kind === 'noise') {
    // Pink-ish noise (one-pole low-passed white) with a slow level swell.
    let low = 0;
    for (let i = 0; i < pcm.length; i++) {
      low = 0.97 * low + 0.03 * gaussian();
      const swell = 0.6 + 0.4 * Math.sin((2 * Math.PI * i) / sampleRateHz / (1.5 + random() * 0.001));
      pcm[i] = 0.25 * swell * (low * 3 + 0.15 * gaussian());
    }
    return { pcm, sampleRateHz };
  }
  const noteSamples = Math.round(0.4 * sampleRateHz);
  for (let start = 0; start < pcm.length; start += noteSamples) {
    const root = 110 * 2 ** (Math.floor(random() * 24) / 12);
    for (const interval of [0, 4, 7]) {
      const f0 = root * 2 ** (interval / 12);
      for (let harmonic = 1; harmonic <= 8; harmonic++) {
        const amplitude = 0.08 / harmonic;
        const phase = random() * 2 * Math.PI;
        for (let i = 0; i < noteSamples * 2 && start + i < pcm.length; i++) {
          const t = i / sampleRateHz;
          const vibrato = 1 + 0.003 * Math.sin(2 * Math.PI * 5 * t);
          pcm[start + i]! += amplitude * Math.exp(-3 * t) * Math.sin(2 * Math.PI * f0 * harmonic * vibrato * t + phase);
        }
      }
    }
  }
  return { pcm, sampleRateHz };
}

/** Through a real codec and back (ffmpeg), decoded at `decodeRateHz`. */
export async function codecRoundTrip(clip: Clip, codec: 'mp3' | 'opus', kbps: number, decodeRateHz = clip.sampleRateHz): Promise<Clip> {
  const encoder = codec === 'mp3' ? ['-c:a', 'libmp3lame', '-f', 'mp3'] : ['-c:a', 'libopus', '-f', 'ogg'];
  const input = ['-hide_banner', '-loglevel', 'error', '-f', 'f32le', '-ar', String(clip.sampleRateHz), '-ac', '1', '-i', 'pipe:0'];
  const { stdout: encoded } = await runFfmpeg('ffmpeg', [...input, ...encoder, '-b:a', `${kbps}k`, 'pipe:1'], { input: encodeF32le(clip.pcm) });
  const { stdout } = await runFfmpeg('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', 'pipe:0', '-f', 'f32le', '-ac', '1', '-ar', String(decodeRateHz), 'pipe:1'], { input: encoded });
  return { pcm: decodeF32le(stdout), sampleRateHz: decodeRateHz };
}

/** Resampled by ffmpeg (swresample). */
export async function ffmpegResample(clip: Clip, outputRateHz: number): Promise<Clip> {
  const args = ['-hide_banner', '-loglevel', 'error', '-f', 'f32le', '-ar', String(clip.sampleRateHz), '-ac', '1', '-i', 'pipe:0', '-f', 'f32le', '-ar', String(outputRateHz), 'pipe:1'];
  const { stdout } = await runFfmpeg('ffmpeg', args, { input: encodeF32le(clip.pcm) });
  return { pcm: decodeF32le(stdout), sampleRateHz: outputRateHz };
}

/** Scaled by `gainDb` (in float: no clipping). */
export function withGain(clip: Clip, gainDb: number): Clip {
  const gain = 10 ** (gainDb / 20);
  return { pcm: clip.pcm.map((sample) => sample * gain), sampleRateHz: clip.sampleRateHz };
}

/** Plus seeded white noise at `snrDb` under the clip's mean power. */
export function withNoise(clip: Clip, snrDb: number, seed: number): Clip {
  const power = clip.pcm.reduce((sum, sample) => sum + sample * sample, 0) / clip.pcm.length;
  const sigma = Math.sqrt(power / 10 ** (snrDb / 10));
  const gaussian = seededGaussian(seed);
  return { pcm: clip.pcm.map((sample) => sample + sigma * gaussian()), sampleRateHz: clip.sampleRateHz };
}

/** The part from `startSeconds` (a crop that breaks the frame grid's alignment). */
export function cropped(clip: Clip, startSeconds: number): Clip {
  return { pcm: clip.pcm.slice(Math.round(startSeconds * clip.sampleRateHz)), sampleRateHz: clip.sampleRateHz };
}

/** The mark's SNR in dB: host power over the power of (marked - host). */
export function markSnrDb(host: Float32Array, marked: Float32Array): number {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < host.length; i++) {
    signal += (host[i] ?? 0) ** 2;
    noise += ((marked[i] ?? 0) - (host[i] ?? 0)) ** 2;
  }
  return 10 * Math.log10(signal / Math.max(noise, 1e-30));
}

/** The named attacks, in table order. */
export const ATTACKS: ReadonlyArray<{ name: string; apply: (clip: Clip, seed: number) => Promise<Clip> | Clip }> = [
  { name: 'none', apply: (clip) => clip },
  { name: 'mp3 64k', apply: (clip) => codecRoundTrip(clip, 'mp3', 64) },
  { name: 'opus 24k', apply: (clip) => codecRoundTrip(clip, 'opus', 24, 48_000) },
  { name: 'resample 16k', apply: (clip) => ffmpegResample(clip, 16_000) },
  { name: 'gain +6 dB', apply: (clip) => withGain(clip, 6) },
  { name: 'gain -6 dB', apply: (clip) => withGain(clip, -6) },
  { name: 'noise 20 dB', apply: (clip, seed) => withNoise(clip, 20, seed) },
  { name: 'crop 1.23 s', apply: (clip) => cropped(clip, 1.234) },
];

/** Per 40 ms frame and marked bin: 10·log10(mark power / speech power within ±3 bins), sorted; frames 30 dB under the loudest skipped. */
export function localMarkToHostDb(host: Float32Array, mark: Float32Array, sampleRateHz: number): number[] {
  const table = dftTable(frameSamplesAt(sampleRateHz));
  const samples = table.frameSamples;
  const power = (pcm: Float32Array, start: number): Float64Array => {
    const out = new Float64Array(MARKED_BINS);
    for (let i = 0; i < MARKED_BINS; i++) {
      let re = 0;
      let im = 0;
      for (let n = 0; n < samples; n++) {
        re += pcm[start + n]! * table.cos[i * samples + n]!;
        im += pcm[start + n]! * table.sin[i * samples + n]!;
      }
      out[i] = re * re + im * im;
    }
    return out;
  };
  const frames: Array<{ host: Float64Array; mark: Float64Array; energy: number }> = [];
  for (let start = 0; start + samples <= host.length; start += samples) {
    const hostPower = power(host, start);
    frames.push({ host: hostPower, mark: power(mark, start), energy: hostPower.reduce((sum, value) => sum + value, 0) });
  }
  const loudest = Math.max(...frames.map((frame) => frame.energy));
  const ratios: number[] = [];
  for (const frame of frames) {
    if (frame.energy < loudest / 1000) continue;
    for (let i = 0; i < MARKED_BINS; i++) {
      let local = 0;
      let count = 0;
      for (let j = Math.max(0, i - 3); j <= Math.min(MARKED_BINS - 1, i + 3); j++, count++) local += frame.host[j]!;
      ratios.push(10 * Math.log10(frame.mark[i]! / (local / count) + 1e-30));
    }
  }
  return ratios.sort((a, b) => a - b);
}
