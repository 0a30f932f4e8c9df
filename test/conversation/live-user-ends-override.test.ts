/**
 * A user's interrupt ends a live conversation under her own accessibility override, with turns
 * begun alongside the one she cut (an overlapping turn still being synthesized). The engine's
 * actor (an agent) may not end a turn her override covers (spec §3.1), so the conversation asks,
 * is refused (attested), and the turn plays to its end: the play resolves with her decision as
 * `endedBy`, the refused turn marked `endRefused`, no later turn started, and the log names only
 * the actors who asked. Her own decision on that turn too (a fail before it plays) ends it as
 * hers, not as a failure of the conversation. Negative: the agent's refused interrupt changes
 * nothing. Real addon (null device), a stub backend that holds a turn's synthesis on demand.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AudioOutput } from '../../src/audio/output.js';
import { AudioRegistrar, VoiceEngine } from '../../src/index.js';
import { Conversation } from '../../src/conversation/conversation.js';
import type { Attestation } from '../../src/attestation/record.js';
import { ConstantLevelBackend } from '../helpers/constant-level-backend.js';
import { waitUntil } from '../helpers/waiting.js';

const RATE_HZ = 22_050;

/** One line per attestation on `streamId`: who asked what, and the answer. */
function decisionsOn(records: readonly Attestation[], streamId: string): string[] {
  return records.filter((record) => record.target === streamId).map((record) => `${record.actor?.kind}:${record.actor?.id} ${record.action} ${record.decision}${record.reason ? ` ${record.reason}` : ''}`);
}

/** The stream of turn `turn` of `conversation`, once it started. */
function turnStream(engine: VoiceEngine, conversation: Conversation, turn: number): string | undefined {
  const start = engine.registrar.attestations(1000).find((record) => record.action === 'start' && record.decision === 'allowed' && (record.parameters.metadata as Record<string, unknown> | undefined)?.conversationId === conversation.id && (record.parameters.metadata as Record<string, unknown>).conversationTurn === turn);
  return start?.target ?? undefined;
}

/** The streams of Alice's and Bob's turns once Alice's plays and Bob's is in `bobState`. */
async function aliceAndBob(engine: VoiceEngine, conversation: Conversation, bobState: 'synthesizing' | 'playing'): Promise<[string, string]> {
  let streams: [string | undefined, string | undefined] = [undefined, undefined];
  await waitUntil(() => {
    streams = [turnStream(engine, conversation, 0), turnStream(engine, conversation, 1)];
    const [alice, bob] = streams;
    return alice !== undefined && bob !== undefined && engine.registrar.getState(alice)?.state === 'playing' && engine.registrar.getState(bob)?.state === bobState;
  }, `Alice's turn playing and Bob's ${bobState}`);
  return streams as [string, string];
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** An agent's engine in session "den" (user alice's override holds there), whose backend holds Bob's turn until `release()`. */
function agentInDen(): { engine: VoiceEngine; registrar: AudioRegistrar; user: ReturnType<AudioRegistrar['registerActor']>; release: () => void } {
  const registrar = new AudioRegistrar();
  const output = new AudioOutput({ backend: 'null', sampleRateHz: RATE_HZ, channels: 1 });
  const user = registrar.registerActor('user:alice', { sessions: ['den'] });
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const backend = new ConstantLevelBackend({ level: 0.25, sampleRateHz: RATE_HZ, framesPerSegment: RATE_HZ * 2, chunksPerSegment: 20, stallFor: (text) => (text.includes('Bob') ? held : undefined) });
  const engine = new VoiceEngine({ registrar, actor: 'agent:narrator', sessionId: 'den', output, backend });
  cleanups.push(async () => {
    release();
    await engine.close();
    output.close();
  });
  registrar.request({ action: 'enable_override', actor: user, metadata: { scope: 'session', scopeId: 'den' } });
  return { engine, registrar, user, release };
}

/** Alice's turn, Bob's overlapping from its start (held in synthesis unless `held` is false), Carol's after a gap. */
function threeTurns(held = true): Conversation {
  return new Conversation([
    { speaker: 'Alice', text: 'Alice speaks first.' },
    { speaker: 'Bob', text: held ? 'Bob overlaps her.' : 'He overlaps her.', overlapMs: 60_000 },
    { speaker: 'Carol', text: 'Carol comes last.' },
  ]);
}

