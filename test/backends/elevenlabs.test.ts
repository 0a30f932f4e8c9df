import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ElevenLabsBackend, type ElevenLabsBackendOptions } from '../../src/backends/elevenlabs.js';
import { InputError } from '../../src/errors.js';
import { describeCloudBackendContract } from '../helpers/cloud-backend-contract.js';
import { delay, endlessAnswer, heldBackStream, jsonResponder, pcmResponder, piecewiseResponder, s16leBytes, silentResponder, testSamples, useTestHttpServer } from '../helpers/http-server.js';
import { collect, rejection, samplesOf, segment } from '../helpers/synthesis.js';

const KEY = 'xi-test-secret-abcdef';

const server = useTestHttpServer();
afterEach(() => {
  vi.unstubAllEnvs();
});

function backend(options: ElevenLabsBackendOptions = {}): ElevenLabsBackend {
  return new ElevenLabsBackend({ apiKey: KEY, baseUrl: server.baseUrl, retryBaseMs: 1, ...options });
}

describeCloudBackendContract({
  name: 'elevenlabs',
  apiKey: KEY,
  apiKeyEnv: 'ELEVENLABS_API_KEY',
  create: (testServer, options) => new ElevenLabsBackend({ baseUrl: testServer.baseUrl, retryBaseMs: 1, ...options }),
  keyOf: (request) => request.headers['xi-api-key'] as string | undefined,
  retryableFailures: [
    jsonResponder(429, { detail: { status: 'too_many_concurrent_requests', message: 'Too many concurrent requests' } }, { 'retry-after': '1' }),
    jsonResponder(503, { detail: 'service unavailable' }),
  ],
  unauthorized: (apiKey) => jsonResponder(401, { detail: { status: 'invalid_api_key', message: `Invalid API key: ${apiKey}` } }),
  unauthorizedText: 'Invalid API key',
});

