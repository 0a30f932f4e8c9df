import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kWeightingCoefficients } from '../../src/audio/k-weighting.js';
import { measureLoudness, normalizeLoudness } from '../../src/audio/loudness.js';
import { InputError } from '../../src/errors.js';
import { ffmpegLoudness, makeTempDir, requireFfmpeg, sine } from './tools.js';

const temp = makeTempDir('vs-loudness-');
beforeAll(() => requireFfmpeg());
afterAll(() => temp.cleanup());

/** Deterministic uniform white noise in [-amplitude, amplitude] (xorshift32). */
function noise(amplitude: number, seconds: number, sampleRateHz: number, channels: number, seed = 12345): Float32Array {
  const out = new Float32Array(Math.round(seconds * sampleRateHz) * channels);
  let state = seed;
  for (let i = 0; i < out.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = amplitude * ((state >>> 0) / 0xffffffff * 2 - 1);
  }
  return out;
}

/** Raised-cosine fade in and out over `frames` so edges add no ringing to true-peak checks. */
function fadeEdges(pcm: Float32Array, frames: number): void {
  for (let i = 0; i < frames; i++) {
    const gain = 0.5 - 0.5 * Math.cos((Math.PI * i) / frames);
    pcm[i]! *= gain;
    pcm[pcm.length - 1 - i]! *= gain;
  }
}

