/**
 * Crowd babble and café ambiances, made from our own voices: a few phrases spoken by the scene's
 * engine at different rates (so, different-sounding talkers), scattered over the duration at low
 * level, darkened and spread across the stereo field; a café adds room tone and the odd cup clink.
 * Deterministic for a seed as long as the engine's synthesis is (espeak-ng is).
 */
import { resample } from '../audio/resampler.js';
import { toMonoPlanar, type SceneEngine } from './scene-engine.js';
import { positionGains } from './levels.js';
import { effectOf, roomTone, type PlanarAudio } from './procedural.js';
import type { SeededRandom } from './random.js';

/** What the babble's talkers say (never heard clearly: it only has to sound like speech). */
const PHRASES = [
  'Did you see the game last night? It went on for hours.',
  'I told her we would meet at the station around six.',
  'The soup here is really good, you should try it.',
  'No, no, the other one, the one with the blue door.',
  'We are thinking of going to the coast this summer.',
  'He said the meeting was moved to Thursday afternoon.',
];
/** Speaking rates of the talkers. */
const RATES = [0.85, 1, 1.15, 1.3];

/** The talkers' clips, synthesized once per engine and rate (a scene renders babble often). */
const clipCache = new WeakMap<SceneEngine, Map<number, Promise<Float32Array[]>>>();

async function talkerClips(engine: SceneEngine, sampleRate: number): Promise<Float32Array[]> {
  let byRate = clipCache.get(engine);
  if (!byRate) clipCache.set(engine, (byRate = new Map()));
  let clips = byRate.get(sampleRate);
  if (!clips) {
    clips = (async () => {
      const out: Float32Array[] = [];
      for (const [index, phrase] of PHRASES.entries()) {
        const result = await engine.speak(phrase, { rate: RATES[index % RATES.length]!, sampleRateHz: sampleRate });
        const mono = toMonoPlanar(result.audio, result.channels);
        out.push(result.sampleRateHz === sampleRate ? mono : resample(mono, { inputRateHz: result.sampleRateHz, outputRateHz: sampleRate }));
      }
      return out;
    })();
    clips.catch(() => byRate.delete(sampleRate));
    byRate.set(sampleRate, clips);
  }
  return clips;
}

/** Crowd babble: about `talkers` voices at once, each −26 to −20 dBFS, low-passed and spread, stereo. */
export async function crowd(frames: number, sampleRate: number, random: SeededRandom, engine: SceneEngine, talkers = 5): Promise<PlanarAudio> {
  const clips = (await talkerClips(engine, sampleRate)).filter((clip) => clip.length > 0);
  const out: PlanarAudio = [new Float32Array(frames), new Float32Array(frames)];
  if (clips.length === 0 || frames === 0) return out;
  const meanFrames = clips.reduce((sum, clip) => sum + clip.length, 0) / clips.length;
  // Enough placements that about `talkers` overlap at any moment (starting before 0 fills the opening).
  const placements = Math.ceil(((frames + meanFrames) / meanFrames) * talkers);
  for (let placement = 0; placement < placements; placement++) {
    const clip = clips[Math.floor(random.next() * clips.length)]!;
    const at = Math.floor(random.between(-clip.length, frames));
    const level = random.between(0.05, 0.1);
    const gains = positionGains({ x: random.between(-0.9, 0.9), y: 0, z: random.between(1, 3) });
    // A one-pole low-pass at ~2.5 kHz: distant talkers are dull.
    const alpha = 1 - Math.exp((-2 * Math.PI * 2500) / sampleRate);
    let state = 0;
    for (let offset = Math.max(0, -at); offset < clip.length && at + offset < frames; offset++) {
      state += alpha * (clip[offset]! - state);
      out[0]![at + offset]! += level * gains.left * state;
      out[1]![at + offset]! += level * gains.right * state;
    }
  }
  return out;
}

/** A café: room tone, crowd babble and the odd cup or spoon clink (a high, short chime), stereo. */
export async function cafe(frames: number, sampleRate: number, random: SeededRandom, engine: SceneEngine): Promise<PlanarAudio> {
  const out = await crowd(frames, sampleRate, random, engine, 4);
  const tone = roomTone(frames, sampleRate, random);
  for (let channel = 0; channel < 2; channel++) for (let index = 0; index < frames; index++) out[channel]![index]! += 1.5 * tone[channel]![index]!;
  const clinks = Math.round((frames / sampleRate) / 2.5);
  for (let clink = 0; clink < clinks; clink++) {
    const [sound] = effectOf('chime', sampleRate, random, { frequencyHz: random.between(2200, 3400), durationMs: 250 });
    const at = Math.floor(random.next() * frames);
    const gains = positionGains({ x: random.between(-1, 1), y: 0, z: random.between(1, 4) });
    const level = random.between(0.04, 0.09);
    for (let offset = 0; offset < sound!.length && at + offset < frames; offset++) {
      out[0]![at + offset]! += level * gains.left * sound![offset]!;
      out[1]![at + offset]! += level * gains.right * sound![offset]!;
    }
  }
  return out;
}
