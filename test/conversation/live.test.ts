/**
 * engine.play(conversation) on miniaudio's null device: one registrar stream per turn (the
 * conversation id in its start metadata), overlapping turns mixed, barge-ins that cut the turn
 * before without ending the conversation, and one allowed interrupt (the conversation's own, or
 * anyone's of the playing turn) that ends it: no later turn starts and the device falls silent. An
 * accessibility override that refuses the interrupt keeps the conversation going. Counted and
 * ordered, never timed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AudioOutput } from '../../src/audio/output.js';
import { AudioRegistrar, VoiceEngine } from '../../src/index.js';
import { Conversation } from '../../src/conversation/conversation.js';
import type { Attestation } from '../../src/attestation/record.js';
import { capturedSoFar } from '../helpers/device-capture.js';
import { waitUntil } from '../helpers/waiting.js';

const RATE_HZ = 22_050;

/** The `start` attestations of a conversation's turn streams, in log order. */
function turnStarts(records: readonly Attestation[], conversationId: string): Attestation[] {
  return records.filter((record) => record.action === 'start' && (record.parameters.metadata as Record<string, unknown> | undefined)?.conversationId === conversationId);
}

/** The stream (of this engine) that is playing now, once there is one. */
async function playingStream(engine: VoiceEngine): Promise<string> {
  let found: string | undefined;
  await waitUntil(() => (found = engine.activeStreams().find((id) => engine.registrar.getState(id)?.state === 'playing')) !== undefined, 'a turn to play');
  return found as string;
}

