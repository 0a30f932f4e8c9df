/**
 * The procedural sound library: ambiances (room tone, rain, wind) made to any length, and short
 * effects (beep, chime, click, whoosh, knock), all from a seeded random source: the same seed and
 * parameters give the same samples. No asset is downloaded; crowd babble and café, which need
 * voices, live in babble.ts. Output is planar float32 (one array per channel; ambiances are
 * stereo with decorrelated channels, effects mono) at the asked rate, peaking below 1.
 */
import type { SeededRandom } from './random.js';

/** Planar PCM: one Float32Array per channel (1 or 2), all the same length. */
export type PlanarAudio = Float32Array[];

/** Names of the procedural ambiances (`crowd` and `cafe` need an engine: babble.ts). */
export const AMBIANCE_GENERATORS = ['room-tone', 'rain', 'wind', 'crowd', 'cafe'] as const;
/** Names of the procedural effects. */
export const EFFECT_GENERATORS = ['beep', 'chime', 'click', 'whoosh', 'knock'] as const;

/** See AMBIANCE_GENERATORS. */
export type AmbianceGenerator = (typeof AMBIANCE_GENERATORS)[number];
/** See EFFECT_GENERATORS. */
export type EffectGenerator = (typeof EFFECT_GENERATORS)[number];

/** Parameters of an effect generator (each has a default that sounds like its name). */
export interface EffectParams {
  /** Length of the effect (beep, chime, whoosh), ms. */
  durationMs?: number | undefined;
  /** Pitch (beep, chime), Hz. */
  frequencyHz?: number | undefined;
  /** How many knocks (knock). */
  count?: number | undefined;
}

/** A one-pole low-pass: y += a·(x − y), with `a` from the cut-off. */
class OnePole {
  #state = 0;
  readonly #alpha: number;
  constructor(cutoffHz: number, sampleRate: number) {
    this.#alpha = 1 - Math.exp((-2 * Math.PI * cutoffHz) / sampleRate);
  }
  low(input: number): number {
    this.#state += this.#alpha * (input - this.#state);
    return this.#state;
  }
  high(input: number): number {
    return input - this.low(input);
  }
}

/** A state-variable band-pass whose centre can move every sample (Chamberlin form, stable below ~sr/6). */
class BandPass {
  #low = 0;
  #band = 0;
  constructor(readonly sampleRate: number, readonly q: number) {}
  /** The coefficient of a centre frequency (for `step`). */
  centre(centreHz: number): number {
    return 2 * Math.sin((Math.PI * Math.min(centreHz, this.sampleRate / 6)) / this.sampleRate);
  }
  process(input: number, centreHz: number): number {
    return this.step(input, this.centre(centreHz));
  }
  /** One sample with the coefficient `f` of `centre()`. */
  step(input: number, f: number): number {
    const high = input - this.#low - this.#band / this.q;
    this.#band += f * high;
    this.#low += f * this.#band;
    return this.#band;
  }
}

/** Slowly varying smooth noise in [−1, 1] (random points every `periodFrames`, cosine-interpolated). */
function slowNoise(frames: number, periodFrames: number, random: SeededRandom): Float32Array {
  const out = new Float32Array(frames);
  // The interpolation curve of one period, computed once (not a cosine per sample).
  const curve = new Float32Array(periodFrames);
  for (let index = 0; index < periodFrames; index++) curve[index] = (1 - Math.cos((Math.PI * index) / periodFrames)) / 2;
  let from = random.between(-1, 1);
  let to = random.between(-1, 1);
  for (let start = 0; start < frames; start += periodFrames) {
    if (start > 0) {
      from = to;
      to = random.between(-1, 1);
    }
    const end = Math.min(frames, start + periodFrames);
    for (let index = start; index < end; index++) out[index] = from + (to - from) * curve[index - start]!;
  }
  return out;
}

/** Room tone: a dark, steady noise floor (air handling) around −50 dBFS, stereo. */
export function roomTone(frames: number, sampleRate: number, random: SeededRandom): PlanarAudio {
  return [0, 1].map(() => {
    const low = new OnePole(180, sampleRate);
    const air = new OnePole(2500, sampleRate);
    const out = new Float32Array(frames);
    for (let index = 0; index < frames; index++) {
      const white = random.between(-1, 1);
      out[index] = 0.02 * low.low(white) * 4 + 0.002 * air.low(white);
    }
    return out;
  });
}

