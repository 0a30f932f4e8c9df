// speakToFile({ play: true }) feeds the device as play() does, and ends as play() ends: a halt, an
// owner's fail and the caller's abort end it with play()'s errors (no file left behind), and the
// caller's abort is the owner's request the registrar decides (a user's accessibility override
// refuses it: the speech plays to its end). Real addon, miniaudio's null device with capture;
// frames counted, deadlines only.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AudioOutput } from '../../src/audio/output.js';
import type { SpeakToFileOptions, SpeechFileResult, VoiceEngine } from '../../src/engine/voice-engine.js';
import type { AudioRegistrar } from '../../src/registrar/registrar.js';
import { capturedSoFar, position } from '../helpers/device-capture.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';
import { framesUntilSilenced, LEVEL, nullDeviceHost, PERIOD_FRAMES, SEGMENT_FRAMES } from '../helpers/null-device-host.js';
import { waitUntil } from '../helpers/waiting.js';

const opened = closedAfterEach();
const dir = mkdtempSync(join(tmpdir(), 'vs-file-and-device-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Three sentences (6 s at the constant level): more than the 2 s write-ahead, so the feed waits on the device. */
const LONG = 'First sentence here. Second sentence here. Third sentence here.';

/** Starts speakToFile({ play: true }) of `text` to `path` and waits until its stream plays with a few periods heard. */
async function writingAndPlaying(engine: VoiceEngine, output: AudioOutput, registrar: AudioRegistrar, path: string, options: SpeakToFileOptions = {}, text = 'constant level for a while'): Promise<{ result: Promise<SpeechFileResult>; streamId: string }> {
  const result = engine.speakToFile(text, path, { ...options, play: true });
  result.catch(() => undefined);
  let streamId = '';
  await waitUntil(() => {
    streamId = registrar.listStates()[0]?.streamId ?? '';
    return streamId !== '' && registrar.getState(streamId)?.state === 'playing' && position(output) > PERIOD_FRAMES * 4;
  }, 'the stream to play');
  return { result, streamId };
}

describe('speakToFile({ play: true }) ends as play() ends', () => {
  it('control: played to its end, the file is written and the stream stopped by the runtime', async () => {
    const { registrar, output, engine } = nullDeviceHost(opened);
    const path = join(dir, 'whole.wav');
    const { result } = await writingAndPlaying(engine, output, registrar, path);
    const written = await result;
    expect(existsSync(path)).toBe(true);
    expect(written.file.frames).toBeGreaterThanOrEqual(SEGMENT_FRAMES - PERIOD_FRAMES);
    expect(written.attestations.map((attestation) => attestation.action)).toEqual(['start', 'compile', 'synthesize', 'play', 'stop']);
    rmSync(path);
  });

  it("an owner's fail while it plays rejects STREAM_FAILED with the attestation id, silences the device and leaves no file", async () => {
    const { registrar, agent, output, engine } = nullDeviceHost(opened);
    const path = join(dir, 'failed.wav');
    const { result, streamId } = await writingAndPlaying(engine, output, registrar, path, {}, LONG);
    const at = position(output);
    const fail = registrar.request({ action: 'fail', actor: agent, target: streamId, reason: 'agent gave up' });
    expect(fail.allowed).toBe(true);
    await expect(result).rejects.toMatchObject({ code: 'STREAM_FAILED', attestationId: fail.attestation.id });
    // Ended once: the owner's fail, and no stop or fail of the runtime after it.
    const ends = registrar.attestationStore.all().filter((record) => record.target === streamId && (record.action === 'stop' || record.action === 'fail'));
    expect(ends.map((record) => `${record.actor?.kind}:${record.action}:${record.decision}`)).toEqual(['agent:fail:allowed']);
    expect(await framesUntilSilenced(output, at)).toBeLessThanOrEqual(PERIOD_FRAMES);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a halt while it plays rejects RegistrarHaltedError (fail-closed), silences the device and leaves no file', async () => {
    const { registrar, alice, output, engine } = nullDeviceHost(opened);
    const bob = registrar.registerActor('user:bob', { sessions: ['den'] });
    registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'den' } });
    const path = join(dir, 'halted.wav');
    const { result } = await writingAndPlaying(engine, output, registrar, path, {}, LONG);
    const at = position(output);
    // bob replacing alice's override would end it without disable_override: HALT.
    registrar.request({ action: 'enable_override', actor: bob, metadata: { scope: 'session', scopeId: 'den' } });
    expect(registrar.halted).toBe(true);
    const records = registrar.attestationStore.all().length;
    await expect(result).rejects.toMatchObject({ name: 'RegistrarHaltedError' });
    // The HALT record is the last word: nothing was asked after it.
    expect(registrar.attestationStore.all().length).toBe(records);
    expect(await framesUntilSilenced(output, at)).toBeLessThanOrEqual(PERIOD_FRAMES);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("the caller's abort is the owner's request: allowed, it stops the stream as the agent; under a user's override it is denied, the speech plays to its end and speakToFile rejects REGISTRAR_DENIED", async () => {
    const free = nullDeviceHost(opened);
    const controller = new AbortController();
    const freeFile = await writingAndPlaying(free.engine, free.output, free.registrar, join(dir, 'aborted.wav'), { signal: controller.signal });
    const at = position(free.output);
    controller.abort();
    await expect(freeFile.result).rejects.toMatchObject({ name: 'AbortError' });
    expect(await framesUntilSilenced(free.output, at)).toBeLessThanOrEqual(PERIOD_FRAMES);
    const stop = free.registrar.attestationStore.all().find((record) => record.action === 'stop');
    expect(stop).toMatchObject({ decision: 'allowed', actor: { kind: 'agent', id: 'assistant' }, parameters: { reason: 'aborted by the caller' } });
    expect(readdirSync(dir)).toEqual([]);

    const guarded = nullDeviceHost(opened);
    guarded.registrar.request({ action: 'enable_override', actor: guarded.alice, metadata: { scope: 'session', scopeId: 'den' } });
    const guardedController = new AbortController();
    const guardedFile = await writingAndPlaying(guarded.engine, guarded.output, guarded.registrar, join(dir, 'guarded.wav'), { signal: guardedController.signal, sessionId: 'den' }, LONG);
    const abortedAt = position(guarded.output);
    guardedController.abort();
    await expect(guardedFile.result).rejects.toMatchObject({ code: 'REGISTRAR_DENIED', reason: 'accessibility_override' });
    // Played to its natural end: all three 2 s segments were heard at the level after the abort.
    const heard = capturedSoFar(guarded.output).subarray(abortedAt);
    expect(heard.filter((sample) => sample === LEVEL).length).toBeGreaterThanOrEqual(SEGMENT_FRAMES * 3 - abortedAt - PERIOD_FRAMES);
    const records = guarded.registrar.attestationStore.all().filter((record) => record.target === guardedFile.streamId && record.action === 'stop');
    expect(records.map((record) => `${record.actor?.kind}:${record.decision}:${record.reason}`)).toEqual(['agent:denied:accessibility_override', 'system:allowed:null']);
    expect(readdirSync(dir)).toEqual([]);
  });
});