describe('engine.play(conversation)', () => {
  let output: AudioOutput;
  let engine: VoiceEngine;
  beforeAll(() => {
    output = new AudioOutput({ backend: 'null', capture: true, sampleRateHz: RATE_HZ, channels: 1 });
    engine = new VoiceEngine({ output });
  });
  afterAll(async () => {
    await engine.close();
    output.close();
  });

  it('plays each turn as its own registrar stream with the conversation id; an overlapping turn plays while the one before still does', async () => {
    const conversation = new Conversation([
      { speaker: 'Alice', text: 'Good morning, this sentence takes a while to say.' },
      { speaker: 'Bob', text: 'Morning!', overlapMs: 1200 },
      { speaker: 'Alice', text: 'Bye.', gapMs: 100 },
    ]);
    const result = await engine.play(conversation);
    expect(result.conversationId).toBe(conversation.id);
    expect(result.endedBy).toBeNull();
    expect(result.skippedTurns).toBe(0);
    expect(result.turns.map((turn) => [turn.speaker, turn.interrupted])).toEqual([['Alice', false], ['Bob', false], ['Alice', false]]);
    const records = engine.registrar.attestations(1000);
    const starts = turnStarts(records, conversation.id);
    expect(starts.map((record) => (record.parameters.metadata as Record<string, unknown>).conversationTurn)).toEqual([0, 1, 2]);
    expect(new Set(starts.map((record) => record.target)).size).toBe(3);
    expect(starts.map((record) => record.target)).toEqual(result.turns.map((turn) => turn.streamId));
    // Each turn: one allowed play, one natural stop by the runtime.
    for (const { streamId } of result.turns) {
      const own = records.filter((record) => record.target === streamId);
      expect(own.filter((record) => record.action === 'play' && record.decision === 'allowed')).toHaveLength(1);
      expect(own.at(-1)?.action).toBe('stop');
      expect(own.at(-1)?.actor).toEqual({ kind: 'system', id: 'voice-engine' });
    }
    // The overlap: Bob's turn was allowed to play before Alice's first turn stopped (the mixer's `mix`).
    const seqOf = (streamId: string, action: string) => records.find((record) => record.target === streamId && record.action === action)?.seq ?? -1;
    expect(seqOf(result.turns[1]!.streamId, 'play')).toBeLessThan(seqOf(result.turns[0]!.streamId, 'stop'));
    // The gap turn waited for everything before it.
    expect(seqOf(result.turns[2]!.streamId, 'start')).toBeGreaterThan(seqOf(result.turns[1]!.streamId, 'stop'));
  });

  it('a barge-in cuts the turn before (interrupted) and the conversation goes on', async () => {
    const conversation = new Conversation([
      { speaker: 'Alice', text: 'Let me tell you a very long story about my holiday by the sea last summer.' },
      { speaker: 'Bob', text: 'Stop!', bargeIn: true, overlapMs: 3000 },
      { speaker: 'Alice', text: 'Fine.', gapMs: 50 },
    ]);
    const result = await engine.play(conversation);
    expect(result.endedBy).toBeNull();
    expect(result.turns.map((turn) => turn.interrupted)).toEqual([true, false, false]);
    const records = engine.registrar.attestations(1000);
    const cut = records.find((record) => record.target === result.turns[0]!.streamId && record.action === 'interrupt');
    expect(cut?.parameters.reason).toMatch(/barge-in/);
  });

  it('conversation.interrupt() ends it: the playing turn is interrupted, later turns never start, the device falls silent', async () => {
    const conversation = new Conversation([
      { speaker: 'Alice', text: 'This first turn is long enough to be interrupted while it plays on the device.' },
      { speaker: 'Bob', text: 'You will never hear me.' },
      { speaker: 'Alice', text: 'Nor me.' },
    ]);
    const playing = engine.play(conversation);
    const streamId = await playingStream(engine);
    const answers = conversation.interrupt({ reason: 'user said stop' });
    expect(answers.map((answer) => answer.allowed)).toEqual([true]);
    const result = await playing;
    expect(result.endedBy).toMatchObject({ turn: 0, streamId, action: 'interrupt' });
    expect(result.turns).toHaveLength(1);
    expect(result.turns[0]?.interrupted).toBe(true);
    expect(result.skippedTurns).toBe(2);
    expect(turnStarts(engine.registrar.attestations(1000), conversation.id)).toHaveLength(1);
    // Silence after the fade: 200 ms more of device output holds nothing.
    const settled = capturedSoFar(output).length;
    await waitUntil(() => capturedSoFar(output).length >= settled + RATE_HZ * 0.2, '200 ms more of device output');
    const after = capturedSoFar(output).subarray(settled);
    expect(Math.max(...after.map(Math.abs))).toBe(0);
  });

  it('conversation.interrupt() between turns (nothing playing) ends it before the next turn', async () => {
    const conversation = new Conversation([
      { speaker: 'Alice', text: 'Short.' },
      { speaker: 'Bob', text: 'After a long gap.', gapMs: 5000 },
    ]);
    const playing = engine.play(conversation);
    await waitUntil(() => {
      const [first] = turnStarts(engine.registrar.attestations(1000), conversation.id);
      return first !== undefined && engine.registrar.getState(first.target ?? '')?.state === 'stopped';
    }, 'the first turn to end');
    expect(conversation.interrupt({ reason: 'enough' })).toEqual([]);
    const result = await playing;
    expect(result.endedBy).toMatchObject({ turn: -1, streamId: null, action: 'interrupt', reason: 'enough' });
    expect(result.turns.map((turn) => turn.interrupted)).toEqual([false]);
    expect(result.skippedTurns).toBe(1);
    expect(turnStarts(engine.registrar.attestations(1000), conversation.id)).toHaveLength(1);
  });

  it("anyone's allowed interrupt of the playing turn (here the engine's own, by stream id) ends the conversation", async () => {
    const conversation = new Conversation([
      { speaker: 'Alice', text: 'Another long first turn that someone will cut while it is being played.' },
      { speaker: 'Bob', text: 'Not heard.' },
    ]);
    const playing = engine.play(conversation);
    const streamId = await playingStream(engine);
    expect(engine.interrupt(streamId).allowed).toBe(true);
    const result = await playing;
    expect(result.endedBy).toMatchObject({ turn: 0, streamId, action: 'interrupt' });
    expect(result.skippedTurns).toBe(1);
    expect(turnStarts(engine.registrar.attestations(1000), conversation.id)).toHaveLength(1);
  });

  it("the caller's abort ends the conversation: the playing turn is stopped (attested), play rejects with AbortError, no later turn starts", async () => {
    const conversation = new Conversation([
      { speaker: 'Alice', text: 'A first turn long enough for the caller to abort it while it plays.' },
      { speaker: 'Bob', text: 'Never started.' },
    ]);
    const controller = new AbortController();
    const playing = engine.play(conversation, { signal: controller.signal });
    const streamId = await playingStream(engine);
    controller.abort(new Error('caller gave up'));
    await expect(playing).rejects.toMatchObject({ name: 'AbortError' });
    const records = engine.registrar.attestations(1000);
    expect(records.find((record) => record.target === streamId && record.action === 'stop')?.decision).toBe('allowed');
    expect(turnStarts(records, conversation.id)).toHaveLength(1);
  });

  it('a turn that cannot be spoken (unknown voice) fails the play with the engine error; no stream is left playing', async () => {
    const conversation = new Conversation([{ speaker: 'Alice', text: 'Hi.' }], { cast: { alice: { voice: 'no-such-voice' } } });
    await expect(engine.play(conversation)).rejects.toMatchObject({ code: 'VOICE_UNKNOWN' });
    expect(engine.activeStreams()).toEqual([]);
    // The conversation is free to play again (its live state was released).
    await expect(engine.play(conversation)).rejects.toMatchObject({ code: 'VOICE_UNKNOWN' });
  });

  it('negative: without the interrupt every turn starts (the count above is the interrupt at work)', async () => {
    const conversation = new Conversation([{ speaker: 'Alice', text: 'One.' }, { speaker: 'Bob', text: 'Two.', gapMs: 10 }]);
    const result = await engine.play(conversation);
    expect(result.skippedTurns).toBe(0);
    expect(turnStarts(engine.registrar.attestations(1000), conversation.id)).toHaveLength(2);
  });
});

