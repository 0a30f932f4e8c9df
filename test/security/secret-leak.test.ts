/**
 * Plants a key through every source and greps every output channel for it: errors from a real
 * loopback server that echoes the auth header (401, 500, reason phrase, JSON-escaped, cut at the
 * error-body limit), inspected errors and their causes, the backend object, health, attestations,
 * the audit log, MCP tool results (a cloud backend failing under an MCP `speak`), and the CLI's
 * stdout, stderr and attestation file.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { AttestationStore } from '../../src/attestation/store.js';
import { ElevenLabsBackend } from '../../src/backends/elevenlabs.js';
import { AzureBackend } from '../../src/backends/azure.js';
import { OpenAIBackend } from '../../src/backends/openai.js';
import { main } from '../../src/cli/main.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { AuditLogger } from '../../src/security/audit-log.js';
import { AudioOutput } from '../../src/audio/output.js';
import { createMcpServer } from '../../src/mcp/server.js';
import { connectInMemory } from '../helpers/mcp.js';
import { rejection } from '../helpers/errors.js';
import { useTestHttpServer, type RecordedRequest } from '../helpers/http-server.js';
import { collect, segment } from '../helpers/synthesis.js';

const KEY = 'sk-PLANTED-9f3b2c71d4e85a06';
const directory = mkdtempSync(join(tmpdir(), 'vs-leak-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Every string a caller could see of `value`: message, stack, causes (util.inspect), JSON. */
function everything(value: unknown): string {
  let json = '';
  try {
    json = JSON.stringify(value, Object.getOwnPropertyNames(value ?? {}));
  } catch {
    json = '';
  }
  return `${String(value)}\n${inspect(value, { depth: 20, showHidden: true })}\n${json}`;
}

function expectNoKey(channel: string, text: string): void {
  // Any 12-character piece of the key counts: a prefix cut off at a limit is a leak too.
  for (let start = 0; start + 12 <= KEY.length; start++) {
    if (text.includes(KEY.slice(start, start + 12))) throw new Error(`${channel} leaks the key: …${text.slice(Math.max(0, text.indexOf(KEY.slice(start, start + 12)) - 40), text.indexOf(KEY.slice(start, start + 12)) + 40)}…`);
  }
}

function authOf(request: RecordedRequest): string {
  return String(request.headers.authorization ?? request.headers['xi-api-key'] ?? request.headers['ocp-apim-subscription-key'] ?? '');
}

/** Echo responders: each one puts the auth header somewhere the client reads. */
const ECHOES: Record<string, (request: RecordedRequest, response: ServerResponse) => void> = {
  '401 body': (request, response) => response.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `Incorrect API key provided: ${authOf(request)}` } })),
  '500 text body': (request, response) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`upstream said ${authOf(request)} is bad`),
  'reason phrase': (request, response) => {
    response.statusMessage = `Bad key ${authOf(request).replace(/[^\x20-\x7e]/g, '')}`;
    response.writeHead(403).end();
  },
  'JSON-escaped key': (request, response) => response.writeHead(400, { 'content-type': 'application/json' }).end(`{"error":{"message":"key ${[...authOf(request)].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"}}`),
  'key cut by the body limit': (request, response) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${'x'.repeat(16 * 1024 - 10)}${authOf(request)}${'y'.repeat(100)}`),
  'key cut by the quote limit': (request, response) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${'x'.repeat(290)}${authOf(request)}`),
};

