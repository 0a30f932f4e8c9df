// Regression tests of the adversarial review (findings 1 and 2): the scheduler never ducks nor
// preempts a stream covered by a user's accessibility override for another actor, an agent cannot
// claim the `system` priority, and an agent's `preempt` of another actor's stream waits its turn.
// On the real addon (miniaudio's null device with capture); outcomes read from the registrar's
// attestations and the captured frames, never from wall-clock times.
import { describe, expect, it } from 'vitest';
import type { AudioOutput } from '../../src/audio/output.js';
import type { PlayResult } from '../../src/engine/speech-types.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { InputError } from '../../src/errors.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';
import { nullDevice, RATE_HZ } from '../helpers/null-device-host.js';
import { ConstantLevelBackend } from '../helpers/constant-level-backend.js';
import { capturedSoFar } from '../helpers/device-capture.js';
import { waitUntil } from '../helpers/waiting.js';

const opened = closedAfterEach();

const device = (capture = false): AudioOutput => nullDevice(opened, { captureSeconds: capture ? 10 : 0 });

const backend = (level: number) => new ConstantLevelBackend({ level, sampleRateHz: RATE_HZ, framesPerSegment: RATE_HZ * 2 });

/** A registrar where alice holds an accessibility override of session `den`. */
function withOverride() {
  const registrar = new AudioRegistrar();
  const alice = registrar.registerActor('user:alice', { sessions: ['den'] });
  registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'den' } });
  return { registrar, alice };
}

/** The seq of the attestation of `action` in a play's result. */
const seqOf = (result: PlayResult, action: string) => result.attestations.find((a) => a.action === action)?.seq ?? -1;

describe('a covered stream is never ducked for another actor (finding 1)', () => {
  it("an agent's higher-priority play waits until the covered stream ends instead of ducking it", async () => {
    const output = device(true);
    const { registrar, alice } = withOverride();
    const aliceEngine = new VoiceEngine({ registrar, actor: alice, output, backend: backend(0.5) });
    // The attack: the agent's envelope as deep as the schema allows, no ramp.
    const agent = new VoiceEngine({ registrar, actor: registrar.registerActor('agent:pushy'), output, backend: backend(0.45), duckDb: -40, duckAttackMs: 0 });
    opened.push(aliceEngine, agent);
    const protectedPlay = aliceEngine.play('screen reader line', { sessionId: 'den', priority: 'background' });
    await waitUntil(() => aliceEngine.schedule().active.some((entry) => entry.playing), 'alice plays');
    // Priority 9 outranks her: the default policy would duck; the agent's `duck` too.
    const agentPlay = agent.play('ad', { priority: 9, policy: 'duck' });
    await waitUntil(() => agent.schedule().queued.length === 1, "the agent's play waiting");
    expect(aliceEngine.schedule().active.map((entry) => entry.gainDb)).toEqual([0]);
    const [aliceResult, agentResult] = await Promise.all([protectedPlay, agentPlay]);
    expect(aliceResult.interrupted).toBeUndefined();
    // The agent played only after her stream ended; nothing of hers was quieter than her level.
    expect(seqOf(agentResult, 'play')).toBeGreaterThan(seqOf(aliceResult, 'stop'));
    const quiet = capturedSoFar(output).filter((sample) => sample > 0 && sample < 0.4).length;
    expect(quiet).toBe(0);
  }, 60_000);

  it('an override enabled while an agent ducks her stream restores her gain before the agent ends (review 2)', async () => {
    const output = device();
    const registrar = new AudioRegistrar();
    const alice = registrar.registerActor('user:alice', { sessions: ['den'] });
    const overrides: string[] = [];
    registrar.onOverride((event) => overrides.push(`${event.action} ${event.actor}`));
    const long = (level: number, seconds: number) => new ConstantLevelBackend({ level, sampleRateHz: RATE_HZ, framesPerSegment: RATE_HZ * seconds });
    const aliceEngine = new VoiceEngine({ registrar, actor: alice, output, backend: long(0.5, 4) });
    // The attack: the deepest envelope, no ramp, a play longer than hers.
    const agent = new VoiceEngine({ registrar, actor: registrar.registerActor('agent:pushy'), output, backend: long(0.1, 6), duckDb: -40, duckAttackMs: 0 });
    opened.push(aliceEngine, agent);
    const hers = aliceEngine.play('screen reader line', { sessionId: 'den', priority: 'background' });
    await waitUntil(() => aliceEngine.schedule().active.some((entry) => entry.playing), 'alice plays');
    const agentPlay = agent.play('ad', { priority: 9, policy: 'duck' });
    await waitUntil(() => aliceEngine.schedule().active.some((entry) => entry.gainDb === -40), 'alice ducked (no override yet: allowed)');
    // A denied override decision is not told (an agent owns no session).
    registrar.request({ action: 'enable_override', actor: registrar.registerActor('agent:other'), metadata: { scope: 'session', scopeId: 'den' } });
    expect(aliceEngine.schedule().active.map((entry) => entry.gainDb)).toEqual([-40]);
    registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'den' } });
    expect(overrides).toEqual(['enable_override user:alice']);
    // The override now covers her stream: no agent may alter it (spec §3.1). The scheduler re-checked
    // within the decision, while the agent's 6 s play still runs.
    expect(aliceEngine.schedule().active.map((entry) => entry.gainDb)).toEqual([0]);
    expect(agent.schedule().active.map((entry) => entry.playing)).toEqual([true]);
    await Promise.all([hers, agentPlay]);
  }, 60_000);

  it('the override owner may duck her own covered stream (planted: the same arrival of hers is admitted at once)', async () => {
    const output = device();
    const { registrar, alice } = withOverride();
    const first = new VoiceEngine({ registrar, actor: alice, output, backend: backend(0.5) });
    const second = new VoiceEngine({ registrar, actor: alice, output, backend: backend(0.25), duckDb: -20 });
    opened.push(first, second);
    const background = first.play('her book', { sessionId: 'den', priority: 'background' });
    await waitUntil(() => first.schedule().active.some((entry) => entry.playing), 'her book plays');
    const urgent = second.play('her alarm', { sessionId: 'den', priority: 9 });
    await waitUntil(() => first.schedule().active.some((entry) => entry.gainDb === -20), 'her book ducked under her alarm');
    await Promise.all([background, urgent]);
  }, 60_000);

  it('duckDb is clamped to -40…0 dB by the schema (InputError naming the field)', () => {
    expect(() => new VoiceEngine({ duckDb: -60 })).toThrow(/VoiceEngineOptions\.duckDb/);
  });
});

