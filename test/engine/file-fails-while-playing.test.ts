// speakToFile({ play: true }) whose file target fails while the device plays: the failure is the
// owner's request to end the stream (attested as the engine's actor), not the runtime's. Planted:
// an agent whose interrupt of its covered speech was refused broke its own writable stream, and
// the runtime failed the stream for it (the device was cut under the user's override). Real addon
// (miniaudio's null device), real writable streams; frames and records counted, deadlines only.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';
import { capturedSoFar } from '../helpers/device-capture.js';
import { constantLevel, LEVEL, nullDeviceHost, PERIOD_FRAMES, RATE_HZ } from '../helpers/null-device-host.js';
import { waitUntil } from '../helpers/waiting.js';

const opened = closedAfterEach();
const SENTENCES = 'One. Two. Three. Four. Five. Six. Seven. Eight.';
const SPEECH_FRAMES = 8 * (RATE_HZ / 2);

/** A writable the test breaks: every write after `broken.now` fails. */
function breakable(): { stream: Writable; broken: { now: boolean } } {
  const broken = { now: false };
  return { stream: new Writable({ write: (_chunk, _encoding, done) => done(broken.now ? new Error('planted write failure') : null) }), broken };
}

/** Eight half-second sentences (twice the 2 s write-ahead) played while written to `stream` by an agent of session "den"; resolves once the stream plays. */
async function agentWriting(covered: boolean, stream: Writable) {
  const { registrar, alice, output } = nullDeviceHost(opened);
  if (covered) expect(registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'den' } }).allowed).toBe(true);
  const agent = new VoiceEngine({ registrar, actor: registrar.registerActor('agent:writer'), output, backend: constantLevel(LEVEL, RATE_HZ / 2), sessionId: 'den' });
  opened.push(agent);
  let streamId = '';
  const call = agent.speakToFile(SENTENCES, stream, { play: true, onStreamStart: (id) => (streamId = id) });
  const outcome = call.then(() => null, (error: { code?: string }) => error);
  await waitUntil(() => streamId !== '' && registrar.getState(streamId)?.state === 'playing', 'the stream to play');
  return { registrar, output, agent, streamId, outcome };
}

describe('speakToFile({ play: true }) whose file fails while playing', () => {
  it('under a user override: the agent cannot end its covered speech by breaking its own file: the device plays it to its end, then the call rejects', async () => {
    const { stream, broken } = breakable();
    const { registrar, output, agent, streamId, outcome } = await agentWriting(true, stream);
    expect(agent.interrupt(streamId).allowed).toBe(false);
    broken.now = true;
    expect(await outcome).toMatchObject({ code: 'OUTPUT_CLOSED' });
    const records = registrar.attestationStore.query({ target: streamId });
    // The write failure asked as the agent (refused); the only end is the runtime's natural-end stop.
    expect(records.filter((record) => record.decision === 'denied').map((record) => [record.action, `${record.actor?.kind}:${record.actor?.id}`, record.reason])).toEqual([
      ['interrupt', 'agent:writer', 'accessibility_override'],
      ['stop', 'agent:writer', 'accessibility_override'],
    ]);
    const ends = records.filter((record) => (record.action === 'stop' || record.action === 'fail') && record.decision === 'allowed');
    expect(ends.map((record) => [record.action, record.actor?.kind, (record.parameters as { reason?: string }).reason])).toEqual([['stop', 'system', 'end of speech']]);
    // All eight sentences were heard at their level.
    expect(capturedSoFar(output).filter((sample) => sample === LEVEL).length).toBeGreaterThanOrEqual(SPEECH_FRAMES - PERIOD_FRAMES);
  }, 60_000);

  it('uncovered: the failure ends the stream by the owner\'s stop (attested as the agent), the device stops, the call rejects', async () => {
    const { stream, broken } = breakable();
    const { registrar, output, streamId, outcome } = await agentWriting(false, stream);
    broken.now = true;
    expect(await outcome).toMatchObject({ code: 'OUTPUT_CLOSED' });
    const ends = registrar.attestationStore.query({ target: streamId }).filter((record) => (record.action === 'stop' || record.action === 'fail') && record.decision === 'allowed');
    expect(ends.map((record) => [record.action, `${record.actor?.kind}:${record.actor?.id}`])).toEqual([['stop', 'agent:writer']]);
    expect(JSON.stringify(ends[0]?.parameters)).toContain('planted write failure');
    expect(capturedSoFar(output).filter((sample) => sample === LEVEL).length).toBeLessThan(SPEECH_FRAMES - PERIOD_FRAMES);
  }, 60_000);
});
