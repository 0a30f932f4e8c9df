/**
 * What Opus at 24 kbit/s keeps of a clip, per frequency band (docs/WATERMARK.md, "Why noise is
 * lost after Opus"): `node --import tsx bench/watermark-opus-channel.ts`. For a marked espeak-ng
 * paragraph, a music-like and two noise clips (fixed seeds), through the real ffmpeg libopus
 * encoder and back, on 40 ms frames at 16 kHz (25 Hz bins, the clip's own grid): the waveform SNR
 * per band (clip power over the power of decoded minus clip), the spread (standard deviation, dB)
 * of each band's energy change per frame through the codec (what an energy-domain mark would
 * have to beat), the share of the frames whose STDM bit is read wrong (known grid), and how well
 * frames agree with their bit (mean of cos(2π·error/STEP): 1 perfect, 0 chance) by the spectral
 * flatness of their marked band (the detector's tonal weighting); and the whole band's energy change
 * per frame, with how many bits a 35 dB energy-domain mark could carry at most through it (capacity).
 */
import { resample } from '../src/audio/resampler.js';
import { codedMessage } from '../src/security/watermark-code.js';
import { spectralFlatness } from '../src/security/watermark-detect.js';
import { END_BIN, FIRST_BIN, keyMaterial, MESSAGE_BITS, normalisedProjection, STEP } from '../src/security/watermark-layout.js';
import { applyWatermark } from '../src/security/watermark.js';
import { codecRoundTrip, espeakClip, synthClip, type Clip } from '../test/helpers/watermark-channel.js';

const RATE_HZ = 16_000;
const FRAME = 640;
const KEY = 'opus-channel-key';
const PAYLOAD = 0x2a2a_2a2a;
/** Band edges in Hz (about Opus CELT's own bands up to 8 kHz). */
const EDGES = [100, 200, 400, 600, 800, 1000, 1200, 1600, 2000, 2800, 4000, 5600, 8000];

/** Bin powers 0..319 (re, im) of the 640-sample frame at `start`. */
function frameSpectrum(pcm: Float32Array, start: number): { re: Float64Array; im: Float64Array } {
  const re = new Float64Array(FRAME / 2);
  const im = new Float64Array(FRAME / 2);
  for (let k = 1; k < FRAME / 2; k++) {
    let sumRe = 0;
    let sumIm = 0;
    for (let n = 0; n < FRAME; n++) {
      const phase = (2 * Math.PI * ((k * n) % FRAME)) / FRAME;
      sumRe += pcm[start + n]! * Math.cos(phase);
      sumIm -= pcm[start + n]! * Math.sin(phase);
    }
    re[k] = sumRe;
    im[k] = sumIm;
  }
  return { re, im };
}

const standardDeviation = (values: number[]): number => {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  return Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length);
};

