import { afterEach, describe, expect, it, vi } from 'vitest';
import { OPENAI_MAX_INPUT_CHARS, OpenAIBackend, type OpenAIBackendOptions } from '../../src/backends/openai.js';
import { BackendError, InputError } from '../../src/errors.js';
import { describeCloudBackendContract } from '../helpers/cloud-backend-contract.js';
import { delay, heldBackStream, jsonResponder, pcmResponder, piecewiseResponder, s16leBytes, silentResponder, TestHttpServer, testSamples, useTestHttpServer } from '../helpers/http-server.js';
import { collect, rejection, samplesOf, segment, streamError } from '../helpers/synthesis.js';

const KEY = 'sk-test-secret-0123456789';
/** 80 ms at 24 kHz: the default chunk. */
const CHUNK_FRAMES = 1920;

const server = useTestHttpServer();
afterEach(() => {
  vi.unstubAllEnvs();
});

function backend(options: OpenAIBackendOptions = {}): OpenAIBackend {
  return new OpenAIBackend({ apiKey: KEY, baseUrl: `${server.baseUrl}/v1`, retryBaseMs: 1, ...options });
}

describeCloudBackendContract({
  name: 'openai',
  apiKey: KEY,
  apiKeyEnv: 'OPENAI_API_KEY',
  create: (testServer, options) => new OpenAIBackend({ baseUrl: `${testServer.baseUrl}/v1`, retryBaseMs: 1, ...options }),
  keyOf: (request) => /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1],
  retryableFailures: [jsonResponder(429, { error: { message: 'Rate limit reached' } }, { 'retry-after': '1' }), jsonResponder(503, { error: { message: 'Overloaded' } })],
  unauthorized: (apiKey) => jsonResponder(401, { error: { message: `Incorrect API key provided: ${apiKey}.`, type: 'invalid_request_error' } }),
  unauthorizedText: 'Incorrect API key provided',
});

