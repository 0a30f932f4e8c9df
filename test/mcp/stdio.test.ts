/**
 * `voice-soundboard mcp` over stdio, driven by a real SDK Client that spawns it (headless audio):
 * every tool, results checked against the declared output schemas, the frozen 2.9 input schemas
 * pinned, rate limits and bad usage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, LONG_TEXT, spawnStdioClient, type TestClient } from '../helpers/mcp.js';
import { processExists, waitUntil } from '../helpers/waiting.js';

/** The 2.9 contract of the three frozen tools: parameter names, JSON types, required ones. */
const FROZEN = {
  speak: { properties: { text: 'string', voice: 'string', interrupt: 'boolean', wait: 'boolean' }, required: ['text'] },
  interrupt: { properties: { stream_id: 'string' }, required: [] },
  query_state: { properties: { stream_id: 'string' }, required: ['stream_id'] },
};

/** The shape of a listed input schema, as FROZEN writes it. */
function shapeOf(schema: { properties?: Record<string, unknown>; required?: string[] }): { properties: Record<string, unknown>; required: string[] } {
  const properties = Object.fromEntries(Object.entries(schema.properties ?? {}).map(([name, value]) => [name, (value as { type?: unknown }).type]));
  return { properties, required: [...(schema.required ?? [])].sort() };
}

let agent: TestClient & { pid: () => number | null; stderr: () => string };

beforeAll(async () => {
  agent = await spawnStdioClient('stdio-tester');
});

afterAll(async () => {
  await agent?.close();
});

