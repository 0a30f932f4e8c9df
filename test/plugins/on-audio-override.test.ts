/**
 * A plugin's `onAudio` under a user's accessibility override: a plugin may not alter a covered
 * stream (spec §3.1: no agent or plugin may interrupt, stop, fail or mutate it), and replacing its
 * audio is altering it with no decision behind it. Planted: a loaded `onAudio` plugin that returns
 * silence silenced the user's covered speech on the device while the log attested a play heard to
 * its end. Uncovered, the plugin's effect applies as before. Real isolate plugin, real addon
 * (miniaudio's null device), frames counted.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';
import { capturedSoFar } from '../helpers/device-capture.js';
import { constantLevel, LEVEL, nullDeviceHost, PERIOD_FRAMES, RATE_HZ } from '../helpers/null-device-host.js';

const opened = closedAfterEach();
const silences = fileURLToPath(new URL('../fixtures/plugins/silences.mjs', import.meta.url));
const SPOKEN_FRAMES = 2 * (RATE_HZ / 2);

async function heardAtLevel(sessionId: string): Promise<number> {
  const { registrar, alice, agent, output } = nullDeviceHost(opened);
  expect(registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'den' } }).allowed).toBe(true);
  const engine = new VoiceEngine({ registrar, actor: agent, output, backend: constantLevel(LEVEL, RATE_HZ / 2), plugins: [{ source: silences }] });
  opened.push(engine);
  const played = await engine.play('One. Two.', { sessionId });
  expect(played.interrupted).toBeUndefined();
  expect(engine.plugins().faults).toEqual([]);
  return capturedSoFar(output).filter((sample) => sample === LEVEL).length;
}

describe("onAudio plugins and a user's accessibility override", () => {
  it('leave a covered stream as synthesized: the user hears every frame at its level', async () => {
    expect(await heardAtLevel('den')).toBeGreaterThanOrEqual(SPOKEN_FRAMES - PERIOD_FRAMES);
  }, 60_000);

  it('planted contrast: an uncovered stream gets the plugin\'s silence', async () => {
    expect(await heardAtLevel('elsewhere')).toBe(0);
  }, 60_000);
});
