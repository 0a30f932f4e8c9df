import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Resampler, resample } from '../../src/audio/resampler.js';
import { InputError } from '../../src/errors.js';

/** Linear chirp from f0 to f1 Hz over `seconds`, amplitude 0.5, sampled at `rateHz` for `frames`. */
function chirp(f0Hz: number, f1Hz: number, seconds: number, rateHz: number, frames = Math.round(seconds * rateHz)): Float32Array {
  const out = new Float32Array(frames);
  const sweepRate = (f1Hz - f0Hz) / seconds;
  for (let i = 0; i < frames; i++) {
    const t = i / rateHz;
    out[i] = 0.5 * Math.sin(2 * Math.PI * (f0Hz * t + 0.5 * sweepRate * t * t));
  }
  return out;
}

function tone(frequencyHz: number, seconds: number, rateHz: number): Float32Array {
  const out = new Float32Array(Math.round(seconds * rateHz));
  for (let i = 0; i < out.length; i++) out[i] = 0.5 * Math.sin((2 * Math.PI * frequencyHz * i) / rateHz);
  return out;
}

/** Mean power of the middle of `pcm`, skipping `edgeFrames` at each end (the filter's edge transients). */
function middlePower(pcm: Float32Array, edgeFrames: number): number {
  let sum = 0;
  for (let i = edgeFrames; i < pcm.length - edgeFrames; i++) sum += pcm[i]! ** 2;
  return sum / (pcm.length - 2 * edgeFrames);
}

const RATE_PAIRS: Array<[number, number]> = [
  [22050, 24000], [24000, 22050], [22050, 44100], [44100, 22050], [24000, 48000], [48000, 24000],
  [44100, 48000], [48000, 44100], [16000, 22050], [22050, 16000], [48000, 16000], [16000, 48000],
  [16000, 24000], [24000, 16000], [8000, 44100], [44100, 44101],
];

describe('resample quality', () => {
  for (const [inputRateHz, outputRateHz] of RATE_PAIRS) {
    it(`${inputRateHz} -> ${outputRateHz} Hz: a passband sweep comes out with SNR > 90 dB`, () => {
      const topHz = 0.85 * (Math.min(inputRateHz, outputRateHz) / 2);
      const output = resample(chirp(20, topHz, 0.5, inputRateHz), { inputRateHz, outputRateHz });
      expect(output.length).toBe(Math.ceil((0.5 * inputRateHz * outputRateHz) / inputRateHz));
      const ideal = chirp(20, topHz, 0.5, outputRateHz, output.length);
      const edge = Math.round(0.02 * outputRateHz);
      let signal = 0;
      let error = 0;
      for (let i = edge; i < output.length - edge; i++) {
        signal += ideal[i]! ** 2;
        error += (output[i]! - ideal[i]!) ** 2;
      }
      const snrDb = 10 * Math.log10(signal / error);
      expect(snrDb).toBeGreaterThan(90);
    });
  }

  for (const [inputRateHz, outputRateHz] of RATE_PAIRS.filter(([a, b]) => b < a && a - b > 100)) {
    it(`${inputRateHz} -> ${outputRateHz} Hz: a tone above the new Nyquist is attenuated > 85 dB`, () => {
      for (const fraction of [1.02, 1.3]) {
        const frequencyHz = Math.min((outputRateHz / 2) * fraction, 0.98 * (inputRateHz / 2));
        const input = tone(frequencyHz, 0.5, inputRateHz);
        const output = resample(input, { inputRateHz, outputRateHz });
        const attenuationDb = 10 * Math.log10(middlePower(output, Math.round(0.02 * outputRateHz)) / middlePower(input, 0));
        expect(attenuationDb).toBeLessThan(-85);
      }
    });
  }

  it('keeps DC at unity gain on every phase', () => {
    const output = resample(new Float32Array(4000).fill(0.25), { inputRateHz: 22050, outputRateHz: 24000 });
    for (let i = 200; i < output.length - 200; i++) expect(Math.abs(output[i]! - 0.25)).toBeLessThan(1e-6);
  });

  it('resamples each interleaved channel on its own', () => {
    const left = tone(440, 0.2, 48000);
    const right = tone(1000, 0.2, 48000);
    const stereo = new Float32Array(left.length * 2);
    for (let i = 0; i < left.length; i++) {
      stereo[2 * i] = left[i]!;
      stereo[2 * i + 1] = right[i]!;
    }
    const options = { inputRateHz: 48000, outputRateHz: 22050 };
    const out = resample(stereo, { ...options, channels: 2 });
    const outLeft = resample(left, options);
    const outRight = resample(right, options);
    expect(out.length).toBe(outLeft.length * 2);
    for (let i = 0; i < outLeft.length; i++) {
      expect(out[2 * i]).toBe(outLeft[i]);
      expect(out[2 * i + 1]).toBe(outRight[i]);
    }
  });

  it('passes audio through unchanged when the rates are equal', () => {
    const input = tone(300, 0.01, 16000);
    expect(resample(input, { inputRateHz: 16000, outputRateHz: 16000 })).toEqual(input);
    expect(new Resampler({ inputRateHz: 16000, outputRateHz: 16000 }).lookaheadFrames).toBe(0);
  });
});

