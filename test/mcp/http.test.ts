/**
 * The MCP server over Streamable HTTP on 127.0.0.1: bearer token (401 without or with a wrong
 * one), two concurrent sessions as two agents, unknown sessions and foreign Host headers refused,
 * and `voice-soundboard mcp --http` as a child process.
 */
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { createConnection, type Socket } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AudioOutput } from '../../src/audio/output.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { isLoopbackHost, serveMcpHttp, type McpHttpServer } from '../../src/mcp/http.js';
import { InputError } from '../../src/errors.js';
import { createMcpServer, type VoiceMcpServer } from '../../src/mcp/server.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { BIN, LONG_TEXT, OUTPUT_SCHEMAS, type Structured } from '../helpers/mcp.js';
import { waitUntil } from '../helpers/waiting.js';

const TOKEN = 'test-token-0123456789';

let registrar: AudioRegistrar;
let output: AudioOutput;
let engine: VoiceEngine;
let server: VoiceMcpServer;
let http: McpHttpServer;

beforeAll(async () => {
  registrar = new AudioRegistrar();
  output = new AudioOutput({ backend: 'null', capture: true });
  engine = new VoiceEngine({ registrar, output });
  server = createMcpServer({ engine, registrar });
  http = await serveMcpHttp(server, { token: TOKEN });
});

afterAll(async () => {
  await http?.close();
  await server?.close();
  await engine?.close();
  output?.close();
});

async function httpClient(name: string, url: string, token: string): Promise<{ client: Client; call: (tool: string, args?: Record<string, unknown>) => Promise<Structured> }> {
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  await client.listTools();
  return {
    client,
    call: async (tool, args = {}) => {
      const result = (await client.callTool({ name: tool, arguments: args })) as CallToolResult;
      return OUTPUT_SCHEMAS[tool]?.parse(result.structuredContent) as Structured;
    },
  };
}

const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

