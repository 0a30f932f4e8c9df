import { describe, expect, it } from 'vitest';
import { limiterGainCurve, limitTruePeak, TruePeakLimiter } from '../../src/audio/limiter.js';
import { measureLoudness, normalizeLoudness } from '../../src/audio/loudness.js';
import { SANE_SAMPLE_LIMIT, sanitizePcm } from '../../src/audio/pcm.js';
import { resample } from '../../src/audio/resampler.js';
import { samplePeak, truePeak, truePeakEnvelope } from '../../src/audio/true-peak.js';
import { InputError } from '../../src/errors.js';
import { espeakWav } from './tools.js';
import { decodeWav } from '../../src/audio/wav.js';

const dB = (linear: number): number => 20 * Math.log10(linear);

/** Faded sine: `amplitude` at `frequencyHz`, starting at `phase` radians. */
function tone(frequencyHz: number, amplitude: number, frames: number, sampleRateHz: number, phase = 0): Float32Array {
  const fade = Math.round(0.02 * sampleRateHz);
  return Float32Array.from({ length: frames }, (_, i) => amplitude * Math.min(1, i / fade, (frames - 1 - i) / fade) * Math.sin((2 * Math.PI * frequencyHz * i) / sampleRateHz + phase));
}

/** The old meter: the signal resampled 4x (BS.1770's minimum), then its sample peak. */
function fourTimesPeak(pcm: Float32Array, sampleRateHz: number): number {
  return samplePeak(resample(pcm, { inputRateHz: sampleRateHz, outputRateHz: 4 * sampleRateHz, stopbandAttenuationDb: 70, passbandFraction: 0.9 }));
}

describe('true-peak reading', () => {
  for (const sampleRateHz of [16000, 22050, 24000, 48000]) {
    it(`reads a 0.4 fs sine at ${sampleRateHz} Hz within 0.2 dB of its analytic peak at every phase (4x oversampling does not: planted)`, () => {
      let worstDb = 0;
      let worstFourTimesDb = 0;
      for (let step = 0; step < 24; step++) {
        const phase = (step * Math.PI) / 24;
        const pcm = tone(0.4 * sampleRateHz, 0.5, sampleRateHz / 2, sampleRateHz, phase);
        worstDb = Math.max(worstDb, Math.abs(dB(truePeak(pcm, sampleRateHz, 1) / 0.5)));
        worstFourTimesDb = Math.max(worstFourTimesDb, Math.abs(dB(fourTimesPeak(pcm, sampleRateHz) / 0.5)));
      }
      expect(worstDb).toBeLessThanOrEqual(0.2);
      expect(worstFourTimesDb).toBeGreaterThan(0.2);
    });
  }

  it('a floor above the peak falls back to a full reading (same value as without a floor)', () => {
    const pcm = tone(9000, 0.3, 22050, 22050, 0.7);
    const exact = truePeak(pcm, 22050, 1);
    expect(truePeak(pcm, 22050, 1, 0.9)).toBe(exact);
    expect(truePeak(pcm, 22050, 1, 0.25)).toBe(exact);
  });

  it('the envelope is exact above its floor and never above the true value below it', () => {
    const pcm = tone(3000, 0.6, 22050, 22050);
    const exact = truePeakEnvelope(pcm, 22050, 1);
    const floored = truePeakEnvelope(pcm, 22050, 1, 0.5);
    expect(exact.length).toBe(pcm.length);
    for (let i = 0; i < exact.length; i++) {
      if (exact[i]! > 0.5) expect(floored[i]).toBe(exact[i]);
      else expect(floored[i]!).toBeLessThanOrEqual(exact[i]! + 1e-7);
    }
  });
});

