/** The watermark's error-correcting code (convolutional code, soft Viterbi, keyed CRC-24) and its FFT, on their own. */
import { describe, expect, it } from 'vitest';
import { CODED_BITS, checkedPayload, codedMessage, encode, infoBits, INFO_BITS, viterbi } from '../../src/security/watermark-code.js';
import { fft, ifft, nextPowerOfTwo } from '../../src/security/watermark-fft.js';
import { keyMaterial, MESSAGE_BITS } from '../../src/security/watermark-layout.js';
import { seededGaussian } from '../helpers/watermark-channel.js';

const material = keyMaterial('code-test-key-01');

/** Soft values of a codeword: +1 for 0, -1 for 1, plus seeded Gaussian noise of `sigma`. */
function noisySoft(codeword: Uint8Array, sigma: number, seed: number): Float64Array {
  const gaussian = seededGaussian(seed);
  return Float64Array.from(codeword, (bit) => (bit ? -1 : 1) + sigma * gaussian());
}

describe('watermark code', () => {
  it('codes 56 information bits into one 112-frame message', () => {
    expect(INFO_BITS).toBe(56);
    expect(CODED_BITS).toBe(MESSAGE_BITS);
    expect(codedMessage(0xdeadbeef, material)).toHaveLength(112);
  });

  it('decodes clean and noisy codewords (raw bit errors well above 10 %) and checks the keyed CRC', () => {
    for (const [index, payload] of [0, 1, 0xdeadbeef, 0xffffffff, 123_456_789].entries()) {
      const codeword = codedMessage(payload, material);
      expect(checkedPayload(viterbi(noisySoft(codeword, 0, 1)).info, material)).toBe(payload);
      // sigma 0.75: about 9 % of the hard decisions are wrong; the code still recovers every payload here.
      const soft = noisySoft(codeword, 0.75, 100 + index);
      const hardErrors = codeword.filter((bit, i) => (soft[i]! < 0 ? 1 : 0) !== bit).length;
      expect(hardErrors).toBeGreaterThan(5);
      expect(checkedPayload(viterbi(soft).info, material)).toBe(payload);
    }
  });

  it('refuses a codeword whose CRC does not check: a flipped bit, another key, an erased message', () => {
    const info = infoBits(0x01020304, material);
    expect(checkedPayload(info, material)).toBe(0x01020304);
    // Planted violations: one payload bit flipped, one CRC bit flipped, the right bits under another key.
    const payloadFlipped = Uint8Array.from(info);
    payloadFlipped[5] = 1 - payloadFlipped[5]!;
    expect(checkedPayload(payloadFlipped, material)).toBeNull();
    const crcFlipped = Uint8Array.from(info);
    crcFlipped[40] = 1 - crcFlipped[40]!;
    expect(checkedPayload(crcFlipped, material)).toBeNull();
    expect(checkedPayload(info, keyMaterial('another-key-0002'))).toBeNull();
    // All erasures decode to the zero word, whose keyed CRC does not check (the mask is not zero).
    expect(checkedPayload(viterbi(new Float64Array(CODED_BITS)).info, material)).toBeNull();
  });

  it('encodes tail-biting (the encoder ends in the state it started in) and decodes any rotation of the circle', () => {
    const coded = encode(new Uint8Array([1, 0, 1, 1, 0, 0, 1, 0]));
    expect(coded).toHaveLength(16);
    expect(Array.from(encode(new Uint8Array(8)))).toEqual(new Array(16).fill(0));
    // A time-invariant code: rotating the information bits by one step rotates the codeword by two bits.
    const info = infoBits(0x5a5a1234, material);
    const rotated = Uint8Array.from({ length: INFO_BITS }, (_, t) => info[(t + 1) % INFO_BITS]!);
    const codeword = encode(info);
    expect(Array.from(encode(rotated))).toEqual(Array.from({ length: CODED_BITS }, (_, i) => codeword[(i + 2) % CODED_BITS]!));
    // Errors at the circle's seam (the first and last steps) are corrected like any others.
    const soft = noisySoft(codeword, 0, 3);
    for (const i of [0, 1, 3, CODED_BITS - 1, CODED_BITS - 4]) soft[i] = -0.8 * soft[i]!;
    expect(Array.from(viterbi(soft).info)).toEqual(Array.from(info));
  });
});

describe('watermark FFT', () => {
  it('matches a direct DFT and inverts exactly', () => {
    const size = 64;
    const gaussian = seededGaussian(7);
    const signal = Float64Array.from({ length: size }, () => gaussian());
    const re = Float64Array.from(signal);
    const im = new Float64Array(size);
    fft(re, im);
    for (const k of [0, 1, 5, 31, 32, 63]) {
      let dftRe = 0;
      let dftIm = 0;
      for (let n = 0; n < size; n++) {
        dftRe += signal[n]! * Math.cos((-2 * Math.PI * k * n) / size);
        dftIm += signal[n]! * Math.sin((-2 * Math.PI * k * n) / size);
      }
      expect(re[k]).toBeCloseTo(dftRe, 9);
      expect(im[k]).toBeCloseTo(dftIm, 9);
    }
    ifft(re, im);
    for (let n = 0; n < size; n++) expect(re[n]).toBeCloseTo(signal[n]!, 12);
    expect(nextPowerOfTwo(513)).toBe(1024);
    expect(() => fft(new Float64Array(12), new Float64Array(12))).toThrow(RangeError);
  });
});