function keyFile(): string {
  const path = join(directory, 'key');
  writeFileSync(path, `${KEY}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

const SOURCES: Record<string, () => Record<string, unknown>> = {
  option: () => ({ apiKey: KEY }),
  file: () => ({ apiKeyFile: keyFile() }),
  command: () => ({ apiKeyCommand: [process.execPath, '-e', `process.stdout.write(${JSON.stringify(KEY)})`] }),
};

describe('planted API key never leaks', () => {
  const server = useTestHttpServer();

  for (const [sourceName, source] of Object.entries(SOURCES)) {
    it(`key from ${sourceName}: errors of every echo, the backend object, health and the audit log stay clean (openai, elevenlabs, azure)`, async () => {
      const auditPath = join(directory, `audit-${sourceName}.jsonl`);
      const audit = new AuditLogger({ destination: auditPath });
      const common = { ...source(), maxRetries: 0, onKeyAccess: audit.secretAccess };
      const backends = [
        new OpenAIBackend({ ...common, baseUrl: `${server.baseUrl}/v1` }),
        new ElevenLabsBackend({ ...common, baseUrl: server.baseUrl }),
        new AzureBackend({ ...common, baseUrl: server.baseUrl }),
      ];
      for (const backend of backends) {
        for (const [echo, responder] of Object.entries(ECHOES)) {
          server.respond(responder);
          const error = await rejection(collect(backend.synthesize(segment('hello'))));
          expect(error.name, `${backend.name} ${echo}`).toBe('BackendError');
          expectNoKey(`${backend.name} error (${echo}, key from ${sourceName})`, everything(error));
        }
        server.respond(ECHOES['401 body']!);
        // OpenAI's list is built in (no request); the others fail on the echo.
        expectNoKey(`${backend.name} voices()`, everything(await backend.voices().catch((error: unknown) => error)));
        expectNoKey(`${backend.name} object`, everything(backend));
        expectNoKey(`${backend.name} health`, everything(await backend.health()));
        await backend.close();
      }
      const auditLines = readFileSync(auditPath, 'utf8');
      expect(auditLines).toContain('"event":"secret_access"');
      expectNoKey('audit log', auditLines);
      // The server did receive the key: the echo is real.
      expect(server.requests.some((request) => authOf(request).includes(KEY))).toBe(true);
    }, 60_000);
  }

  it('the engine: failed speech, attestations and health stay clean', async () => {
    server.respond(ECHOES['401 body']!);
    const store = new AttestationStore();
    const registrar = new AudioRegistrar({ store });
    const engine = new VoiceEngine({ backend: 'openai', backendOptions: { apiKey: KEY, baseUrl: `${server.baseUrl}/v1`, maxRetries: 0 }, registrar });
    try {
      const error = await rejection(engine.speak('Hello there.'));
      expect(error.message).toContain('401');
      expectNoKey('engine error', everything(error));
      expectNoKey('attestations', JSON.stringify(store.all()));
      expect(store.all().some((record) => record.action === 'fail')).toBe(true);
      expectNoKey('engine health', everything(await engine.health()));
      expectNoKey('engine object', everything(engine));
    } finally {
      await engine.close();
    }
  });

  it('the CLI: stdout, stderr and the attestation file stay clean (key from the environment and from a file)', async () => {
    for (const [name, keyArgs, env] of [
      ['env', [], { OPENAI_API_KEY: KEY }],
      ['file', ['-O', `apiKeyFile=${keyFile()}`], {}],
    ] as const) {
      server.respond(ECHOES['401 body']!);
      const log = join(directory, `attestations-${name}.jsonl`);
      const saved = process.env.OPENAI_API_KEY;
      Object.assign(process.env, env);
      const out: string[] = [];
      const err: string[] = [];
      const stdout = new PassThrough().on('data', (chunk: Buffer) => out.push(chunk.toString()));
      const stderr = new PassThrough().on('data', (chunk: Buffer) => err.push(chunk.toString()));
      let code: number;
      try {
        code = await main(['speak', 'Hello there.', '-b', 'openai', '-O', `baseUrl=${server.baseUrl}/v1`, '-O', 'maxRetries=0', ...keyArgs, '-o', join(directory, 'out.wav'), '--attestations', log], { stdout, stderr, stdin: new PassThrough() });
      } finally {
        if (saved === undefined) delete process.env.OPENAI_API_KEY;
        else process.env.OPENAI_API_KEY = saved;
      }
      expect(code).toBe(1);
      expect(err.join('')).toContain('BACKEND_AUTH_FAILED');
      expectNoKey(`CLI stderr (${name})`, err.join(''));
      expectNoKey(`CLI stdout (${name})`, out.join(''));
      expectNoKey(`CLI attestations (${name})`, readFileSync(log, 'utf8'));
      expect(authOf(server.requests.at(-1)!)).toBe(`Bearer ${KEY}`);
    }
  });

  it('MCP: a speak that fails on the echoing server, its attestations, streams and the audit log stay clean', async () => {
    server.respond(ECHOES['401 body']!);
    const auditPath = join(directory, 'audit-mcp.jsonl');
    const audit = new AuditLogger({ destination: auditPath });
    const registrar = new AudioRegistrar();
    const unwatch = audit.watchRegistrar(registrar);
    const output = new AudioOutput({ backend: 'null', capture: true });
    const engine = new VoiceEngine({ backend: 'openai', backendOptions: { apiKeyCommand: SOURCES.command!().apiKeyCommand as string[], baseUrl: `${server.baseUrl}/v1`, maxRetries: 0, onKeyAccess: audit.secretAccess }, registrar, output, audit });
    const mcp = createMcpServer({ engine, registrar, audit, rateLimit: { requestsPerWindow: 1 } });
    const agent = await connectInMemory(mcp, 'leak-probe');
    try {
      const results = [await agent.raw('speak', { text: 'Hello there.', wait: true }), await agent.raw('speak', { text: 'Hi again.' })];
      expect(results[0]?.structuredContent).toMatchObject({ success: false, reason: 'backend_auth_failed' });
      // The second call is rate limited (requestsPerWindow 1): a refusal goes to the audit log too.
      expect(results[1]?.structuredContent).toMatchObject({ success: false, reason: 'rate_limited' });
      for (const [index, result] of results.entries()) expectNoKey(`MCP result ${index}`, JSON.stringify(result));
      expectNoKey('MCP attestations', JSON.stringify(registrar.attestationStore.all()));
      expectNoKey('engine health (MCP host)', everything(await engine.health()));
      const lines = readFileSync(auditPath, 'utf8');
      expect(lines).toContain('"event":"stream_failed"');
      expect(lines).toContain('"event":"rate_limited"');
      expect(lines).toContain('"event":"secret_access"');
      expectNoKey('audit log (MCP host)', lines);
      expect(server.requests.some((request) => authOf(request).includes(KEY))).toBe(true);
    } finally {
      unwatch();
      await agent.close();
      await mcp.close();
      await engine.close();
      output.close();
    }
  });

  it('the grep catches a planted leak (negative control)', () => {
    expect(() => expectNoKey('planted', `error: ${KEY.slice(0, 14)}…`)).toThrow(/planted leaks the key/);
    expect(() => expectNoKey('planted', everything(new Error('x', { cause: new Error(`inner ${KEY}`) })))).toThrow(/leaks the key/);
  });
});
