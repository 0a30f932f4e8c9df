// A device its host closes under a play (audit 17c): the stream was cut, so the log must not say it
// ended well. Before the fix the feed's write threw AUDIO_DEVICE_CLOSED, the run took it as its
// consumer leaving and the runtime attested a plain `stop` ('consumer stopped reading'), the state a
// stream has after it was heard to its end. Now the runtime fails it (attested, the reason names the
// closed device) and play() rejects with that error, as for a device that stops rendering.
// Real addon on miniaudio's null backend; deadlines only bound a hang.
import { describe, expect, it } from 'vitest';
import type { AudioOutput } from '../../src/audio/output.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';
import { ConstantLevelBackend } from '../helpers/constant-level-backend.js';
import { nullDevice, RATE_HZ } from '../helpers/null-device-host.js';
import { waitUntil } from '../helpers/waiting.js';

const opened = closedAfterEach();

/** Plays `text`, closes the device once `heardFrames` were played, and returns how play() settled ('resolved' or its error's code). */
async function closedUnderPlay(engine: VoiceEngine, output: AudioOutput, text: string, heardFrames: number, settling: string): Promise<string> {
  let outcome: string | undefined;
  const play = engine.play(text).then(() => (outcome = 'resolved'), (error: { code?: string }) => (outcome = error.code ?? 'error'));
  await waitUntil(() => engine.schedule().active.some((entry) => entry.playing) && output.stats().framesPlayed > heardFrames, 'the play to be heard');
  output.close();
  await waitUntil(() => outcome !== undefined, settling);
  await play;
  return outcome as string;
}

describe('a device closed by its host under a play', () => {
  it.each([false, true])('play() rejects AUDIO_DEVICE_CLOSED and the stream is failed, attested, not stopped (realtime %s)', async (realtime) => {
    const output = nullDevice(opened, { captureSeconds: 0, bufferFrames: 2048 });
    const registrar = new AudioRegistrar();
    // Many short chunks: the feed is writing (not draining) when the device goes.
    const backend = new ConstantLevelBackend({ level: 0.1, sampleRateHz: RATE_HZ, framesPerSegment: RATE_HZ * 5, chunksPerSegment: 50 });
    const engine = new VoiceEngine({ registrar, output, realtime, backend });
    opened.push(engine);
    expect(await closedUnderPlay(engine, output, 'a long line. And another long line.', RATE_HZ / 4, 'play() to settle')).toBe('AUDIO_DEVICE_CLOSED');
    const ends = registrar.attestationStore.query({}).filter((record) => record.action === 'stop' || record.action === 'fail');
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ action: 'fail', decision: 'allowed', actor: { kind: 'system', id: 'voice-engine' } });
    expect(JSON.stringify(ends[0])).toContain('closed');
    expect(registrar.listStates().map((state) => state.state)).toEqual(['failed']);
  }, 60_000);

  it('a play whose backend stalls after the device was closed is given up by the admission timeout, not held for good', async () => {
    const output = nullDevice(opened, { captureSeconds: 0 });
    const registrar = new AudioRegistrar();
    const backend = new ConstantLevelBackend({ level: 0.1, sampleRateHz: RATE_HZ, framesPerSegment: RATE_HZ, stallFor: (text) => (text.includes('never') ? new Promise<void>(() => undefined) : undefined) });
    const engine = new VoiceEngine({ registrar, output, backend, admissionTimeoutMs: 300 });
    opened.push(engine);
    // The first line is all queued (a 1 s line in the default write-ahead) while the backend stalls on the second.
    const outcome = await closedUnderPlay(engine, output, 'A first line is heard. The backend never answers for this one.', RATE_HZ / 10, 'play() to settle (before the fix: never, the closed device was taken to still hold audio)');
    expect(outcome).toBe('STREAM_FAILED');
    const [failed] = registrar.attestationStore.query({ action: 'fail' });
    expect(JSON.stringify(failed)).toContain('admissionTimeoutMs');
    expect(registrar.listStates().map((state) => state.state)).toEqual(['failed']);
  }, 60_000);
});
