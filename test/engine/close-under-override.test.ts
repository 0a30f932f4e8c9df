/**
 * Closing an engine is its owner's act: `close()` may not end a stream a user's accessibility
 * override covers when the owner itself may not (an agent). Planted: an agent, its interrupt of
 * its own covered speech refused, closed its engine and the runtime cut the speech for it
 * (`stop` by `system:voice-engine`, reason `engine_closed`). Counted on the null device's capture.
 */
import { describe, expect, it } from 'vitest';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';
import { capturedSoFar, position } from '../helpers/device-capture.js';
import { constantLevel, framesUntilFade, LEVEL, nullDeviceHost, playing, SEGMENT_FRAMES } from '../helpers/null-device-host.js';

const opened = closedAfterEach();

describe('close() under an accessibility override', () => {
  it("an agent's close() leaves its covered speech playing to its end (the agent's stop is refused, the runtime does not stop it for the agent)", async () => {
    const { registrar, alice, output, engine } = nullDeviceHost(opened);
    expect(registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'den' } }).allowed).toBe(true);
    const { result, streamId } = await playing(engine, output, registrar, { sessionId: 'den' });
    expect(engine.interrupt(streamId).allowed).toBe(false);
    const from = position(output);
    await engine.close();
    const played = await result;
    // Heard to its end: no cut, no stop or fail but the natural end.
    expect(played.interrupted).toBeUndefined();
    const ends = registrar.attestationStore.query({ target: streamId }).filter((record) => (record.action === 'stop' || record.action === 'fail') && record.decision === 'allowed');
    expect(ends).toHaveLength(1);
    expect(ends[0]?.parameters).not.toMatchObject({ reason: 'engine_closed' });
    const denied = registrar.attestationStore.query({ target: streamId, decision: 'denied' }).map((record) => [record.action, record.reason]);
    expect(denied).toContainEqual(['stop', 'accessibility_override']);
    // The device played the whole segment at its level from where the close came.
    const captured = capturedSoFar(output);
    expect(framesUntilFade(output, from, captured)).toBeGreaterThanOrEqual(SEGMENT_FRAMES - from - 1);
  }, 60_000);

  it("the override's owner closing her own engine still ends her covered speech (her stop is allowed)", async () => {
    const { registrar, alice, output } = nullDeviceHost(opened);
    const own = new VoiceEngine({ registrar, actor: alice, output, backend: constantLevel() });
    opened.push(own);
    expect(registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'den' } }).allowed).toBe(true);
    const { result, streamId } = await playing(own, output, registrar, { sessionId: 'den' });
    const from = position(output);
    await own.close();
    const played = await result;
    expect(played.interrupted).toBe(true);
    expect(played.endedBy).toMatchObject({ action: 'stop', actor: 'user:alice', reason: 'engine_closed' });
    expect(registrar.getState(streamId)?.state).toBe('stopped');
    expect(framesUntilFade(output, from)).toBeLessThan(SEGMENT_FRAMES - from);
    expect(capturedSoFar(output).includes(LEVEL)).toBe(true);
  }, 60_000);
});
