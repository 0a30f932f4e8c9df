// Every halt stops everything (issue 7.3), at the device: a halt of each cause reachable while a
// stream plays (a structural violation, an accessibility bypass decided on another thread; a failed
// log write is in registrar-binding.test.ts, a bypass on this thread in voice-engine.test.ts)
// fades the engine's stream out within one device period of the halting call and rejects play()
// with RegistrarHaltedError naming the cause. A journal overrun can only be found by a registrar's
// first request (a writer drains its core's journal from then on), so that halt is shown to let
// nothing reach the device. Real addon, miniaudio's null device with capture, frames counted.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { AudioOutput } from '../../src/audio/output.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { ACTOR_KINDS } from '../../src/registrar/core.js';
import { NativeCore } from '../../src/registrar/native-core.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import type { HaltInfo } from '../../src/registrar/types.js';
import { position } from '../helpers/device-capture.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';
import { constantLevel, framesUntilSilenced, LEVEL, nullDevice, PERIOD_FRAMES, playing, SEGMENT_FRAMES } from '../helpers/null-device-host.js';
import { waitUntil } from '../helpers/waiting.js';

const WORKER_SCRIPT = fileURLToPath(new URL('./fixtures/halt-worker.ts', import.meta.url));
// Workers do not inherit the test runner's TypeScript loader: register tsx, then import the fixture.
const WORKER_BOOTSTRAP = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(WORKER_SCRIPT)}); })`;

const opened = closedAfterEach();

/** An engine of `agent:assistant` on `registrar`, every segment `framesPerSegment` (2 s) of a constant level. */
function engineOn(registrar: AudioRegistrar, output: AudioOutput, framesPerSegment = SEGMENT_FRAMES): VoiceEngine {
  const agent = registrar.registerActor('agent:assistant');
  const engine = new VoiceEngine({ registrar, actor: agent, output, backend: constantLevel(LEVEL, framesPerSegment) });
  opened.push(engine);
  return engine;
}

/** A reference core whose allowed decisions report a state their parent did not leave once `on` is set. */
function lyingCore(): { core: ReferenceCore; lie: { on: boolean } } {
  const lie = { on: false };
  const core = new Proxy(new ReferenceCore(), {
    get(target, property, receiver) {
      if (property === 'decide') {
        return (request: Parameters<ReferenceCore['decide']>[0]) => {
          const decision = target.decide(request);
          return lie.on && decision.allowed ? { ...decision, stateBefore: 3 } : decision;
        };
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { core, lie };
}

describe('a halt of each cause silences the device and ends play()', () => {
  it('structural: a transition that breaks the lineage, on another stream, fades this one out within one period', async () => {
    const { core, lie } = lyingCore();
    const registrar = new AudioRegistrar({ core });
    const output = nullDevice(opened, { captureSeconds: 30 });
    const engine = engineOn(registrar, output);
    const halts: HaltInfo[] = [];
    registrar.onHalt((halt) => halts.push(halt));
    const other = registrar.registerActor('agent:other');
    const started = registrar.request({ action: 'start', actor: other });
    const { result } = await playing(engine, output, registrar);
    const at = position(output);
    lie.on = true;
    const violating = registrar.request({ action: 'synthesize', actor: other, target: started.streamId });
    const slack = position(output) - at;
    expect(halts).toEqual([expect.objectContaining({ cause: 'structural', attestationId: violating.attestation.id })]);
    await expect(result).rejects.toMatchObject({ name: 'RegistrarHaltedError', message: expect.stringContaining('structural') });
    expect(await framesUntilSilenced(output, at, { thenSilent: true })).toBeLessThanOrEqual(PERIOD_FRAMES + slack);
  });

  it('accessibility bypass decided on another thread: the writer hears it on its doorbell and fades its stream out', async () => {
    const registrar = new AudioRegistrar({ core: new NativeCore() });
    const output = nullDevice(opened, { captureSeconds: 30 });
    const engine = engineOn(registrar, output, SEGMENT_FRAMES * 5);
    const alice = registrar.registerActor('user:alice', { sessions: ['den'] });
    registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'den' } });
    const { result } = await playing(engine, output, registrar, { sessionId: 'den' });
    const cell = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData: { share: registrar.share(), user: 'user:bob', sessionId: 'den', cell: cell.buffer } });
    const messages: unknown[] = [];
    let failed: unknown = null;
    worker.on('message', (message) => messages.push(message));
    worker.once('error', (error) => (failed = error));
    await waitUntil(() => failed !== null || messages.includes('armed'), 'the worker to arm');
    // The worker is blocked on the cell: the halting decision comes after this position.
    const at = position(output);
    Atomics.store(cell, 0, 1);
    Atomics.notify(cell, 0);
    await waitUntil(() => failed !== null || messages.length > 1, 'the worker to decide');
    expect(failed).toBeNull();
    expect(messages[1]).toMatchObject({ allowed: false, reason: 'accessibility_override', halted: true });
    await expect(result).rejects.toMatchObject({ name: 'RegistrarHaltedError', message: expect.stringContaining('accessibility_bypass') });
    expect(registrar.haltCause?.cause).toBe('accessibility_bypass');
    // The halting call ran on the worker; this thread's sink closed when its doorbell rang, an
    // event-loop turn later (no bound in periods on a busy machine: bench/interrupt.bench.ts
    // measures it). What must hold: the stream was cut by the halt, long before its natural end.
    expect(await framesUntilSilenced(output, at, { thenSilent: true })).toBeLessThan(SEGMENT_FRAMES * 5 - PERIOD_FRAMES * 8);
  });

  it('journal overrun: a registrar on a core that lost seqs halts at its first request, and no frame reaches the device', async () => {
    const core = new ReferenceCore({ journalCapacity: 4 });
    core.registerActor('agent:assistant', ACTOR_KINDS.indexOf('agent'));
    for (let index = 0; index < 6; index += 1) core.reserveSeq();
    const registrar = new AudioRegistrar({ core });
    const output = nullDevice(opened, { captureSeconds: 30 });
    const engine = engineOn(registrar, output);
    await expect(engine.play('nothing may play')).rejects.toMatchObject({ name: 'RegistrarHaltedError' });
    expect(registrar.haltCause?.cause).toBe('journal_overrun');
    expect(output.stats().framesPlayed + output.stats().bufferedFrames).toBe(0);
    expect(output.stats().liveVoices).toBe(0);
  });
});
