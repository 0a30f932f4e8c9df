/**
 * The MCP bench's baseline: a bare SDK McpServer with one `echo` tool (zod input and output
 * schema, structured content), over stdio. Spawned by bench/mcp.bench.ts.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

/** A bare server with the echo tool (also served over HTTP by the bench). */
export function echoServer(): McpServer {
  const server = new McpServer({ name: 'echo', version: '1.0.0' });
  server.registerTool('echo', { inputSchema: { text: z.string() }, outputSchema: { text: z.string() } }, ({ text }) => ({ structuredContent: { text }, content: [{ type: 'text', text }] }));
  return server;
}

if (process.argv[2] === 'stdio') await echoServer().connect(new StdioServerTransport());