describe('TruePeakLimiter', () => {
  const rate = 22050;
  const speech = decodeWav(espeakWav('Limiting keeps the true peak under the ceiling, smoothly and without a single clipped sample.'));

  it('keeps the true peak under the ceiling at +20 dB of gain on speech, with no sample at full scale', () => {
    const result = limitTruePeak(speech.pcm, { sampleRateHz: speech.sampleRateHz, channels: 1, gainDb: 20, ceilingDb: -1 });
    expect(result.limited).toBe(true);
    expect(result.peakReductionDb).toBeGreaterThan(15);
    expect(measureLoudness(result.pcm, { sampleRateHz: speech.sampleRateHz, channels: 1 }).truePeakDb).toBeLessThanOrEqual(-1 + 0.05);
    let fullScale = 0;
    for (const sample of result.pcm) if (Math.abs(sample) >= 1) fullScale++;
    expect(fullScale).toBe(0);
  });

  it('streams in any chunking exactly as it limits a whole buffer', () => {
    const whole = limitTruePeak(speech.pcm, { sampleRateHz: speech.sampleRateHz, channels: 1, gainDb: 12 });
    const limiter = new TruePeakLimiter({ sampleRateHz: speech.sampleRateHz, channels: 1, gainDb: 12 });
    const parts: Float32Array[] = [];
    for (let start = 0, size = 1; start < speech.pcm.length; start += size, size = (size * 7) % 5003 + 1) parts.push(limiter.process(speech.pcm.subarray(start, start + size)));
    parts.push(limiter.flush());
    const streamed = Float32Array.from(parts.flatMap((part) => Array.from(part)));
    expect(streamed.length).toBe(whole.pcm.length);
    let worst = 0;
    for (let i = 0; i < streamed.length; i++) worst = Math.max(worst, Math.abs(streamed[i]! - whole.pcm[i]!));
    expect(worst).toBeLessThan(1e-6);
    expect(limiter.report.peakReductionDb).toBeCloseTo(whole.peakReductionDb, 6);
  });

  it('attacks within the look-ahead, changes at most 1/L per frame (no zipper) and releases', () => {
    // One 2 ms burst 12 dB over the ceiling in a quiet tone.
    const pcm = tone(200, 0.1, rate, rate);
    const burstAt = rate / 2;
    for (let i = 0; i < 0.002 * rate; i++) pcm[burstAt + i] = 3.5 * Math.sin((2 * Math.PI * 1000 * i) / rate);
    const lookaheadFrames = Math.round(0.005 * rate);
    const releaseFrames = 0.06 * rate;
    const envelope = truePeakEnvelope(pcm, rate, 1);
    const { curve, minGain } = limiterGainCurve(envelope, 1, 10 ** (-1 / 20), lookaheadFrames, releaseFrames);
    expect(dB(minGain)).toBeLessThan(-10);
    let firstBelowOne = -1;
    let largestStep = 0;
    for (let i = 0; i < curve.length; i++) {
      if (firstBelowOne < 0 && curve[i]! < 1) firstBelowOne = i;
      if (i > 0) largestStep = Math.max(largestStep, Math.abs(curve[i]! - curve[i - 1]!));
    }
    // The first over-ceiling interval lies in the burst; the gain starts moving at most L (+1 for
    // the interval shared with the previous frame) frames before it.
    const firstOver = envelope.findIndex((value) => value > 10 ** (-1 / 20));
    expect(firstOver).toBeGreaterThanOrEqual(burstAt - 1);
    expect(firstBelowOne).toBeGreaterThanOrEqual(firstOver - lookaheadFrames);
    expect(largestStep).toBeLessThanOrEqual(1 / lookaheadFrames + 1e-12);
    // Every interval under the ceiling once the gain is applied.
    for (let i = 0; i < envelope.length; i++) expect(envelope[i]! * Math.min(curve[i]!, curve[i + 1] ?? 1)).toBeLessThanOrEqual(10 ** (-1 / 20) + 1e-6);
    // Released: back within 0.1 dB of unity 6 release time constants after the burst.
    const after = burstAt + Math.round(0.002 * rate) + lookaheadFrames + Math.round(6 * releaseFrames);
    expect(dB(curve[after]!)).toBeGreaterThan(-0.1);
  });

  it('a curve without the box filter (planted) fails the zipper check', () => {
    const needs = Float32Array.from({ length: 1000 }, (_, i) => (i === 500 ? 4 : 0.1));
    const { curve } = limiterGainCurve(needs, 1, 1, 50, 500);
    const stepped = curve.map((value, i) => (i >= 450 && i <= 500 ? 0.25 : value));
    const largest = (values: Float64Array): number => values.reduce((most, value, i) => (i > 0 ? Math.max(most, Math.abs(value - values[i - 1]!)) : most), 0);
    expect(largest(curve)).toBeLessThanOrEqual(1 / 50 + 1e-12);
    expect(largest(stepped)).toBeGreaterThan(1 / 50);
  });

  it('leaves a signal under the ceiling untouched and says so', () => {
    const pcm = tone(440, 0.3, rate, rate);
    const result = limitTruePeak(pcm, { sampleRateHz: rate, channels: 1, gainDb: 3 });
    expect(result.limited).toBe(false);
    expect(result.peakReductionDb).toBe(0);
    for (let i = 0; i < pcm.length; i += 97) expect(result.pcm[i]).toBeCloseTo(pcm[i]! * 10 ** (3 / 20), 6);
  });

  it('limits stereo linked (one gain for both channels)', () => {
    const left = tone(500, 0.2, rate, rate);
    const right = tone(700, 1.5, rate, rate);
    const pcm = new Float32Array(2 * rate);
    for (let i = 0; i < rate; i++) {
      pcm[2 * i] = left[i]!;
      pcm[2 * i + 1] = right[i]!;
    }
    const result = limitTruePeak(pcm, { sampleRateHz: rate, channels: 2 });
    expect(measureLoudness(result.pcm, { sampleRateHz: rate, channels: 2 }).truePeakDb).toBeLessThanOrEqual(-1 + 0.05);
    const middle = rate / 2;
    expect(result.pcm[2 * middle]! / left[middle]!).toBeCloseTo(result.pcm[2 * middle + 1]! / right[middle]!, 4);
  });

  it('rejects bad options naming the field', () => {
    expect(() => new TruePeakLimiter({ sampleRateHz: rate, channels: 1, lookaheadMs: 0 })).toThrow(InputError);
    expect(() => new TruePeakLimiter({ sampleRateHz: rate, channels: 1, lookaheadMs: 0 })).toThrow(/options\.lookaheadMs/);
    expect(() => limitTruePeak(new Float32Array(4), { sampleRateHz: rate, channels: 1, ceilingDb: 10 })).toThrow(/options\.ceilingDb/);
  });
});

