/**
 * The stdio transport's bound on a line, measured exactly: a 64 MiB line without a newline, fed
 * in fresh 1 MiB buffers, leaves no more than the transport's `maxLineBytes` retained (measured
 * after a full GC, so garbage not yet collected cannot hide or fake a leak), is refused once, and
 * the next line is read as usual. The end-to-end test over a real `voice-soundboard mcp` process
 * (stdout-protocol.test.ts) checks the same through the process's resident set, with a margin.
 */
import { PassThrough } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { LineStdioTransport } from '../../src/mcp/stdio-transport.js';
import { waitUntil } from '../helpers/waiting.js';

setFlagsFromString('--expose-gc');
/** A full collection: what is measured after it is what is retained. */
const fullGc = runInNewContext('gc') as () => void;

const MIB = 1024 * 1024;

/**
 * ArrayBuffer memory retained, in bytes: measured after full GCs, with a turn of the event loop
 * between them (V8 frees dead buffers' memory on a concurrent sweeper, so one GC's count can lag).
 */
async function retainedBuffers(): Promise<number> {
  for (let round = 0; round < 3; round += 1) {
    fullGc();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().arrayBuffers;
}

/** Feeds `mib` fresh 1 MiB buffers of 'a' (none kept by the test) to `input`. */
function feedLine(input: PassThrough, mib: number): void {
  for (let index = 0; index < mib; index += 1) input.write(Buffer.alloc(MIB, 0x61));
}

/** Everything written to `input` has reached its reader (nothing left in either of its buffers). */
const read = (input: PassThrough): boolean => input.writableLength === 0 && input.readableLength === 0;

/** A transport reading `input`; each test closes it, so nothing it holds carries into the next measure. */
async function transportOn(maxLineBytes: number): Promise<{ input: PassThrough; answers: string[]; messages: JSONRPCMessage[]; transport: LineStdioTransport }> {
  const input = new PassThrough();
  const output = new PassThrough();
  const answers: string[] = [];
  output.on('data', (chunk: Buffer) => answers.push(...chunk.toString('utf8').split('\n').filter((line) => line.length > 0)));
  const transport = new LineStdioTransport({ input, output, maxLineBytes });
  const messages: JSONRPCMessage[] = [];
  transport.onmessage = (message) => messages.push(message);
  await transport.start();
  return { input, answers, messages, transport };
}

describe('LineStdioTransport: an over-long line', () => {
  it('retains at most maxLineBytes of a 64 MiB line, refuses it once, and reads the next line', async () => {
    const { input, answers, messages, transport } = await transportOn(4 * MIB);
    try {
      const before = await retainedBuffers();
      feedLine(input, 64);
      await waitUntil(() => read(input), 'the transport to read the line');
      // The line is still open (no newline yet): what the transport holds of it is below its bound.
      expect((await retainedBuffers()) - before).toBeLessThan(4 * MIB);
      input.write('\n{"jsonrpc":"2.0","id":7,"method":"ping"}\n');
      await waitUntil(() => messages.length === 1, 'the next line');
      expect(answers).toHaveLength(1);
      expect(JSON.parse(answers[0] ?? '')).toMatchObject({ error: { code: -32600, message: expect.stringMatching(/longer than 4194304 bytes/) } });
      expect(messages[0]).toMatchObject({ id: 7, method: 'ping' });
    } finally {
      await transport.close();
    }
  });

  it('negative: a bound above the line keeps it whole, and the measure sees it', async () => {
    const { input, answers, messages, transport } = await transportOn(128 * MIB);
    try {
      const before = await retainedBuffers();
      feedLine(input, 64);
      await waitUntil(() => read(input), 'the transport to read the line');
      expect((await retainedBuffers()) - before).toBeGreaterThan(56 * MIB);
      input.write('\n');
      await waitUntil(() => answers.length === 1, 'the parse error of the long line');
      expect(JSON.parse(answers[0] ?? '')).toMatchObject({ error: { code: -32700 } });
      expect(messages).toHaveLength(0);
    } finally {
      await transport.close();
    }
  });
});
