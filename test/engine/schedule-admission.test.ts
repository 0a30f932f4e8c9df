// Regression tests of the adversarial review (findings 5, 6, 7): a play holds its turn on a shared
// device only while it has audio to play (`admissionTimeoutMs`), one engine's plays are bounded on
// the device (`maxConcurrent` admitted, `maxQueue` waiting, `mix` included), and a play waits for a
// free voice instead of failing after its synthesis. Real addon (miniaudio's null device); outcomes
// read from results, the registrar and the device's stats; deadlines only bound a hang.
import { describe, expect, it } from 'vitest';
import type { AudioOutput } from '../../src/audio/output.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import type { PlayResult } from '../../src/engine/speech-types.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';
import { expectUserPlaysPastStalledAgent, nullDevice, RATE_HZ } from '../helpers/null-device-host.js';
import { ConstantLevelBackend } from '../helpers/constant-level-backend.js';
import { waitUntil } from '../helpers/waiting.js';

const opened = closedAfterEach();

const device = (): AudioOutput => nullDevice(opened, { captureSeconds: 0, bufferFrames: 1024 });

/** A registrar where alice holds an accessibility override of session `den`. */
function withOverride() {
  const registrar = new AudioRegistrar();
  const alice = registrar.registerActor('user:alice', { sessions: ['den'] });
  registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'den' } });
  return { registrar, alice };
}

/** A text source that waits for `stall` (first yielding `first`, if any). */
function stalling(stall: AbortSignal, first?: string): AsyncIterable<string> {
  return (async function* () {
    if (first !== undefined) yield first;
    await new Promise((resolve) => stall.addEventListener('abort', resolve));
    yield '';
  })();
}

describe('admissionTimeoutMs (finding 5)', () => {
  it("a silent agent stream is failed by the runtime (attested) and releases the device: the user's covered play goes ahead", async () => {
    const output = device();
    const { registrar, alice } = withOverride();
    const backend = () => new ConstantLevelBackend({ level: 0.25, sampleRateHz: RATE_HZ, framesPerSegment: RATE_HZ / 10 });
    const agent = new VoiceEngine({ registrar, actor: registrar.registerActor('agent:hog'), output, backend: backend(), admissionTimeoutMs: 300 });
    const user = new VoiceEngine({ registrar, actor: alice, output, backend: backend() });
    opened.push(agent, user);
    const stall = new AbortController();
    try {
      await expectUserPlaysPastStalledAgent(registrar, agent, user, agent.play(stalling(stall.signal)), 300);
    } finally {
      stall.abort();
    }
  }, 60_000);

  it('a source that stalls between chunks is failed too, after its first audio played (planted: a source that keeps talking is not)', async () => {
    const output = device();
    const engine = new VoiceEngine({ output, backend: new ConstantLevelBackend({ level: 0.01, sampleRateHz: RATE_HZ, framesPerSegment: 240 }), admissionTimeoutMs: 300 });
    opened.push(engine);
    const stall = new AbortController();
    try {
      await expect(engine.play(stalling(stall.signal, 'Hi. There'))).rejects.toMatchObject({ code: 'STREAM_FAILED' });
      const talking = (async function* () {
        for (let index = 0; index < 5; index++) yield `Sentence ${index}. `;
      })();
      await expect(engine.play(talking)).resolves.toMatchObject({ streamId: expect.any(String) });
    } finally {
      stall.abort();
    }
  }, 60_000);
});

