/**
 * Fuzzing the stdio server on raw JSON-RPC lines: well over 1000 malformed calls (wrong types,
 * huge strings, unknown tools and methods, lines that are not JSON or not JSON-RPC, a line over
 * the size limit). Each gets exactly one structured answer, the server stays alive and answers a
 * good call afterwards, and its resident memory stays flat.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { rssBytesOf, BIN } from '../helpers/mcp.js';
import { waitUntil } from '../helpers/waiting.js';

interface Answer {
  id?: number | string;
  result?: { isError?: boolean; content?: Array<{ text?: string }>; structuredContent?: Record<string, unknown> };
  error?: { code: number; message: string };
}

let child: ChildProcessWithoutNullStreams;
const answers: Answer[] = [];
let nextId = 1;

function send(line: string): void {
  child.stdin.write(`${line}\n`);
}

function request(method: string, params: unknown): number {
  const id = nextId++;
  send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
  return id;
}

const byId = (id: number) => answers.find((answer) => answer.id === id);

/** Resident set size of the server process, in bytes. */
const rssBytes = (): number => rssBytesOf(child.pid);

beforeAll(async () => {
  // Paced far above the burst (the default, 100 requests per 10 s, would answer most of it rate_limited: protocol-rate.test.ts).
  child = spawn(process.execPath, [BIN, 'mcp', '--protocol-requests', '1000000'], { env: { ...process.env, VOICE_SOUNDBOARD_AUDIO_BACKEND: 'null' } });
  child.stderr.resume();
  createInterface({ input: child.stdout }).on('line', (line) => answers.push(JSON.parse(line) as Answer));
  const init = request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'fuzzer', version: '1' } });
  await waitUntil(() => byId(init) !== undefined, 'initialize');
  send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
});

afterAll(() => {
  child?.kill();
});

/** Malformed tool calls: [tool, arguments, the field the answer must name (or a phrase)]. */
function malformedCalls(round: number): Array<[string, unknown, RegExp]> {
  const huge = 'x'.repeat(20_000 + round);
  return [
    ['speak', { text: round }, /text/],
    ['speak', { text: [huge] }, /text/],
    ['speak', { text: huge }, /text/],
    ['speak', { text: 'ok', interrupt: 'yes' }, /interrupt/],
    ['speak', { text: 'ok', voice: '' }, /voice/],
    ['speak', {}, /text/],
    ['interrupt', { stream_id: round }, /stream_id/],
    ['interrupt', { stream_id: 'has space' }, /stream_id/],
    ['query_state', { stream_id: null }, /stream_id/],
    ['query_state', {}, /stream_id/],
    ['get_attestations', { limit: -round }, /limit/],
    ['get_attestations', { limit: 'all' }, /limit/],
    ['list_voices', { language: '!!' }, /language/],
    ['dialogue', { lines: 'hello' }, /lines/],
    ['dialogue', { lines: [{ speaker: 'a' }] }, /lines/],
    ['dialogue', { lines: Array.from({ length: 65 }, () => ({ speaker: 'a', text: 'b' })) }, /lines/],
    [`no_such_tool_${round}`, {}, /not found/],
  ];
}

it('answers 1000+ malformed calls each with a structured error and stays alive with flat memory', async () => {
  const expectations = new Map<number, RegExp>();
  const round = (index: number) => {
    for (const [name, args, names] of malformedCalls(index)) expectations.set(request('tools/call', { name, arguments: args }), names);
    expectations.set(request(`no/such/method/${index}`, {}), /not found/i);
    expectations.set(request('tools/call', { name: 42 }), /invalid|expected/i);
    send(`{"jsonrpc":"2.0","id":${nextId++},"method":`); // cut off: not JSON
    send(`{"id":${nextId++},"hello":"world"}`); // JSON, not JSON-RPC
  };
  const warmUp = 10;
  const rounds = 60;
  for (let index = 0; index < warmUp; index += 1) round(index);
  await waitUntil(() => expectations.size > 0 && [...expectations.keys()].every((id) => byId(id) !== undefined), 'the warm-up answers');
  const before = rssBytes();
  for (let index = warmUp; index < rounds; index += 1) round(index);
  // One line over the 4 MiB line limit: refused, the session goes on.
  send(`{"jsonrpc":"2.0","id":${nextId++},"method":"tools/call","params":{"name":"speak","arguments":{"text":"${'y'.repeat(5 * 1024 * 1024)}"}}}`);
  await waitUntil(() => [...expectations.keys()].every((id) => byId(id) !== undefined), 'every answer', 120_000);

  expect(expectations.size).toBeGreaterThanOrEqual(1000);
  for (const [id, names] of expectations) {
    const answer = byId(id);
    const text = answer?.error?.message ?? answer?.result?.content?.map((part) => part.text).join(' ') ?? '';
    // A protocol error, or a tool result flagged isError: both structured, both naming what was wrong.
    expect(answer?.error !== undefined || answer?.result?.isError === true, `answer ${id}`).toBe(true);
    expect(text, `answer ${id}`).toMatch(names);
  }
  await waitUntil(() => answers.filter((answer) => answer.id === undefined).length >= rounds + 1, 'the parse errors');
  const unanswerable = answers.filter((answer) => answer.id === undefined);
  expect(unanswerable).toHaveLength(rounds + 1);
  expect(unanswerable.filter((answer) => /longer than/.test(answer.error?.message ?? ''))).toHaveLength(1);
  expect(unanswerable.every((answer) => answer.error?.code === -32700 || answer.error?.code === -32600)).toBe(true);
  const notJsonRpc = answers.filter((answer) => answer.error?.code === -32600 && answer.id !== undefined);
  expect(notJsonRpc).toHaveLength(rounds);
  // Each id answered once.
  const ids = answers.flatMap((answer) => (answer.id === undefined ? [] : [answer.id]));
  expect(new Set(ids).size).toBe(ids.length);

  // Alive: a good call still works.
  const good = request('tools/call', { name: 'list_streams', arguments: {} });
  await waitUntil(() => byId(good) !== undefined, 'a good call after the fuzz');
  expect(byId(good)?.result?.structuredContent).toMatchObject({ success: true });
  // Flat: 50 rounds (~1000 calls, a 5 MiB line) do not grow the server's memory beyond a generous bound.
  expect(rssBytes() - before).toBeLessThan(96 * 1024 * 1024);
}, 180_000);
