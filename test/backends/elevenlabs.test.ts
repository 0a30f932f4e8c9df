import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ElevenLabsBackend, type ElevenLabsBackendOptions } from '../../src/backends/elevenlabs.js';
import { AbortError, BackendError, InputError } from '../../src/errors.js';
import { NEUTRAL_PROSODY, type EngineOutput, type SynthesisSegment } from '../../src/graph/engine-output.js';
import {
  TestHttpServer,
  delay,
  jsonResponder,
  pcmResponder,
  piecewiseResponder,
  s16leBytes,
  testSamples,
  type Responder,
} from '../helpers/http-server.js';

const KEY = 'xi-test-secret-abcdef';

let server: TestHttpServer;

beforeEach(async () => {
  server = await TestHttpServer.start();
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await server.close();
});

function backend(options: ElevenLabsBackendOptions = {}): ElevenLabsBackend {
  return new ElevenLabsBackend({ apiKey: KEY, baseUrl: server.baseUrl, retryBaseMs: 1, ...options });
}

function segment(text: string, prosody: Partial<SynthesisSegment['prosody']> = {}): SynthesisSegment {
  return { text, prosody: { ...NEUTRAL_PROSODY, ...prosody } };
}

async function collect(chunks: AsyncIterable<EngineOutput>): Promise<EngineOutput[]> {
  const out: EngineOutput[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

function samplesOf(chunks: EngineOutput[]): number[] {
  return chunks.flatMap((chunk) => Array.from(chunk.pcm, (value) => Math.round(value * 32768)));
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

const silentResponder: Responder = async (request) => {
  await request.closedEarly;
};

describe('ElevenLabsBackend', () => {
  it('posts to the stream endpoint and yields audio before the body is complete', async () => {
    const samples = testSamples(5000);
    const bytes = s16leBytes(samples);
    const events: string[] = [];
    let firstChunkSeen!: () => void;
    const firstChunk = new Promise<void>((resolve) => (firstChunkSeen = resolve));
    const gap = async () => {
      await Promise.race([firstChunk, delay(2000)]);
    };
    server.respond(piecewiseResponder([bytes.subarray(0, 4001), bytes.subarray(4001)], gap, (index) => events.push(`piece ${index}`)));

    const chunks: EngineOutput[] = [];
    for await (const chunk of backend({ model: 'eleven_multilingual_v2' }).synthesize({ ...segment('  Hello & welcome.  '), voice: 'voice id/1' })) {
      if (chunks.length === 0) {
        events.push('first chunk');
        firstChunkSeen();
      }
      chunks.push(chunk);
    }

    expect(events).toEqual(['piece 0', 'first chunk', 'piece 1']);
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

    const chunks = await collect(elevenlabs.synthesize(segment('fast', { rate: 2, volumeDb: -20 * Math.log10(2) })));
    await collect(backend().synthesize(segment('slow', { rate: 0.5 }), { voice: 'call-voice' }));

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

  it('retries 429 (honouring Retry-After) and 503, then succeeds', async () => {
    server.respond(
      jsonResponder(429, { detail: { status: 'too_many_concurrent_requests', message: 'Too many concurrent requests' } }, { 'retry-after': '1' }),
      jsonResponder(503, { detail: 'service unavailable' }),
      pcmResponder(s16leBytes([5, 6])),
    );
    const elevenlabs = backend({ maxRetries: 2 });

    const chunks = await collect(elevenlabs.synthesize(segment('again')));

    expect(samplesOf(chunks)).toEqual([5, 6]);
    expect(server.requests).toHaveLength(3);
    expect(server.requests[1]!.receivedAtMs - server.requests[0]!.receivedAtMs).toBeGreaterThanOrEqual(950);
    expect(elevenlabs.metrics()).toMatchObject({ retries: 2, failures: 0 });
  });

  it('does not retry 401 and quotes the service message without the key', async () => {
    server.respond(jsonResponder(401, { detail: { status: 'invalid_api_key', message: `Invalid API key: ${KEY}` } }));

    const error = await rejection(collect(backend({ maxRetries: 2 }).synthesize(segment('x'))));

    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ code: 'BACKEND_AUTH_FAILED', backend: 'elevenlabs', retryable: false });
    expect(error.message).toContain('Invalid API key');
    expect(error.message).toContain('ELEVENLABS_API_KEY');
    expect(error.message).not.toContain(KEY);
    expect(server.requests).toHaveLength(1);
  });

  it('quotes validation errors (422 detail list) and does not retry them', async () => {
    server.respond(jsonResponder(422, { detail: [{ loc: ['body', 'text'], msg: 'field required', type: 'value_error.missing' }] }));

    const error = await rejection(collect(backend().synthesize(segment('x'))));

    expect(error).toMatchObject({ code: 'BACKEND_REQUEST_REJECTED', retryable: false });
    expect(error.message).toContain('422');
    expect(error.message).toContain('field required');
    expect(server.requests).toHaveLength(1);
  });

  it('times out when no audio arrives in firstChunkTimeoutMs', async () => {
    server.respond(silentResponder);

    const error = await rejection(collect(backend({ firstChunkTimeoutMs: 150, maxRetries: 0 }).synthesize(segment('x'))));

    expect(error).toMatchObject({ code: 'BACKEND_TIMEOUT' });
    expect(server.requests).toHaveLength(1);
    await server.requests[0]!.closedEarly;
  });

  it('closes the connection when aborted mid-stream', async () => {
    const bytes = s16leBytes(testSamples(3000));
    server.respond(piecewiseResponder([bytes.subarray(0, 4000), bytes.subarray(4000)], () => delay(10_000)));
    const controller = new AbortController();
    let received = 0;

    const error = await rejection(
      (async () => {
        for await (const _chunk of backend().synthesize(segment('long'), {}, controller.signal)) {
          received += 1;
          controller.abort();
        }
      })(),
    );

    expect(error).toBeInstanceOf(AbortError);
    expect(received).toBe(1);
    await server.requests[0]!.closedEarly;
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

  it('reads the key from ELEVENLABS_API_KEY when no apiKey option is given', async () => {
    vi.stubEnv('ELEVENLABS_API_KEY', 'xi-from-env');
    server.respond(pcmResponder(s16leBytes([1])), jsonResponder(200, { voices: [] }));
    const elevenlabs = new ElevenLabsBackend({ baseUrl: server.baseUrl });

    await collect(elevenlabs.synthesize(segment('env')));
    await elevenlabs.voices();

    expect(server.requests.map((request) => request.headers['xi-api-key'])).toEqual(['xi-from-env', 'xi-from-env']);
  });

  it('fails with BACKEND_AUTH_MISSING before any request when there is no key', async () => {
    vi.stubEnv('ELEVENLABS_API_KEY', '');
    const elevenlabs = new ElevenLabsBackend({ baseUrl: server.baseUrl });

    const synthesis = await rejection(collect(elevenlabs.synthesize(segment('x'))));
    const listing = await rejection(elevenlabs.voices());

    for (const error of [synthesis, listing]) {
      expect(error).toMatchObject({ code: 'BACKEND_AUTH_MISSING' });
      expect(error.message).toContain('ELEVENLABS_API_KEY');
    }
    expect(server.requests).toHaveLength(0);
    expect((await elevenlabs.health()).status).toBe('unavailable');
  });

  it('validates its options with InputError naming the field', () => {
    expect(() => new ElevenLabsBackend({ sampleRateHz: 12_000 } as unknown as ElevenLabsBackendOptions)).toThrow(InputError);
    expect(() => new ElevenLabsBackend({ sampleRateHz: 12_000 } as unknown as ElevenLabsBackendOptions)).toThrow(/elevenlabs\.sampleRateHz/);
    expect(() => new ElevenLabsBackend({ voiceSettings: { stability: 2 } })).toThrow(/elevenlabs\.voiceSettings\.stability/);
    expect(() => new ElevenLabsBackend({ apiKey: '' })).toThrow(/elevenlabs\.apiKey/);
  });
});
