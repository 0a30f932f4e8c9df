/**
 * MCP tool-call round trip (p50/p99) over stdio and Streamable HTTP, against a bare SDK echo tool
 * server measured in the same run: the ratio is what the registrar, the session's agent and the
 * structured result add to a call. Run: npm run bench mcp (needs dist/: node scripts/build.mjs --ts).
 *
 * Rows, per transport:
 * - echo: the bare SDK server's `echo` tool (the baseline);
 * - query_state: one of the agent's streams read from the registrar (rate limiter, session, schema);
 * - interrupt: an interrupt of a stream that has ended: a registrar decision, denied and attested.
 * Over stdio both servers are child processes; over HTTP both run in this process on 127.0.0.1.
 */
import { resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { AudioOutput } from '../src/audio/output.js';
import { VoiceEngine } from '../src/engine/voice-engine.js';
import { serveMcpHttp } from '../src/mcp/http.js';
import { createMcpServer } from '../src/mcp/server.js';
import { AudioRegistrar } from '../src/registrar/registrar.js';
import { echoServer } from './mcp-echo-server.js';
import { measure, us } from './latency.js';

const TIME_MS = Number(process.env.BENCH_TIME_MS ?? 2000);
const headless = { ...(process.env as Record<string, string>), VOICE_SOUNDBOARD_AUDIO_BACKEND: 'null' };

async function connected(name: string, transport: Transport): Promise<Client> {
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  await client.listTools();
  return client;
}

/** A stream of the client's agent that has ended (spoken once, waited for). */
async function endedStream(client: Client): Promise<string> {
  const result = await client.callTool({ name: 'speak', arguments: { text: 'Ready.', wait: true } });
  return (result.structuredContent as { stream_id: string }).stream_id;
}

async function rows(echo: Client, voice: Client): Promise<Record<string, () => Promise<unknown>>> {
  const streamId = await endedStream(voice);
  return {
    echo: () => echo.callTool({ name: 'echo', arguments: { text: 'hello' } }),
    query_state: () => voice.callTool({ name: 'query_state', arguments: { stream_id: streamId } }),
    interrupt: () => voice.callTool({ name: 'interrupt', arguments: { stream_id: streamId } }),
  };
}

function print(transport: string, stats: Record<string, { p50Us: number; p99Us: number }>): void {
  const base = stats.echo;
  console.log(`\n${transport}: tool-call round trip`);
  console.log('row           p50            p99            p50 ratio vs echo');
  for (const [name, row] of Object.entries(stats)) {
    console.log(`${name.padEnd(13)} ${us(row.p50Us).padEnd(14)} ${us(row.p99Us).padEnd(14)} ${base ? (row.p50Us / base.p50Us).toFixed(2) : '-'}`);
  }
}

// stdio: both servers as child processes.
const echoStdio = await connected('bench', new StdioClientTransport({ command: process.execPath, args: ['--import', 'tsx', resolve('bench/mcp-echo-server.ts'), 'stdio'] }));
const voiceStdio = await connected('bench', new StdioClientTransport({ command: process.execPath, args: [resolve('bin/voice-soundboard.js'), 'mcp', '--requests-per-minute', '1000000', '--protocol-requests', '1000000'], env: headless, stderr: 'ignore' }));
print('stdio', await measure(await rows(echoStdio, voiceStdio), TIME_MS));
await Promise.all([echoStdio.close(), voiceStdio.close()]);

// Streamable HTTP: both servers in this process on loopback.
const registrar = new AudioRegistrar();
const output = new AudioOutput({ backend: 'null' });
const engine = new VoiceEngine({ registrar, output });
const voiceServer = createMcpServer({ engine, registrar, rateLimit: { requestsPerWindow: 1_000_000 }, protocolRateLimit: { requestsPerWindow: 1_000_000 } });
const voiceHttp = await serveMcpHttp(voiceServer);
const echoHttp = await serveMcpHttp({ connect: (transport) => echoServer().connect(transport) });
const echoClient = await connected('bench', new StreamableHTTPClientTransport(new URL(echoHttp.url)));
const voiceClient = await connected('bench', new StreamableHTTPClientTransport(new URL(voiceHttp.url)));
print('http', await measure(await rows(echoClient, voiceClient), TIME_MS));
await Promise.all([echoClient.close(), voiceClient.close()]);
await Promise.all([echoHttp.close(), voiceHttp.close()]);
await voiceServer.close();
await engine.close();
output.close();