describe('ElevenLabsBackend', () => {
  it('posts to the stream endpoint and yields audio before the body is complete', async () => {
    const samples = testSamples(5000);
    const bytes = s16leBytes(samples);
    const stream = heldBackStream([bytes.subarray(0, 4001), bytes.subarray(4001)]);
    server.respond(stream.responder);

    const chunks = await stream.consume(backend({ model: 'eleven_multilingual_v2' }).synthesize(segment('  Hello & welcome.  ', { voice: 'voice id/1' })));

    expect(stream.events).toEqual(['piece 0', 'first chunk', 'piece 1']);
    expect(samplesOf(chunks)).toEqual(samples);
    expect(chunks.every((chunk) => chunk.sampleRateHz === 24_000 && chunk.channels === 1)).toBe(true);
    const request = server.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/v1/text-to-speech/voice%20id%2F1/stream');
    expect(request.query.get('output_format')).toBe('pcm_24000');
    expect(request.headers['xi-api-key']).toBe(KEY);
    expect(request.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request.body)).toEqual({ text: 'Hello & welcome.', model_id: 'eleven_multilingual_v2' });
  });

  it('asks for the preferred rate when the service offers it, else the configured one', async () => {
    server.respond(pcmResponder(s16leBytes([1, 2, 3])));
    const elevenlabs = backend({ sampleRateHz: 22_050 });

    const preferred = await collect(elevenlabs.synthesize(segment('a'), { sampleRateHz: 16_000 }));
    const fallback = await collect(elevenlabs.synthesize(segment('b'), { sampleRateHz: 12_345 }));

    expect(server.requests.map((request) => request.query.get('output_format'))).toEqual(['pcm_16000', 'pcm_22050']);
    expect(preferred[0]!.sampleRateHz).toBe(16_000);
    expect(fallback[0]!.sampleRateHz).toBe(22_050);
  });

  it('sends voice settings and maps prosody.rate to a clamped speed and volume to gain', async () => {
    server.respond(pcmResponder(s16leBytes([16384])));
    const elevenlabs = backend({ voice: 'default-voice', voiceSettings: { stability: 0.3, similarityBoost: 0.8, style: 0, useSpeakerBoost: true } });

    const chunks = await collect(elevenlabs.synthesize(segment('fast', { prosody: { rate: 2, volumeDb: -20 * Math.log10(2) } })));
    await collect(backend().synthesize(segment('slow', { prosody: { rate: 0.5 } }), { voice: 'call-voice' }));

    const [first, second] = server.requests.map((request) => JSON.parse(request.body) as { voice_settings?: unknown });
    expect(first!.voice_settings).toEqual({ stability: 0.3, similarity_boost: 0.8, style: 0, use_speaker_boost: true, speed: 1.2 });
    expect(second!.voice_settings).toEqual({ speed: 0.7 });
    expect(server.requests.map((request) => request.path)).toEqual(['/v1/text-to-speech/default-voice/stream', '/v1/text-to-speech/call-voice/stream']);
    expect(Array.from(chunks[0]!.pcm)).toEqual([0.25]);
  });

  it('reassembles samples split at odd byte offsets', async () => {
    const samples = testSamples(3000);
    const bytes = s16leBytes(samples);
    const cuts = [3, 5, 777, 3001, bytes.length];
    server.respond(piecewiseResponder(cuts.map((end, index) => bytes.subarray(index === 0 ? 0 : cuts[index - 1], end)), () => delay(5)));

    const chunks = await collect(backend({ sampleRateHz: 16_000, chunkMs: 100 }).synthesize(segment('odd')));

    expect(samplesOf(chunks)).toEqual(samples);
    expect(chunks.map((chunk) => chunk.pcm.length)).toEqual([1600, 1400]);
  });

  it('quotes validation errors (422 detail list) and does not retry them', async () => {
    server.respond(jsonResponder(422, { detail: [{ loc: ['body', 'text'], msg: 'field required', type: 'value_error.missing' }] }));

    const error = await rejection(collect(backend().synthesize(segment('x'))));

    expect(error).toMatchObject({ code: 'BACKEND_REQUEST_REJECTED', retryable: false });
    expect(error.message).toContain('422');
    expect(error.message).toContain('field required');
    expect(server.requests).toHaveLength(1);
  });

  it('lists the account voices from GET /v1/voices', async () => {
    server.respond(
      jsonResponder(200, {
        voices: [
          { voice_id: 'v1', name: 'George', labels: { gender: 'male', accent: 'british' }, verified_languages: [{ language: 'en', locale: 'en-GB' }, { language: 'fr', locale: null }] },
          { voice_id: 'v2', name: 'Aria', labels: { gender: 'female', language: 'es' }, verified_languages: [] },
          { voice_id: 'v3', name: null, labels: null },
        ],
        has_more: false,
      }),
    );

    const voices = await backend().voices();

    expect(voices).toEqual([
      { id: 'v1', backend: 'elevenlabs', name: 'George', languages: ['en-GB', 'fr'], gender: 'male' },
      { id: 'v2', backend: 'elevenlabs', name: 'Aria', languages: ['es'], gender: 'female' },
      { id: 'v3', backend: 'elevenlabs', name: 'v3', languages: [] },
    ]);
    const request = server.requests[0]!;
    expect(request.method).toBe('GET');
    expect(request.path).toBe('/v1/voices');
    expect(request.headers['xi-api-key']).toBe(KEY);
  });

  it('bounds the voice listing by firstChunkTimeoutMs', async () => {
    server.respond(silentResponder);

    const error = await rejection(backend({ firstChunkTimeoutMs: 150 }).voices());

    expect(error).toMatchObject({ code: 'BACKEND_TIMEOUT', message: expect.stringContaining('no voice list within 150 ms') });
    await server.requests[0]!.closedEarly;
  });

  it('refuses to list voices after close()', async () => {
    const elevenlabs = backend();
    await elevenlabs.close();

    await expect(elevenlabs.voices()).rejects.toMatchObject({ code: 'BACKEND_CLOSED' });
    expect(server.requests).toHaveLength(0);
  });

  it('reports a voices answer of the wrong shape as BACKEND_BAD_RESPONSE naming the field', async () => {
    server.respond(jsonResponder(200, { voices: [{ name: 'no id' }] }));

    const error = await rejection(backend().voices());

    expect(error).toMatchObject({ code: 'BACKEND_BAD_RESPONSE' });
    expect(error.message).toContain('voices.0.voice_id');
  });

  it('lists voices with the key from ELEVENLABS_API_KEY, and fails with BACKEND_AUTH_MISSING without one', async () => {
    vi.stubEnv('ELEVENLABS_API_KEY', 'xi-from-env');
    server.respond(jsonResponder(200, { voices: [] }));
    const elevenlabs = new ElevenLabsBackend({ baseUrl: server.baseUrl });

    await elevenlabs.voices();
    vi.stubEnv('ELEVENLABS_API_KEY', '');
    const error = await rejection(elevenlabs.voices());

    expect(server.requests.map((request) => request.headers['xi-api-key'])).toEqual(['xi-from-env']);
    expect(error).toMatchObject({ code: 'BACKEND_AUTH_MISSING', message: expect.stringContaining('ELEVENLABS_API_KEY') });
  });

  /** A `/with-timestamps` answer for `text`: each character 50 ms, spaces included (as the service times them). */
  function timestampsAnswer(text: string, samples: readonly number[], alignment?: object): object {
    const characters = [...text];
    return {
      audio_base64: s16leBytes(samples).toString('base64'),
      alignment: alignment ?? {
        characters,
        character_start_times_seconds: characters.map((_, index) => index * 0.05),
        character_end_times_seconds: characters.map((_, index) => (index + 1) * 0.05),
      },
      normalized_alignment: null,
    };
  }

  it('keeps the key out of the cause of a voice list that is not JSON, even cut short (util.inspect)', async () => {
    server.respond((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(`{"voices": [${KEY}]}`);
    });

    const error = await rejection(backend().voices());

    expect(error).toMatchObject({ code: 'BACKEND_BAD_RESPONSE', backend: 'elevenlabs' });
    expect(inspect(error, { depth: 20 })).not.toContain(KEY.slice(0, 8));
  });

  it('refuses a voice list over 16 MiB instead of holding it, and closes the connection', async () => {
    const endless = endlessAnswer('application/json', 48 * 1024 * 1024, '{"voices":[],"pad":"', 0x61, '"}');
    server.respond(endless.responder);

    const error = await rejection(backend().voices());

    expect(error).toMatchObject({ code: 'BACKEND_BAD_RESPONSE', backend: 'elevenlabs' });
    expect(error.message).toContain('larger than 16 MiB');
    await server.requests[0]!.closedEarly;
    expect(endless.written()).toBeLessThan(48 * 1024 * 1024);
  });

  it('timestamps: refuses an answer over 64 MiB instead of holding it, and closes the connection', async () => {
    const endless = endlessAnswer('application/json', 160 * 1024 * 1024, '{"audio_base64":"', 0x41, '"}');
    server.respond(endless.responder);

    const error = await rejection(collect(backend({ timestamps: true, maxRetries: 0 }).synthesize(segment('hi'))));

    expect(error).toMatchObject({ code: 'BACKEND_BAD_RESPONSE', backend: 'elevenlabs' });
    expect(error.message).toContain('larger than 64 MiB');
    await server.requests[0]!.closedEarly;
    expect(endless.written()).toBeLessThan(160 * 1024 * 1024);
  });

  it('timestamps: posts to /with-timestamps and turns the character alignment into reported word timings', async () => {
    const samples = testSamples(2400);
    server.respond(jsonResponder(200, timestampsAnswer('"Hello," she said.', samples)));
    const chunks = await collect(backend({ timestamps: true }).synthesize(segment('"Hello," she said.', { voice: 'v1' })));
    const request = server.requests[0]!;
    expect(request.path).toBe('/v1/text-to-speech/v1/with-timestamps');
    expect(request.query.get('output_format')).toBe('pcm_24000');
    expect(samplesOf(chunks)).toEqual(samples);
    // Words from their first to their last letter: punctuation neither names nor times them.
    const words = chunks[0]?.metadata.wordTimings?.map((timing) => ({ ...timing, startMs: Math.round(timing.startMs), endMs: Math.round(timing.endMs) }));
    expect(words).toEqual([
      { word: 'Hello', startMs: 50, endMs: 300, source: 'reported' },
      { word: 'she', startMs: 450, endMs: 600, source: 'reported' },
      { word: 'said', startMs: 650, endMs: 850, source: 'reported' },
    ]);
  });

  it('timestamps: an alignment whose arrays differ in length is BACKEND_BAD_RESPONSE naming the field', async () => {
    server.respond(jsonResponder(200, timestampsAnswer('ab', [1, 2], { characters: ['a', 'b'], character_start_times_seconds: [0], character_end_times_seconds: [0.1, 0.2] })));
    const error = await rejection(collect(backend({ timestamps: true, maxRetries: 0 }).synthesize(segment('ab'))));
    expect(error).toMatchObject({ code: 'BACKEND_BAD_RESPONSE', message: expect.stringContaining('alignment') });
  });

  it('validates its options with InputError naming the field', () => {
    expect(() => new ElevenLabsBackend({ sampleRateHz: 12_000 } as unknown as ElevenLabsBackendOptions)).toThrow(InputError);
    expect(() => new ElevenLabsBackend({ sampleRateHz: 12_000 } as unknown as ElevenLabsBackendOptions)).toThrow(/elevenlabs\.sampleRateHz/);
    expect(() => new ElevenLabsBackend({ voiceSettings: { stability: 2 } })).toThrow(/elevenlabs\.voiceSettings\.stability/);
    expect(() => new ElevenLabsBackend({ apiKey: '' })).toThrow(/elevenlabs\.apiKey/);
  });
});
