/**
 * The caller's abort of `speak()`, `stream()` and `speakToFile()` (no device) is the owner's
 * request to end the stream, as play()'s is: the engine's actor asks (stop once it plays, fail
 * before) and the registrar decides, so the log names who asked, never the runtime. Under a user's
 * accessibility override the agent's request is refused (attested): the stream is not cut, it is
 * synthesized to its end (a stream() consumer keeps getting every chunk) and the call then rejects
 * REGISTRAR_DENIED; only the caller's own consumption (a break) can stop it earlier. Real backend
 * plugin interface (a stub that holds a sentence on demand), no device, deadlines only.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Attestation } from '../../src/attestation/record.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import type { ActorHandle } from '../../src/registrar/actor-handle.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { ConstantLevelBackend } from '../helpers/constant-level-backend.js';
import { waitUntil } from '../helpers/waiting.js';

const RATE_HZ = 16_000;
const TEXT = 'First sentence here. Second sentence held. Third sentence last.';
const dir = mkdtempSync(join(tmpdir(), 'vs-caller-abort-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const engines: VoiceEngine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.close();
});

/** An agent's engine in session "den" (with alice's override there when `covered`); its backend holds the second sentence until `release()`. */
function agentEngine(covered: boolean): { engine: VoiceEngine; registrar: AudioRegistrar; alice: ActorHandle; release: () => void } {
  const registrar = new AudioRegistrar();
  const alice = registrar.registerActor('user:alice', { sessions: ['den'] });
  if (covered) expect(registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'den' } }).allowed).toBe(true);
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const backend = new ConstantLevelBackend({ level: 0.25, sampleRateHz: RATE_HZ, framesPerSegment: RATE_HZ / 4, stallFor: (text) => (text.includes('held') ? held : undefined) });
  const engine = new VoiceEngine({ registrar, actor: 'agent:assistant', sessionId: 'den', backend });
  engines.push(engine);
  return { engine, registrar, alice, release };
}

/** `actor action decision reason` of each record on `streamId` after its start. */
function endsOf(records: readonly Attestation[], streamId: string): string[] {
  return records
    .filter((record) => record.target === streamId && (record.action === 'stop' || record.action === 'fail' || record.action === 'interrupt'))
    .map((record) => `${record.actor?.kind}:${record.actor?.id} ${record.action} ${record.decision} ${record.reason ?? (record.parameters as { reason?: string }).reason ?? ''}`);
}

/** Runs `call` with a signal, aborts it once the stream plays (the first sentence is out, the second held), returns what settled. */
async function abortedWhilePlaying(engine: VoiceEngine, registrar: AudioRegistrar, release: () => void, call: (signal: AbortSignal, onStreamStart: (id: string) => void) => Promise<unknown>): Promise<{ streamId: string; outcome: unknown }> {
  const controller = new AbortController();
  let streamId = '';
  const settled = call(controller.signal, (id) => (streamId = id)).then((value) => value, (error: unknown) => error);
  await waitUntil(() => streamId !== '' && registrar.getState(streamId)?.state === 'playing', 'the stream to play');
  controller.abort();
  release();
  return { streamId, outcome: await settled };
}

