// Behavioural negative tests (issue 7.5): each check the binding tests rely on runs twice, on the
// real engine (it must pass) and with the violation planted around it through public APIs (it
// must fail): frames reaching the device before the allowed play, frames after the stream's stop,
// and a denied interrupt that silences. A check that cannot see its violation fails here.
// Real addon, miniaudio's null device with capture; frames counted, deadlines only.
import { describe, expect, it } from 'vitest';
import type { AudioOutput } from '../../src/audio/output.js';
import { position } from '../helpers/device-capture.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';
import { framesUntilFade, LEVEL, nullDeviceHost, PERIOD_FRAMES, playing } from '../helpers/null-device-host.js';
import { waitUntil } from '../helpers/waiting.js';

const opened = closedAfterEach();

/**
 * Check: frames queued or played on the device, and voices able to play any, when the play
 * decision was made (must be 0: a voice's own ring is not in the device's bufferedFrames).
 */
async function framesBeforePlay(planted: ((output: AudioOutput) => void) | null): Promise<number> {
  const { registrar, output, engine } = nullDeviceHost(opened);
  let atPlay = -1;
  registrar.onTransition((event) => {
    if (event.action === 'synthesize' && planted) planted(output);
    if (event.action === 'play') atPlay = output.stats().framesPlayed + output.stats().bufferedFrames + output.stats().liveVoices;
  });
  const result = engine.play('constant level');
  await waitUntil(() => atPlay >= 0, 'the play decision');
  engine.interrupt(engine.activeStreams()[0] ?? '');
  await result;
  return atPlay;
}

/** Check: frames the device played from a few periods after the stream ended until 8 periods later (must be 0). */
async function framesAfterStop(planted: ((output: AudioOutput) => void) | null): Promise<number> {
  const { registrar, agent, output, engine } = nullDeviceHost(opened);
  const { result, streamId } = await playing(engine, output, registrar);
  registrar.request({ action: 'stop', actor: agent, target: streamId });
  if (planted) planted(output);
  await result;
  await waitUntil(() => output.stats().completedInterruptGeneration >= output.stats().interruptGeneration, 'the fade to be rendered');
  const after = output.stats();
  await waitUntil(() => output.stats().callbacks > after.callbacks + 8, 'periods after the end');
  return output.stats().framesPlayed - after.framesPlayed;
}

/**
 * Check: frames the device kept at the level after an interrupt the registrar denied (must be ≥ 32
 * periods of the 40 waited for: no fade). `planted` silences the stream right after the denial (nothing public reaches
 * its sink but an allowed decision, so the plant is the user's interrupt): the check must see it.
 */
async function framesAtLevelAfterDenial(planted: ((silence: () => void) => void) | null): Promise<number> {
  const { registrar, alice, output, engine } = nullDeviceHost(opened);
  registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'den' } });
  const { result, streamId } = await playing(engine, output, registrar, { sessionId: 'den' });
  const silence = () => void registrar.request({ action: 'interrupt', actor: alice, target: streamId });
  const denial = engine.interrupt(streamId);
  const deniedAt = position(output);
  if (planted) planted(silence);
  expect(denial.reason).toBe('accessibility_override');
  await waitUntil(() => position(output) > deniedAt + PERIOD_FRAMES * 40, 'periods after the denial');
  const frames = framesUntilFade(output, deniedAt);
  silence();
  await result;
  return frames;
}

/** Frames of the constant level written to the device on a voice of its own, past every gate. */
function bypassWrite(output: AudioOutput): void {
  const voice = output.openVoice();
  voice.write(new Float32Array(PERIOD_FRAMES * 20).fill(LEVEL));
  voice.end();
  opened.push(voice);
}

describe('each check catches its planted violation', () => {
  it('frames before play: 0 on the real engine; a write past the sink before the play decision is seen', async () => {
    expect(await framesBeforePlay(null)).toBe(0);
    expect(await framesBeforePlay(bypassWrite)).toBeGreaterThan(0);
  });

  it("frames after stop: none on the real engine; a write past the sink after the stream's stop is seen", async () => {
    expect(await framesAfterStop(null)).toBe(0);
    expect(await framesAfterStop(bypassWrite)).toBeGreaterThan(0);
  });

  it('a denied interrupt: the real engine plays on; a silencing right after the denial is seen', async () => {
    expect(await framesAtLevelAfterDenial(null)).toBeGreaterThanOrEqual(PERIOD_FRAMES * 32);
    expect(await framesAtLevelAfterDenial((silence) => silence())).toBeLessThan(PERIOD_FRAMES * 32);
  });
});
