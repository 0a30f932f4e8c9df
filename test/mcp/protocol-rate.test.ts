/**
 * Every MCP request a session sends is paced (`protocolRateLimit`, per session), not only tool
 * calls: a client flooding cheap requests (`tools/list` costs the server ~0.7 ms of its event loop
 * each; `ping`) would otherwise hold the loop that decides every session's interrupts and feeds
 * the device. Past its budget a request is answered with a JSON-RPC error naming the limit and
 * when to retry; other sessions are not affected; the budget refills over its window.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpError, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AudioOutput } from '../../src/audio/output.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { InputError } from '../../src/errors.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { createMcpServer, type VoiceMcpServer } from '../../src/mcp/server.js';
import { AuditLogger } from '../../src/security/audit-log.js';
import { RateLimiter } from '../../src/security/rate-limiter.js';
import { BIN, connectInMemory, spawnStdioClient, type TestClient } from '../helpers/mcp.js';
import { waitUntil } from '../helpers/waiting.js';

let registrar: AudioRegistrar;
let output: AudioOutput;
let engine: VoiceEngine;
let server: VoiceMcpServer | undefined;
const clients: TestClient[] = [];
let nowMs = 0;

beforeEach(() => {
  registrar = new AudioRegistrar();
  output = new AudioOutput({ backend: 'null' });
  engine = new VoiceEngine({ registrar, output });
  nowMs = 0;
});

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((client) => client.close()));
  await server?.close();
  await engine.close();
  output.close();
});

/** A client of `server`; connecting spends two requests (initialize, tools/list). */
async function connect(name: string): Promise<TestClient> {
  const client = await connectInMemory(server as VoiceMcpServer, name);
  clients.push(client);
  return client;
}

/** The error a request got, or null when it was answered. */
async function refusal(request: Promise<unknown>): Promise<McpError | null> {
  try {
    await request;
    return null;
  } catch (error) {
    if (error instanceof McpError) return error;
    throw error;
  }
}