/** Rain: a bright hiss that swells slowly, with scattered drops (short high plinks), stereo. */
export function rain(frames: number, sampleRate: number, random: SeededRandom): PlanarAudio {
  return [0, 1].map(() => {
    const hiss = new OnePole(900, sampleRate);
    const soften = new OnePole(7000, sampleRate);
    const swell = slowNoise(frames, Math.round(sampleRate * 1.7), random);
    const out = new Float32Array(frames);
    for (let index = 0; index < frames; index++) {
      out[index] = 0.05 * (0.8 + 0.2 * swell[index]!) * soften.low(hiss.high(random.between(-1, 1)));
    }
    // About 40 drops a second per channel, each a decaying partial between 2 and 6 kHz.
    const drops = Math.round((frames / sampleRate) * 40);
    for (let drop = 0; drop < drops; drop++) {
      const at = Math.floor(random.next() * frames);
      const frequency = random.between(2000, 6000);
      const level = random.between(0.01, 0.05);
      const decayFrames = random.between(0.003, 0.015) * sampleRate;
      const length = Math.min(frames - at, Math.round(decayFrames * 5));
      // A damped sine by recurrence (a two-pole resonator): r^n·sin(ωn) without a sin or exp per sample.
      const omega = (2 * Math.PI * frequency) / sampleRate;
      const decay = Math.exp(-1 / decayFrames);
      const feedback = 2 * decay * Math.cos(omega);
      const damping = decay * decay;
      let previous = 0;
      let current = decay * Math.sin(omega);
      for (let offset = 1; offset < length; offset++) {
        out[at + offset]! += level * current;
        const next = feedback * current - damping * previous;
        previous = current;
        current = next;
      }
    }
    return out;
  });
}

/** Wind: noise through a resonant band-pass whose centre and level drift with slow gusts, stereo. */
export function wind(frames: number, sampleRate: number, random: SeededRandom): PlanarAudio {
  return [0, 1].map(() => {
    const gust = slowNoise(frames, Math.round(sampleRate * 2.3), random);
    const whistle = slowNoise(frames, Math.round(sampleRate * 1.1), random);
    const filter = new BandPass(sampleRate, 4);
    const out = new Float32Array(frames);
    let centre = 0;
    for (let index = 0; index < frames; index++) {
      const strength = 0.55 + 0.45 * gust[index]!;
      // The centre drifts over seconds: moving it every 32 frames is inaudible and spares a sin per sample.
      if ((index & 31) === 0) centre = filter.centre(350 + 250 * strength + 120 * whistle[index]!);
      out[index] = 0.08 * strength * filter.step(random.between(-1, 1), centre);
    }
    return out;
  });
}

/** A raised-cosine fade of `edgeFrames` at both ends, in place. */
function softEdges(pcm: Float32Array, edgeFrames: number): Float32Array {
  const edge = Math.min(edgeFrames, Math.floor(pcm.length / 2));
  for (let index = 0; index < edge; index++) {
    const gain = (1 - Math.cos((Math.PI * index) / edge)) / 2;
    pcm[index]! *= gain;
    pcm[pcm.length - 1 - index]! *= gain;
  }
  return pcm;
}

/** A sine beep (default 1 kHz, 150 ms) with 5 ms soft edges, at −6 dBFS. */
function beep(sampleRate: number, params: EffectParams): Float32Array {
  const frames = Math.round(((params.durationMs ?? 150) / 1000) * sampleRate);
  const frequency = params.frequencyHz ?? 1000;
  const out = new Float32Array(frames);
  for (let index = 0; index < frames; index++) out[index] = 0.5 * Math.sin((2 * Math.PI * frequency * index) / sampleRate);
  return softEdges(out, Math.round(0.005 * sampleRate));
}