/** An agent's engine in session "den", where user alice's override (rate 1.5) holds; closed afterwards. */
async function withAgentInDen(body: (engine: VoiceEngine, registrar: AudioRegistrar, user: ReturnType<AudioRegistrar['registerActor']>) => Promise<void>): Promise<void> {
  const registrar = new AudioRegistrar();
  const output = new AudioOutput({ backend: 'null', sampleRateHz: RATE_HZ, channels: 1 });
  const user = registrar.registerActor('user:alice', { sessions: ['den'] });
  const engine = new VoiceEngine({ registrar, actor: 'agent:narrator', sessionId: 'den', output });
  try {
    registrar.request({ action: 'enable_override', actor: user, metadata: { scope: 'session', scopeId: 'den', speechRate: 1.5 } });
    await body(engine, registrar, user);
  } finally {
    await engine.close();
    output.close();
  }
}

describe('engine.play(conversation) under an accessibility override', () => {
  it("an agent's interrupt refused by a user's override leaves the conversation playing to its end", () =>
    withAgentInDen(async (engine) => {
      const conversation = new Conversation([
        { speaker: 'Alice', text: 'The agent will try to cut this turn and fail.' },
        { speaker: 'Bob', text: 'And I still speak.', gapMs: 10 },
      ]);
      const playing = engine.play(conversation);
      await playingStream(engine);
      const answers = conversation.interrupt();
      expect(answers.map((answer) => [answer.allowed, answer.reason])).toEqual([[false, 'accessibility_override']]);
      const result = await playing;
      expect(result.endedBy).toBeNull();
      expect(result.turns.map((turn) => turn.interrupted)).toEqual([false, false]);
    }));

  it("the user's own interrupt of the agent's playing turn is allowed and ends the agent's conversation", () =>
    withAgentInDen(async (engine, registrar, user) => {
      const conversation = new Conversation([
        { speaker: 'Alice', text: 'This turn is cut by the user herself, which her override allows.' },
        { speaker: 'Bob', text: 'Never heard.' },
      ]);
      const playing = engine.play(conversation);
      const streamId = await playingStream(engine);
      expect(registrar.request({ action: 'interrupt', actor: user, target: streamId, reason: 'too much talk' }).allowed).toBe(true);
      const result = await playing;
      expect(result.endedBy).toMatchObject({ turn: 0, streamId, action: 'interrupt', actor: 'user:alice', reason: 'too much talk' });
      expect(result.skippedTurns).toBe(1);
    }));
});