describe('voice-soundboard mcp (stdio)', () => {
  it('lists the seven tools and keeps the frozen 2.9 input schemas of speak, interrupt and query_state', async () => {
    const { tools } = await agent.client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['dialogue', 'get_attestations', 'interrupt', 'list_streams', 'list_voices', 'query_state', 'speak']);
    for (const [name, frozen] of Object.entries(FROZEN)) {
      const tool = tools.find((candidate) => candidate.name === name);
      expect(shapeOf(tool?.inputSchema ?? {}), name).toEqual(frozen);
      expect(tool?.outputSchema?.properties).toHaveProperty('attestation_id');
    }
    // The pin can fail: a renamed parameter is caught.
    const planted = { properties: { message: { type: 'string' }, voice: { type: 'string' }, interrupt: { type: 'boolean' }, wait: { type: 'boolean' } }, required: ['message'] };
    expect(shapeOf(planted)).not.toEqual(FROZEN.speak);
  });

  it('speaks, queries, lists, interrupts with heard, and reports attestations as the session agent', async () => {
    const spoke = await agent.call('speak', { text: LONG_TEXT });
    expect(spoke).toMatchObject({ success: true, decision: 'allowed', reason: null, retry_after: null, schema_version: '2.9' });
    const streamId = spoke.stream_id as string;
    const state = await agent.call('query_state', { stream_id: streamId });
    expect(state).toMatchObject({ success: true, stream_id: streamId, state: { state: 'playing', owner: expect.stringMatching(/^agent:stdio-tester#\S+$/) } });
    expect((await agent.call('list_streams')).streams).toEqual([expect.objectContaining({ stream_id: streamId, state: 'playing' })]);

    const cut = await agent.call('interrupt', { stream_id: streamId });
    expect(cut).toMatchObject({ success: true, decision: 'allowed', stream_id: streamId, attestation_id: expect.any(String) });
    const heard = cut.heard as { text: string; cut_at_ms: number | null };
    expect(heard.cut_at_ms).not.toBeNull();
    expect(LONG_TEXT.startsWith(heard.text.split(' ').slice(0, 2).join(' '))).toBe(true);
    await waitUntil(() => agent.notices.some((notice) => notice.stream_id === streamId && notice.event === 'stopped'), 'the stopped notice');

    const records = (await agent.call('get_attestations', { stream_id: streamId })).attestations as Array<{ action: string; actor: string; decision: string }>;
    expect(records.map((record) => record.action)).toEqual(['start', 'compile', 'synthesize', 'play', 'interrupt', 'stop']);
    expect(records.find((record) => record.action === 'interrupt')?.actor).toMatch(/^agent:stdio-tester#/);
    expect((await agent.call('get_attestations', { limit: 2 })).attestations).toHaveLength(2);
  });

  it('speaks with wait: true until the end, with what was heard', async () => {
    const spoke = await agent.call('speak', { text: 'Short and sweet.', wait: true });
    expect(spoke).toMatchObject({ success: true, heard: { text: expect.stringContaining('Short'), cut_at_ms: null } });
    expect(await agent.call('query_state', { stream_id: spoke.stream_id as string })).toMatchObject({ state: { state: 'stopped' } });
  });

  it('interrupts its current stream first with speak interrupt: true', async () => {
    const first = await agent.call('speak', { text: LONG_TEXT });
    const second = await agent.call('speak', { text: 'Instead, this.', interrupt: true });
    expect(second).toMatchObject({ success: true, interrupted_stream_id: first.stream_id });
    await waitUntil(() => agent.notices.some((notice) => notice.stream_id === first.stream_id && notice.event === 'stopped'), 'the first stream to stop');
    expect(agent.notices.filter((notice) => notice.stream_id === first.stream_id).map((notice) => notice.event)).toEqual(['started', 'interrupted', 'stopped']);
  });

  it('lists voices and plays a dialogue as a Conversation: one stream per turn, distinct voices per speaker, the conversation id in the metadata', async () => {
    const voices = (await agent.call('list_voices', { language: 'en' })).voices as Array<{ id: string; languages: string[] }>;
    expect(voices.length).toBeGreaterThan(0);
    expect(voices.every((voice) => voice.languages.some((language) => language.toLowerCase().startsWith('en')))).toBe(true);
    const dialogue = await agent.call('dialogue', { lines: [{ speaker: 'Ann', text: 'Hello Bob.' }, { speaker: 'Bob', text: 'Hello Ann.' }, { speaker: 'ann', text: 'Bye.' }] });
    expect(dialogue).toMatchObject({ success: true, conversation_id: expect.stringMatching(/^conv-/), stream_ids: [dialogue.stream_id] });
    const ofDialogue = (event: string) => agent.notices.filter((notice) => notice.conversation_id === dialogue.conversation_id && notice.event === event);
    await waitUntil(() => ofDialogue('stopped').length === 3, 'the three turns to end');
    const turns = ofDialogue('started');
    expect(turns).toHaveLength(3);
    expect(turns[0]?.stream_id).toBe(dialogue.stream_id);
    // Each turn's start record carries the conversation id, turn, speaker and voice.
    const starts = await Promise.all(turns.map(async (turn) => ((await agent.call('get_attestations', { stream_id: turn.stream_id })).attestations as Array<{ action: string; actor: string; metadata?: Record<string, unknown> }>)[0]));
    expect(starts.map((start) => start?.action)).toEqual(['start', 'start', 'start']);
    expect(starts.every((start) => /^agent:stdio-tester#/.test(start?.actor ?? ''))).toBe(true);
    const metadata = starts.map((start) => start?.metadata ?? {});
    expect(metadata.map((fields) => [fields.conversationId, fields.conversationTurn, fields.speaker])).toEqual([
      [dialogue.conversation_id, 0, 'Ann'],
      [dialogue.conversation_id, 1, 'Bob'],
      [dialogue.conversation_id, 2, 'ann'],
    ]);
    // Two speakers, two voices (the conversation's default cast); a speaker keeps theirs.
    expect(typeof metadata[0]?.voice).toBe('string');
    expect(metadata[1]?.voice).not.toBe(metadata[0]?.voice);
    expect(metadata[2]?.voice).toBe(metadata[0]?.voice);
  });

  it("casts a dialogue speaker to the line's voice", async () => {
    const dialogue = await agent.call('dialogue', { lines: [{ speaker: 'Cy', text: 'One.', voice: 'en-gb' }, { speaker: 'Di', text: 'Two.', voice: 'en-us' }, { speaker: 'Cy', text: 'Three.' }] });
    await waitUntil(() => agent.notices.filter((notice) => notice.conversation_id === dialogue.conversation_id && notice.event === 'stopped').length === 3, 'the three turns to end');
    const records = (await agent.call('get_attestations', { limit: 200 })).attestations as Array<{ action: string; metadata?: Record<string, unknown> }>;
    const starts = records.filter((record) => record.action === 'start' && record.metadata?.conversationId === dialogue.conversation_id);
    expect(starts.map((start) => start.metadata?.voice)).toEqual(['en-gb', 'en-us', 'en-gb']);
  });

  it('ends the rest of a dialogue with one allowed interrupt of the turn playing', async () => {
    const dialogue = await agent.call('dialogue', { lines: [{ speaker: 'Ann', text: LONG_TEXT }, { speaker: 'Bob', text: 'Never heard.' }, { speaker: 'Ann', text: 'Nor this.' }] });
    const first = dialogue.stream_id as string;
    expect(await agent.call('query_state', { stream_id: first })).toMatchObject({ success: true, state: { state: 'playing' } });
    const cut = await agent.call('interrupt', {});
    expect(cut).toMatchObject({ success: true, decision: 'allowed', stream_id: first });
    await waitUntil(() => agent.notices.some((notice) => notice.stream_id === first && notice.event === 'stopped'), 'the first turn to stop');
    // Later turns never start: give the dialogue the time a next turn would take to start, then look.
    const later = await agent.call('speak', { text: 'After the dialogue.', wait: true });
    expect(later.success).toBe(true);
    expect(agent.notices.filter((notice) => notice.conversation_id === dialogue.conversation_id && notice.event === 'started').map((notice) => notice.stream_id)).toEqual([first]);
  });

  it('answers bad input found past the schema as a denial naming the field, and unknown streams', async () => {
    const unknownVoice = await agent.call('speak', { text: 'Hi.', voice: 'no-such-voice-xyz' });
    expect(unknownVoice).toMatchObject({ success: false, decision: 'denied', reason: 'invalid_input', field: expect.stringContaining('voice') });
    expect(await agent.call('query_state', { stream_id: 'stream-nope' })).toMatchObject({ success: false, reason: 'unknown_stream' });
    const ghost = await agent.call('interrupt', { stream_id: 'stream-nope' });
    expect(ghost).toMatchObject({ success: false, decision: 'denied', attestation_id: expect.any(String) });
    const wrong = await agent.raw('speak', { text: 42 });
    expect(wrong.isError).toBe(true);
    expect(JSON.stringify(wrong.content)).toMatch(/text/);
  });

  it('answers rate_limited with retry_after in seconds when the agent spends its budget', async () => {
    const limited = await spawnStdioClient('greedy', ['--requests-per-minute', '2']);
    try {
      expect((await limited.call('list_streams')).success).toBe(true);
      expect((await limited.call('list_streams')).success).toBe(true);
      const refused = await limited.call('speak', { text: 'Please?' });
      expect(refused).toMatchObject({ success: false, decision: 'denied', reason: 'rate_limited', attestation_id: null });
      expect(refused.retry_after).toBeGreaterThanOrEqual(1);
      expect(refused.retry_after).toBeLessThanOrEqual(60);
      // The refusal is logged on stderr (stdout is the protocol), with the reason and not the text.
      await waitUntil(() => limited.stderr().includes('mcp call denied'), 'the refusal in the log');
      expect(limited.stderr()).toContain('"reason":"rate_limited"');
      expect(limited.stderr()).not.toContain('Please?');
    } finally {
      await limited.close();
    }
  });

  it('exits 143 on SIGTERM while its client keeps stdin open (a supervisor need not SIGKILL it; planted: it read stdin on and never exited)', async () => {
    const child = spawn(process.execPath, [BIN, 'mcp'], { env: { ...process.env, VOICE_SOUNDBOARD_AUDIO_BACKEND: 'null' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    let exit: number | null | undefined;
    child.on('exit', (code) => (exit = code));
    const send = (message: unknown): boolean => child.stdin.write(`${JSON.stringify(message)}\n`);
    try {
      send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'sigterm', version: '1' } } });
      await waitUntil(() => stdout.includes('"id":1'), 'the initialize answer');
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'speak', arguments: { text: LONG_TEXT } } });
      await waitUntil(() => stdout.includes('"id":2'), 'the speak answer');
      expect(stdout).toContain('"success":true');
      child.kill('SIGTERM');
      // stdin stays open: the client has not gone away.
      await waitUntil(() => exit !== undefined, 'the server to exit after SIGTERM');
      expect(exit).toBe(143);
    } finally {
      if (child.pid !== undefined && processExists(child.pid)) child.kill('SIGKILL');
    }
  });

  it('refuses --audit-log naming a FIFO no one reads, at once (exit 2 naming it), instead of blocking in open(2) past every signal (planted: it hung until SIGKILL)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsb-mcp-audit-'));
    const fifo = join(dir, 'audit.fifo');
    execFileSync('mkfifo', [fifo]);
    const child = spawn(process.execPath, [BIN, 'mcp', '--audit-log', fifo], { env: { ...process.env, VOICE_SOUNDBOARD_AUDIO_BACKEND: 'null' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let exit: number | null | undefined;
    child.on('exit', (code) => (exit = code));
    try {
      await waitUntil(() => exit !== undefined, 'the server to refuse the audit log');
      expect(exit).toBe(2);
      expect(stderr).toContain('AUDIT_LOG_UNWRITABLE');
      expect(stderr).toContain('audit.fifo');
    } finally {
      if (child.pid !== undefined && processExists(child.pid)) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad usage with exit code 2', () => {
    const run = spawnSync(process.execPath, [BIN, 'mcp', '--port', '5'], { encoding: 'utf8', env: { ...process.env, VOICE_SOUNDBOARD_AUDIO_BACKEND: 'null' }, input: '' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--http');
    const bad = spawnSync(process.execPath, [BIN, 'mcp', '--http', '--port', 'x'], { encoding: 'utf8', input: '' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--port');
  });
});