describe("the caller's abort of speak()/stream()/speakToFile() is the owner's request", () => {
  it('speak(): the engine\'s actor stops the stream (attested as its own), speak rejects AbortError', async () => {
    const { engine, registrar, release } = agentEngine(false);
    const { streamId, outcome } = await abortedWhilePlaying(engine, registrar, release, (signal, onStreamStart) => engine.speak(TEXT, { signal, onStreamStart }));
    expect(outcome).toMatchObject({ name: 'AbortError' });
    expect(endsOf(engine.registrar.attestations(), streamId)).toEqual(['agent:assistant stop allowed aborted by the caller']);
  });

  it('stream(): before any audio the engine\'s actor fails it (attested as its own), the loop rejects AbortError', async () => {
    const { engine, registrar, release } = agentEngine(false);
    const controller = new AbortController();
    let streamId = '';
    const reading = (async () => {
      for await (const _chunk of engine.stream('Only held sentence.', { signal: controller.signal, onStreamStart: (id) => (streamId = id) })) void _chunk;
    })().then(() => null, (error: unknown) => error);
    await waitUntil(() => streamId !== '' && registrar.getState(streamId)?.state === 'synthesizing', 'the held synthesis');
    controller.abort();
    release();
    expect(await reading).toMatchObject({ name: 'AbortError' });
    expect(endsOf(engine.registrar.attestations(), streamId)).toEqual(['agent:assistant fail allowed aborted by the caller']);
  });

  it('speakToFile(): the engine\'s actor stops it, the call rejects AbortError and leaves no file', async () => {
    const { engine, registrar, release } = agentEngine(false);
    const path = join(dir, 'aborted.wav');
    const { streamId, outcome } = await abortedWhilePlaying(engine, registrar, release, (signal, onStreamStart) => engine.speakToFile(TEXT, path, { signal, onStreamStart }));
    expect(outcome).toMatchObject({ name: 'AbortError' });
    expect(endsOf(engine.registrar.attestations(), streamId)).toEqual(['agent:assistant stop allowed aborted by the caller']);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("negative: under a user's override the agent's abort is refused; stream() yields every chunk to the end, then rejects REGISTRAR_DENIED", async () => {
    const { engine, release } = agentEngine(true);
    const controller = new AbortController();
    let streamId = '';
    let chunks = 0;
    const reading = (async () => {
      for await (const chunk of engine.stream(TEXT, { signal: controller.signal, onStreamStart: (id) => (streamId = id) })) {
        if (chunk.kind === 'speech') chunks += 1;
        if (chunks === 1 && !controller.signal.aborted) {
          controller.abort();
          release();
        }
      }
    })().then(() => null, (error: unknown) => error);
    expect(await reading).toMatchObject({ code: 'REGISTRAR_DENIED', reason: 'accessibility_override' });
    // Not cut: every sentence reached the consumer, and the stream ended at its natural end.
    expect(chunks).toBe(3);
    expect(endsOf(engine.registrar.attestations(), streamId)).toEqual(['agent:assistant stop denied accessibility_override', 'system:voice-engine stop allowed end of speech']);
  });

  it("negative: under a user's override speak()'s refused abort synthesizes to the end and rejects REGISTRAR_DENIED", async () => {
    const { engine, registrar, release } = agentEngine(true);
    const { streamId, outcome } = await abortedWhilePlaying(engine, registrar, release, (signal, onStreamStart) => engine.speak(TEXT, { signal, onStreamStart }));
    expect(outcome).toMatchObject({ code: 'REGISTRAR_DENIED', reason: 'accessibility_override' });
    expect(endsOf(engine.registrar.attestations(), streamId)).toEqual(['agent:assistant stop denied accessibility_override', 'system:voice-engine stop allowed end of speech']);
  });

  it("a refused abort, then the user's own interrupt: the stream ends there (hers, attested) and REGISTRAR_DENIED says so", async () => {
    const { engine, registrar, alice, release } = agentEngine(true);
    const controller = new AbortController();
    let streamId = '';
    let chunks = 0;
    const reading = (async () => {
      for await (const chunk of engine.stream(TEXT, { signal: controller.signal, onStreamStart: (id) => (streamId = id) })) {
        if (chunk.kind !== 'speech' || ++chunks > 1) continue;
        controller.abort();
        expect(registrar.request({ action: 'interrupt', actor: alice, target: streamId, reason: 'enough' }).allowed).toBe(true);
        release();
      }
    })().then(() => null, (error: unknown) => error);
    const error = await reading;
    expect(error).toMatchObject({ code: 'REGISTRAR_DENIED', reason: 'accessibility_override' });
    expect((error as Error).message).toContain('then an interrupt by user:alice ended it');
    expect(chunks).toBe(1);
    expect(endsOf(engine.registrar.attestations(), streamId)).toEqual(['agent:assistant stop denied accessibility_override', 'user:alice interrupt allowed enough', 'system:voice-engine stop allowed interrupted']);
  });
});