describe('MCP protocol rate limit', () => {
  it('answers a session past its request budget with a JSON-RPC error naming the limit, per session, refilled over the window and audits the first refusal of a run (planted: without it, 1,000 pings in a row were all served)', async () => {
    const clock = () => nowMs;
    const dir = mkdtempSync(join(tmpdir(), 'vs-mcp-pace-'));
    const auditPath = join(dir, 'audit.jsonl');
    server = createMcpServer({ engine, registrar, audit: new AuditLogger({ destination: auditPath }), protocolRateLimit: new RateLimiter({ requestsPerWindow: 20, windowMs: 10_000, clock }) });
    const flooding = await connect('flooder');
    const other = await connect('other');
    const answered: Array<McpError | null> = [];
    for (let index = 0; index < 40; index += 1) answered.push(await refusal(flooding.client.listTools()));
    // 2 of its 20 went on initialize and the first tools/list.
    expect(answered.filter((error) => error === null)).toHaveLength(18);
    const refused = answered.find((error) => error !== null);
    expect(refused?.code).toBe(-32000);
    expect(refused?.message).toMatch(/rate limited: at most 20 requests per 10 s.*retry in \d+ ms/);
    expect(refused?.data).toMatchObject({ reason: 'rate_limited', retry_after_ms: expect.any(Number) });
    // Tool calls are requests too; ping as well.
    expect(await refusal(flooding.client.callTool({ name: 'list_streams', arguments: {} }))).toBeInstanceOf(McpError);
    expect(await refusal(flooding.client.ping())).toBeInstanceOf(McpError);
    // Another session has its own budget.
    expect(await refusal(other.client.listTools())).toBeNull();
    expect(await other.call('list_streams')).toMatchObject({ success: true });
    // The budget refills over the window: half a window gives half of it back.
    nowMs += 5_000;
    const after: Array<McpError | null> = [];
    for (let index = 0; index < 12; index += 1) after.push(await refusal(flooding.client.ping()));
    expect(after.filter((error) => error === null)).toHaveLength(10);
    // Two runs of refusals, one audit event each (a flood writes no line per request).
    const events = readFileSync(auditPath, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.filter((event) => event.event === 'rate_limited')).toEqual([
      expect.objectContaining({ limit: 'protocol_requests', retryAfterMs: expect.any(Number) }),
      expect.objectContaining({ limit: 'protocol_requests' }),
    ]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the sessions of two servers given one RateLimiter apart (planted: both servers keyed their first session "session-1", which then shared one budget)', async () => {
    const shared = new RateLimiter({ requestsPerWindow: 10, windowMs: 10_000, clock: () => nowMs });
    server = createMcpServer({ engine, registrar, protocolRateLimit: shared });
    const second = createMcpServer({ engine, registrar, protocolRateLimit: shared });
    try {
      const first = await connect('first');
      const other = await connectInMemory(second, 'other');
      clients.push(other);
      // The first server's session spends its whole budget (2 went on connecting).
      for (let index = 0; index < 8; index += 1) expect(await refusal(first.client.ping())).toBeNull();
      expect(await refusal(first.client.ping())).toBeInstanceOf(McpError);
      // The second server's first session has its own.
      for (let index = 0; index < 8; index += 1) expect(await refusal(other.client.ping())).toBeNull();
    } finally {
      await second.close();
    }
  });

  it('paces by default (100 requests per 10 s per session) and validates the option, naming it', async () => {
    // The defaults, on a clock that stands still (only the clock is given).
    server = createMcpServer({ engine, registrar, protocolRateLimit: { clock: () => nowMs } });
    const client = await connect('default');
    let served = 2;
    while ((await refusal(client.client.ping())) === null && served < 1_000) served += 1;
    expect(served).toBe(100);
    expect(() => createMcpServer({ engine, registrar, protocolRateLimit: { requestsPerWindow: 0 } })).toThrow(InputError);
    expect(() => createMcpServer({ engine, registrar, protocolRateLimit: { requestsPerWindow: 0 } })).toThrow(/protocolRateLimit/);
  });

  it("paces the requests a transport delivers as it starts (planted: the SDK's InMemoryTransport hands over what was sent before connect from start(), before the pace wrapped the handler: 50 queued pings were all served)", async () => {
    server = createMcpServer({ engine, registrar, protocolRateLimit: new RateLimiter({ requestsPerWindow: 20, windowMs: 10_000, clock: () => nowMs }) });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const answers: JSONRPCMessage[] = [];
    clientSide.onmessage = (message) => void answers.push(message);
    try {
      // Sent before the server connects: the transport queues them and delivers them in start().
      for (let id = 1; id <= 50; id += 1) await clientSide.send({ jsonrpc: '2.0', id, method: 'ping' });
      await server.connect(serverSide);
      await waitUntil(() => answers.length === 50, 'an answer to every ping');
      const refused = answers.filter((answer) => 'error' in answer);
      expect(refused).toHaveLength(30);
      expect(refused[0]).toMatchObject({ error: { code: -32000, data: { reason: 'rate_limited' } } });
    } finally {
      await clientSide.close();
    }
  });

  it('paces the stdio server too, and --protocol-requests sets its budget (a bad value names the flag)', async () => {
    const paced = await spawnStdioClient('paced', ['--protocol-requests', '30']);
    clients.push(paced);
    // 40 at once: connecting spent two (initialize, tools/list), the rest of the 30 go (and the few
    // the budget refills while they are answered, 3 a second), the others are refused.
    const answered = await Promise.all(Array.from({ length: 40 }, () => refusal(paced.client.ping())));
    const served = answered.filter((error) => error === null).length;
    expect(served).toBeGreaterThanOrEqual(28);
    expect(served).toBeLessThan(40);
    expect(answered.find((error) => error !== null)).toMatchObject({ code: -32000, data: { reason: 'rate_limited' } });
    const { spawnSync } = await import('node:child_process');
    const bad = spawnSync(process.execPath, [BIN, 'mcp', '--protocol-requests', '0'], { encoding: 'utf8', input: '' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--protocol-requests/);
  }, 60_000);
});
