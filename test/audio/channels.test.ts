import { describe, expect, it } from 'vitest';
import { convertChannels, monoToStereo, stereoToMono } from '../../src/audio/channels.js';
import { InputError } from '../../src/errors.js';

describe('convertChannels', () => {
  it('duplicates mono into every output channel', () => {
    expect(Array.from(monoToStereo(new Float32Array([0.5, -0.25])))).toEqual([0.5, 0.5, -0.25, -0.25]);
    expect(Array.from(convertChannels(new Float32Array([1]), { inputChannels: 1, outputChannels: 3 }))).toEqual([1, 1, 1]);
  });

  it('averages channels into mono, so mono -> stereo -> mono is lossless', () => {
    expect(Array.from(stereoToMono(new Float32Array([0.5, -0.5, 1, 0.5])))).toEqual([0, 0.75]);
    const mono = new Float32Array([0.1, -0.7, 0.33]);
    expect(stereoToMono(monoToStereo(mono))).toEqual(mono);
  });

  it('copies when the counts match (a new array)', () => {
    const pcm = new Float32Array([1, 2]);
    const out = convertChannels(pcm, { inputChannels: 2, outputChannels: 2 });
    expect(out).toEqual(pcm);
    expect(out).not.toBe(pcm);
  });

  it('refuses N -> M without a downmix matrix, and bad input', () => {
    let caught: unknown;
    try {
      convertChannels(new Float32Array(6), { inputChannels: 6, outputChannels: 2 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect((caught as InputError).code).toBe('CHANNELS_UNSUPPORTED');
    expect((caught as InputError).message).toMatch(/cannot convert 6 channels to 2/);
    expect(() => stereoToMono(new Float32Array(3))).toThrow(/divisible by inputChannels \(2\).*received 3/);
    expect(() => convertChannels(new Float32Array(2), { inputChannels: 0, outputChannels: 1 })).toThrow(/options\.inputChannels/);
  });
});
