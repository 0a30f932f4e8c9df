import { describe, expect, it } from 'vitest';
import { concatPcm, f32leToFloat32, float32ToF32le, float32ToS16le, s16leToFloat32 } from '../../src/audio/pcm.js';
import { InputError } from '../../src/errors.js';

describe('s16le <-> float32', () => {
  it('decodes little-endian signed 16-bit samples with -32768 mapping to -1', () => {
    const bytes = new Uint8Array([0x00, 0x80, 0xff, 0x7f, 0x00, 0x00, 0x00, 0x40, 0xff, 0xff]);
    expect(Array.from(s16leToFloat32(bytes))).toEqual([-1, 32767 / 32768, 0, 0.5, -1 / 32768]);
  });

  it('decodes from an unaligned view of a larger buffer', () => {
    const backing = new Uint8Array([9, 0x00, 0x40, 0x00, 0xc0]);
    expect(Array.from(s16leToFloat32(backing.subarray(1)))).toEqual([0.5, -0.5]);
  });

  it('encodes with rounding and clamps out-of-range values without wrapping', () => {
    const bytes = float32ToS16le(new Float32Array([0, 0.5, -0.5, 1, -1, 2, -3, Number.NaN, 1 / 65536 + 1e-9]));
    const view = new DataView(bytes.buffer);
    const values = Array.from({ length: bytes.length / 2 }, (_, i) => view.getInt16(i * 2, true));
    expect(values).toEqual([0, 16384, -16384, 32767, -32768, 32767, -32768, 0, 1]);
  });

  it('round-trips every 16-bit value exactly', () => {
    const bytes = new Uint8Array(65536 * 2);
    const view = new DataView(bytes.buffer);
    for (let v = -32768; v < 32768; v++) view.setInt16((v + 32768) * 2, v, true);
    expect(float32ToS16le(s16leToFloat32(bytes))).toEqual(bytes);
  });

  it('rejects an odd byte count with PCM_INVALID', () => {
    expect(() => s16leToFloat32(new Uint8Array(3))).toThrow(InputError);
    expect(() => s16leToFloat32(new Uint8Array(3))).toThrow(/bytes: expected an even number of bytes.*received 3/);
    try {
      s16leToFloat32(new Uint8Array(3));
    } catch (error) {
      expect((error as InputError).code).toBe('PCM_INVALID');
    }
  });

  it('rejects a non-Uint8Array input naming the field', () => {
    expect(() => s16leToFloat32([1, 2] as unknown as Uint8Array)).toThrow(/bytes: expected a Uint8Array/);
    expect(() => float32ToS16le(new Float64Array(2) as unknown as Float32Array)).toThrow(/samples: expected a Float32Array/);
  });
});

describe('f32le <-> float32', () => {
  it('round-trips values including out-of-range ones unchanged', () => {
    const samples = new Float32Array([0, 0.25, -1.5, 3, 1e-7]);
    expect(f32leToFloat32(float32ToF32le(samples))).toEqual(samples);
  });

  it('rejects a byte count that is not a multiple of 4', () => {
    expect(() => f32leToFloat32(new Uint8Array(6))).toThrow(/multiple of 4 bytes.*received 6/);
  });
});

describe('concatPcm', () => {
  it('joins chunks in order', () => {
    const out = concatPcm([new Float32Array([1, 2]), new Float32Array(0), new Float32Array([3])]);
    expect(Array.from(out)).toEqual([1, 2, 3]);
  });

  it('returns an empty array for no chunks', () => {
    expect(concatPcm([]).length).toBe(0);
  });

  it('rejects a chunk that is not a Float32Array, naming its index', () => {
    expect(() => concatPcm([new Float32Array(1), [1] as unknown as Float32Array])).toThrow(/chunks\.1: expected a Float32Array/);
  });
});
