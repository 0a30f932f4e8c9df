import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nativeBinding } from '../../src/native/loader.js';

const { PcmRingBuffer } = nativeBinding();

/** Interleaved frames whose samples count up from `first`: sample i of the stream is first + i. */
function counting(frames: number, channels: number, first: number): Float32Array {
  return Float32Array.from({ length: frames * channels }, (_, index) => first + index);
}

describe('PcmRingBuffer (native SPSC ring)', () => {
  it('starts empty, fills, refuses when full and empties in order', () => {
    const ring = new PcmRingBuffer(8, 2);
    expect(ring.capacityFrames).toBe(8);
    expect(ring.channels).toBe(2);
    expect(ring.availableToRead()).toBe(0);
    expect(ring.availableToWrite()).toBe(8);
    const out = new Float32Array(16).fill(-1);
    expect(ring.read(out)).toBe(0);
    expect(out[0]).toBe(-1);

    expect(ring.write(counting(8, 2, 0))).toBe(8);
    expect(ring.availableToWrite()).toBe(0);
    expect(ring.write(counting(1, 2, 100))).toBe(0);
    expect(ring.read(out)).toBe(8);
    expect(Array.from(out)).toEqual(Array.from(counting(8, 2, 0)));
    expect(ring.availableToRead()).toBe(0);
  });

  it('accepts part of a write that does not fit and returns how many frames it took', () => {
    const ring = new PcmRingBuffer(10, 1);
    expect(ring.write(counting(6, 1, 0))).toBe(6);
    expect(ring.write(counting(6, 1, 6))).toBe(4);
    const out = new Float32Array(10);
    expect(ring.read(out)).toBe(10);
    expect(Array.from(out)).toEqual(Array.from(counting(10, 1, 0)));
  });

  it('keeps samples in order across many wrap-arounds with uneven chunk sizes', () => {
    const channels = 3;
    const ring = new PcmRingBuffer(7, channels);
    let written = 0;
    let read = 0;
    for (let round = 0; round < 300; round += 1) {
      written += ring.write(counting(1 + (round % 5), channels, written * channels));
      const out = new Float32Array((1 + ((round * 3) % 7)) * channels);
      const got = ring.read(out);
      expect(Array.from(out.subarray(0, got * channels))).toEqual(Array.from(counting(got, channels, read * channels)));
      read += got;
      expect(ring.availableToRead()).toBe(written - read);
      expect(ring.availableToWrite()).toBe(7 - (written - read));
    }
    expect(written).toBeGreaterThan(7 * 50);
  });

  it('behaves like a bounded FIFO for any sequence of writes, reads and discards (property)', () => {
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('write' as const), frames: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ kind: fc.constant('read' as const), frames: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ kind: fc.constant('discard' as const), frames: fc.constant(0) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 33 }), fc.integer({ min: 1, max: 3 }), fc.array(operation, { maxLength: 60 }), (capacity, channels, operations) => {
        const ring = new PcmRingBuffer(capacity, channels);
        const model: number[] = []; // queued samples
        let next = 0;
        for (const { kind, frames } of operations) {
          if (kind === 'write') {
            const chunk = counting(frames, channels, next);
            const accepted = ring.write(chunk);
            expect(accepted).toBe(Math.min(frames, capacity - model.length / channels));
            model.push(...chunk.subarray(0, accepted * channels));
            next += frames * channels;
          } else if (kind === 'read') {
            const out = new Float32Array(frames * channels);
            const got = ring.read(out);
            expect(got).toBe(Math.min(frames, model.length / channels));
            expect(Array.from(out.subarray(0, got * channels))).toEqual(model.splice(0, got * channels));
          } else {
            expect(ring.discardAll()).toBe(model.length / channels);
            model.length = 0;
          }
          expect(ring.availableToRead()).toBe(model.length / channels);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('drops everything queued with discardAll()', () => {
    const ring = new PcmRingBuffer(16, 2);
    ring.write(counting(5, 2, 0));
    expect(ring.discardAll()).toBe(5);
    expect(ring.availableToRead()).toBe(0);
    expect(ring.availableToWrite()).toBe(16);
  });

  it('rejects bad sizes and partial frames with coded errors', () => {
    expect(() => new PcmRingBuffer(0, 2)).toThrow(expect.objectContaining({ code: 'RING_INVALID_CAPACITY' }));
    expect(() => new PcmRingBuffer(8, 0)).toThrow(expect.objectContaining({ code: 'RING_INVALID_CHANNELS' }));
    expect(() => new PcmRingBuffer(1.5, 2)).toThrow(expect.objectContaining({ code: 'AUDIO_INVALID_ARGUMENT' }));
    const ring = new PcmRingBuffer(8, 2);
    expect(() => ring.write(new Float32Array(3))).toThrow(
      expect.objectContaining({ code: 'AUDIO_PCM_MISALIGNED', message: expect.stringContaining('not a multiple of 2') }),
    );
    expect(() => ring.write(new Float64Array(4) as unknown as Float32Array)).toThrow(
      expect.objectContaining({ code: 'AUDIO_INVALID_ARGUMENT', message: 'pcm must be a Float32Array' }),
    );
    expect(ring.availableToRead()).toBe(0);
  });
});
