// An accessibility override decided on another thread (a registrar attached to the engine's with
// `registrar.share()`) protects a covered stream at once, as one decided on the engine's thread
// does: the device's scheduler decides again when the engine's thread hears of the decision, so an
// agent's duck of her stream is lifted while the agent still plays (spec §3.1: the override yields
// only to its owner). Real addon, miniaudio's null device, a real worker thread.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { NativeCore } from '../../src/registrar/native-core.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';
import { ConstantLevelBackend } from '../helpers/constant-level-backend.js';
import { nullDevice, RATE_HZ } from '../helpers/null-device-host.js';
import { waitUntil } from '../helpers/waiting.js';

const WORKER_SCRIPT = fileURLToPath(new URL('./fixtures/override-worker.ts', import.meta.url));
// Workers do not inherit the test runner's TypeScript loader: register tsx, then import the fixture.
const WORKER_BOOTSTRAP = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(WORKER_SCRIPT)}); })`;

const opened = closedAfterEach();

/** Runs the override worker on `registrar`'s share; resolves with its report. */
function overrideOnWorker(registrar: AudioRegistrar, job: { user: string; action: 'enable_override' | 'disable_override'; scope: 'session' | 'user'; scopeId: string }): Promise<{ allowed: boolean; reason: string | null; seq: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData: { share: registrar.share(), ...job } });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

const long = (level: number, seconds: number) => new ConstantLevelBackend({ level, sampleRateHz: RATE_HZ, framesPerSegment: RATE_HZ * seconds });

describe('an override decided on another thread', () => {
  it("lifts an agent's duck of the stream it now covers while the agent still plays", async () => {
    const output = nullDevice(opened, { captureSeconds: 0 });
    const registrar = new AudioRegistrar({ core: new NativeCore() });
    const alice = registrar.registerActor('user:alice', { sessions: ['den'] });
    // Both plays far outlast a worker's start-up on a busy machine; both are ended below.
    const aliceEngine = new VoiceEngine({ registrar, actor: alice, output, backend: long(0.5, 60) });
    // The attack: the deepest envelope, no ramp.
    const agent = new VoiceEngine({ registrar, actor: registrar.registerActor('agent:pushy'), output, backend: long(0.1, 120), duckDb: -40, duckAttackMs: 0 });
    opened.push(aliceEngine, agent);
    const hersController = new AbortController();
    const hers = aliceEngine.play('screen reader line', { sessionId: 'den', priority: 'background', signal: hersController.signal }).catch((error: unknown) => error);
    await waitUntil(() => aliceEngine.schedule().active.some((entry) => entry.playing), 'alice plays');
    const controller = new AbortController();
    const agentPlay = agent.play('ad', { priority: 9, policy: 'duck', signal: controller.signal }).catch((error: unknown) => error);
    await waitUntil(() => aliceEngine.schedule().active.some((entry) => entry.gainDb === -40), 'alice ducked (no override yet: allowed)');
    // Her UI's thread enables her override of session den.
    const report = await overrideOnWorker(registrar, { user: 'user:alice', action: 'enable_override', scope: 'session', scopeId: 'den' });
    expect(report).toMatchObject({ allowed: true, reason: null });
    // This thread writes the worker's record when it hears the doorbell; the scheduler decides again then.
    await waitUntil(() => registrar.attestationStore.lastSeq >= report.seq, "the worker's record written here");
    expect(registrar.listOverrides()).toHaveLength(1);
    expect(agent.schedule().active.map((entry) => entry.playing)).toEqual([true]);
    expect(aliceEngine.schedule().active.map((entry) => entry.gainDb)).toEqual([0]);
    // She ends her own covered speech (the override's owner may); the agent's ends at its caller's abort.
    hersController.abort();
    controller.abort();
    await Promise.all([hers, agentPlay]);
    expect(registrar.listStates().every((stream) => stream.state === 'stopped')).toBe(true);
  }, 60_000);
});
