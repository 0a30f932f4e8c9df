/**
 * A hostile PlayableMix (the public `renderMix` interface) against engine.play: the compile
 * decision registers the hash of what is played (never the hash the mix claims), broken samples
 * (NaN, ±Infinity, huge) never reach the device, a mix at another rate than the device is refused,
 * and a bare object shaped like a rendered mix is not audio at all.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import type { PlayableMix, RenderedMix } from '../../src/scene/playable.js';
import { capturedSoFar } from '../helpers/device-capture.js';
import { stereoPlayRig } from './play-rig.js';

const RATE = 48_000;
const setup = (): ReturnType<ReturnType<typeof stereoPlayRig>> => rig();
const rig = stereoPlayRig(RATE);

/** A PlayableMix that renders `pcm` and claims whatever `claims` says. */
function forged(pcm: Float32Array, claims: Partial<RenderedMix> = {}): PlayableMix {
  return { renderMix: async (_engine, sampleRateHz) => ({ kind: 'rendered-mix', label: 'forged', pcm, channels: 2, sampleRateHz, contentHash: 'sha256:' + '0'.repeat(64), ...claims }) };
}

const sha = (pcm: Float32Array) => `sha256:${createHash('sha256').update(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength)).digest('hex')}`;

describe('engine.play with a hostile PlayableMix', () => {
  it('registers the hash of what was played, not the hash the mix claims', async () => {
    const { engine } = setup();
    const pcm = new Float32Array(2 * RATE / 10).fill(0.1);
    const result = await engine.play(forged(pcm));
    const compile = JSON.stringify(result.attestations.find((attestation) => attestation.action === 'compile'));
    expect(compile).not.toContain('0'.repeat(64));
    expect(compile).toContain(sha(pcm));
  });

  it('never lets NaN, Infinity or huge samples reach the device', async () => {
    const { engine, output } = setup();
    const pcm = new Float32Array(2 * RATE / 10);
    for (let index = 0; index < pcm.length; index++) pcm[index] = [Number.NaN, Infinity, -Infinity, 1e30, 0.2][index % 5]!;
    await engine.play(forged(pcm));
    const captured = capturedSoFar(output);
    expect(captured.some((sample) => !Number.isFinite(sample) || Math.abs(sample) > 32)).toBe(false);
    expect(captured.some((sample) => Math.abs(sample - 0.2) < 1e-6)).toBe(true);
  });

  it('refuses a mix at another rate than it was asked for, or with a bad channel count (InputError, nothing played)', async () => {
    const { engine } = setup();
    await expect(engine.play(forged(new Float32Array(4800), { sampleRateHz: 8000 }))).rejects.toBeInstanceOf(InputError);
    await expect(engine.play(forged(new Float32Array(4800), { channels: 7 }))).rejects.toBeInstanceOf(InputError);
    await expect(engine.play(forged(new Float32Array(4801)))).rejects.toBeInstanceOf(InputError);
  });

  it('a bare object shaped like a rendered mix is not speech input', async () => {
    const { engine } = setup();
    const bare = { kind: 'rendered-mix', label: 'x', pcm: new Float32Array(4800), channels: 2, sampleRateHz: RATE, contentHash: 'sha256:' + '0'.repeat(64) };
    await expect(engine.play(bare as never)).rejects.toBeInstanceOf(InputError);
    await expect(engine.speak(bare as never)).rejects.toBeInstanceOf(InputError);
  });
});