describe('MCP over Streamable HTTP', () => {
  it('listens on loopback and refuses a request without the bearer token, or with a wrong one (401)', async () => {
    expect(http.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const none = await fetch(http.url, { method: 'POST', headers: mcpHeaders, body: initialize });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await fetch(http.url, { method: 'POST', headers: { ...mcpHeaders, authorization: 'Bearer not-the-token' }, body: initialize });
    expect(wrong.status).toBe(401);
    const right = await fetch(http.url, { method: 'POST', headers: { ...mcpHeaders, authorization: `Bearer ${TOKEN}` }, body: initialize });
    expect(right.status).toBe(200);
    await right.body?.cancel();
    expect(await (await fetch(http.url, { method: 'POST', headers: { ...mcpHeaders, authorization: `Bearer ${TOKEN}`, 'mcp-session-id': 'forged-session' }, body: initialize })).json()).toMatchObject({ error: { message: expect.stringContaining('unknown') } });
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const { port } = new URL(http.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/mcp', method: 'POST', headers: { ...mcpHeaders, host: `evil.example:${port}`, authorization: `Bearer ${TOKEN}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(initialize);
    });
    expect(status).toBe(403);
  });

  it('refuses a browser page of another origin, even one sending a CORS-simple content type (no session slot taken)', async () => {
    const before = server.sessions().length;
    for (const contentType of ['application/json', 'text/plain; application/json']) {
      const page = await fetch(http.url, { method: 'POST', headers: { ...mcpHeaders, 'content-type': contentType, origin: 'http://evil.example', authorization: `Bearer ${TOKEN}` }, body: initialize });
      expect(page.status, contentType).toBe(403);
      await page.body?.cancel();
    }
    expect(server.sessions().length).toBe(before);
    // A page served from the loopback origin itself (or a client sending no Origin) is let through.
    const local = await fetch(http.url, { method: 'POST', headers: { ...mcpHeaders, origin: new URL(http.url).origin, authorization: `Bearer ${TOKEN}` }, body: initialize });
    expect(local.status).toBe(200);
    await local.body?.cancel();
  });

  it('answers a 100 MB request body with 413 without reading it all, and the session goes on', async () => {
    const agent = await httpClient('bulky', http.url, TOKEN);
    try {
      const sessionId = (agent.client.transport as StreamableHTTPClientTransport).sessionId ?? '';
      const status = await new Promise<number>((resolve, reject) => {
        const { port } = new URL(http.url);
        const req = httpRequest({ host: '127.0.0.1', port, path: '/mcp', method: 'POST', headers: { ...mcpHeaders, authorization: `Bearer ${TOKEN}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18', 'content-length': String(100 * 1024 * 1024) } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
        const chunk = Buffer.alloc(1024 * 1024, 0x20);
        let sent = 0;
        const pump = (): void => {
          while (sent < 100 && !req.destroyed) {
            sent += 1;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          req.end();
        };
        pump();
      });
      expect(status).toBe(413);
      expect(await agent.call('list_streams')).toMatchObject({ success: true });
    } finally {
      await agent.client.close();
    }
  }, 60_000);

  it('serves two concurrent sessions as two agents that cannot touch each other\'s streams', async () => {
    const [alpha, beta] = await Promise.all([httpClient('alpha', http.url, TOKEN), httpClient('beta', http.url, TOKEN)]);
    try {
      const [alphaSpoke, betaSpoke] = await Promise.all([alpha.call('speak', { text: LONG_TEXT }), beta.call('speak', { text: LONG_TEXT })]);
      const alphaOwner = registrar.getState(alphaSpoke.stream_id as string)?.owner;
      const betaOwner = registrar.getState(betaSpoke.stream_id as string)?.owner;
      expect(alphaOwner).toMatch(/^agent:alpha#\S+$/);
      expect(betaOwner).toMatch(/^agent:beta#\S+$/);
      // The actor id (written in every attestation) carries no part of the session id, the session's credential.
      const alphaSessionId = ((alpha.client.transport as StreamableHTTPClientTransport).sessionId ?? '').replaceAll('-', '');
      expect(alphaSessionId.length).toBeGreaterThan(0);
      const alphaPart = alphaOwner?.split('#')[1] ?? '';
      for (let from = 0; from + 6 <= alphaPart.length; from += 1) expect(alphaSessionId).not.toContain(alphaPart.slice(from, from + 6));
      expect(await beta.call('interrupt', { stream_id: alphaSpoke.stream_id as string })).toMatchObject({ success: false, reason: 'not_owner' });
      const [alphaCut, betaCut] = await Promise.all([alpha.call('interrupt', {}), beta.call('interrupt', {})]);
      expect(alphaCut).toMatchObject({ success: true, stream_id: alphaSpoke.stream_id });
      expect(betaCut).toMatchObject({ success: true, stream_id: betaSpoke.stream_id });
      expect(server.sessions().map((session) => session.actor)).toEqual(expect.arrayContaining([alphaOwner, betaOwner]));
    } finally {
      await Promise.allSettled([alpha.client.close(), beta.client.close()]);
    }
  });

  it('bounds open sessions (503 beyond)', async () => {
    const small = await serveMcpHttp(server, { maxSessions: 1 });
    try {
      const agent = await httpClient('first', small.url, 'unused-token');
      expect((await fetch(small.url, { method: 'POST', headers: mcpHeaders, body: initialize })).status).toBe(503);
      await agent.client.close();
    } finally {
      await small.close();
    }
  });

  it('bounds sessions being opened too: initializes whose bodies arrive after every check cannot pass maxSessions together (planted: 20 raced past a cap of 2)', async () => {
    const small = await serveMcpHttp(server, { maxSessions: 2 });
    const before = server.sessions().length;
    const { hostname, port, pathname } = new URL(small.url);
    try {
      // Every request's headers first, its body once all are in: each cap check runs before any session opened.
      let go!: () => void;
      const bodiesGo = new Promise<void>((resolve) => (go = resolve));
      let headersIn = 0;
      const statuses = Array.from({ length: 20 }, () => new Promise<number>((resolve) => {
        const req = httpRequest({ host: hostname, port, path: pathname, method: 'POST', agent: false, headers: { ...mcpHeaders, 'content-length': Buffer.byteLength(initialize) } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', () => resolve(-1));
        req.on('socket', (socket) => socket.once('connect', () => (++headersIn === 20 ? go() : undefined)));
        req.flushHeaders();
        void bodiesGo.then(() => setTimeout(() => req.end(initialize), 200));
      }));
      const answered = await Promise.all(statuses);
      expect(answered.filter((status) => status === 200)).toHaveLength(2);
      expect(answered.filter((status) => status === 503)).toHaveLength(18);
      expect(server.sessions().length - before).toBe(2);
    } finally {
      await small.close();
    }
  });

  it('bounds how fast sessions are opened (429 with Retry-After beyond maxNewSessionsPerMinute): a client that closes and reopens cannot mint a fresh agent, with fresh rate limits, per request (planted: 6 in a row opened)', async () => {
    const small = await serveMcpHttp(server, { maxNewSessionsPerMinute: 3 });
    try {
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 6; attempt++) {
        const opened = await fetch(small.url, { method: 'POST', headers: mcpHeaders, body: initialize });
        statuses.push(opened.status);
        await opened.body?.cancel();
        const id = opened.headers.get('mcp-session-id');
        if (opened.status === 429) expect(Number(opened.headers.get('retry-after'))).toBeGreaterThan(0);
        // Each closes at once: the open-session cap is not what refuses the next.
        if (id !== null) await (await fetch(small.url, { method: 'DELETE', headers: { ...mcpHeaders, 'mcp-session-id': id } })).body?.cancel();
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
    } finally {
      await small.close();
    }
  });

  it('bounds open connections: idle sockets beyond maxConnections are closed, and a freed slot serves again', async () => {
    const small = await serveMcpHttp(server, { maxConnections: 3 });
    const { port } = new URL(small.url);
    const sockets: Socket[] = [];
    try {
      const open = async (): Promise<{ socket: Socket; closed: Promise<void> }> => {
        const socket = createConnection({ host: '127.0.0.1', port: Number(port) });
        sockets.push(socket);
        const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
        await new Promise<void>((resolve, reject) => socket.once('connect', () => resolve()).once('error', reject));
        return { socket, closed };
      };
      const idle = [await open(), await open(), await open()];
      // The server accepts in arrival order, so the fourth finds the three counted.
      const extra = await open();
      await extra.closed;
      idle[0]?.socket.destroy();
      await idle[0]?.closed;
      await waitUntil(async () => (await fetch(small.url, { method: 'POST', headers: mcpHeaders, body: initialize }).then((res) => res.status, () => 0)) === 200, 'a request once a slot is free');
    } finally {
      for (const socket of sockets) socket.destroy();
      await small.close();
    }
  });

  it('closes idle sessions: their speech stops and a later request finds no session', async () => {
    // Idle long enough that a loaded machine cannot let it lapse between the handshake and the
    // first call (200 ms did once under a full parallel run), short enough to wait for.
    const idle = await serveMcpHttp(server, { sessionIdleMs: 2000 });
    try {
      const agent = await httpClient('idle', idle.url, 'unused-token');
      const spoke = await agent.call('speak', { text: LONG_TEXT });
      await waitUntil(() => registrar.getState(spoke.stream_id as string)?.state === 'stopped', 'the idle session to be closed');
      await expect(agent.call('list_streams')).rejects.toThrow();
      await agent.client.close().catch(() => undefined);
    } finally {
      await idle.close();
    }
  });

  it('refuses to listen off loopback without a token, naming it; accepts loopback names of every form', async () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'voice.example']) {
      const error = await serveMcpHttp(server, { host }).then(() => null, (caught: unknown) => caught);
      expect(error, host).toBeInstanceOf(InputError);
      expect(String((error as Error).message), host).toMatch(/token.*not a loopback address/);
    }
    for (const host of ['127.0.0.1', '127.8.9.10', 'localhost', 'LOCALHOST', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '128.0.0.1', '127.0.0.1.example', 'localhost.example', '::ffff:10.0.0.1']) expect(isLoopbackHost(host), host).toBe(false);
  });

  it('off loopback (with its token) serves clients by whatever name they reach the machine by, and still refuses them without the token or from a web page', async () => {
    const wide = await serveMcpHttp(server, { host: '0.0.0.0', token: TOKEN });
    try {
      const { port } = new URL(wide.url);
      const post = (headers: Record<string, string>) =>
        new Promise<number>((resolve, reject) => {
          const req = httpRequest({ host: '127.0.0.1', port, path: '/mcp', method: 'POST', headers: { ...mcpHeaders, host: `voice.lan:${port}`, ...headers } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
          req.end(initialize);
        });
      expect(await post({ authorization: `Bearer ${TOKEN}` })).toBe(200);
      expect(await post({})).toBe(401);
      expect(await post({ authorization: 'Bearer not-the-token' })).toBe(401);
      expect(await post({ authorization: `Bearer ${TOKEN}`, origin: 'http://evil.example' })).toBe(403);
    } finally {
      await wide.close();
    }
  });

  it('voice-soundboard mcp --http --host 0.0.0.0 without a token exits 2 naming --token, before listening', async () => {
    const child = spawn(process.execPath, [BIN, 'mcp', '--http', '--host', '0.0.0.0', '--port', '0'], { env: { ...process.env, VOICE_SOUNDBOARD_AUDIO_BACKEND: 'null', VOICE_SOUNDBOARD_MCP_TOKEN: '' } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (exit) => resolve(exit)));
    expect(code).toBe(2);
    expect(stderr).toContain('--token');
    expect(stderr).not.toContain('listening');
  });

  it('runs as voice-soundboard mcp --http with a token from the environment', async () => {
    const child = spawn(process.execPath, [BIN, 'mcp', '--http', '--port', '0'], { env: { ...process.env, VOICE_SOUNDBOARD_AUDIO_BACKEND: 'null', VOICE_SOUNDBOARD_MCP_TOKEN: TOKEN } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitUntil(() => /"url":"http:\/\/127\.0\.0\.1:\d+\/mcp"/.test(stderr), 'the listening log line');
      const url = /"url":"([^"]+)"/.exec(stderr)?.[1] ?? '';
      expect((await fetch(url, { method: 'POST', headers: mcpHeaders, body: initialize })).status).toBe(401);
      const agent = await httpClient('cli-agent', url, TOKEN);
      expect(await agent.call('list_streams')).toMatchObject({ success: true, streams: [] });
      await agent.client.close();
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(143);
    expect(stdout).toBe('');
    expect(stderr).not.toContain(TOKEN);
  });
});