describe('priority system and preemption are reserved (finding 2)', () => {
  it("an agent cannot claim priority 'system' (InputError naming options.priority and the engine's actor)", async () => {
    const output = device();
    const registrar = new AudioRegistrar();
    const agent = new VoiceEngine({ registrar, actor: registrar.registerActor('agent:pushy'), output, backend: backend(0.25) });
    opened.push(agent);
    for (const priority of ['system', 10] as const) {
      const error = await agent.play('buy now', { priority, policy: 'preempt' }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).message).toMatch(/^options\.priority: .*VoiceEngineOptions\.actor\) is agent:pushy/);
    }
    // Nothing was started for the refused calls.
    expect(registrar.listStates()).toEqual([]);
  });

  it("an agent's preempt of a user's (uncovered) stream falls back to queue: her stream plays to its end, unrecorded interrupt none", async () => {
    const output = device();
    const registrar = new AudioRegistrar();
    const alice = new VoiceEngine({ registrar, actor: registrar.registerActor('user:alice'), output, backend: backend(0.25) });
    const agent = new VoiceEngine({ registrar, actor: registrar.registerActor('agent:pushy'), output, backend: backend(0.25) });
    opened.push(alice, agent);
    const hers = alice.play('my own words');
    await waitUntil(() => alice.schedule().active.some((entry) => entry.playing), 'alice plays');
    const [result, agentResult] = await Promise.all([hers, agent.play('buy now', { priority: 9, policy: 'preempt' })]);
    expect(result.interrupted).toBeUndefined();
    expect(registrar.attestationStore.query({ action: 'interrupt' })).toEqual([]);
    expect(seqOf(agentResult, 'play')).toBeGreaterThan(seqOf(result, 'stop'));
  }, 60_000);

  it("a user's preempt of an agent's stream is allowed, and the log names who caused it (metadata.requestedBy)", async () => {
    const output = device();
    const registrar = new AudioRegistrar();
    const agent = new VoiceEngine({ registrar, actor: registrar.registerActor('agent:chatty'), output, backend: backend(0.25) });
    const alice = new VoiceEngine({ registrar, actor: registrar.registerActor('user:alice'), output, backend: backend(0.25) });
    opened.push(agent, alice);
    const chatter = agent.play('a long chat');
    await waitUntil(() => agent.schedule().active.some((entry) => entry.playing), 'the agent plays');
    const [cut] = await Promise.all([chatter, alice.play('stop that', { priority: 'system', policy: 'preempt' })]);
    expect(cut.interrupted).toBe(true);
    const [interrupt] = registrar.attestationStore.query({ action: 'interrupt' });
    expect(interrupt?.decision).toBe('allowed');
    expect(interrupt?.actor).toEqual({ kind: 'system', id: 'voice-engine' });
    expect(interrupt?.parameters?.metadata).toMatchObject({ requestedBy: 'user:alice' });
  }, 60_000);

  it("an agent's preempt cannot interrupt an override-covered stream of a default-actor engine (no interrupt asked)", async () => {
    const output = device();
    const { registrar } = withOverride();
    const reader = new VoiceEngine({ registrar, output, backend: backend(0.25) }); // default actor: system:voice-engine
    const agent = new VoiceEngine({ registrar, actor: registrar.registerActor('agent:pushy'), output, backend: backend(0.25) });
    const bob = new VoiceEngine({ registrar, actor: registrar.registerActor('user:bob'), output, backend: backend(0.25) });
    opened.push(reader, agent, bob);
    const covered = reader.play('screen reader line', { sessionId: 'den', priority: 'background' });
    await waitUntil(() => reader.schedule().active.some((entry) => entry.playing), 'covered stream plays');
    // The old attack (priority system) is refused at the door; below it, preempt waits.
    await expect(agent.play('ad', { priority: 'system', policy: 'preempt' })).rejects.toThrow(InputError);
    const pushy = agent.play('ad', { priority: 9, policy: 'preempt' });
    // Another user may claim system, but not over alice's override.
    const other = bob.play('bob speaking', { priority: 'system', policy: 'preempt' });
    const [coveredResult] = await Promise.all([covered, pushy, other]);
    expect(registrar.attestationStore.query({ action: 'interrupt' })).toEqual([]);
    expect(coveredResult.interrupted).toBeUndefined();
  }, 60_000);
});