function join2(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Interleaves equal-length mono signals. */
function interleave(...channels: Float32Array[]): Float32Array {
  const frames = channels[0]!.length;
  const out = new Float32Array(frames * channels.length);
  for (let i = 0; i < frames; i++) for (let c = 0; c < channels.length; c++) out[i * channels.length + c] = channels[c]![i]!;
  return out;
}

/** ffmpeg's ebur128 summary of `pcm` (a float WAV in this file's temp dir). */
function ffmpegEbur128(name: string, pcm: Float32Array, sampleRateHz: number, channels: number): { integratedLufs: number; truePeakDb: number } {
  return ffmpegLoudness(join(temp.dir, `${name}.wav`), pcm, sampleRateHz, channels);
}

const SIGNALS: Array<{ name: string; sampleRateHz: number; channels: number; pcm: () => Float32Array }> = [
  { name: 'sine 1 kHz -18 dBFS 44.1k', sampleRateHz: 44100, channels: 1, pcm: () => sine(1000, 0.125, 3, 44100) },
  { name: 'sine 100 Hz -6 dBFS 48k', sampleRateHz: 48000, channels: 1, pcm: () => sine(100, 0.5, 3, 48000) },
  { name: 'sine 5 kHz 22.05k', sampleRateHz: 22050, channels: 1, pcm: () => sine(5000, 0.3, 3, 22050) },
  { name: 'sine 10 kHz -26 dBFS 48k', sampleRateHz: 48000, channels: 1, pcm: () => sine(10000, 0.05, 3, 48000) },
  { name: 'sine 60 Hz 22.05k (high-pass region)', sampleRateHz: 22050, channels: 1, pcm: () => sine(60, 0.7, 3, 22050) },
  { name: 'white noise stereo 48k', sampleRateHz: 48000, channels: 2, pcm: () => noise(0.2, 4, 48000, 2) },
  { name: 'white noise mono 16k', sampleRateHz: 16000, channels: 1, pcm: () => noise(0.3, 3, 16000, 1, 4242) },
  { name: 'sine 2 kHz 24k', sampleRateHz: 24000, channels: 1, pcm: () => sine(2000, 0.25, 3, 24000) },
  { name: 'white noise stereo 22.05k', sampleRateHz: 22050, channels: 2, pcm: () => noise(0.5, 3, 22050, 2, 99) },
  {
    name: 'stereo, different tone per channel 44.1k',
    sampleRateHz: 44100,
    channels: 2,
    pcm: () => interleave(sine(440, 0.4, 3, 44100), sine(2500, 0.1, 3, 44100)),
  },
  {
    name: 'silent gaps and a quiet part (both gates) 44.1k',
    sampleRateHz: 44100,
    channels: 1,
    pcm: () =>
      join2(sine(1000, 0.5, 2, 44100), new Float32Array(44100 * 3), sine(1000, 0.01, 3, 44100), sine(700, 0.3, 1.5, 44100), new Float32Array(44100)),
  },
  {
    name: 'very quiet programme around the absolute gate 48k',
    sampleRateHz: 48000,
    channels: 1,
    pcm: () => join2(sine(1000, 0.00025, 2, 48000), sine(1000, 0.00056, 2, 48000), sine(1000, 0.0004, 1, 48000)),
  },
  {
    name: 'noise bursts with gaps 48k stereo',
    sampleRateHz: 48000,
    channels: 2,
    pcm: () => join2(noise(0.3, 1, 48000, 2), new Float32Array(48000 * 2 * 2), noise(0.03, 2, 48000, 2, 7), noise(0.3, 1.3, 48000, 2, 8)),
  },
  {
    name: '5.1 surround weights 48k',
    sampleRateHz: 48000,
    channels: 6,
    pcm: () => {
      const s = sine(1000, 0.2, 3, 48000);
      const silent = new Float32Array(s.length);
      return interleave(s, silent, silent, sine(50, 0.9, 3, 48000), silent, s);
    },
  },
];

describe('measureLoudness against ffmpeg ebur128', () => {
  for (const signal of SIGNALS) {
    it(`${signal.name}: integrated within 0.1 LU`, () => {
      const pcm = signal.pcm();
      const ours = measureLoudness(pcm, { sampleRateHz: signal.sampleRateHz, channels: signal.channels });
      const reference = ffmpegEbur128(signal.name.replace(/[^a-z0-9]+/gi, '-'), pcm, signal.sampleRateHz, signal.channels);
      expect(Math.abs(ours.integratedLufs - reference.integratedLufs)).toBeLessThanOrEqual(0.1);
      // ffmpeg's own true-peak meter over-reads high tones by up to ~0.6 dB (it is coarser than
      // ours; see the analytic checks below), so only gross errors are caught against it.
      expect(Math.abs(ours.truePeakDb - reference.truePeakDb)).toBeLessThanOrEqual(0.6);
      expect(ours.truePeakDb).toBeGreaterThanOrEqual(ours.samplePeakDb);
    });
  }
});

describe('measureLoudness known answers', () => {
  it('reproduces the BS.1770-4 48 kHz K-weighting coefficients', () => {
    const [shelf, highPass] = kWeightingCoefficients(48000);
    expect(shelf.b0).toBeCloseTo(1.53512485958697, 12);
    expect(shelf.b1).toBeCloseTo(-2.69169618940638, 12);
    expect(shelf.b2).toBeCloseTo(1.19839281085285, 12);
    expect(shelf.a1).toBeCloseTo(-1.69065929318241, 12);
    expect(shelf.a2).toBeCloseTo(0.73248077421585, 12);
    expect(highPass.a1).toBeCloseTo(-1.99004745483398, 12);
    expect(highPass.a2).toBeCloseTo(0.99007225036621, 12);
  });

  it('reads a 0 dBFS 997 Hz sine on one channel as about -3.01 LUFS (EBU Tech 3341 style check)', () => {
    const result = measureLoudness(sine(997, 1, 5, 48000), { sampleRateHz: 48000, channels: 1 });
    expect(result.integratedLufs).toBeCloseTo(-3.01, 1);
  });

  it('finds an inter-sample peak the sample peak misses (fs/4 sine at 45 degrees: +3 dB)', () => {
    const rate = 48000;
    const pcm = new Float32Array(rate);
    for (let i = 0; i < pcm.length; i++) pcm[i] = 0.5 * Math.sin((Math.PI / 2) * i + Math.PI / 4);
    fadeEdges(pcm, 0.02 * rate);
    const result = measureLoudness(pcm, { sampleRateHz: rate, channels: 1 });
    expect(result.samplePeakDb).toBeCloseTo(20 * Math.log10(0.5 * Math.SQRT1_2), 3);
    expect(result.truePeakDb).toBeCloseTo(20 * Math.log10(0.5), 1);
  });

  for (const [frequencyHz, rate] of [[997, 44100], [3000, 22050], [6000, 48000], [5000, 16000]] as const) {
    it(`reads the true peak of a faded ${frequencyHz} Hz sine at ${rate} Hz within the 4x-oversampling bound`, () => {
      const pcm = sine(frequencyHz, 0.7, 1, rate);
      fadeEdges(pcm, 0.02 * rate);
      const { truePeakDb } = measureLoudness(pcm, { sampleRateHz: rate, channels: 1 });
      // Sampling 4x can miss the crest by at most 1/8 sample: a factor cos(2*pi*f/(8*fs)).
      const worstDb = 20 * Math.log10(Math.cos((2 * Math.PI * frequencyHz) / (8 * rate)));
      expect(truePeakDb).toBeLessThanOrEqual(20 * Math.log10(0.7) + 0.01);
      expect(truePeakDb).toBeGreaterThanOrEqual(20 * Math.log10(0.7) + worstDb - 0.01);
    });
  }

  it('applies the absolute gate together with the relative one for very quiet programmes', () => {
    // -68 LUFS then -75 LUFS: the relative gate (-78) is below the absolute one, which must still hold.
    const pcm = join2(sine(1000, 0.00025, 2, 48000), sine(1000, 0.00056, 2, 48000));
    const result = measureLoudness(pcm, { sampleRateHz: 48000, channels: 1 });
    expect(result.integratedLufs).toBeCloseTo(-68.04, 1);
    expect(result.gatedBlockCount).toBeLessThan(result.blockCount - 10);
  });

  it('gives -Infinity for silence and for audio shorter than one 400 ms block', () => {
    const silent = measureLoudness(new Float32Array(48000), { sampleRateHz: 48000, channels: 1 });
    expect(silent.integratedLufs).toBe(-Infinity);
    expect(silent.truePeakDb).toBe(-Infinity);
    expect(silent.blockCount).toBe(7);
    expect(silent.gatedBlockCount).toBe(0);
    const short = measureLoudness(sine(1000, 0.5, 0.3, 48000), { sampleRateHz: 48000, channels: 1 });
    expect(short.blockCount).toBe(0);
    expect(short.integratedLufs).toBe(-Infinity);
  });

  it('rejects bad options and PCM naming the field', () => {
    expect(() => measureLoudness(new Float32Array(4), { sampleRateHz: 100, channels: 1 })).toThrow(/options\.sampleRateHz/);
    expect(() => measureLoudness(new Float32Array(3), { sampleRateHz: 48000, channels: 2 })).toThrow(/pcm: .*divisible by channels \(2\)/);
    expect(() => measureLoudness([] as unknown as Float32Array, { sampleRateHz: 48000, channels: 1 })).toThrow(InputError);
  });
});

describe('normalizeLoudness', () => {
  it('reaches the target, confirmed by ffmpeg', () => {
    const pcm = join2(noise(0.05, 2, 44100, 2), new Float32Array(44100 * 2), sine(300, 0.02, 2, 44100, 2));
    const result = normalizeLoudness(pcm, { sampleRateHz: 44100, channels: 2, targetLufs: -16 });
    expect(result.limited).toBe(false);
    expect(result.after.integratedLufs).toBeCloseTo(-16, 2);
    expect(result.gainDb).toBeCloseTo(-16 - result.before.integratedLufs, 6);
    // `after` is derived from the input's analysis: a fresh measurement of the output agrees.
    const remeasured = measureLoudness(result.pcm, { sampleRateHz: 44100, channels: 2 });
    expect(remeasured.integratedLufs).toBeCloseTo(result.after.integratedLufs, 4);
    expect(remeasured.truePeakDb).toBeCloseTo(result.after.truePeakDb, 4);
    expect(Math.abs(ffmpegEbur128('normalized', result.pcm, 44100, 2).integratedLufs - -16)).toBeLessThanOrEqual(0.1);
  });

  it('meets the target under the true-peak ceiling through the limiter, and says so', () => {
    // A 5 ms burst 25 dB over the programme: a plain gain to -10 LUFS would put it at about +10 dBTP.
    const pcm = join2(sine(1000, 0.05, 1.5, 48000), sine(1000, 0.9, 0.005, 48000), sine(1000, 0.05, 1.5, 48000));
    const result = normalizeLoudness(pcm, { sampleRateHz: 48000, channels: 1, targetLufs: -10, truePeakLimitDb: -1 });
    expect(result.limited).toBe(true);
    expect(result.peakReductionDb).toBeGreaterThan(5);
    expect(result.after.truePeakDb).toBeLessThanOrEqual(-1);
    expect(Math.abs(result.after.integratedLufs - -10)).toBeLessThan(0.05);
    const reference = ffmpegEbur128('limited-burst', result.pcm, 48000, 1);
    expect(Math.abs(reference.integratedLufs - -10)).toBeLessThanOrEqual(0.1);
    expect(reference.truePeakDb).toBeLessThanOrEqual(-0.9);
  });

  it('settles the gain when it lifts quiet blocks over the absolute gate', () => {
    // A part at about -75 LUFS is under the absolute gate before and counts after +48 dB (it is
    // within 10 LU of the -68 LUFS part), which moves the integrated loudness: a single "target
    // minus measured" step would miss the target.
    const pcm = join2(sine(1000, 0.00025, 2, 48000), sine(1000, 0.00056, 2, 48000));
    const result = normalizeLoudness(pcm, { sampleRateHz: 48000, channels: 1, targetLufs: -20 });
    expect(result.before.gatedBlockCount).toBeLessThan(result.after.gatedBlockCount);
    expect(result.gainDb).not.toBeCloseTo(-20 - result.before.integratedLufs, 1);
    expect(measureLoudness(result.pcm, { sampleRateHz: 48000, channels: 1 }).integratedLufs).toBeCloseTo(-20, 2);
  });

  it('leaves silence unchanged with zero gain', () => {
    const result = normalizeLoudness(new Float32Array(48000), { sampleRateHz: 48000, channels: 1, targetLufs: -23 });
    expect(result.gainDb).toBe(0);
    expect(result.pcm).toEqual(new Float32Array(48000));
  });

  it('validates the target', () => {
    expect(() => normalizeLoudness(new Float32Array(4), { sampleRateHz: 48000, channels: 1, targetLufs: 5 })).toThrow(/options\.targetLufs/);
  });
});