describe('Resampler streaming', () => {
  it('gives output identical to one-shot for any chunking (property)', () => {
    const input = chirp(50, 9000, 0.1, 22050);
    const stereo = new Float32Array(input.length * 2);
    for (let i = 0; i < input.length; i++) {
      stereo[2 * i] = input[i]!;
      stereo[2 * i + 1] = -0.5 * input[i]!;
    }
    const pairs: Array<[number, number]> = [[22050, 24000], [24000, 16000], [16000, 44100], [44100, 44101], [48000, 8000]];
    fc.assert(
      fc.property(
        fc.constantFrom(...pairs),
        fc.constantFrom(1, 2),
        fc.array(fc.integer({ min: 0, max: 700 }), { minLength: 1, maxLength: 12 }),
        ([inputRateHz, outputRateHz], channels, cuts) => {
          const pcm = channels === 1 ? input : stereo;
          const options = { inputRateHz, outputRateHz, channels };
          const expected = resample(pcm, options);
          const resampler = new Resampler(options);
          const pieces: Float32Array[] = [];
          let at = 0;
          for (const cut of cuts) {
            const end = Math.min(pcm.length, at + cut * channels);
            pieces.push(resampler.process(pcm.subarray(at, end)));
            at = end;
          }
          pieces.push(resampler.process(pcm.subarray(at)));
          pieces.push(resampler.flush());
          const joined = new Float32Array(pieces.reduce((n, p) => n + p.length, 0));
          let offset = 0;
          for (const piece of pieces) {
            joined.set(piece, offset);
            offset += piece.length;
          }
          expect(joined).toEqual(expected);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('holds back only the filter lookahead while streaming', () => {
    const resampler = new Resampler({ inputRateHz: 24000, outputRateHz: 48000 });
    const out = resampler.process(new Float32Array(2400));
    expect(out.length).toBe((2400 - resampler.lookaheadFrames) * 2);
    expect(resampler.flush().length).toBe(resampler.lookaheadFrames * 2);
    expect(resampler.flush().length).toBe(0);
  });

  it('rejects process() after flush() and malformed chunks', () => {
    const resampler = new Resampler({ inputRateHz: 24000, outputRateHz: 16000, channels: 2 });
    expect(() => resampler.process(new Float32Array(3))).toThrow(/chunk: expected a sample count divisible by channels \(2\)/);
    expect(() => resampler.process([0, 0] as unknown as Float32Array)).toThrow(/chunk: expected a Float32Array/);
    resampler.flush();
    let caught: unknown;
    try {
      resampler.process(new Float32Array(2));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect((caught as InputError).code).toBe('RESAMPLER_FLUSHED');
  });

  it('validates options naming the field', () => {
    expect(() => new Resampler({ inputRateHz: 0, outputRateHz: 16000 })).toThrow(/options\.inputRateHz/);
    expect(() => new Resampler({ inputRateHz: 16000, outputRateHz: 22050.5 })).toThrow(/options\.outputRateHz/);
    expect(() => new Resampler({ inputRateHz: 16000, outputRateHz: 8000, stopbandAttenuationDb: 10 })).toThrow(
      /options\.stopbandAttenuationDb/,
    );
    let caught: unknown;
    try {
      new Resampler({ inputRateHz: 1_000_000, outputRateHz: 100 });
    } catch (error) {
      caught = error;
    }
    expect((caught as InputError).code).toBe('RESAMPLE_RATIO_UNSUPPORTED');
    expect((caught as InputError).message).toMatch(/1000000 -> 100 Hz needs a \d+-tap filter/);
    expect(new Resampler({ inputRateHz: 192000, outputRateHz: 8000 }).lookaheadFrames).toBeGreaterThan(1000);
    expect(() => resample(new Float64Array(4) as unknown as Float32Array, { inputRateHz: 1, outputRateHz: 2 })).toThrow(/pcm: expected a Float32Array/);
  });
});
