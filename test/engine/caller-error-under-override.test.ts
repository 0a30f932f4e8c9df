// A play whose caller's own input fails mid-speech (a live text source that throws, an onProgress
// callback that throws) under a user's accessibility override: the runtime fails the stream (a
// real error), but only once the device has played what the stream already wrote, so an agent
// cannot use an error of its own making to cut its covered speech. Planted: without the override
// the failure cuts the device at once (what an agent could do by an interrupt anyway). Real addon
// (miniaudio's null device), frames and records counted, deadlines only.
import { describe, expect, it } from 'vitest';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';
import { capturedSoFar } from '../helpers/device-capture.js';
import { constantLevel, LEVEL, nullDeviceHost, PERIOD_FRAMES, RATE_HZ } from '../helpers/null-device-host.js';
import { waitUntil } from '../helpers/waiting.js';

const opened = closedAfterEach();
/** Three half-second sentences: all written ahead of the device at once (its write-ahead is 2 s). */
const SPOKEN_FRAMES = 3 * (RATE_HZ / 2);

/** A live source of three sentences (and the start of a fourth, so the third is cut as ended) that throws once `gate` opens. */
function throwingSource(gate: Promise<void>): AsyncIterable<string> {
  return {
    async *[Symbol.asyncIterator]() {
      yield 'One. Two. Three. Four';
      await gate;
      throw new Error('planted source failure');
    },
  };
}

async function agentFailsMidSpeech(covered: boolean): Promise<{ heard: number; fail: { actor: string; reason: string } | undefined; error: unknown }> {
  const { registrar, alice, output } = nullDeviceHost(opened);
  if (covered) expect(registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'den' } }).allowed).toBe(true);
  const agent = new VoiceEngine({ registrar, actor: registrar.registerActor('agent:talker'), output, backend: constantLevel(LEVEL, RATE_HZ / 2), sessionId: 'den' });
  opened.push(agent);
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let streamId = '';
  let audioMs = 0;
  const error = agent.play(throwingSource(gate), { onStreamStart: (id) => (streamId = id), onProgress: (progress) => (audioMs = progress.audioMs) }).then(() => null, (failure: unknown) => failure);
  // The three sentences are synthesized (written ahead of the device) and it plays them.
  await waitUntil(() => streamId !== '' && audioMs >= 1500 && capturedSoFar(output).includes(LEVEL), 'the speech on the device');
  open();
  const failure = await error;
  const [fail] = registrar.attestationStore.query({ target: streamId, action: 'fail', decision: 'allowed' });
  return { heard: capturedSoFar(output).filter((sample) => sample === LEVEL).length, fail: fail ? { actor: `${fail.actor?.kind}:${fail.actor?.id}`, reason: String((fail.parameters as { reason?: string }).reason) } : undefined, error: failure };
}

describe("a caller's own failure mid-speech under an override", () => {
  it('fails the covered stream only after the device played what was written (the listener hears all three sentences)', async () => {
    const { heard, fail, error } = await agentFailsMidSpeech(true);
    expect(error).toMatchObject({ code: 'TEXT_SOURCE_FAILED' });
    expect(fail).toEqual({ actor: 'system:voice-engine', reason: 'the text source failed after 1 deltas: planted source failure' });
    expect(heard).toBeGreaterThanOrEqual(SPOKEN_FRAMES - PERIOD_FRAMES);
  }, 60_000);

  it('planted contrast: uncovered, the failure cuts the device at once', async () => {
    const { heard, fail } = await agentFailsMidSpeech(false);
    expect(fail).toEqual({ actor: 'system:voice-engine', reason: 'the text source failed after 1 deltas: planted source failure' });
    expect(heard).toBeLessThan(SPOKEN_FRAMES - PERIOD_FRAMES);
  }, 60_000);

  it('an onProgress that throws under the override: the sentence written is heard before the fail', async () => {
    const { registrar, alice, output } = nullDeviceHost(opened);
    expect(registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'den' } }).allowed).toBe(true);
    const agent = new VoiceEngine({ registrar, actor: registrar.registerActor('agent:talker'), output, backend: constantLevel(LEVEL, RATE_HZ / 2), sessionId: 'den' });
    opened.push(agent);
    const thrown = new Error('planted progress failure');
    await expect(agent.play('One. Two.', { onProgress: () => { throw thrown; } })).rejects.toBe(thrown);
    expect(capturedSoFar(output).filter((sample) => sample === LEVEL).length).toBeGreaterThanOrEqual(RATE_HZ / 2 - PERIOD_FRAMES);
  }, 60_000);
});