/** A bell-like chime: inharmonic partials of a base pitch (default 880 Hz) decaying over 1.2 s. */
function chime(sampleRate: number, params: EffectParams): Float32Array {
  const frames = Math.round(((params.durationMs ?? 1200) / 1000) * sampleRate);
  const base = params.frequencyHz ?? 880;
  const partials = [
    [1, 0.5, 1],
    [2.76, 0.25, 0.6],
    [5.4, 0.12, 0.35],
    [8.93, 0.06, 0.2],
  ] as const;
  const out = new Float32Array(frames);
  const decayFrames = frames / 5;
  for (const [ratio, level, decay] of partials) {
    const frequency = base * ratio;
    if (frequency >= sampleRate / 2) continue;
    for (let index = 0; index < frames; index++) out[index]! += level * Math.exp(-index / (decayFrames * decay)) * Math.sin((2 * Math.PI * frequency * index) / sampleRate);
  }
  // A 2 ms attack keeps the onset click-free.
  const attack = Math.round(0.002 * sampleRate);
  for (let index = 0; index < attack; index++) out[index]! *= index / attack;
  return out;
}

/** A short click: a 3 ms burst of band-limited noise with a fast decay. */
function click(sampleRate: number, random: SeededRandom): Float32Array {
  const frames = Math.max(8, Math.round(0.003 * sampleRate));
  const filter = new BandPass(sampleRate, 1.5);
  const out = new Float32Array(frames);
  for (let index = 0; index < frames; index++) out[index] = 2.5 * Math.exp((-index / frames) * 4) * filter.process(random.between(-1, 1), 3000);
  out[0] = 0.8; // the click's leading edge: its onset is its first sample
  return out;
}

/** A whoosh: noise through a band-pass sweeping up then down, under a smooth swell (default 600 ms). */
function whoosh(sampleRate: number, random: SeededRandom, params: EffectParams): Float32Array {
  const frames = Math.round(((params.durationMs ?? 600) / 1000) * sampleRate);
  const filter = new BandPass(sampleRate, 2);
  const out = new Float32Array(frames);
  for (let index = 0; index < frames; index++) {
    const phase = index / frames;
    const swell = Math.sin(Math.PI * phase) ** 2;
    const centre = 300 + 2700 * Math.sin(Math.PI * phase);
    out[index] = 0.6 * swell * filter.process(random.between(-1, 1), centre);
  }
  return out;
}

/** Knocks on a door: `count` (default 2) thuds 180 ms apart, each a damped low tone with a noise tap. */
function knock(sampleRate: number, random: SeededRandom, params: EffectParams): Float32Array {
  const count = params.count ?? 2;
  const spacing = Math.round(0.18 * sampleRate);
  const thudFrames = Math.round(0.12 * sampleRate);
  const out = new Float32Array(spacing * (count - 1) + thudFrames);
  for (let knockIndex = 0; knockIndex < count; knockIndex++) {
    const at = knockIndex * spacing;
    const frequency = random.between(140, 170);
    const tap = new OnePole(1800, sampleRate);
    for (let index = 0; index < thudFrames; index++) {
      const body = Math.exp(-index / (0.02 * sampleRate)) * Math.sin((2 * Math.PI * frequency * index) / sampleRate);
      const noise = Math.exp(-index / (0.004 * sampleRate)) * tap.low(random.between(-1, 1));
      out[at + index]! += 0.7 * body + 0.6 * noise;
    }
  }
  return out;
}

/** One procedural ambiance (room tone, rain, wind), `frames` long. */
export function ambianceOf(name: 'room-tone' | 'rain' | 'wind', frames: number, sampleRate: number, random: SeededRandom): PlanarAudio {
  if (name === 'rain') return rain(frames, sampleRate, random);
  if (name === 'wind') return wind(frames, sampleRate, random);
  return roomTone(frames, sampleRate, random);
}

/** One procedural effect (mono), at its natural length. */
export function effectOf(name: EffectGenerator, sampleRate: number, random: SeededRandom, params: EffectParams = {}): PlanarAudio {
  switch (name) {
    case 'beep':
      return [beep(sampleRate, params)];
    case 'chime':
      return [chime(sampleRate, params)];
    case 'click':
      return [click(sampleRate, random)];
    case 'whoosh':
      return [whoosh(sampleRate, random, params)];
    case 'knock':
      return [knock(sampleRate, random, params)];
  }
}
