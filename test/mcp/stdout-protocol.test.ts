/**
 * The stdio server writes nothing but protocol to stdout: a raw child process is driven through
 * every tool (real speech, a dialogue to its end, interrupts, voices, attestations) and hostile
 * input (binary garbage, `__proto__` keys, a line of 64 MiB with no newline), and every stdout
 * line must be one JSON-RPC message. A stray console.log in any module would show here. The
 * endless line must not grow the server's memory by its size.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rssBytesOf, BIN, LONG_TEXT } from '../helpers/mcp.js';
import { waitUntil } from '../helpers/waiting.js';

interface Answer {
  id?: number | string;
  method?: string;
  params?: { data?: { event?: string; stream_id?: string; conversation_id?: string } };
  result?: { isError?: boolean; structuredContent?: Record<string, unknown> };
  error?: { code: number; message: string };
}

/** Lines of `stdout` that are not one JSON-RPC message each (the empty tail after the last newline aside). */
function protocolProblems(stdout: string): string[] {
  const lines = stdout.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.filter((line) => {
    try {
      return !JSONRPCMessageSchema.safeParse(JSON.parse(line)).success;
    } catch {
      return true;
    }
  });
}

let child: ChildProcessWithoutNullStreams;
let stdout = '';
let nextId = 1;

const answers = (): Answer[] => stdout.split('\n').flatMap((line) => {
  try {
    return [JSON.parse(line) as Answer];
  } catch {
    return [];
  }
});

function send(line: string): void {
  child.stdin.write(`${line}\n`);
}

/** Sends a request and waits for its answer. */
async function call(method: string, params: unknown): Promise<Answer> {
  const id = nextId++;
  send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
  let found: Answer | undefined;
  await waitUntil(() => (found = answers().find((answer) => answer.id === id)) !== undefined, `the answer to ${method}`, 60_000);
  return found as Answer;
}

const tool = async (name: string, args: unknown): Promise<Record<string, unknown>> => (await call('tools/call', { name, arguments: args })).result?.structuredContent ?? {};

/** Resident set size of the server process, in bytes. */
const rssBytes = (): number => rssBytesOf(child.pid);

beforeAll(async () => {
  child = spawn(process.execPath, [BIN, 'mcp'], { env: { ...process.env, VOICE_SOUNDBOARD_AUDIO_BACKEND: 'null' } });
  child.stderr.resume();
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  await call('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'purist', version: '1' } });
  send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
});

afterAll(() => {
  child?.kill();
});

describe('voice-soundboard mcp stdout', () => {
  it('the check catches a stray non-protocol line (planted)', () => {
    const good = `${JSON.stringify({ jsonrpc: '2.0', id: 1, result: {} })}\n`;
    expect(protocolProblems(good)).toEqual([]);
    expect(protocolProblems(`${good}synthesizing...\n${good}`)).toEqual(['synthesizing...']);
    expect(protocolProblems(`${good}{"hello":1}\n`)).toEqual(['{"hello":1}']);
  });

  it('carries only JSON-RPC messages through every tool and hostile input', async () => {
    expect((await call('tools/list', {})).result).toBeDefined();
    expect(await tool('list_voices', {})).toMatchObject({ success: true });
    expect(await tool('speak', { text: 'Short and sweet.', wait: true })).toMatchObject({ success: true });
    const long = await tool('speak', { text: LONG_TEXT });
    expect(await tool('query_state', { stream_id: long.stream_id })).toMatchObject({ success: true });
    expect(await tool('list_streams', {})).toMatchObject({ success: true });
    expect(await tool('interrupt', {})).toMatchObject({ success: true, stream_id: long.stream_id });
    const dialogue = await tool('dialogue', { lines: [{ speaker: 'Ann', text: 'Hello.' }, { speaker: 'Bob', text: 'Hi.' }] });
    expect(dialogue).toMatchObject({ success: true });
    await waitUntil(() => answers().filter((answer) => answer.params?.data?.conversation_id === dialogue.conversation_id && answer.params?.data?.event === 'stopped').length === 2, 'the dialogue to end');
    expect(await tool('get_attestations', { limit: 200 })).toMatchObject({ success: true });
    // Hostile input: binary garbage, a __proto__ key, a request with a __proto__ params object.
    child.stdin.write(Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x0a, 0xc3, 0x28, 0x0a]));
    send('{"jsonrpc":"2.0","id":"p1","method":"tools/call","params":{"name":"speak","arguments":{"text":"Proto.","__proto__":{"voice":"no-such-voice"}}}}');
    send('{"jsonrpc":"2.0","id":"p2","method":"tools/call","params":{"__proto__":{"name":"speak"},"arguments":{"text":"x"}}}');
    await waitUntil(() => ['p1', 'p2'].every((id) => answers().some((answer) => answer.id === id)), 'the __proto__ answers');
    expect(answers().find((answer) => answer.id === 'p1')?.result?.structuredContent).toMatchObject({ success: true });
    expect(answers().find((answer) => answer.id === 'p2')?.error ?? answers().find((answer) => answer.id === 'p2')?.result?.isError).toBeTruthy();
    expect(await tool('list_streams', {})).toMatchObject({ success: true });
    expect(protocolProblems(stdout)).toEqual([]);
  }, 120_000);

  it('drops a 256 MiB line without a newline in bounded memory, refuses it once, and goes on', async () => {
    const before = rssBytes();
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    for (let index = 0; index < 256; index += 1) {
      if (!child.stdin.write(chunk)) await new Promise((resolve) => child.stdin.once('drain', resolve));
    }
    // Measured while the line is still open (no newline yet): its bytes were not kept. The margin is
    // wide because the server's read buffers are freed only when its GC gets to them (V8 lets tens of
    // MiB of dead buffers wait); stdio-long-line.test.ts measures the transport's bound exactly.
    const grown = rssBytes() - before;
    expect(grown).toBeLessThan(160 * 1024 * 1024);
    child.stdin.write('\n');
    await waitUntil(() => answers().some((answer) => /longer than/.test(answer.error?.message ?? '')), 'the refusal of the line');
    expect(await tool('list_streams', {})).toMatchObject({ success: true });
    expect(protocolProblems(stdout)).toEqual([]);
  }, 120_000);
});
