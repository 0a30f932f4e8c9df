import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { streamS16lePcm, type HttpCall } from '../../src/backends/http.js';
import { s16leBytes } from '../helpers/http-server.js';
import { collect, rejection, samplesOf } from '../helpers/synthesis.js';

describe('streamS16lePcm (the shared PCM chunker)', () => {
  const call: HttpCall = {
    backend: 'test',
    method: 'POST',
    url: new URL('http://127.0.0.1/never-contacted'),
    headers: {},
    signal: new AbortController().signal,
    secrets: [],
    credentialHint: 'nothing',
    maxRetryAfterMs: 0,
  };

  function bodyOf(pieces: Uint8Array[]): Response {
    let index = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (index < pieces.length) controller.enqueue(pieces[index++]!);
        else controller.close();
      },
    });
    return new Response(stream, { headers: { 'content-type': 'audio/pcm' } });
  }

  it('yields exactly the input samples in fixed-size chunks, wherever the network splits the bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: -32768, max: 32767 }), { minLength: 1, maxLength: 700 }),
        fc.array(fc.integer({ min: 1, max: 1400 }), { maxLength: 12 }),
        async (samples, cutPoints) => {
          const bytes = s16leBytes(samples);
          const cuts = [...new Set(cutPoints.filter((cut) => cut < bytes.length))].sort((a, b) => a - b);
          const pieces = [0, ...cuts].map((start, index) => bytes.subarray(start, cuts[index] ?? bytes.length));
          const chunks = await collect(streamS16lePcm(call, bodyOf(pieces), { sampleRateHz: 1000, chunkMs: 100, gain: 1, idleTimeoutMs: 1000 }));
          expect(samplesOf(chunks)).toEqual(samples);
          expect(chunks.slice(0, -1).every((chunk) => chunk.pcm.length === 100)).toBe(true);
          expect(chunks.at(-1)!.pcm.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('drops a dangling last byte and reports an answer without a whole sample as BACKEND_BAD_RESPONSE', async () => {
    const chunks = await collect(streamS16lePcm(call, bodyOf([s16leBytes([100, -100]), new Uint8Array([7])]), { sampleRateHz: 1000, chunkMs: 100, gain: 1, idleTimeoutMs: 1000 }));
    expect(samplesOf(chunks)).toEqual([100, -100]);

    const error = await rejection(collect(streamS16lePcm(call, bodyOf([new Uint8Array([7])]), { sampleRateHz: 1000, chunkMs: 100, gain: 1, idleTimeoutMs: 1000 })));
    expect(error).toMatchObject({ code: 'BACKEND_BAD_RESPONSE', message: expect.stringContaining('returned no audio') });
  });

  it('limits samples after gain instead of clipping them', async () => {
    const chunks = await collect(streamS16lePcm(call, bodyOf([s16leBytes([24576, -24576, 8192])]), { sampleRateHz: 1000, chunkMs: 100, gain: 2, idleTimeoutMs: 1000 }));
    const pcm = Array.from(chunks[0]!.pcm);
    // 0.75 x 2 would be 1.5: the limiter keeps every sample under the -1 dBTP ceiling, none clamped to 1.
    expect(pcm).toHaveLength(3);
    for (const sample of pcm) expect(Math.abs(sample)).toBeLessThan(10 ** (-1 / 20));
    expect(pcm[0]).toBeGreaterThan(0);
    expect(pcm[1]).toBeLessThan(0);
  });
});
