import { afterEach, describe, expect, it, vi } from 'vitest';
import { AzureBackend, buildSsml, type AzureBackendOptions } from '../../src/backends/azure.js';
import { InputError } from '../../src/errors.js';
import { NEUTRAL_PROSODY } from '../../src/graph/engine-output.js';
import { describeCloudBackendContract } from '../helpers/cloud-backend-contract.js';
import { heldBackStream, jsonResponder, pcmResponder, s16leBytes, testSamples, useTestHttpServer } from '../helpers/http-server.js';
import { collect, rejection, samplesOf, segment } from '../helpers/synthesis.js';

const KEY = 'azure-test-secret-42';
const SPEAK_OPEN = '<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis"';

const server = useTestHttpServer();
afterEach(() => {
  vi.unstubAllEnvs();
});

function backend(options: AzureBackendOptions = {}): AzureBackend {
  return new AzureBackend({ apiKey: KEY, baseUrl: server.baseUrl, retryBaseMs: 1, ...options });
}

describeCloudBackendContract({
  name: 'azure',
  apiKey: KEY,
  apiKeyEnv: 'AZURE_SPEECH_KEY',
  create: (testServer, options) => new AzureBackend({ baseUrl: testServer.baseUrl, retryBaseMs: 1, ...options }),
  keyOf: (request) => request.headers['ocp-apim-subscription-key'] as string | undefined,
  retryableFailures: [
    (_request, response) => {
      response.writeHead(503, { 'retry-after': '1', 'content-type': 'text/plain' }).end('Service Unavailable');
    },
    (_request, response) => {
      response.writeHead(429).end();
    },
  ],
  unauthorized: (apiKey) => (_request, response) => {
    response.writeHead(401, { 'content-type': 'text/plain' }).end(`Access denied due to invalid subscription key ${apiKey}. Make sure to provide a valid key for an active subscription.`);
  },
  unauthorizedText: 'Access denied due to invalid subscription key',
});

