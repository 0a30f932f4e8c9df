/**
 * `voice-soundboard mcp` over stdio, driven by a real SDK Client that spawns it (headless audio):
 * every tool, results checked against the declared output schemas, the frozen 2.9 input schemas
 * pinned, rate limits and bad usage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { BIN, LONG_TEXT, spawnStdioClient, type TestClient } from '../helpers/mcp.js';
import { waitUntil } from '../helpers/waiting.js';

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

  it('lists voices and plays a dialogue line by line as its own streams', async () => {
    const voices = (await agent.call('list_voices', { language: 'en' })).voices as Array<{ id: string; languages: string[] }>;
    expect(voices.length).toBeGreaterThan(0);
    expect(voices.every((voice) => voice.languages.some((language) => language.toLowerCase().startsWith('en')))).toBe(true);
    const dialogue = await agent.call('dialogue', { lines: [{ speaker: 'Ann', text: 'Hello Bob.' }, { speaker: 'Bob', text: 'Hello Ann.', voice: voices[0]?.id }] });
    expect(dialogue).toMatchObject({ success: true, conversation_id: expect.stringMatching(/^conv-/), stream_ids: [dialogue.stream_id] });
    await waitUntil(() => agent.notices.filter((notice) => notice.conversation_id === dialogue.conversation_id && notice.event === 'stopped').length === 2, 'both dialogue lines to end');
    const lines = agent.notices.filter((notice) => notice.conversation_id === dialogue.conversation_id && notice.event === 'started');
    expect(lines).toHaveLength(2);
    expect(lines[0]?.stream_id).toBe(dialogue.stream_id);
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

  it('refuses bad usage with exit code 2', () => {
    const run = spawnSync(process.execPath, [BIN, 'mcp', '--port', '5'], { encoding: 'utf8', env: { ...process.env, VOICE_SOUNDBOARD_AUDIO_BACKEND: 'null' }, input: '' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--http');
    const bad = spawnSync(process.execPath, [BIN, 'mcp', '--http', '--port', 'x'], { encoding: 'utf8', input: '' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--port');
  });
});
