// Behavioural negative tests (issue 7.5): each check the binding tests rely on runs twice, on the
// real engine (it must pass) and with the violation planted around it through public APIs (it
// must fail): frames reaching the device before the allowed play, frames after the stream's stop,
// and a denied interrupt that silences. A check that cannot see its violation fails here.
// Real addon, miniaudio's null device with capture; frames counted, deadlines only.
import { afterEach, describe, expect, it } from 'vitest';
import { AudioOutput } from '../../src/audio/output.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { ConstantLevelBackend } from '../helpers/constant-level-backend.js';
import { capturedSoFar, framesAtLevel, position } from '../helpers/device-capture.js';
import { waitUntil } from '../helpers/waiting.js';

const RATE_HZ = 24_000;
const PERIOD_FRAMES = 240;
const LEVEL = 0.5;

const opened: { close(): unknown }[] = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close();
});

/** A registrar, an agent engine on a null device with capture (2 s segments at a constant level), and a user of session "den". */
function host() {
  const registrar = new AudioRegistrar();
  const agent = registrar.registerActor('agent:assistant');
  const alice = registrar.registerActor('user:alice', { sessions: ['den'] });
  const output = new AudioOutput({ backend: 'null', sampleRateHz: RATE_HZ, channels: 1, periodFrames: PERIOD_FRAMES, capture: true, captureFrames: RATE_HZ * 20 });
  opened.push(output);
  const backend = new ConstantLevelBackend({ level: LEVEL, sampleRateHz: RATE_HZ, framesPerSegment: RATE_HZ * 2 });
  const engine = new VoiceEngine({ registrar, actor: agent, output, backend });
  opened.push(engine);
  return { registrar, agent, alice, output, engine };
}

/**
 * Check: frames queued or played on the device, and voices able to play any, when the play
 * decision was made (must be 0: a voice's own ring is not in the device's bufferedFrames).
 */
async function framesBeforePlay(planted: ((output: AudioOutput) => void) | null): Promise<number> {
  const { registrar, output, engine } = host();
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
  const { registrar, agent, output, engine } = host();
  const result = engine.play('constant level');
  result.catch(() => undefined);
  await waitUntil(() => registrar.listStates()[0]?.state === 'playing' && position(output) > PERIOD_FRAMES * 4, 'the stream to play');
  registrar.request({ action: 'stop', actor: agent, target: engine.activeStreams()[0] ?? '' });
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
  const { registrar, alice, output, engine } = host();
  registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'den' } });
  const result = engine.play('constant level', { sessionId: 'den' });
  result.catch(() => undefined);
  await waitUntil(() => registrar.listStates()[0]?.state === 'playing' && position(output) > PERIOD_FRAMES * 4, 'the stream to play');
  const streamId = engine.activeStreams()[0] ?? '';
  const silence = () => void registrar.request({ action: 'interrupt', actor: alice, target: streamId });
  const denial = engine.interrupt(streamId);
  const deniedAt = position(output);
  if (planted) planted(silence);
  expect(denial.reason).toBe('accessibility_override');
  await waitUntil(() => position(output) > deniedAt + PERIOD_FRAMES * 40, 'periods after the denial');
  const frames = framesAtLevel(capturedSoFar(output), deniedAt, LEVEL);
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
