import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AzureBackend } from '../../src/backends/azure.js';
import { ElevenLabsBackend } from '../../src/backends/elevenlabs.js';
import { InputError } from '../../src/errors.js';
import { jsonResponder, useTestHttpServer, type Responder } from '../helpers/http-server.js';
import { rejection } from '../helpers/synthesis.js';

// The cloud backends' voice lists (`voices()`) are kept for `voicesCacheMs`: conversations and voice
// checks list voices on every render, and each listing is a request to a paid service. Against a real
// HTTP server on 127.0.0.1 that counts the listings it answers.

const server = useTestHttpServer();
afterEach(() => {
  vi.unstubAllEnvs();
});

interface ListingBackend {
  voices(): Promise<{ id: string; styles?: string[] }[]>;
  close(): Promise<void>;
}

interface Service {
  name: string;
  envName: string;
  path: string;
  create: (options: { apiKey?: string; voicesCacheMs?: number }) => ListingBackend;
  /** A listing answer naming one voice `id` (with a style, where the service has them). */
  answer: (id: string) => unknown;
  keyOf: (headers: Record<string, unknown>) => unknown;
}

const services: Service[] = [
  {
    name: 'elevenlabs',
    envName: 'ELEVENLABS_API_KEY',
    path: '/v1/voices',
    create: (options) => new ElevenLabsBackend({ baseUrl: server.baseUrl, retryBaseMs: 1, ...options }),
    answer: (id) => ({ voices: [{ voice_id: id, name: id }] }),
    keyOf: (headers) => headers['xi-api-key'],
  },
  {
    name: 'azure',
    envName: 'AZURE_SPEECH_KEY',
    path: '/cognitiveservices/voices/list',
    create: (options) => new AzureBackend({ baseUrl: server.baseUrl, retryBaseMs: 1, ...options }),
    answer: (id) => [{ ShortName: id, Locale: 'en-US', StyleList: ['cheerful'] }],
    keyOf: (headers) => headers['ocp-apim-subscription-key'],
  },
];

/** The listings the server answered so far. */
function listings(path: string): number {
  return server.requests.filter((request) => request.path === path).length;
}

/** Answers each listing after `ms`, so callers overlap. */
function slowly(ms: number, responder: Responder): Responder {
  return async (request, response) => {
    await sleep(ms);
    await responder(request, response);
  };
}

describe.each(services)('$name voices() cache', (service) => {
  it('asks once for calls within voicesCacheMs, and again once it has passed', async () => {
    server.respond(jsonResponder(200, service.answer('first')), jsonResponder(200, service.answer('second')));
    const backend = service.create({ apiKey: 'key-one-1234', voicesCacheMs: 1500 });

    const first = await backend.voices();
    const again = await backend.voices();
    expect(listings(service.path)).toBe(1);
    expect(again).toEqual(first);
    expect(first.map((voice) => voice.id)).toEqual(['first']);

    await sleep(1600); // past the window: performance.now() only grows, so this is not a race
    expect((await backend.voices()).map((voice) => voice.id)).toEqual(['second']);
    expect(listings(service.path)).toBe(2);
  });

  it('asks every time with voicesCacheMs 0', async () => {
    server.respond(jsonResponder(200, service.answer('a')));
    const backend = service.create({ apiKey: 'key-one-1234', voicesCacheMs: 0 });
    await backend.voices();
    await backend.voices();
    await backend.voices();
    expect(listings(service.path)).toBe(3);
  });

  it('shares one listing between callers asking while it is on its way', async () => {
    server.respond(slowly(100, jsonResponder(200, service.answer('shared'))));
    const backend = service.create({ apiKey: 'key-one-1234' });
    const lists = await Promise.all([backend.voices(), backend.voices(), backend.voices(), backend.voices()]);
    expect(listings(service.path)).toBe(1);
    for (const list of lists) expect(list.map((voice) => voice.id)).toEqual(['shared']);
  });

  it('keeps no failure: the call after a failed listing asks again', async () => {
    server.respond(jsonResponder(401, { error: 'bad key' }), jsonResponder(200, service.answer('recovered')));
    const backend = service.create({ apiKey: 'key-one-1234', voicesCacheMs: 60_000 });
    const error = await rejection(backend.voices());
    expect(error).toMatchObject({ code: 'BACKEND_AUTH_FAILED' });
    expect((await backend.voices()).map((voice) => voice.id)).toEqual(['recovered']);
    expect(listings(service.path)).toBe(2);
  });

  it('asks again with another key (a rotated key may be another account), with that key', async () => {
    vi.stubEnv(service.envName, 'key-one-1234');
    server.respond(jsonResponder(200, service.answer('account-one')), jsonResponder(200, service.answer('account-two')));
    const backend = service.create({});
    expect((await backend.voices()).map((voice) => voice.id)).toEqual(['account-one']);
    vi.stubEnv(service.envName, 'key-two-5678');
    expect((await backend.voices()).map((voice) => voice.id)).toEqual(['account-two']);
    expect(server.requests.map((request) => service.keyOf(request.headers))).toEqual(['key-one-1234', 'key-two-5678']);
  });

  it('hands each caller its own copy: changing one answer changes no later one', async () => {
    server.respond(jsonResponder(200, service.answer('copy')));
    const backend = service.create({ apiKey: 'key-one-1234' });
    const first = await backend.voices();
    first[0]!.id = 'changed';
    first[0]!.styles?.push('planted');
    const second = await backend.voices();
    expect(second[0]!.id).toBe('copy');
    expect(second[0]!.styles ?? []).not.toContain('planted');
    expect(listings(service.path)).toBe(1);
  });

  it('refuses to list after close(), even with a list kept', async () => {
    server.respond(jsonResponder(200, service.answer('kept')));
    const backend = service.create({ apiKey: 'key-one-1234' });
    await backend.voices();
    await backend.close();
    await expect(backend.voices()).rejects.toMatchObject({ code: 'BACKEND_CLOSED' });
  });

  it('refuses a voicesCacheMs that is not a whole number of milliseconds in range, naming it', () => {
    for (const voicesCacheMs of [-1, 1.5, Number.NaN, 86_400_001]) {
      expect(() => service.create({ apiKey: 'key-one-1234', voicesCacheMs })).toThrow(InputError);
      expect(() => service.create({ apiKey: 'key-one-1234', voicesCacheMs })).toThrow(/voicesCacheMs/);
    }
  });
});