describe('AzureBackend', () => {
  it('posts SSML with the documented headers and yields audio before the body is complete', async () => {
    const samples = testSamples(4000);
    const bytes = s16leBytes(samples);
    const stream = heldBackStream([bytes.subarray(0, 3999), bytes.subarray(3999)]);
    server.respond(stream.responder);

    const chunks = await stream.consume(backend().synthesize(segment('Good morning.')));

    expect(stream.events).toEqual(['piece 0', 'first chunk', 'piece 1']);
    expect(samplesOf(chunks)).toEqual(samples);
    expect(chunks.every((chunk) => chunk.sampleRateHz === 24_000 && chunk.channels === 1)).toBe(true);
    const request = server.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/cognitiveservices/v1');
    expect(request.headers['ocp-apim-subscription-key']).toBe(KEY);
    expect(request.headers['content-type']).toBe('application/ssml+xml');
    expect(request.headers['x-microsoft-outputformat']).toBe('raw-24khz-16bit-mono-pcm');
    expect(request.headers['user-agent']).toBe('voice-soundboard');
    expect(request.body).toBe(`${SPEAK_OPEN} xml:lang="en-US"><voice name="en-US-AvaMultilingualNeural">Good morning.</voice></speak>`);
  });

  it('escapes XML special characters in the text and the voice name, and drops characters XML cannot carry', async () => {
    server.respond(pcmResponder(s16leBytes([1])));

    await collect(backend().synthesize(segment(`Tom & Jerry <b>"quoted"</b> it's\u0001 5 > 3\ud800!`, { voice: `en-GB-Ryan"Neural<x>` })));

    expect(server.requests[0]!.body).toBe(
      `${SPEAK_OPEN} xml:lang="en-GB"><voice name="en-GB-Ryan&quot;Neural&lt;x&gt;">` +
        'Tom &amp; Jerry &lt;b&gt;&quot;quoted&quot;&lt;/b&gt; it&apos;s 5 &gt; 3!</voice></speak>',
    );
  });

  it('maps prosody to rate, pitch and volume attributes', () => {
    const prosody = { rate: 1.5, pitchSemitones: -2, volumeDb: -20 * Math.log10(2) };

    expect(buildSsml('x', 'v', 'en-US', prosody)).toBe(`${SPEAK_OPEN} xml:lang="en-US"><voice name="v"><prosody rate="1.5" pitch="-2st" volume="-50%">x</prosody></voice></speak>`);
    expect(buildSsml('x', 'v', 'en-US', { rate: 3, pitchSemitones: 1.234, volumeDb: 0 })).toContain('<prosody rate="2" pitch="+1.23st">');
    expect(buildSsml('x', 'v', 'en-US', { rate: 0.1, pitchSemitones: 0, volumeDb: 20 * Math.log10(1.5) })).toContain('<prosody rate="0.5" volume="+50%">');
    expect(buildSsml('x', 'v', 'en-US', NEUTRAL_PROSODY)).not.toContain('<prosody');
  });

  it('takes xml:lang from the segment, else the option, else the voice locale', async () => {
    server.respond(pcmResponder(s16leBytes([1])));

    await collect(backend().synthesize(segment('a', { language: 'de-DE', voice: 'de-DE-KatjaNeural' })));
    await collect(backend({ language: 'fr-CA' }).synthesize(segment('b')));
    await collect(backend().synthesize(segment('c'), { voice: 'zh-CN-XiaoxiaoNeural' }));
    await collect(backend({ voice: 'my-custom-voice' }).synthesize(segment('d')));

    expect(server.requests.map((request) => /xml:lang="([^"]+)"/.exec(request.body)?.[1])).toEqual(['de-DE', 'fr-CA', 'zh-CN', 'en-US']);
    expect(server.requests[2]!.body).toContain('<voice name="zh-CN-XiaoxiaoNeural">');
  });

  it('picks the output format matching the preferred rate, else the configured one', async () => {
    server.respond(pcmResponder(s16leBytes([1, 2])));
    const azure = backend({ outputFormat: 'raw-16khz-16bit-mono-pcm' });

    const preferred = await collect(azure.synthesize(segment('a'), { sampleRateHz: 48_000 }));
    const configured = await collect(azure.synthesize(segment('b'), { sampleRateHz: 11_025 }));

    expect(server.requests.map((request) => request.headers['x-microsoft-outputformat'])).toEqual(['raw-48khz-16bit-mono-pcm', 'raw-16khz-16bit-mono-pcm']);
    expect(preferred[0]!.sampleRateHz).toBe(48_000);
    expect(configured[0]!.sampleRateHz).toBe(16_000);
  });

  it('lists the voices of the region', async () => {
    server.respond(
      jsonResponder(200, [
        {
          Name: 'Microsoft Server Speech Text to Speech Voice (en-US, JennyMultilingualNeural)',
          DisplayName: 'Jenny Multilingual',
          ShortName: 'en-US-JennyMultilingualNeural',
          Gender: 'Female',
          Locale: 'en-US',
          SecondaryLocaleList: ['de-DE', 'en-US', 'fr-FR'],
          StyleList: ['chat', 'cheerful'],
          SampleRateHertz: '24000',
          VoiceType: 'Neural',
          Status: 'GA',
        },
        { ShortName: 'ga-IE-ColmNeural', Gender: 'Male', Locale: 'ga-IE', SampleRateHertz: '48000' },
      ]),
    );

    const voices = await backend().voices();

    expect(voices).toEqual([
      { id: 'en-US-JennyMultilingualNeural', backend: 'azure', name: 'Jenny Multilingual', languages: ['en-US', 'de-DE', 'fr-FR'], gender: 'female', styles: ['chat', 'cheerful'], sampleRateHz: 24_000 },
      { id: 'ga-IE-ColmNeural', backend: 'azure', name: 'ga-IE-ColmNeural', languages: ['ga-IE'], gender: 'male', sampleRateHz: 48_000 },
    ]);
    const request = server.requests[0]!;
    expect(request.method).toBe('GET');
    expect(request.path).toBe('/cognitiveservices/voices/list');
    expect(request.headers['ocp-apim-subscription-key']).toBe(KEY);
  });

  it('fails before any request without a key, a region, or with a malformed region', async () => {
    vi.stubEnv('AZURE_SPEECH_KEY', '');
    vi.stubEnv('AZURE_SPEECH_REGION', '');
    const noKey = new AzureBackend({ baseUrl: server.baseUrl });
    const noRegion = new AzureBackend({ apiKey: KEY });

    const missingKey = await rejection(collect(noKey.synthesize(segment('x'))));
    const missingRegion = await rejection(noRegion.voices());
    vi.stubEnv('AZURE_SPEECH_REGION', 'evil.example.com/x?');
    const badRegion = await rejection(collect(noRegion.synthesize(segment('x'))));

    expect(missingKey).toMatchObject({ code: 'BACKEND_AUTH_MISSING', message: expect.stringContaining('AZURE_SPEECH_KEY') });
    expect(missingRegion).toMatchObject({ code: 'BACKEND_CONFIG_MISSING', message: expect.stringContaining('AZURE_SPEECH_REGION') });
    expect(badRegion).toMatchObject({ code: 'BACKEND_CONFIG_INVALID', message: expect.stringContaining('AZURE_SPEECH_REGION') });
    expect(server.requests).toHaveLength(0);
    expect(await noKey.health()).toMatchObject({ status: 'unavailable', detail: expect.stringContaining('AZURE_SPEECH_KEY') });
    vi.stubEnv('AZURE_SPEECH_REGION', '');
    expect(await noRegion.health()).toMatchObject({ status: 'unavailable', detail: expect.stringContaining('AZURE_SPEECH_REGION') });
  });

  it('validates its options with InputError naming the field', () => {
    expect(() => new AzureBackend({ region: 'West Europe' })).toThrow(InputError);
    expect(() => new AzureBackend({ region: 'West Europe' })).toThrow(/azure\.region: expected a region name/);
    expect(() => new AzureBackend({ outputFormat: 'riff-24khz-16bit-mono-pcm' } as unknown as AzureBackendOptions)).toThrow(/azure\.outputFormat/);
    expect(() => new AzureBackend({ language: 'en US' })).toThrow(/azure\.language/);
  });
});
