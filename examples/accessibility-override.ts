/**
 * The registrar in action: an agent speaks, a user's accessibility override slows speech down and
 * keeps the agent from interrupting, and the attestation log explains every decision afterwards.
 * Plays on miniaudio's null device (no sound card needed).
 *
 *   npx tsx examples/accessibility-override.ts
 */
import { AudioOutput, AudioRegistrar, VoiceEngine, verify } from '../src/index.js';

const registrar = new AudioRegistrar();
const output = new AudioOutput({ backend: 'null', sampleRateHz: 22050, channels: 1 });
// The host holds the registrar and every handle; the agent's engine holds only the agent's handle.
const agent = registrar.registerActor('agent:assistant');
const alice = registrar.registerActor('user:alice', { sessions: ['kitchen'] }); // she may enable the kitchen's override
const engine = new VoiceEngine({ registrar, actor: agent, output });

try {
  const text = 'Your meeting starts in five minutes. Do you want me to read the agenda?';
  const before = await engine.speak(text, { sessionId: 'kitchen' });
  registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'kitchen', speechRate: 0.7 } });
  const after = await engine.speak(text, { sessionId: 'kitchen' });
  console.log(`agent alone: ${before.durationMs.toFixed(0)} ms; with alice's override (rate 0.7): ${after.durationMs.toFixed(0)} ms`);

  const playing = engine.play(text, { sessionId: 'kitchen' });
  while (engine.activeStreams().length === 0 || registrar.getState(engine.activeStreams()[0] ?? '')?.state !== 'playing') {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const streamId = engine.activeStreams()[0] ?? '';
  const byAgent = engine.interrupt(streamId);
  console.log(`agent interrupts: ${byAgent.decision} (${byAgent.reason})`);
  const byAlice = registrar.request({ action: 'interrupt', actor: alice, target: streamId });
  console.log(`alice interrupts: ${byAlice.decision}`);
  const result = await playing;
  console.log(`playback interrupted: ${result.interrupted === true}; stream is ${registrar.getState(streamId)?.state}`);

  const log = registrar.attestationStore.all();
  const report = verify(log);
  console.log(`${log.length} attestations, hash chain and invariants ${report.ok ? 'verified' : `BROKEN: ${JSON.stringify(report)}`}`);
} finally {
  await engine.close();
  output.close();
}
