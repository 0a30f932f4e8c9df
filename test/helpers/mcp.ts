/**
 * MCP test helpers: a real SDK Client on the stdio server child process (`node
 * bin/voice-soundboard.js mcp`, headless) or on an embedded server (in-memory transport), and
 * result checks against the tools' declared output schemas.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { LoggingMessageNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import * as schemas from '../../src/mcp/schemas.js';
import type { StreamNotice } from '../../src/mcp/agent-session.js';
import type { VoiceMcpServer } from '../../src/mcp/server.js';

/** The CLI launcher (runs dist/: build first). */
export const BIN = resolve('bin/voice-soundboard.js');

/** Output schema of each tool, strict: a field the schema does not declare fails the check. */
export const OUTPUT_SCHEMAS: Record<string, z.ZodType> = {
  speak: z.strictObject(schemas.speakOutput),
  interrupt: z.strictObject(schemas.interruptOutput),
  query_state: z.strictObject(schemas.queryStateOutput),
  list_voices: z.strictObject(schemas.listVoicesOutput),
  dialogue: z.strictObject(schemas.dialogueOutput),
  list_streams: z.strictObject(schemas.listStreamsOutput),
  get_attestations: z.strictObject(schemas.getAttestationsOutput),
};

/** The structured result of a tool call (base fields typed, the rest open). */
export type Structured = z.infer<z.ZodObject<typeof schemas.baseResultShape>> & Record<string, unknown>;

/** A connected client, the stream notices it received, and a typed tool call. */
export interface TestClient {
  client: Client;
  notices: StreamNotice[];
  /** Calls `name`; checks the result against the tool's output schema; returns its structured content. */
  call(name: string, args?: Record<string, unknown>): Promise<Structured>;
  /** Calls `name` and returns the raw result (for errors). */
  raw(name: string, args?: unknown): Promise<CallToolResult>;
  close(): Promise<void>;
}

async function wrap(client: Client, connect: () => Promise<void>, close: () => Promise<void>): Promise<TestClient> {
  const notices: StreamNotice[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => void notices.push(notification.params.data as StreamNotice));
  await connect();
  // Listing the tools makes the SDK client check every structured result against its outputSchema too.
  await client.listTools();
  const raw = async (name: string, args: unknown = {}) => (await client.callTool({ name, arguments: args as Record<string, unknown> })) as CallToolResult;
  return {
    client,
    notices,
    raw,
    call: async (name, args = {}) => {
      const result = await raw(name, args);
      if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
      const schema = OUTPUT_SCHEMAS[name];
      if (!schema) throw new Error(`no output schema for ${name}`);
      return schema.parse(result.structuredContent) as Structured;
    },
    close,
  };
}

/** A client on a new stdio server child process (headless audio); `args` are extra CLI flags. */
export async function spawnStdioClient(name: string, args: string[] = [], capabilities: Record<string, unknown> = {}): Promise<TestClient & { pid: () => number | null; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'mcp', ...args],
    env: { ...(process.env as Record<string, string>), VOICE_SOUNDBOARD_AUDIO_BACKEND: 'null' },
    stderr: 'pipe',
  });
  const errors: string[] = [];
  transport.stderr?.on('data', (chunk: Buffer) => errors.push(chunk.toString()));
  const client = new Client({ name, version: '1.0.0' }, { capabilities });
  const wrapped = await wrap(client, () => client.connect(transport), () => client.close());
  return { ...wrapped, pid: () => transport.pid, stderr: () => errors.join('') };
}

/** A client on an embedded server, over an in-memory transport pair. */
export async function connectInMemory(server: VoiceMcpServer, name: string, capabilities: Record<string, unknown> = {}): Promise<TestClient> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name, version: '1.0.0' }, { capabilities });
  return wrap(client, () => client.connect(clientSide), () => client.close());
}

/** A text that takes seconds to speak (so it can be cut while playing). */
export const LONG_TEXT = Array.from({ length: 40 }, (_, index) => `This is sentence number ${index + 1} of a long announcement.`).join(' ');

/** Resident set size of a process, in bytes (Linux /proc). */
export function rssBytesOf(pid: number | undefined): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid ?? 'self'}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}