describe('maxConcurrent and voices (findings 6, 7)', () => {
  it("an agent's stalled mix plays cannot take every voice of a shared device from a user", async () => {
    const output = device();
    const { registrar, alice } = withOverride();
    const backend = () => new ConstantLevelBackend({ level: 0.001, sampleRateHz: RATE_HZ, framesPerSegment: 240 });
    const agent = new VoiceEngine({ registrar, actor: registrar.registerActor('agent:hog'), output, backend: backend(), policy: 'mix', admissionTimeoutMs: 200 });
    const user = new VoiceEngine({ registrar, actor: alice, output, backend: backend() });
    opened.push(agent, user);
    const stall = new AbortController();
    // The attack: 64 plays, each speaking one short sentence then stalling.
    const hogs = Array.from({ length: 64 }, () => agent.play(stalling(stall.signal, 'Hi. There')).then(() => 'ok', (error: { code?: string }) => error.code ?? 'error'));
    try {
      await waitUntil(() => output.stats().liveVoices > 0, 'the agent playing');
      expect(agent.schedule().active.length).toBeLessThanOrEqual(8);
      const result = await user.play('Hello from the user.', { sessionId: 'den' });
      expect(result.interrupted).toBeUndefined();
    } finally {
      stall.abort();
    }
    const outcomes = await Promise.all(hogs);
    expect(outcomes.filter((outcome) => outcome === 'AUDIO_NO_FREE_VOICE')).toEqual([]);
  }, 120_000);

  it('mix plays past the device capacity are queued or refused under maxQueue, never all synthesized at once', async () => {
    const output = device();
    const engine = new VoiceEngine({ output, policy: 'mix', maxQueue: 4, backend: new ConstantLevelBackend({ level: 0.001, sampleRateHz: RATE_HZ, framesPerSegment: 480 }) });
    opened.push(engine);
    const plays = Array.from({ length: 200 }, (_, index) => engine.play(`line ${index}`).then(() => 'ok', (error: { code?: string }) => error.code ?? 'error'));
    await new Promise((resolve) => setImmediate(resolve));
    const runningAtOnce = engine.activeStreams().length;
    const outcomes = await Promise.all(plays);
    expect(runningAtOnce).toBeLessThanOrEqual(8);
    const counts = Object.fromEntries(['ok', 'SCHEDULER_QUEUE_FULL'].map((code) => [code, outcomes.filter((outcome) => outcome === code).length]));
    expect(counts.ok! + counts.SCHEDULER_QUEUE_FULL!).toBe(200);
    expect(counts.ok).toBeGreaterThanOrEqual(8 + 4);
  }, 120_000);

  it('65 concurrent mix plays (more than the 64 voices) all play: no AUDIO_NO_FREE_VOICE, nothing left running', async () => {
    const output = device();
    const registrar = new AudioRegistrar();
    const engine = new VoiceEngine({ registrar, output, policy: 'mix', maxConcurrent: 64, backend: new ConstantLevelBackend({ level: 0.001, sampleRateHz: RATE_HZ, framesPerSegment: RATE_HZ * 2 }) });
    opened.push(engine);
    const plays = Array.from({ length: 65 }, (_, index) => engine.play(`line ${index}`).then(() => 'ok', (error: { code?: string }) => error.code ?? String(error)));
    await waitUntil(() => engine.schedule().active.length === 64, '64 plays admitted');
    expect(engine.schedule().queued).toHaveLength(1);
    const outcomes = await Promise.all(plays);
    expect(outcomes.filter((outcome) => outcome !== 'ok')).toEqual([]);
    const states = registrar.listStates().map((state) => state.state);
    expect(states.filter((state) => state === 'playing' || state === 'synthesizing' || state === 'compiling')).toEqual([]);
  }, 120_000);
});

describe('no starvation by mix plays (audit 16)', () => {
  it("an agent that keeps starting mix plays cannot keep a user's waiting play off the device: its next play waits behind the user's (planted: it was admitted at once, so the device never came free for her)", async () => {
    const output = device();
    const registrar = new AudioRegistrar();
    const backend = () => new ConstantLevelBackend({ level: 0.001, sampleRateHz: RATE_HZ, framesPerSegment: RATE_HZ / 4 });
    const agent = new VoiceEngine({ registrar, actor: registrar.registerActor('agent:chatter'), output, backend: backend(), policy: 'mix' });
    const user = new VoiceEngine({ registrar, actor: registrar.registerActor('user:alice'), output, backend: backend() });
    opened.push(agent, user);
    const first = agent.play('One. Two. Three. Four.');
    await waitUntil(() => agent.schedule().active.some((entry) => entry.playing), 'the agent speaking');
    // Equal priority, the default policy: the user's play waits for the device to be free.
    const hers = user.play('Hello from the user.');
    await waitUntil(() => user.schedule().queued.length === 1, "the user's play waiting");
    const second = agent.play('Five. Six. Seven. Eight.');
    await waitUntil(() => agent.schedule().active.length + agent.schedule().queued.length === 2, "the agent's second play scheduled");
    expect(agent.schedule().queued).toHaveLength(1);
    const [, herResult, secondResult] = await Promise.all([first, hers, second]);
    const startSeq = (result: PlayResult) => result.attestations.find((record) => record.action === 'start')?.seq ?? -1;
    expect(startSeq(herResult)).toBeGreaterThan(0);
    expect(startSeq(herResult)).toBeLessThan(startSeq(secondResult));
  }, 60_000);
});

