import { describe, expect, it } from 'vitest';
import { applyGainInPlace, dbToGain } from '../../src/backends/gain.js';

describe('gain', () => {
  it('turns dB into a linear gain', () => {
    expect(dbToGain(0)).toBe(1);
    expect(dbToGain(20)).toBeCloseTo(10, 12);
    expect(dbToGain(-20 * Math.log10(2))).toBeCloseTo(0.5, 12);
  });

  it('applies a gain in place, clamping to [-1, 1] and silencing NaN', () => {
    const samples = Float32Array.from([0.25, -0.25, 0.75, -0.75, Number.NaN, 1.5]);

    const result = applyGainInPlace(samples, 2);

    expect(result).toBe(samples);
    expect(Array.from(samples)).toEqual([0.5, -0.5, 1, -1, 0, 1]);
  });
});
