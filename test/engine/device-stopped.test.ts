// Regression tests of the adversarial review (finding 9): when the device stops rendering under a
// play (its host calls output.stop() on a shared output; a lost device reads the same through
// miniaudio's device state), AudioVoice.writeAll and the paced writer reject with AudioError
// `AUDIO_DEVICE_STOPPED` instead of sleeping forever, and play() fails the stream, attested.
// Real addon on miniaudio's null backend; deadlines only bound a hang.
import { describe, expect, it } from 'vitest';
import type { AudioOutput } from '../../src/audio/output.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';
import { nullDevice, RATE_HZ } from '../helpers/null-device-host.js';
import { ConstantLevelBackend } from '../helpers/constant-level-backend.js';
import { waitUntil } from '../helpers/waiting.js';

const opened = closedAfterEach();

const device = (): AudioOutput => nullDevice(opened, { captureSeconds: 0, bufferFrames: 2048 });

describe('a device that stops under a play (finding 9)', () => {
  it.each([false, true])('play() settles with AUDIO_DEVICE_STOPPED and the stream is failed, attested (realtime %s)', async (realtime) => {
    const output = device();
    const registrar = new AudioRegistrar();
    const engine = new VoiceEngine({ registrar, output, realtime, backend: new ConstantLevelBackend({ level: 0.1, sampleRateHz: RATE_HZ, framesPerSegment: RATE_HZ * 5 }) });
    opened.push(engine);
    let outcome: string | undefined;
    const play = engine.play('a long line').then(() => (outcome = 'resolved'), (error: { code?: string }) => (outcome = error.code ?? 'error'));
    await waitUntil(() => engine.schedule().active.some((entry) => entry.playing), 'the play to start');
    output.stop();
    await waitUntil(() => outcome !== undefined, 'play() to settle');
    await play;
    expect(outcome).toBe('AUDIO_DEVICE_STOPPED');
    const [failed] = registrar.attestationStore.query({ action: 'fail' });
    expect(failed).toMatchObject({ decision: 'allowed', actor: { kind: 'system', id: 'voice-engine' } });
    expect(JSON.stringify(failed)).toMatch(/device is stopped|device stopped/);
    expect(registrar.listStates().map((state) => state.state)).toEqual(['failed']);
  }, 60_000);

  it('writeAll rejects AUDIO_DEVICE_STOPPED once its ring is full on a stopped device (planted: started, the same write completes)', async () => {
    const output = device();
    const pcm = new Float32Array(2048 * 3).fill(0.1);
    const stopped = output.openVoice();
    await expect(stopped.writeAll(pcm)).rejects.toMatchObject({ code: 'AUDIO_DEVICE_STOPPED' });
    stopped.close();
    output.start();
    const running = output.openVoice();
    await expect(running.writeAll(pcm)).resolves.toBe(pcm.length);
    running.close();
  }, 60_000);
});
