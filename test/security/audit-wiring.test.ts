/**
 * The AuditLogger wired into the faces that meet untrusted callers: the MCP tools (rate-limit
 * refusals, registrar denials as results and as thrown denials), the MCP HTTP face (refused bearer
 * tokens), the engine's plugins (every fault) and the CLI's `mcp --audit-log FILE`. Each test reads
 * the JSON lines back from a real file.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AudioOutput } from '../../src/audio/output.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { serveMcpHttp } from '../../src/mcp/http.js';
import { createMcpServer } from '../../src/mcp/server.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { AuditLogger } from '../../src/security/audit-log.js';
import { connectInMemory, LONG_TEXT, spawnStdioClient, type TestClient } from '../helpers/mcp.js';
import { ToneWordsBackend } from '../helpers/tone-words-backend.js';
import { waitUntil } from '../helpers/waiting.js';

const directory = mkdtempSync(join(tmpdir(), 'vs-audit-wiring-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let files = 0;

/** A fresh audit log file and a reader of its lines. */
function auditFile(): { audit: AuditLogger; path: string; lines: () => Array<Record<string, unknown>> } {
  const path = join(directory, `audit-${files++}.jsonl`);
  const audit = new AuditLogger({ destination: path });
  const lines = () => {
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return [];
    }
    return text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
  };
  return { audit, path, lines };
}

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An engine (cheap tone backend, null device) and its MCP server with `audit`. */
function host(audit: AuditLogger, rateLimit?: { requestsPerWindow: number }) {
  const registrar = new AudioRegistrar();
  const output = new AudioOutput({ backend: 'null', capture: true });
  const engine = new VoiceEngine({ registrar, output, backend: new ToneWordsBackend({ sampleRateHz: 8000, toneFrames: 800, gapFrames: 400, level: 0.1 }) });
  const server = createMcpServer({ engine, registrar, audit, ...(rateLimit ? { rateLimit } : {}) });
  cleanups.push(() => output.close(), () => engine.close(), () => server.close());
  return { registrar, engine, server };
}

async function client(server: ReturnType<typeof host>['server'], name: string): Promise<TestClient> {
  const connected = await connectInMemory(server, name);
  cleanups.push(() => connected.close());
  return connected;
}

