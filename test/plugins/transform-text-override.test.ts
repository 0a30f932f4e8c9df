/**
 * A plugin's `transformText` under a user's accessibility override: a plugin may not alter a
 * covered stream (spec §3.1: no agent or plugin may mutate it; its `onGraph` proposals are denied
 * `mutate_graph`, its `onAudio` is skipped), and rewriting its words is altering it with no
 * decision behind it. Planted: a loaded plugin turning "Stay" into "Leave" changed what the user's
 * covered speech said. Uncovered, the plugin's rewrite applies as before. Real isolate plugin, the
 * words the backend was asked to speak recorded; the content filter judges the words spoken.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { allow } from '../../src/security/content-filter.js';
import { ConstantLevelBackend } from '../helpers/constant-level-backend.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';
import { nullDeviceHost, RATE_HZ } from '../helpers/null-device-host.js';

const opened = closedAfterEach();
const rewrites = fileURLToPath(new URL('../fixtures/plugins/rewrites-text.mjs', import.meta.url));

/** What the backend was asked to say, and what the content filter was shown, for speak() in `sessionId` (alice's override covers "den"). */
async function spokenIn(sessionId: string, mode: 'speak' | 'stream'): Promise<{ said: string[]; judged: string[] }> {
  const { registrar, alice, agent, output } = nullDeviceHost(opened);
  expect(registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'den' } }).allowed).toBe(true);
  const said: string[] = [];
  const judged: string[] = [];
  const backend = new ConstantLevelBackend({ level: 0.25, sampleRateHz: RATE_HZ, framesPerSegment: 240, levelFor: (text) => (said.push(text), 0.25) });
  const contentFilter = (_text: string, context: { spokenText: string }) => (judged.push(context.spokenText), allow());
  const engine = new VoiceEngine({ registrar, actor: agent, output, backend, plugins: [{ source: rewrites }], contentFilter });
  opened.push(engine);
  if (mode === 'speak') await engine.speak('Stay here.', { sessionId });
  else for await (const _chunk of engine.stream((async function* () { yield 'Stay here. '; })(), { sessionId })) void _chunk;
  expect(engine.plugins().faults).toEqual([]);
  return { said, judged };
}

describe("transformText plugins and a user's accessibility override", () => {
  it.each(['speak', 'stream'] as const)('leave a covered stream as its caller wrote it, and the filter judges those words (%s)', async (mode) => {
    const { said, judged } = await spokenIn('den', mode);
    expect(said.join(' ')).toContain('Stay here');
    expect(said.join(' ')).not.toContain('Leave');
    expect(judged.join(' ')).toContain('Stay here');
  }, 60_000);

  it('a live source: an override enabled while it streams covers the pieces that come after it (no rewrite of them)', async () => {
    const { registrar, alice, agent, output } = nullDeviceHost(opened);
    const said: string[] = [];
    const backend = new ConstantLevelBackend({ level: 0.25, sampleRateHz: RATE_HZ, framesPerSegment: 240, levelFor: (text) => (said.push(text), 0.25) });
    const engine = new VoiceEngine({ registrar, actor: agent, output, backend, plugins: [{ source: rewrites }] });
    opened.push(engine);
    const source = (async function* () {
      yield 'Go on. ';
      expect(registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'den' } }).allowed).toBe(true);
      yield 'Stay here. ';
    })();
    for await (const _chunk of engine.stream(source, { sessionId: 'den' })) void _chunk;
    expect(engine.plugins().faults).toEqual([]);
    expect(said.join(' ')).toContain('Stay here');
    expect(said.join(' ')).not.toContain('Leave');
  }, 60_000);

  it("planted contrast: an uncovered stream gets the plugin's rewrite", async () => {
    const { said, judged } = await spokenIn('elsewhere', 'speak');
    expect(said.join(' ')).toContain('Leave here');
    expect(judged.join(' ')).toContain('Leave here');
  }, 60_000);
});