describe('OpenAIBackend', () => {
  it('posts the documented request and streams chunks before the body is complete', async () => {
    const samples = testSamples(6000);
    const bytes = s16leBytes(samples);
    const stream = heldBackStream([bytes.subarray(0, 5000), bytes.subarray(5000, 9000), bytes.subarray(9000)]);
    server.respond(stream.responder);

    const chunks = await stream.consume(backend({ model: 'gpt-4o-mini-tts', voice: 'coral', instructions: 'Speak calmly.' }).synthesize(segment('Hello there.', { prosody: { rate: 1.5 } })));

    expect(stream.events.indexOf('first chunk')).toBeLessThan(stream.events.indexOf('piece 2'));
    expect(samplesOf(chunks)).toEqual(samples);
    expect(chunks.every((chunk) => chunk.sampleRateHz === 24_000 && chunk.channels === 1)).toBe(true);
    expect(chunks.slice(0, -1).every((chunk) => chunk.pcm.length === CHUNK_FRAMES)).toBe(true);

    expect(server.requests).toHaveLength(1);
    const request = server.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/v1/audio/speech');
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['user-agent']).toBe('voice-soundboard');
    expect(JSON.parse(request.body)).toEqual({
      model: 'gpt-4o-mini-tts',
      input: 'Hello there.',
      voice: 'coral',
      response_format: 'pcm',
      speed: 1.5,
      instructions: 'Speak calmly.',
    });
  });

  it('reassembles samples split across network chunks at odd byte offsets', async () => {
    const samples = testSamples(4500);
    const bytes = s16leBytes(samples);
    const cuts = [1, 4, 1001, 1008, 3841, 5000, 7777, bytes.length];
    const pieces = cuts.map((end, index) => bytes.subarray(index === 0 ? 0 : cuts[index - 1], end));
    server.respond(piecewiseResponder(pieces, () => delay(5)));

    const chunks = await collect(backend({ chunkMs: 50 }).synthesize(segment('odd')));

    expect(samplesOf(chunks)).toEqual(samples);
    expect(chunks.map((chunk) => chunk.pcm.length)).toEqual([1200, 1200, 1200, 900]);
  });

  it('uses the voice of the call over the segment and the segment over the default, and maps prosody', async () => {
    server.respond(pcmResponder(s16leBytes([16384, -16384])));
    const openai = backend();

    const chunks = await collect(openai.synthesize(segment('a', { voice: 'sage', prosody: { rate: 9, volumeDb: -20 * Math.log10(2) } }), { voice: 'onyx' }));
    await collect(openai.synthesize(segment('b', { voice: 'sage', prosody: { rate: 0.1 } })));
    await collect(openai.synthesize(segment('c')));

    const bodies = server.requests.map((request) => JSON.parse(request.body) as Record<string, unknown>);
    expect(bodies.map((body) => body.voice)).toEqual(['onyx', 'sage', 'alloy']);
    expect(bodies.map((body) => body.speed)).toEqual([4, 0.25, 1]);
    expect(bodies[2]).not.toHaveProperty('instructions');
    // -6.02 dB halves the amplitude.
    expect(Array.from(chunks[0]!.pcm)).toEqual([0.25, -0.25]);
  });

  it('gives up after maxRetries with the last service error', async () => {
    server.respond(jsonResponder(500, { error: { message: 'The server had an error' } }));
    const openai = backend({ maxRetries: 1 });

    const error = await rejection(collect(openai.synthesize(segment('x'))));

    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ code: 'BACKEND_UNAVAILABLE', backend: 'openai', retryable: true });
    expect(error.message).toContain('500');
    expect(error.message).toContain('The server had an error');
    expect(server.requests).toHaveLength(2);
    expect(openai.metrics()).toMatchObject({ failures: 1, retries: 1 });
  });

  it('fails at once when Retry-After is longer than maxRetryAfterMs', async () => {
    server.respond(jsonResponder(429, { error: { message: 'quota exceeded' } }, { 'retry-after': '120' }));

    const error = await rejection(collect(backend({ maxRetries: 3, maxRetryAfterMs: 5000 }).synthesize(segment('x'))));

    expect(error).toMatchObject({ code: 'BACKEND_RATE_LIMITED', retryable: false });
    expect(error.message).toContain('retry after 120 s');
    expect(server.requests).toHaveLength(1);
  });

  it('reports 400 as a rejected request with the service text', async () => {
    server.respond((_request, response) => {
      response.writeHead(400, { 'content-type': 'text/plain' }).end('voice "nobody" is not supported');
    });

    const error = await rejection(collect(backend().synthesize(segment('x', { voice: 'nobody' }))));

    expect(error).toMatchObject({ code: 'BACKEND_REQUEST_REJECTED', retryable: false });
    expect(error.message).toContain('voice "nobody" is not supported');
  });

  it('times out when no audio arrives in firstChunkTimeoutMs, and retries the timeout', async () => {
    server.respond(silentResponder);
    const openai = backend({ firstChunkTimeoutMs: 200, maxRetries: 1 });

    const error = await rejection(collect(openai.synthesize(segment('x'))));

    expect(error).toMatchObject({ code: 'BACKEND_TIMEOUT', retryable: true });
    expect(server.requests).toHaveLength(2);
    await Promise.all(server.requests.map((request) => request.closedEarly));
  });

  it('fails with a retryable timeout when the stream stalls after audio, and closes the connection', async () => {
    const bytes = s16leBytes(testSamples(4000));
    server.respond(piecewiseResponder([bytes.subarray(0, 4000), bytes.subarray(4000)], () => delay(10_000)));
    const openai = backend({ idleTimeoutMs: 500, maxRetries: 2 });
    let received = 0;

    const error = await streamError(openai.synthesize(segment('stall')), () => (received += 1));

    expect(error).toMatchObject({ code: 'BACKEND_TIMEOUT', retryable: true });
    expect(error.message).toContain('stalled: no data within 500 ms');
    expect(received).toBe(1);
    // Audio was already yielded, so the base class must not retry.
    expect(server.requests).toHaveLength(1);
    await server.requests[0]!.closedEarly;
  });

  it('bounds the wait for the answer to a later part of a split input', async () => {
    server.respond(pcmResponder(s16leBytes([1, 2])), silentResponder);
    const text = `${'word '.repeat(900)}end.`;

    const error = await rejection(collect(backend({ firstChunkTimeoutMs: 1000 }).synthesize(segment(text))));

    expect(error).toMatchObject({ code: 'BACKEND_TIMEOUT' });
    expect(error.message).toContain('no answer from POST');
    expect(server.requests).toHaveLength(2);
    await server.requests[1]!.closedEarly;
  });

  it('closes the connection when the consumer stops early', async () => {
    const bytes = s16leBytes(testSamples(4000));
    server.respond(piecewiseResponder([bytes.subarray(0, 4000), bytes.subarray(4000)], () => delay(10_000)));

    for await (const chunk of backend().synthesize(segment('long'))) {
      expect(chunk.pcm.length).toBe(CHUNK_FRAMES);
      break;
    }

    await server.requests[0]!.closedEarly;
  });

  it('splits input over 4096 characters at sentence ends and plays the parts in order', async () => {
    const sentence = 'This sentence is part of a long text that must never be truncated. ';
    const text = sentence.repeat(140).trim();
    let part = 0;
    server.respond((_request, response) => {
      part += 1;
      response.writeHead(200, { 'content-type': 'audio/pcm' }).end(s16leBytes([part, part]));
    });

    const chunks = await collect(backend().synthesize(segment(text)));

    const inputs = server.requests.map((request) => (JSON.parse(request.body) as { input: string }).input);
    expect(inputs.length).toBe(3);
    expect(inputs.every((input) => input.length <= OPENAI_MAX_INPUT_CHARS && input.endsWith('truncated.'))).toBe(true);
    expect(inputs.join(' ')).toBe(text);
    expect(samplesOf(chunks)).toEqual([1, 1, 2, 2, 3, 3]);
  });

  it('splits a long text without spaces at code-point boundaries', async () => {
    server.respond(pcmResponder(s16leBytes([1])));
    const text = '😀'.repeat(OPENAI_MAX_INPUT_CHARS);

    await collect(backend().synthesize(segment(text)));

    const inputs = server.requests.map((request) => (JSON.parse(request.body) as { input: string }).input);
    expect(inputs.join('')).toBe(text);
    expect(inputs.every((input) => input.length <= OPENAI_MAX_INPUT_CHARS && !/^[\udc00-\udfff]|[\ud800-\udbff]$/.test(input))).toBe(true);
  });

  it('retries network failures as BACKEND_NETWORK', async () => {
    const closed = await TestHttpServer.start();
    const deadUrl = closed.baseUrl;
    await closed.close();
    const openai = new OpenAIBackend({ apiKey: KEY, baseUrl: deadUrl, retryBaseMs: 1, maxRetries: 1 });

    const error = await rejection(collect(openai.synthesize(segment('x'))));

    expect(error).toMatchObject({ code: 'BACKEND_NETWORK', retryable: true });
    expect(error.message).toContain('ECONNREFUSED');
    expect(openai.metrics().retries).toBe(1);
  });

  it('rejects a 200 answer that is JSON instead of audio', async () => {
    server.respond(jsonResponder(200, { error: 'not audio' }));

    const error = await rejection(collect(backend({ maxRetries: 0 }).synthesize(segment('x'))));

    expect(error).toMatchObject({ code: 'BACKEND_BAD_RESPONSE' });
    expect(error.message).toContain('application/json');
  });

  it('lists the built-in voices without a network call', async () => {
    const voices = await backend().voices();

    expect(voices.map((voice) => voice.id)).toEqual(expect.arrayContaining(['alloy', 'coral', 'nova', 'shimmer']));
    expect(voices.every((voice) => voice.backend === 'openai' && voice.sampleRateHz === 24_000)).toBe(true);
    expect(server.requests).toHaveLength(0);
  });

  it('validates its options with InputError naming the field', () => {
    expect(() => new OpenAIBackend({ model: 'tts-1', instructions: 'whisper' })).toThrow(InputError);
    expect(() => new OpenAIBackend({ model: 'tts-1', instructions: 'whisper' })).toThrow(/openai\.instructions: not supported by model tts-1/);
    expect(() => new OpenAIBackend({ baseUrl: 'ftp://example.com' })).toThrow(/openai\.baseUrl/);
    expect(() => new OpenAIBackend({ chunkMs: 1 } as OpenAIBackendOptions)).toThrow(/openai\.chunkMs/);
  });
});
