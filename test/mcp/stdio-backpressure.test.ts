/**
 * The stdio transport under a client that does not read its answers: once the output is backed
 * up, the transport stops reading requests (the client's writes then block in the pipe), so the
 * server's memory stays bounded by one buffer rather than growing with every answer; reading the
 * output resumes it and every request is answered.
 */
import { PassThrough } from 'node:stream';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { LineStdioTransport } from '../../src/mcp/stdio-transport.js';
import { waitUntil } from '../helpers/waiting.js';

const REQUESTS = 2000;
const ANSWER = 'y'.repeat(4096);

/** A transport that answers each request with a 4 KiB result, as a server answering tools/list. */
async function echoing(output: PassThrough): Promise<{ input: PassThrough; received: () => number }> {
  const input = new PassThrough();
  const transport = new LineStdioTransport({ input, output });
  let received = 0;
  transport.onmessage = (message) => {
    received += 1;
    const id = (message as { id: number }).id;
    void transport.send({ jsonrpc: '2.0', id, result: { text: ANSWER } } as JSONRPCMessage);
  };
  await transport.start();
  return { input, received: () => received };
}

function sendAll(input: PassThrough): void {
  for (let id = 1; id <= REQUESTS; id += 1) input.write(`${JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list' })}\n`);
}

describe('LineStdioTransport backpressure', () => {
  it('stops reading requests while its answers are not read, and answers them all once they are', async () => {
    const output = new PassThrough({ highWaterMark: 64 * 1024 });
    const { input, received } = await echoing(output);
    sendAll(input);
    // Nobody reads the output: the transport stops well before it has answered everything.
    await waitUntil(() => input.isPaused(), 'the transport to stop reading');
    const stalled = received();
    expect(stalled).toBeLessThan(REQUESTS / 4);
    // The answers buffered are bounded by the output's buffer (plus the answers in flight), not by the requests.
    expect(output.writableLength).toBeLessThan(4 * 64 * 1024 + stalled * (ANSWER.length + 64));
    let lines = 0;
    output.on('data', (chunk: Buffer) => (lines += chunk.toString('utf8').split('\n').length - 1));
    await waitUntil(() => lines === REQUESTS, 'every answer once the output is read');
    expect(received()).toBe(REQUESTS);
  });

  it('negative: a reader that keeps up never pauses the input (the pause is the backpressure, not a limit)', async () => {
    const output = new PassThrough({ highWaterMark: 64 * 1024 });
    let lines = 0;
    output.on('data', (chunk: Buffer) => (lines += chunk.toString('utf8').split('\n').length - 1));
    const { input, received } = await echoing(output);
    sendAll(input);
    await waitUntil(() => lines === REQUESTS, 'every answer');
    expect(received()).toBe(REQUESTS);
  });
});