describe("a user's interrupt under her override, with a turn begun alongside", () => {
  it('ends the conversation: the refused turn plays to its end (endRefused), no later turn starts, the play resolves', async () => {
    const { engine, registrar, user, release } = agentInDen();
    const conversation = threeTurns();
    const playing = engine.play(conversation);
    const [alice, bob] = await aliceAndBob(engine, conversation, 'synthesizing');
    expect(registrar.request({ action: 'interrupt', actor: user, target: alice, reason: 'stop the talk' }).allowed).toBe(true);
    // The conversation asks to end Bob's turn as the engine's actor; the override refuses it.
    await waitUntil(() => decisionsOn(engine.registrar.attestations(1000), bob).includes('agent:narrator fail denied accessibility_override'), "the agent's refused end of Bob's turn");
    release();
    const result = await playing;
    expect(result.endedBy).toMatchObject({ turn: 0, streamId: alice, action: 'interrupt', actor: 'user:alice', reason: 'stop the talk' });
    expect(result.skippedTurns).toBe(1);
    expect(result.turns.map((turn) => [turn.speaker, turn.interrupted, turn.endRefused?.reason ?? null])).toEqual([
      ['Alice', true, null],
      ['Bob', false, 'accessibility_override'],
    ]);
    expect(result.turns[1]?.durationMs).toBeGreaterThan(0);
    const records = engine.registrar.attestations(1000);
    expect(turnStream(engine, conversation, 2)).toBeUndefined();
    // Bob's turn: the agent's refused request, then the runtime's natural end; nobody spoke for alice but alice.
    expect(decisionsOn(records, bob)).toEqual([
      'agent:narrator start allowed',
      'agent:narrator compile allowed',
      'system:voice-engine synthesize allowed',
      'agent:narrator fail denied accessibility_override',
      'system:voice-engine play allowed',
      'system:voice-engine stop allowed',
    ]);
    expect(records.filter((record) => record.actor?.id === 'alice').map((record) => record.action)).toEqual(['enable_override', 'interrupt']);
  }, 120_000);

  it('a turn playing alongside is refused too (endRefused: the interrupt denied, attested) and plays to its end', async () => {
    const { engine, registrar, user } = agentInDen();
    const conversation = threeTurns(false);
    const playing = engine.play(conversation);
    const [alice, bob] = await aliceAndBob(engine, conversation, 'playing');
    expect(registrar.request({ action: 'interrupt', actor: user, target: alice, reason: 'stop the talk' }).allowed).toBe(true);
    expect(decisionsOn(engine.registrar.attestations(1000), bob)).toContain('agent:narrator interrupt denied accessibility_override');
    expect(registrar.getState(bob)?.state).toBe('playing');
    const result = await playing;
    expect(result.endedBy).toMatchObject({ turn: 0, actor: 'user:alice', action: 'interrupt' });
    expect(result.skippedTurns).toBe(1);
    expect(result.turns[1]).toMatchObject({ speaker: 'Bob', interrupted: false, endRefused: { reason: 'accessibility_override' } });
    const refusal = engine.registrar.attestations(1000).find((record) => record.seq === result.turns[1]?.endRefused?.seq);
    expect(refusal).toMatchObject({ action: 'interrupt', decision: 'denied', target: bob });
  }, 120_000);

  it("what she needs to silence it all: the live play's streams (liveStreams()), each interrupted by her, allowed (every turn counts as cut)", async () => {
    const { engine, registrar, user } = agentInDen();
    const conversation = threeTurns(false);
    const playing = engine.play(conversation);
    const [alice, bob] = await aliceAndBob(engine, conversation, 'playing');
    expect([...conversation.liveStreams()]).toEqual([
      [0, alice],
      [1, bob],
    ]);
    for (const streamId of conversation.liveStreams().values()) {
      expect(registrar.request({ action: 'interrupt', actor: user, target: streamId, reason: 'stop the talk' }).allowed).toBe(true);
    }
    const result = await playing;
    expect(conversation.liveStreams().size).toBe(0);
    expect(result.endedBy).toMatchObject({ turn: 0, actor: 'user:alice' });
    expect(result.turns.map((turn) => [turn.speaker, turn.interrupted, turn.endRefused ?? null])).toEqual([
      ['Alice', true, null],
      ['Bob', true, null],
    ]);
  }, 120_000);

  it.each([
    ['fails it before it plays', 'fail', 'synthesizing'],
    ['interrupts it once it plays', 'interrupt', 'playing'],
  ] as const)("her own decision on the held turn (she %s) ends it as hers: the turn counts as cut, the play resolves (no STREAM_FAILED, no REGISTRAR_DENIED)", async (_how, action, state) => {
    const { engine, registrar, user, release } = agentInDen();
    const conversation = threeTurns();
    const playing = engine.play(conversation);
    const [alice, bob] = await aliceAndBob(engine, conversation, 'synthesizing');
    expect(registrar.request({ action: 'interrupt', actor: user, target: alice, reason: 'stop the talk' }).allowed).toBe(true);
    // The agent's end of Bob's turn was refused: what follows is hers.
    expect(decisionsOn(engine.registrar.attestations(1000), bob)).toContain('agent:narrator fail denied accessibility_override');
    release();
    if (state === 'playing') await waitUntil(() => registrar.getState(bob)?.state === 'playing', "Bob's turn playing");
    expect(registrar.request({ action, actor: user, target: bob, reason: 'not this one either' }).allowed).toBe(true);
    const result = await playing;
    expect(result.endedBy).toMatchObject({ turn: 0, actor: 'user:alice', action: 'interrupt' });
    expect(result.skippedTurns).toBe(1);
    expect(result.turns.map((turn) => [turn.speaker, turn.interrupted, turn.endRefused ?? null])).toEqual([
      ['Alice', true, null],
      ['Bob', true, null],
    ]);
    expect(decisionsOn(engine.registrar.attestations(1000), bob).includes('system:voice-engine play allowed')).toBe(state === 'playing');
  }, 120_000);

  it("negative: the agent's own interrupt is refused and every turn plays (nothing ends it)", async () => {
    const { engine, registrar, release } = agentInDen();
    const conversation = threeTurns();
    const playing = engine.play(conversation);
    await waitUntil(() => {
      const alice = turnStream(engine, conversation, 0);
      return alice !== undefined && registrar.getState(alice)?.state === 'playing' && turnStream(engine, conversation, 1) !== undefined;
    }, "Alice's turn playing");
    const answers = conversation.interrupt({ reason: 'the agent wants quiet' });
    expect(answers.map((answer) => [answer.allowed, answer.reason])).toEqual([[false, 'accessibility_override']]);
    release();
    const result = await playing;
    expect(result.endedBy).toBeNull();
    expect(result.skippedTurns).toBe(0);
    expect(result.turns.map((turn) => [turn.speaker, turn.interrupted])).toEqual([
      ['Alice', false],
      ['Bob', false],
      ['Carol', false],
    ]);
  }, 120_000);
});