describe('AuditLogger wired into MCP, HTTP, plugins and the CLI', () => {
  it('MCP: a rate-limited call is a rate_limited line naming the session and its agent', async () => {
    const { audit, lines } = auditFile();
    const { server } = host(audit, { requestsPerWindow: 1 });
    const agent = await client(server, 'limited');
    expect((await agent.call('list_streams')).success).toBe(true);
    const refused = await agent.call('list_streams');
    expect(refused).toMatchObject({ success: false, reason: 'rate_limited' });
    const logged = lines().filter((line) => line.event === 'rate_limited');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ limit: 'requests', client: expect.any(String), actor: expect.stringMatching(/^agent:limited#/) });
    expect(typeof logged[0]?.retryAfterMs).toBe('number');
  });

  it('MCP: a registrar denial a tool gets (another agent\'s stream, not_owner) is a registrar_denied line with its attestation', async () => {
    const { audit, lines } = auditFile();
    const { server } = host(audit);
    const alpha = await client(server, 'alpha');
    const beta = await client(server, 'beta');
    const spoke = await alpha.call('speak', { text: LONG_TEXT });
    const stolen = await beta.call('interrupt', { stream_id: spoke.stream_id });
    expect(stolen).toMatchObject({ success: false, reason: 'not_owner' });
    const denied = lines().filter((line) => line.event === 'registrar_denied');
    expect(denied).toEqual([expect.objectContaining({ reason: 'not_owner', actor: expect.stringMatching(/^agent:beta#/), streamId: spoke.stream_id, attestationId: stolen.attestation_id, action: 'interrupt' })]);
    // Allowed decisions are the attestation log's business, not the audit log's.
    expect((await alpha.call('interrupt', { stream_id: spoke.stream_id })).success).toBe(true);
    expect(lines().filter((line) => line.event === 'registrar_denied')).toHaveLength(1);
  });

  it("MCP: a user's override refusing an agent's speak with interrupt is a registrar_denied line (accessibility_override)", async () => {
    const { audit, lines } = auditFile();
    const { server, registrar } = host(audit);
    const agent = await client(server, 'refused');
    const alice = registrar.registerActor('user:alice', { sessions: ['default'] });
    expect(registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'default', speechRate: 1 } }).allowed).toBe(true);
    const first = await agent.call('speak', { text: LONG_TEXT });
    const again = await agent.call('speak', { text: 'Again.', interrupt: true });
    expect(again).toMatchObject({ success: false, reason: 'accessibility_override' });
    expect(lines().filter((line) => line.event === 'registrar_denied')).toEqual([
      expect.objectContaining({ reason: 'accessibility_override', action: 'interrupt', streamId: first.stream_id, actor: expect.stringMatching(/^agent:refused#/), client: expect.any(String) }),
    ]);
  });

  it('HTTP: a missing or wrong bearer token is an auth_failed line (401)', async () => {
    const { audit, lines } = auditFile();
    const { server } = host(audit);
    const http = await serveMcpHttp(server, { token: 'correct-horse-battery', audit });
    cleanups.push(() => http.close());
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    expect((await fetch(http.url, { method: 'POST', headers, body })).status).toBe(401);
    expect((await fetch(http.url, { method: 'POST', headers: { ...headers, authorization: 'Bearer wrong-token-here' }, body })).status).toBe(401);
    const good = await fetch(http.url, { method: 'POST', headers: { ...headers, authorization: 'Bearer correct-horse-battery' }, body });
    expect(good.status).toBe(200);
    await good.body?.cancel();
    expect(lines().filter((line) => line.event === 'auth_failed').map((line) => line.reason)).toEqual(['missing bearer token', 'wrong bearer token']);
    // The token itself is never logged.
    expect(JSON.stringify(lines())).not.toContain('wrong-token-here');
  });

  it('plugins: each fault of a plugin of an engine with `audit` is a plugin_violation line', async () => {
    const { audit, lines } = auditFile();
    const output = new AudioOutput({ backend: 'null', capture: true });
    const engine = new VoiceEngine({ output, audit, backend: new ToneWordsBackend({ sampleRateHz: 8000, toneFrames: 80, gapFrames: 40, level: 0.1 }) });
    cleanups.push(() => output.close(), () => engine.close());
    await engine.loadPlugin(resolve(import.meta.dirname, '../fixtures/plugins/returns-nan.mjs'));
    await engine.speak('Plugins stay in their box.');
    const faults = engine.plugins().faults;
    expect(faults.length).toBeGreaterThan(0);
    const logged = lines().filter((line) => line.event === 'plugin_violation');
    expect(logged).toHaveLength(faults.length);
    expect(logged[0]).toMatchObject({ plugin: 'returns-nan', actor: 'plugin:returns-nan', reason: expect.stringMatching(/^PLUGIN_OUTPUT_INVALID in onAudio \(skipped\): .*NaN/) });
  });

  it('CLI: `voice-soundboard mcp --audit-log FILE` writes the rate-limit refusals of its stdio session', async () => {
    const path = join(directory, 'cli-audit.jsonl');
    const agent = await spawnStdioClient('cli-audit', ['--audit-log', path, '--requests-per-minute', '2']);
    cleanups.push(() => agent.close());
    await agent.call('list_streams');
    await agent.call('list_streams');
    expect(await agent.call('list_streams')).toMatchObject({ success: false, reason: 'rate_limited' });
    await waitUntil(() => readFileSync(path, 'utf8').includes('"event":"rate_limited"'), 'the rate_limited line');
    const line = JSON.parse(readFileSync(path, 'utf8').split('\n').find((candidate) => candidate.includes('rate_limited')) ?? '{}') as Record<string, unknown>;
    expect(line).toMatchObject({ event: 'rate_limited', actor: expect.stringMatching(/^agent:cli-audit#/), limit: 'requests' });
  }, 60_000);
});