// Review 2: one NaN, ±Infinity or a huge finite sample (a broken neural model, a custom backend)
// used to switch the limiter off around it (`NaN > ceiling` is false; the oversampling filter
// spreads the NaN; 1e30 broke the running sum): +12 dBFS passed a -1 dBTP ceiling.
describe('broken samples', () => {
  const RATE_HZ = 24_000;
  const CEILING = 10 ** (-1 / 20);
  function attack(frames: number, level: number, bad: number, burst: number): Float32Array {
    const pcm = new Float32Array(frames);
    for (let i = 0; i < frames; i++) pcm[i] = level * Math.sin(i / 5);
    pcm[2000] = bad;
    for (let i = 2001; i < 2010; i++) pcm[i] = burst;
    return pcm;
  }
  const peakOf = (pcm: Float32Array): number => pcm.reduce((peak, sample) => (Number.isNaN(sample) ? Infinity : Math.max(peak, Math.abs(sample))), 0);

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e30])('limitTruePeak keeps the ceiling and outputs finite samples with %s in the input', (bad) => {
    const input = attack(4800, 0.5, bad, 4);
    const { pcm } = limitTruePeak(input, { sampleRateHz: RATE_HZ, channels: 1, gainDb: 0, ceilingDb: -1 });
    expect(peakOf(pcm)).toBeLessThanOrEqual(CEILING * 1.02);
    expect(Object.is(input[2000], Math.fround(bad))).toBe(true); // the caller's array is not changed
  });

  it('the streaming limiter keeps the ceiling with a NaN in a chunk', () => {
    const input = attack(4800, 0.5, Number.NaN, 4);
    const limiter = new TruePeakLimiter({ sampleRateHz: RATE_HZ, channels: 1, ceilingDb: -1 });
    const out = [limiter.process(input.subarray(0, 1999)), limiter.process(input.subarray(1999)), limiter.flush()];
    expect(Math.max(...out.map(peakOf))).toBeLessThanOrEqual(CEILING * 1.02);
  });

  it('normalizeLoudness with a ceiling keeps it with a NaN in the input, and reports a true peak >= the sample peak', () => {
    const result = normalizeLoudness(attack(48_000, 0.1, Number.NaN, 0.9), { sampleRateHz: RATE_HZ, channels: 1, targetLufs: -16, truePeakLimitDb: -1 });
    expect(result.after.truePeakDb).toBeGreaterThanOrEqual(result.after.samplePeakDb);
    expect(peakOf(result.pcm)).toBeLessThanOrEqual(CEILING * 1.02);
  });

  it('a NaN in the envelope needs gain 0 (planted: the gain computer alone, without sanitizing)', () => {
    const envelope = new Float32Array(200).fill(0.5);
    envelope[100] = Number.NaN;
    const { curve, minGain } = limiterGainCurve(envelope, 1, CEILING, 8, 50);
    expect(curve[100]).toBe(0);
    expect(minGain).toBe(0);
  });

  it('sanitizePcm: NaN/±Infinity → 0, clamps to ±32, returns the same array when already sane', () => {
    const sane = new Float32Array([0.5, -32, 32]);
    expect(sanitizePcm(sane)).toBe(sane);
    expect([...sanitizePcm(new Float32Array([Number.NaN, Infinity, -Infinity, 1e30, -1e30, 0.25]))]).toEqual([0, 0, 0, SANE_SAMPLE_LIMIT, -SANE_SAMPLE_LIMIT, 0.25]);
  });

  it.each([1e6, 1e30, Infinity])('the gain computer alone (no sanitizer) keeps G ≤ need after an envelope of %s', (big) => {
    const envelope = new Float32Array(4000).fill(0.5);
    envelope[1000] = big;
    for (let i = 1001; i < 1010; i++) envelope[i] = 4;
    const { curve } = limiterGainCurve(envelope, 1, CEILING, 120, 1440);
    expect(curve[1000]! * Math.min(envelope[1000]!, 1e30)).toBeLessThanOrEqual(CEILING * (1 + 1e-9));
    for (let k = 1001; k < 1010; k++) expect(curve[k]! * envelope[k]!).toBeLessThanOrEqual(CEILING * (1 + 1e-9));
  });
});
