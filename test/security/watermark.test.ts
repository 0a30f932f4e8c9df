/** Unit checks of the watermark's API edges: validation, rates it leaves alone, chunking, ids, the SNR check itself. */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { applyWatermark, createWatermarkEmbedder, detectWatermark, watermarkId } from '../../src/security/watermark.js';
import { markSnrDb, synthClip, withNoise } from '../helpers/watermark-channel.js';
import { inputFailure } from '../helpers/errors.js';

const KEY = 'unit-test-key-0001';

describe('watermark API', () => {
  it('validates at the edge, naming the field', () => {
    expect(inputFailure(() => createWatermarkEmbedder({ key: 'short', payload: 1 })).field).toBe('watermark.key');
    expect(inputFailure(() => createWatermarkEmbedder({ key: KEY, payload: -1 })).field).toBe('watermark.payload');
    expect(inputFailure(() => applyWatermark(new Float32Array(10), 22_049, { key: KEY, payload: 1 })).field).toBe('sampleRateHz');
    expect(inputFailure(() => detectWatermark({ pcm: new Float32Array(3), sampleRateHz: 16_000, channels: 2 }, KEY)).field).toBe('audio.pcm');
    expect(() => detectWatermark({ pcm: [1, 2] as unknown as Float32Array, sampleRateHz: 16_000 }, KEY)).toThrow(InputError);
  });

  it('passes a rate it cannot mark through unchanged, and marks chunk by chunk as in one piece for whole frames', () => {
    const low = synthClip(3, 'music', 1, 11_025);
    expect(createWatermarkEmbedder({ key: KEY, payload: 5 }).process(low.pcm, 11_025)).toEqual(low.pcm);
    const clip = synthClip(4, 'music', 2);
    const whole = applyWatermark(clip.pcm, clip.sampleRateHz, { key: KEY, payload: 5 });
    // Chunks of exactly 10 frames (10 × 882 samples): no frame straddles two chunks.
    const embedder = createWatermarkEmbedder({ key: KEY, payload: 5 });
    const chunked = new Float32Array(clip.pcm.length);
    for (let start = 0; start < clip.pcm.length; start += 8820) chunked.set(embedder.process(clip.pcm.subarray(start, start + 8820), clip.sampleRateHz), start);
    expect(chunked).toEqual(whole);
    expect(chunked).not.toEqual(clip.pcm);
  });

  it('finds the payload in a stereo mix, and says why when a clip is too short', () => {
    const clip = synthClip(5, 'music', 8);
    const marked = applyWatermark(clip.pcm, clip.sampleRateHz, { key: KEY, payload: 77 });
    const stereo = new Float32Array(marked.length * 2);
    marked.forEach((sample, i) => {
      stereo[2 * i] = sample;
      stereo[2 * i + 1] = sample;
    });
    expect(detectWatermark({ pcm: stereo, sampleRateHz: clip.sampleRateHz, channels: 2 }, KEY)).toMatchObject({ present: true, payload: 77 });
    const short = detectWatermark({ pcm: marked.subarray(0, clip.sampleRateHz), sampleRateHz: clip.sampleRateHz }, KEY);
    expect(short).toMatchObject({ present: false, payload: null });
    expect(short.reason).toMatch(/^too short: the detector needs at least 3 s of audio/);
    // Silence is long enough but carries nothing: a reason too, never a payload.
    expect(detectWatermark({ pcm: new Float32Array(clip.sampleRateHz * 5), sampleRateHz: clip.sampleRateHz }, KEY)).toMatchObject({ present: false, payload: null, reason: 'no audible frames in the marked band' });
    // Not found in less sound than the detector needs after codecs: the reason says how much it had.
    expect(detectWatermark(clip, KEY).reason).toMatch(/^not found in 8\.\d s of speech: after codecs and noise the detector needs about 12 s \(17 s after Opus/);
    const long = synthClip(8, 'noise', 20);
    expect(detectWatermark(long, KEY)).toEqual({ present: false, payload: null, confidence: expect.any(Number) });
  });

  it('names a watermark by key fingerprint and payload, not by the key', () => {
    const id = watermarkId({ key: KEY, payload: 0xabc });
    expect(id).toMatch(/^wm1-[0-9a-f]{8}-00000abc$/);
    expect(id).not.toContain(KEY);
    expect(watermarkId({ key: `${KEY}x`, payload: 0xabc })).not.toBe(id);
  });

  it('the SNR measure catches a mark that is too loud (planted: noise at 30 dB as the "mark")', () => {
    const clip = synthClip(6, 'noise', 2);
    expect(markSnrDb(clip.pcm, applyWatermark(clip.pcm, clip.sampleRateHz, { key: KEY, payload: 1 }))).toBeGreaterThanOrEqual(35);
    expect(markSnrDb(clip.pcm, withNoise(clip, 30, 9).pcm)).toBeLessThan(35);
  });
});