describe("a guest's engines share its bounds (audit 16)", () => {
  it("engines a guest makes with forActor count against the guest's maxConcurrent: it cannot multiply its share of the device's voices (planted: 4 engines of 8 plays each held 32 voices); each still shows and withdraws only its own plays", async () => {
    const output = device();
    const registrar = new AudioRegistrar();
    const backend = new ConstantLevelBackend({ level: 0.001, sampleRateHz: RATE_HZ, framesPerSegment: RATE_HZ * 30 });
    const host = new VoiceEngine({ registrar, output, backend });
    opened.push(host);
    const guest = await host.forActor(registrar.registerActor('agent:hog'), { policy: 'mix' });
    const engines = [guest, await guest.forActor(guest.actor), await guest.forActor(guest.actor), await guest.forActor(guest.actor)];
    opened.push(...engines);
    const plays = engines.flatMap((engine) => Array.from({ length: 8 }, () => engine.play('A long speech.').then(() => 'ok', (error: { code?: string }) => error.code ?? 'error')));
    await waitUntil(() => engines.reduce((sum, engine) => sum + engine.schedule().active.length + engine.schedule().queued.length, 0) === 32, 'every play scheduled');
    const active = engines.reduce((sum, engine) => sum + engine.schedule().active.length, 0);
    expect(active).toBe(8);
    // Views and close() stay per engine: closing the last one withdraws its own waiting plays only.
    const last = engines[3]!;
    const othersScheduled = () => engines.slice(0, 3).reduce((sum, engine) => sum + engine.schedule().active.length + engine.schedule().queued.length, 0);
    expect(othersScheduled()).toBe(24);
    await last.close();
    expect(last.schedule().queued).toEqual([]);
    expect(othersScheduled()).toBe(24);
    // The host's own plays have their own bounds.
    const hostPlay = host.play('The host speaks.', { policy: 'mix' });
    await waitUntil(() => host.schedule().active.length === 1, "the host's play admitted");
    for (const engine of engines) await engine.close();
    await host.close();
    const outcomes = await Promise.all([...plays, hostPlay.then(() => 'ok', () => 'error')]);
    expect(outcomes.filter((outcome) => outcome === 'error')).toEqual([]);
  }, 120_000);
});

describe("users' voices (audit 16)", () => {
  it("eight agents of eight plays each cannot take every voice of the device: a user's play finds one while they all speak (planted: the 64 agent plays held all 64 voices and the user's waited)", async () => {
    const output = device();
    const registrar = new AudioRegistrar();
    const backend = new ConstantLevelBackend({ level: 0.001, sampleRateHz: RATE_HZ, framesPerSegment: RATE_HZ * 30 });
    const host = new VoiceEngine({ registrar, output, backend });
    opened.push(host);
    const agents = await Promise.all(Array.from({ length: 8 }, (_, index) => host.forActor(registrar.registerActor(`agent:a${index}`), { policy: 'mix' })));
    opened.push(...agents);
    const plays = agents.flatMap((agent) => Array.from({ length: 8 }, () => agent.play('A long speech.').then(() => 'ok', (error: { code?: string }) => error.code ?? 'error')));
    const scheduled = () => agents.reduce((sum, agent) => sum + agent.schedule().active.length + agent.schedule().queued.length, 0);
    await waitUntil(() => scheduled() === 64, 'every agent play scheduled');
    expect(agents.reduce((sum, agent) => sum + agent.schedule().active.length, 0)).toBe(56);
    const user = new VoiceEngine({ registrar, output, backend, actor: registrar.registerActor('user:alice') });
    opened.push(user);
    const hers = user.play('The user speaks.', { priority: 'system' });
    await waitUntil(() => user.schedule().active.some((entry) => entry.playing), "the user's play playing");
    expect(agents.reduce((sum, agent) => sum + agent.schedule().active.length, 0)).toBe(56);
    for (const agent of agents) await agent.close();
    await user.close();
    await Promise.all([...plays, hers.catch(() => undefined)]);
  }, 120_000);
});
