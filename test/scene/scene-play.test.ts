/**
 * engine.play(scene) live through the mixer on the null backend: the device plays exactly the
 * rendered mix, as ONE registrar stream whose compile decision registers the mix's sha256; an
 * allowed interrupt of that stream cuts the scene short (the negative: the capture is no longer
 * the whole mix).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { Scene } from '../../src/scene/scene.js';
import { ConstantLevelBackend } from '../helpers/constant-level-backend.js';
import { capturedSoFar } from '../helpers/device-capture.js';
import { stereoPlayRig } from './play-rig.js';
import { waitUntil } from '../helpers/waiting.js';
import { onsetAfter } from './scene-checks.js';

const RATE = 48_000;
const setup = (): ReturnType<ReturnType<typeof stereoPlayRig>> => rig({ backend: new ConstantLevelBackend({ level: 0.25, sampleRateHz: 24_000, framesPerSegment: 12_000 }) });
const rig = stereoPlayRig(RATE);

function gameScene(durationMs: number): Scene {
  const scene = new Scene({ seed: 11, durationMs });
  scene.addAmbiance('wind', { volume: 0.5, duckFor: ['dialogue'], duckAmount: -9 });
  scene.addDialogue('Halt! Who goes there?', { startMs: 300, position: { x: 0.6 } });
  scene.addEffect(100, 'click', { position: { x: -0.7 } });
  scene.addEffect(1200, 'chime');
  return scene;
}

/** Frames of `captured` (interleaved stereo) from `start` that differ from `mix` by more than 1e-6. */
function differingFrames(captured: Float32Array, start: number, mix: Float32Array): number {
  let count = 0;
  for (let index = 0; index < mix.length; index++) if (Math.abs((captured[2 * start + index] ?? 0) - mix[index]!) > 1e-6) count += 1;
  return count;
}

describe('engine.play(scene)', () => {
  it('plays the rendered mix sample for sample as one registrar stream that registers its hash', async () => {
    const { engine, output } = setup();
    const mix = (await gameScene(2000).render(engine, { sampleRate: RATE })).pcm;
    const result = await engine.play(gameScene(2000));
    expect(result.interrupted).toBeUndefined();
    expect(result.durationMs).toBeCloseTo(2000, 6);
    expect(result.attestations.map((attestation) => `${attestation.action}:${attestation.decision}`)).toEqual(['start:allowed', 'compile:allowed', 'synthesize:allowed', 'play:allowed', 'stop:allowed']);
    const hash = `sha256:${createHash('sha256').update(new Uint8Array(mix.buffer)).digest('hex')}`;
    expect(engine.registrar.getState(result.streamId)?.state).toBe('stopped');
    expect(JSON.stringify(result.attestations[1])).toContain(hash);
    const captured = capturedSoFar(output);
    // The device played silence until the stream started: align on the first sound of each.
    const start = onsetAfter(captured, 0, 1e-4) / 2 - onsetAfter(mix, 0, 1e-4) / 2;
    expect(Number.isInteger(start)).toBe(true);
    expect(differingFrames(captured, start, mix)).toBe(0);
  });

  it('negative: with no allowed play (the registrar halted) nothing of the scene reaches the device', async () => {
    const registrar = new AudioRegistrar();
    const { engine, output } = rig({ registrar });
    registrar.registerActor('user:alice', { sessions: ['den'] });
    registrar.registerActor('user:bob', { sessions: ['den'] });
    registrar.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'den' } });
    registrar.requestAsHost({ action: 'enable_override', actor: 'user:bob', metadata: { scope: 'session', scopeId: 'den' } });
    expect(registrar.halted).toBe(true);
    // No dialogue: the render needs no synthesis, so the play itself is what is refused.
    const scene = new Scene({ durationMs: 1000 }).addAmbiance('rain').addEffect(100, 'beep');
    await expect(engine.play(scene)).rejects.toMatchObject({ name: 'RegistrarHaltedError' });
    const last = registrar.attestationStore.all().at(-1);
    expect(last).toMatchObject({ action: 'start', decision: 'denied', reason: 'registrar_halted' });
    // No voice was opened and no frame taken from anywhere: the mix never reached the device.
    expect(output.stats()).toMatchObject({ framesPlayed: 0, liveVoices: 0, bufferedFrames: 0 });
    expect(capturedSoFar(output).every((sample) => sample === 0)).toBe(true);
  });

  it('negative: an allowed interrupt of the scene\'s stream cuts it; the capture is no longer the whole mix', async () => {
    const { engine, output } = setup();
    const mix = (await gameScene(4000).render(engine, { sampleRate: RATE })).pcm;
    const playing = engine.play(gameScene(4000));
    // The scene's play is the one the device's scheduler admitted (the dialogue's speak streams never are).
    let streamId = '';
    let playingSince = 0;
    await waitUntil(() => {
      streamId = engine.schedule().active.find((entry) => entry.playing)?.streamId ?? '';
      playingSince = output.stats().deviceFrames;
      return streamId !== '';
    }, 'the scene playing');
    await waitUntil(() => output.stats().deviceFrames > playingSince + RATE / 2, 'half a second of the scene played');
    expect(engine.interrupt(streamId, { reason: 'player skipped the cutscene' }).allowed).toBe(true);
    const result = await playing;
    expect(result.interrupted).toBe(true);
    expect(result.heard?.cutAtMs).toBeGreaterThan(400);
    expect(result.heard!.playedMs).toBeLessThan(3900);
    const captured = capturedSoFar(output);
    const start = onsetAfter(captured, 0, 1e-4) / 2 - onsetAfter(mix, 0, 1e-4) / 2;
    expect(differingFrames(captured, start, mix)).toBeGreaterThan(RATE);
  });
});
