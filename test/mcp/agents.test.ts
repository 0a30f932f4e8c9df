/**
 * The MCP gate with an embedded server (createMcpServer + in-memory transports) in a host that
 * holds its own user and system actors: each agent acts only on its own streams, a host user's
 * accessibility override beats every agent, racing interrupts have one winner, and the log names
 * each session's agent.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AudioOutput } from '../../src/audio/output.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { MCP_STREAM_CAPS, createMcpServer, type VoiceMcpServer } from '../../src/mcp/server.js';
import { InputError } from '../../src/errors.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { BaseBackend, type BackendCapabilities, type VoiceInfo } from '../../src/backends/backend.js';
import type { EngineOutput, SynthesisSegment } from '../../src/graph/engine-output.js';
import { ConstantLevelBackend } from '../helpers/constant-level-backend.js';
import { FIXTURE_VOICES, VoiceListBackend } from '../helpers/voice-list-backend.js';
import { connectInMemory, LONG_TEXT, type TestClient } from '../helpers/mcp.js';
import { capturedSoFar, framesAtLevel, position } from '../helpers/device-capture.js';
import { waitUntil } from '../helpers/waiting.js';

/** Speaks a constant level; a text containing "Gate" waits for `gate` (or its abort) before any audio. */
class GatedBackend extends BaseBackend {
  readonly name = 'gated';
  readonly capabilities: BackendCapabilities = { streaming: true, wordTimings: false, phonemes: false, remote: false };
  constructor(readonly sampleRateHz: number, readonly gate: Promise<void>) {
    super();
  }
  async voices(): Promise<VoiceInfo[]> {
    return [];
  }
  protected async *synthesizeOnce(segment: SynthesisSegment, _options: unknown, signal: AbortSignal): AsyncIterable<EngineOutput> {
    if (segment.text.includes('Gate')) await Promise.race([this.gate, new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))]);
    yield { pcm: new Float32Array(this.sampleRateHz / 10).fill(0.2), sampleRateHz: this.sampleRateHz, channels: 1, metadata: {} };
  }
}

let registrar: AudioRegistrar;
let output: AudioOutput;
let engine: VoiceEngine;
let server: VoiceMcpServer;
const clients: TestClient[] = [];

beforeEach(() => {
  registrar = new AudioRegistrar();
  output = new AudioOutput({ backend: 'null', capture: true });
  engine = new VoiceEngine({ registrar, output });
  server = createMcpServer({ engine, registrar });
});

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((client) => client.close()));
  await server.close();
  await engine.close();
  output.close();
});

async function connect(name: string, capabilities: Record<string, unknown> = {}): Promise<TestClient> {
  const client = await connectInMemory(server, name, capabilities);
  clients.push(client);
  return client;
}

/** A stream of the agent, playing. */
async function speaking(client: TestClient): Promise<string> {
  const spoke = await client.call('speak', { text: LONG_TEXT });
  expect(spoke).toMatchObject({ success: true, decision: 'allowed', reason: null });
  const streamId = spoke.stream_id as string;
  expect(registrar.getState(streamId)?.state).toBe('playing');
  return streamId;
}

/**
 * A host on a mono 16 kHz null device speaking a constant level (`segmentSeconds` per sentence),
 * with agent alpha connected and user alice's override covering session "default".
 */
async function coveredAgent(segmentSeconds: number): Promise<{ rate: number; level: number; alpha: TestClient; alice: ReturnType<AudioRegistrar['registerActor']> }> {
  await server.close();
  await engine.close();
  output.close();
  const rate = 16_000;
  const level = 0.5;
  output = new AudioOutput({ backend: 'null', sampleRateHz: rate, channels: 1, periodFrames: 256, capture: true, captureFrames: rate * 30 });
  engine = new VoiceEngine({ registrar, output, backend: new ConstantLevelBackend({ level, sampleRateHz: rate, framesPerSegment: rate * segmentSeconds, chunksPerSegment: 4 * segmentSeconds }) });
  server = createMcpServer({ engine, registrar });
  const alpha = await connect('alpha');
  const alice = registrar.registerActor('user:alice', { sessions: ['default'] });
  expect(registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'default' } }).allowed).toBe(true);
  return { rate, level, alpha, alice };
}