async function measure(name: string, host: Clip): Promise<void> {
  const material = keyMaterial(KEY);
  const bits = codedMessage(PAYLOAD, material);
  const marked: Clip = { pcm: applyWatermark(host.pcm, host.sampleRateHz, { key: KEY, payload: PAYLOAD }), sampleRateHz: host.sampleRateHz };
  const decoded = await codecRoundTrip(marked, 'opus', 24, 48_000);
  const before = resample(marked.pcm, { inputRateHz: marked.sampleRateHz, outputRateHz: RATE_HZ });
  const after = resample(decoded.pcm, { inputRateHz: decoded.sampleRateHz, outputRateHz: RATE_HZ });
  const frames = Math.floor(Math.min(before.length, after.length) / FRAME);
  const signal = new Float64Array(EDGES.length - 1);
  const error = new Float64Array(EDGES.length - 1);
  const energyChanges = EDGES.slice(1).map((): number[] => []);
  const wholeBandChanges: number[] = [];
  const spectra = Array.from({ length: frames }, (_, f) => [frameSpectrum(before, f * FRAME), frameSpectrum(after, f * FRAME)] as const);
  const bandEnergies = spectra.map(([a]) => { let sum = 0; for (let k = FIRST_BIN; k < END_BIN; k++) sum += a.re[k]! ** 2 + a.im[k]! ** 2; return sum; });
  const loud = [...bandEnergies].sort((x, y) => x - y)[Math.floor(frames * 0.9)]!;
  let used = 0;
  let wrong = 0;
  const FLATNESS_CLASSES = [0, 0.03, 0.1, 0.2, 1];
  const agreement = FLATNESS_CLASSES.slice(1).map(() => ({ sum: 0, count: 0 }));
  for (let f = 0; f < frames; f++) {
    const [a, b] = spectra[f]!;
    let wholeBefore = 0;
    let wholeAfter = 0;
    for (let band = 0; band + 1 < EDGES.length; band++) {
      let energyBefore = 0;
      let energyAfter = 0;
      for (let k = EDGES[band]! / 25; k < EDGES[band + 1]! / 25; k++) {
        energyBefore += a.re[k]! ** 2 + a.im[k]! ** 2;
        energyAfter += b.re[k]! ** 2 + b.im[k]! ** 2;
        signal[band] = signal[band]! + a.re[k]! ** 2 + a.im[k]! ** 2;
        error[band] = error[band]! + (b.re[k]! - a.re[k]!) ** 2 + (b.im[k]! - a.im[k]!) ** 2;
      }
      if (bandEnergies[f]! >= loud / 300 && energyBefore > 0 && energyAfter > 0) energyChanges[band]!.push(10 * Math.log10(energyAfter / energyBefore));
      wholeBefore += energyBefore;
      wholeAfter += energyAfter;
    }
    if (bandEnergies[f]! >= loud / 300 && wholeBefore > 0 && wholeAfter > 0) wholeBandChanges.push(10 * Math.log10(wholeAfter / wholeBefore));
    if (bandEnergies[f]! < loud / 300) continue;
    const bit = f % MESSAGE_BITS;
    const projection = normalisedProjection(b.re.subarray(FIRST_BIN, END_BIN), b.im.subarray(FIRST_BIN, END_BIN), material);
    used++;
    const agrees = Math.cos((2 * Math.PI * (projection - material.dither[bit]! - (bits[bit]! * STEP) / 2)) / STEP);
    if (agrees < 0) wrong++;
    const flatness = spectralFlatness(b.re.subarray(FIRST_BIN, END_BIN), b.im.subarray(FIRST_BIN, END_BIN));
    const flatnessClass = agreement[FLATNESS_CLASSES.findIndex((edge, i) => flatness >= edge && flatness < FLATNESS_CLASSES[i + 1]!)]!;
    flatnessClass.sum += agrees;
    flatnessClass.count++;
  }
  const bands = EDGES.slice(0, -1).map((edge, band) => `${edge}:${(10 * Math.log10(signal[band]! / error[band]!)).toFixed(1)}/${standardDeviation(energyChanges[band]!).toFixed(1)}`);
  console.log(`${name}: STDM frames read wrong ${((100 * wrong) / used).toFixed(1)} % of ${used}; per band from Hz: waveform SNR dB / energy change sd dB`);
  console.log(`  ${bands.join('  ')}`);
  // An energy-domain mark's channel at its best: the whole band's energy per frame, moved by at most
  // 0.15 dB by a 35 dB mark (amplitude x 1.0178), against the codec's spread of that energy.
  const spread = standardDeviation(wholeBandChanges);
  const bitsPerFrame = 0.5 * Math.log2(1 + (0.15 / spread) ** 2);
  console.log(`  whole band ${EDGES[0]}–${EDGES[EDGES.length - 1]} Hz: energy change sd ${spread.toFixed(2)} dB; a 0.15 dB energy mark could carry at most ${(bitsPerFrame * wholeBandChanges.length).toFixed(0)} bits in these ${wholeBandChanges.length} frames`);
  const classes = agreement.map(({ sum, count }, i) => `${FLATNESS_CLASSES[i]}–${FLATNESS_CLASSES[i + 1]}: ${count > 0 ? (sum / count).toFixed(2) : '-'} (${count})`);
  console.log(`  agreement by flatness (frames): ${classes.join(', ')}`);
}

await measure('speech', espeakClip('The committee met on Tuesday to review the plans for the new library. Several members asked whether the budget would cover the extra reading rooms. Nobody expected the weather to change so quickly that afternoon.', 'en-us', 170));
await measure('music', synthClip(100, 'music', 12));
await measure('noise 1', synthClip(101, 'noise', 12));
await measure('noise 3', synthClip(103, 'noise', 12));