describe('MCP agents under the registrar', () => {
  it('gives each session its own agent actor, which can interrupt only its own streams (not_owner)', async () => {
    const alpha = await connect('alpha');
    const beta = await connect('beta');
    const alphaStream = await speaking(alpha);
    const owner = registrar.getState(alphaStream)?.owner ?? '';
    expect(owner).toMatch(/^agent:alpha#\S+$/);

    const stolen = await beta.call('interrupt', { stream_id: alphaStream });
    expect(stolen).toMatchObject({ success: false, decision: 'denied', reason: 'not_owner', stream_id: alphaStream });
    expect(registrar.attestationStore.query({ decision: 'denied', target: alphaStream }).map((record) => record.id)).toContain(stolen.attestation_id);
    expect(registrar.getState(alphaStream)?.state).toBe('playing');
    // Beta cannot read it either, nor list it.
    expect(await beta.call('query_state', { stream_id: alphaStream })).toMatchObject({ success: false, reason: 'not_owner' });
    expect((await beta.call('list_streams')).streams).toEqual([]);
    expect(await beta.call('get_attestations', { stream_id: alphaStream })).toMatchObject({ success: false, reason: 'not_owner' });
    // Beta's records are its own requests only (here its refused interrupt), none of alpha's stream's life.
    const betaRecords = (await beta.call('get_attestations')).attestations as Array<{ actor: string; action: string; decision: string }>;
    expect(betaRecords.map((record) => [record.action, record.decision])).toEqual([['interrupt', 'denied']]);
    expect(betaRecords[0]?.actor).toMatch(/^agent:beta#/);

    const own = await alpha.call('interrupt', { stream_id: alphaStream });
    expect(own).toMatchObject({ success: true, decision: 'allowed', stream_id: alphaStream });
    expect(own.heard).toMatchObject({ cut_at_ms: expect.any(Number) });
    await waitUntil(() => registrar.getState(alphaStream)?.state === 'stopped', 'the interrupted stream to stop');

    // The log shows both agents under their session-derived ids.
    const betaSpoke = await beta.call('speak', { text: 'Beta speaks briefly.', wait: true });
    const actors = new Set(registrar.attestationStore.all().map((record) => (record.actor ? `${record.actor.kind}:${record.actor.id}` : '')));
    const betaOwner = registrar.getState(betaSpoke.stream_id as string)?.owner ?? '';
    expect(betaOwner).toMatch(/^agent:beta#\S+$/);
    expect(actors).toContain(owner);
    expect(actors).toContain(betaOwner);
    expect(server.sessions().map((session) => session.actor).sort()).toEqual([owner, betaOwner].sort());
  }, 60_000);

  it("does not tell an agent who owns another agent's stream (the denial names no actor)", async () => {
    const alpha = await connect('alpha');
    const beta = await connect('beta');
    const alphaStream = await speaking(alpha);
    const alphaOwner = registrar.getState(alphaStream)?.owner ?? '';
    const alphaSession = alphaOwner.split('#')[1] ?? '';
    expect(alphaSession.length).toBeGreaterThan(0);
    const denials = [await beta.call('interrupt', { stream_id: alphaStream }), await beta.call('query_state', { stream_id: alphaStream }), await beta.call('get_attestations', { stream_id: alphaStream })];
    for (const denied of denials) {
      expect(denied).toMatchObject({ success: false, reason: 'not_owner' });
      expect(JSON.stringify(denied)).not.toContain(alphaSession);
    }
    // The planted leak: the registrar's own message does name the owner (what the tool must not pass on).
    expect(registrar.attestationStore.query({ target: alphaStream, decision: 'denied' }).at(-1)?.message).toContain(alphaSession);
  }, 60_000);

  it('tells the client started / interrupted / stopped with attestation ids', async () => {
    const alpha = await connect('alpha');
    const streamId = await speaking(alpha);
    const cut = await alpha.call('interrupt', {});
    expect(cut).toMatchObject({ success: true, stream_id: streamId });
    await waitUntil(() => alpha.notices.some((notice) => notice.event === 'stopped' && notice.stream_id === streamId), 'the stopped notice');
    const events = alpha.notices.filter((notice) => notice.stream_id === streamId).map((notice) => notice.event);
    expect(events).toEqual(['started', 'interrupted', 'stopped']);
    const interrupted = alpha.notices.find((notice) => notice.event === 'interrupted');
    expect(interrupted?.attestation_id).toBe(cut.attestation_id);
  }, 60_000);

  it('lets exactly one of a racing owner interrupt and a host system preemption win', async () => {
    const alpha = await connect('alpha');
    const streamId = await speaking(alpha);
    const system = registrar.registerActor('system:host');
    const urgent = registrar.request({ action: 'start', actor: system, metadata: { priority: 'system' } });
    expect(urgent.allowed).toBe(true);
    const [agent, host] = await Promise.all([
      alpha.call('interrupt', { stream_id: streamId }),
      Promise.resolve().then(() => registrar.request({ action: 'interrupt', actor: system, target: streamId, metadata: { preemptFor: urgent.streamId ?? '' } })),
    ]);
    expect([agent.success, host.allowed].filter(Boolean)).toHaveLength(1);
    const interrupts = registrar.attestationStore.query({ action: 'interrupt', target: streamId });
    expect(interrupts.filter((record) => record.decision === 'allowed')).toHaveLength(1);
    expect(interrupts).toHaveLength(2);
  }, 60_000);

  it("denies every agent's interrupt under a host user's override (accessibility_override); the user still can; removal restores the agent", async () => {
    const alpha = await connect('alpha');
    const beta = await connect('beta');
    const alice = registrar.registerActor('user:alice', { sessions: ['default'] });
    const override = { scope: 'session' as const, scopeId: 'default' };
    expect(registrar.request({ action: 'enable_override', actor: alice, metadata: { ...override, speechRate: 1 } }).allowed).toBe(true);

    const alphaStream = await speaking(alpha);
    const betaStream = await speaking(beta);
    for (const [client, streamId] of [[alpha, alphaStream], [beta, betaStream]] as const) {
      const denied = await client.call('interrupt', { stream_id: streamId });
      expect(denied).toMatchObject({ success: false, decision: 'denied', reason: 'accessibility_override' });
      expect(registrar.getState(streamId)?.state).toBe('playing');
    }
    // speak with interrupt: true is refused the same way (its own stream is covered).
    expect(await alpha.call('speak', { text: 'Again.', interrupt: true })).toMatchObject({ success: false, reason: 'accessibility_override' });
    for (const streamId of [alphaStream, betaStream]) expect(registrar.request({ action: 'interrupt', actor: alice, target: streamId }).allowed).toBe(true);

    // The agent's earlier streams have ended meanwhile (a late end must not confuse the next speak).
    await waitUntil(() => [alphaStream, betaStream].every((streamId) => registrar.getState(streamId)?.state === 'stopped'), 'the cut streams to stop');
    expect(registrar.request({ action: 'disable_override', actor: alice, metadata: override }).allowed).toBe(true);
    const restored = await speaking(alpha);
    expect(await alpha.call('interrupt', { stream_id: restored })).toMatchObject({ success: true, decision: 'allowed' });
  }, 90_000);

  it('leaves the sound playing after a denied interrupt (frames keep flowing at the level); the planted cut shows as a fade', async () => {
    const { rate, level, alpha, alice } = await coveredAgent(20);
    const streamId = await speaking(alpha);
    await waitUntil(() => capturedSoFar(output).includes(level), 'the level on the device');
    const window = Math.floor(rate / 4);
    // Each way an agent could try to end its covered speech is denied, and the audio goes on.
    for (const attempt of [() => alpha.call('interrupt', {}), () => alpha.call('interrupt', { stream_id: streamId }), () => alpha.call('speak', { text: 'Over it.', interrupt: true })]) {
      const deniedAt = position(output);
      expect(await attempt()).toMatchObject({ success: false, reason: 'accessibility_override' });
      await waitUntil(() => position(output) > deniedAt + window, 'a quarter second after the denial');
      expect(framesAtLevel(capturedSoFar(output), deniedAt, level)).toBeGreaterThanOrEqual(window);
    }
    // The planted violation: an allowed cut (the user's) is what the check catches.
    const cutAt = position(output);
    expect(registrar.request({ action: 'interrupt', actor: alice, target: streamId }).allowed).toBe(true);
    await waitUntil(() => registrar.getState(streamId)?.state === 'stopped' && position(output) > cutAt + window, 'the cut and a quarter second');
    expect(framesAtLevel(capturedSoFar(output), cutAt, level)).toBeLessThan(window);
  }, 60_000);

  it("stops a session's speech when its client goes away (attested, as its agent)", async () => {
    const alpha = await connect('alpha');
    const streamId = await speaking(alpha);
    const owner = registrar.getState(streamId)?.owner;
    await alpha.close();
    await waitUntil(() => registrar.getState(streamId)?.state === 'stopped', 'the stream to stop');
    const ended = registrar.attestationStore.query({ target: streamId }).filter((record) => record.decision === 'allowed' && (record.action === 'stop' || record.action === 'interrupt'));
    expect(ended.map((record) => `${record.actor?.kind}:${record.actor?.id}`)).toContain(owner);
    await waitUntil(() => server.sessions().length === 0, 'the session to be gone');
  }, 60_000);

  it('keeps the speech of a session closing under a user override playing (the override beats the agent leaving), until it ends', async () => {
    const { rate, level, alpha } = await coveredAgent(2);
    const streamId = (await alpha.call('speak', { text: 'One. Two.' })).stream_id as string;
    await waitUntil(() => capturedSoFar(output).includes(level), 'the level on the device');
    const closedAt = position(output);
    await alpha.close();
    await waitUntil(() => server.sessions().length === 0, 'the session to be gone');
    const window = Math.floor(rate / 4);
    await waitUntil(() => position(output) > closedAt + window, 'a quarter second after the close');
    // The agent's stop was denied (accessibility_override): its speech goes on, at its level.
    expect(registrar.attestationStore.query({ target: streamId, decision: 'denied' }).some((record) => record.reason === 'accessibility_override')).toBe(true);
    expect(framesAtLevel(capturedSoFar(output), closedAt, level)).toBeGreaterThanOrEqual(window);
    await waitUntil(() => registrar.getState(streamId)?.state === 'stopped', 'the speech to end by itself');
  }, 60_000);

  it("stops covered speech at once when the host closes the server (the host's stop as the runtime), though the session's own engine would let it play on", async () => {
    const { alpha } = await coveredAgent(20);
    const streamId = (await alpha.call('speak', { text: 'One.' })).stream_id as string;
    await waitUntil(() => registrar.getState(streamId)?.state === 'playing', 'the speech to play');
    await server.close();
    expect(registrar.getState(streamId)?.state).toBe('stopped');
    const stop = registrar.attestationStore.query({ target: streamId, action: 'stop', decision: 'allowed' });
    expect(stop).toHaveLength(1);
    expect(stop[0]).toMatchObject({ actor: { kind: 'system', id: 'voice-engine' }, parameters: { reason: 'engine_closed' } });
  }, 60_000);

  it('ignores forged actor arguments: a tool acts as the session agent whatever it is sent', async () => {
    const alpha = await connect('alpha');
    const beta = await connect('beta');
    const alphaStream = await speaking(alpha);
    const alphaOwner = registrar.getState(alphaStream)?.owner;
    // Unknown fields are dropped by the input schemas: no argument names an actor.
    const forged = await beta.call('interrupt', { stream_id: alphaStream, actor: alphaOwner, owner: alphaOwner, as: 'user:alice' });
    expect(forged).toMatchObject({ success: false, reason: 'not_owner' });
    const record = registrar.attestationStore.query({ target: alphaStream, decision: 'denied' }).at(-1);
    expect(`${record?.actor?.kind}:${record?.actor?.id}`).toMatch(/^agent:beta#/);
    const spoke = await beta.call('speak', { text: 'Mine.', actor: 'system:voice-engine', priority: 'system' });
    expect(registrar.getState(spoke.stream_id as string)?.owner).toMatch(/^agent:beta#/);
    expect(registrar.getState(spoke.stream_id as string)?.priority).toBe(5);
    // A client name cannot smuggle in another kind or a space: it is sanitised into the agent id.
    const sneaky = await connect('user:alice evil');
    const sneakyStream = (await sneaky.call('speak', { text: 'Hello.' })).stream_id as string;
    expect(registrar.getState(sneakyStream)?.owner).toMatch(/^agent:user_alice_evil#\S+$/);
    // Nor can it pose as another session's agent by naming itself after one: its '#' is replaced.
    const alphaSession = alphaOwner?.split('#')[1] ?? '';
    const poser = await connect(`alpha#${alphaSession}`);
    const posed = (await poser.call('speak', { text: 'Hello.' })).stream_id as string;
    expect(registrar.getState(posed)?.owner).toMatch(new RegExp(`^agent:alpha_${alphaSession}#[0-9a-f]+$`));
    expect(await poser.call('interrupt', { stream_id: alphaStream })).toMatchObject({ success: false, reason: 'not_owner' });
  }, 60_000);

  it('answers rate_limited with retry_after once an agent spends its budget; other agents are not affected', async () => {
    await server.close();
    server = createMcpServer({ engine, registrar, rateLimit: { requestsPerWindow: 3, windowMs: 600_000 } });
    const alpha = await connect('alpha');
    const beta = await connect('beta');
    for (let call = 0; call < 3; call += 1) expect((await alpha.call('list_streams')).success).toBe(true);
    const limited = await alpha.call('speak', { text: 'One more.' });
    expect(limited).toMatchObject({ success: false, decision: 'denied', reason: 'rate_limited', stream_id: null });
    expect(limited.retry_after).toBeGreaterThanOrEqual(1);
    expect(limited.retry_after).toBeLessThanOrEqual(200);
    expect((await beta.call('list_streams')).success).toBe(true);
  }, 60_000);

  it('answers the schema version a client asks for with negotiateVersion', async () => {
    const old = await connect('old', { experimental: { 'voice-soundboard': { schemaVersion: '2.7.3' } } });
    expect((await old.call('list_streams')).schema_version).toBe('2.7');
    const odd = await connect('odd', { experimental: { 'voice-soundboard': { schemaVersion: 'banana' } } });
    expect((await odd.call('list_streams')).schema_version).toBe('2.9');
    const plain = await connect('plain');
    expect((await plain.call('list_streams')).schema_version).toBe('2.9');
    expect(plain.client.getInstructions()).toContain('2.9.0');
  }, 60_000);

  it('refuses a second live session under one session id (it would be the same agent)', async () => {
    const [, first] = InMemoryTransport.createLinkedPair();
    const [, second] = InMemoryTransport.createLinkedPair();
    await server.connect(first, 'same-id');
    await expect(server.connect(second, 'same-id')).rejects.toThrow(/sessionId/);
  });

  it('refuses session ids that would name an agent already served: equal once sanitised, or reused after a close', async () => {
    const pair = () => InMemoryTransport.createLinkedPair();
    const [clientSide, serverSide] = pair();
    await server.connect(serverSide, 'desk 1');
    const desk = new Client({ name: 'desk', version: '1.0.0' });
    await desk.connect(clientSide);
    await desk.callTool({ name: 'list_streams', arguments: {} });
    // "desk 1" and "desk_1" would both be agent:<name>#desk_1: one agent acting on the other's streams.
    await expect(server.connect(pair()[1], 'desk_1')).rejects.toThrow(/sessionId/);
    await desk.close();
    await waitUntil(() => server.sessions().length === 0, 'the first session to close');
    // Served once, never again: a new session under it would inherit the old agent's streams and records.
    await expect(server.connect(pair()[1], 'desk 1')).rejects.toThrow(/sessionId/);
    await server.connect(pair()[1], 'desk 2');
    // A session that never called a tool had no agent: its id is not remembered (nothing to inherit).
    const [idleClient, idleServer] = pair();
    await server.connect(idleServer, 'desk 3');
    await idleClient.close();
    await waitUntil(() => !server.sessions().some((session) => session.sessionId === 'desk 3'), 'the idle session to close');
    await server.connect(pair()[1], 'desk 3');
  });

  it('answers a speak whose stream fails before its audio with the failure, not success', async () => {
    await server.close();
    await engine.close();
    const failing = new ConstantLevelBackend({ level: 0.5, sampleRateHz: output.config.sampleRateHz, framesPerSegment: 480, levelFor: () => { throw new Error('backend exploded'); } });
    engine = new VoiceEngine({ registrar, output, backend: failing });
    server = createMcpServer({ engine, registrar });
    const alpha = await connect('alpha');
    const spoke = await alpha.call('speak', { text: 'This will fail.' });
    expect(spoke).toMatchObject({ success: false, decision: 'denied', stream_id: expect.any(String) });
    expect(spoke.message).toContain('backend exploded');
    expect(registrar.getState(spoke.stream_id as string)?.state).toBe('failed');
  });

  it("ends a dialogue line still being synthesized when the agent interrupts it, and the dialogue's rest is dropped", async () => {
    await server.close();
    await engine.close();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    engine = new VoiceEngine({ registrar, output, backend: new GatedBackend(output.config.sampleRateHz, gate) });
    server = createMcpServer({ engine, registrar });
    const alpha = await connect('alpha');
    const dialogue = await alpha.call('dialogue', { lines: [{ speaker: 'a', text: 'One.' }, { speaker: 'b', text: 'Gate two.' }, { speaker: 'a', text: 'Three.' }] });
    const started = () => alpha.notices.filter((notice) => notice.conversation_id === dialogue.conversation_id && notice.event === 'started');
    await waitUntil(() => started().length === 2 && registrar.getState(started()[1]?.stream_id ?? '')?.state === 'synthesizing', 'the second line to wait in synthesis');
    const second = started()[1]?.stream_id ?? '';
    const cut = await alpha.call('interrupt', {});
    expect(cut).toMatchObject({ success: true, decision: 'allowed', stream_id: second, heard: null });
    expect(registrar.getState(second)?.state).toBe('failed');
    expect(registrar.attestationStore.query({ target: second }).at(-1)?.id).toBe(cut.attestation_id);
    release();
    await waitUntil(() => alpha.notices.some((notice) => notice.stream_id === second && notice.event === 'failed'), 'the failed notice');
    // The third line never starts.
    expect((await alpha.call('list_streams')).streams).toHaveLength(2);
  });

  it('ends a dialogue with interrupt {} also between two of its lines (no stream playing then)', async () => {
    const alpha = await connect('alpha');
    const dialogue = await alpha.call('dialogue', { lines: [{ speaker: 'a', text: 'One.' }, { speaker: 'b', text: 'Two.' }, { speaker: 'a', text: 'Three.' }] });
    const first = dialogue.stream_id as string;
    await waitUntil(() => alpha.notices.some((notice) => notice.stream_id === first && notice.event === 'stopped'), 'the first line to end');
    // Usually in the gap before line two (then the dialogue itself is ended); should line two have started already, it is the one cut.
    const cut = await alpha.call('interrupt', {});
    expect(cut, JSON.stringify(cut)).toMatchObject({ success: true, decision: 'allowed' });
    await waitUntil(() => alpha.notices.filter((notice) => notice.conversation_id === dialogue.conversation_id && notice.event === 'started').every((started) => alpha.notices.some((notice) => notice.stream_id === started.stream_id && (notice.event === 'stopped' || notice.event === 'failed'))), 'every started line to end');
    await alpha.call('speak', { text: 'After.', wait: true });
    expect(alpha.notices.filter((notice) => notice.conversation_id === dialogue.conversation_id && notice.event === 'started').length).toBeLessThan(3);
  });

  it("caps an agent's concurrent streams (too_many_streams) so one agent cannot fill the device's voices; the cap frees as streams end", async () => {
    const alpha = await connect('alpha');
    const beta = await connect('beta');
    const mine: string[] = [];
    for (let index = 0; index < MCP_STREAM_CAPS.perSession; index += 1) mine.push(await speaking(alpha));
    const refused = await alpha.call('speak', { text: LONG_TEXT });
    expect(refused).toMatchObject({ success: false, decision: 'denied', reason: 'too_many_streams', stream_id: null, attestation_id: null });
    const refusedDialogue = await alpha.call('dialogue', { lines: [{ speaker: 'a', text: 'No room.' }] });
    expect(refusedDialogue).toMatchObject({ success: false, reason: 'too_many_streams' });
    // No stream was started for the refusals; another agent has its own room.
    expect(registrar.attestationStore.query({ action: 'start' }).length).toBe(MCP_STREAM_CAPS.perSession);
    await speaking(beta);
    // Once one of alpha's streams ends, alpha may speak again.
    expect(await alpha.call('interrupt', { stream_id: mine[0] })).toMatchObject({ success: true });
    await waitUntil(() => registrar.getState(mine[0] ?? '')?.state === 'stopped', 'the cut stream to stop');
    await speaking(alpha);
  }, 60_000);

  it('counts concurrent speak and dialogue calls against the stream cap (no race past it while their streams start)', async () => {
    const alpha = await connect('alpha');
    const calls = [
      ...Array.from({ length: 6 }, () => alpha.call('speak', { text: LONG_TEXT })),
      alpha.call('dialogue', { lines: [{ speaker: 'a', text: LONG_TEXT }] }),
      alpha.call('dialogue', { lines: [{ speaker: 'b', text: LONG_TEXT }] }),
    ];
    const results = await Promise.all(calls);
    expect(results.filter((result) => result.success)).toHaveLength(MCP_STREAM_CAPS.perSession);
    expect(results.filter((result) => !result.success).every((result) => result.reason === 'too_many_streams')).toBe(true);
    const live = registrar.attestationStore.query({ action: 'start' }).filter((record) => registrar.getState(record.target ?? '')?.state === 'playing');
    expect(live.length).toBe(MCP_STREAM_CAPS.perSession);
  }, 60_000);

  it('caps the streams of all agents together below the mixer, so the host keeps voices for its users', async () => {
    await server.close();
    server = createMcpServer({ engine, registrar, maxStreamsPerSession: 2, maxAgentStreams: 3 });
    const alpha = await connect('alpha');
    const beta = await connect('beta');
    await speaking(alpha);
    await speaking(alpha);
    await speaking(beta);
    expect(await beta.call('speak', { text: LONG_TEXT })).toMatchObject({ success: false, reason: 'too_many_streams' });
    expect(() => createMcpServer({ engine, registrar, maxAgentStreams: 65 })).toThrow(/maxAgentStreams/);
  }, 60_000);

  it('casts dialogue speakers named like Object members (__proto__, constructor) as any other', async () => {
    const alpha = await connect('alpha');
    const dialogue = await alpha.call('dialogue', { lines: [{ speaker: '__proto__', text: 'One.', voice: 'en-gb' }, { speaker: 'constructor', text: 'Two.' }, { speaker: 'toString', text: 'Three.', voice: 'en-us' }, { speaker: '__proto__', text: 'Four.' }] });
    expect(dialogue).toMatchObject({ success: true });
    await waitUntil(() => alpha.notices.filter((notice) => notice.conversation_id === dialogue.conversation_id && notice.event === 'stopped').length === 4, 'the four lines to end');
    const starts = ((await alpha.call('get_attestations', { limit: 200 })).attestations as Array<{ action: string; metadata?: Record<string, unknown> }>).filter((record) => record.action === 'start');
    expect(starts.map((start) => [start.metadata?.speaker, start.metadata?.voice])).toEqual([
      ['__proto__', 'en-gb'],
      ['constructor', expect.any(String)],
      ['toString', 'en-us'],
      ['__proto__', 'en-gb'],
    ]);
  }, 60_000);

  it("gives dialogue speakers without a voice distinct voices of the engine's own backend (not espeak-ng names)", async () => {
    await server.close();
    await engine.close();
    const backend = new VoiceListBackend(FIXTURE_VOICES, { sampleRateHz: output.config.sampleRateHz, framesPerSegment: 480 });
    engine = new VoiceEngine({ registrar, output, backend });
    server = createMcpServer({ engine, registrar });
    const alpha = await connect('alpha');
    const dialogue = await alpha.call('dialogue', { lines: [{ speaker: 'a', text: 'One.' }, { speaker: 'b', text: 'Two.' }, { speaker: 'c', text: 'Three.', voice: 'gb_dan' }, { speaker: 'a', text: 'Four.' }] });
    expect(dialogue).toMatchObject({ success: true });
    await waitUntil(() => alpha.notices.filter((notice) => notice.conversation_id === dialogue.conversation_id && notice.event === 'stopped').length === 4, 'the four lines to end');
    const starts = ((await alpha.call('get_attestations', { limit: 200 })).attestations as Array<{ action: string; metadata?: Record<string, unknown> }>).filter((record) => record.action === 'start');
    expect(starts.map((start) => [start.metadata?.speaker, start.metadata?.voice])).toEqual([
      ['a', 'us_ava'],
      ['b', 'us_cal'],
      ['c', 'gb_dan'],
      ['a', 'us_ava'],
    ]);
    expect(backend.voicesAsked).toEqual(['us_ava', 'us_cal', 'gb_dan', 'us_ava']);
  }, 60_000);

  it('refuses an engine of another registrar', () => {
    expect(() => createMcpServer({ engine, registrar: new AudioRegistrar() })).toThrow(InputError);
    expect(() => createMcpServer({ engine, registrar: new AudioRegistrar() })).toThrow(/McpServerOptions\.registrar/);
  });
});
