/**
 * Loads one example plugin per hook kind into an engine and shows what each changes.
 *
 *   npx tsx examples/plugins/run.ts
 */
import { join } from 'node:path';
import { AudioOutput, VoiceEngine } from '../../src/index.js';

const here = import.meta.dirname;
const plugin = (name: string) => join(here, `${name}.mjs`);
const peak = (pcm: Float32Array) => pcm.reduce((max, sample) => Math.max(max, Math.abs(sample)), 0);

// transformText: "<beat>" is a custom markup for a one-second pause.
const plain = new VoiceEngine();
const baseline = await plain.speak('Hello there.');
const beat = new VoiceEngine();
await beat.loadPlugin(plugin('beat-markup'));
const beaten = await beat.speak('Hello <beat> there.');
console.log(`transformText: ${Math.round(beaten.durationMs - baseline.durationMs) >= 900 ? 'a beat adds about a second' : 'no beat'}`);

// onGraph: a granted pause, applied through the registrar as plugin:breathe.
const breathe = new VoiceEngine();
await breathe.loadPlugin(plugin('breathe'), { grant: ['mutate_graph'] });
await breathe.speak('Hello there. How are you?');
const mutation = breathe.registrar.attestations().find((record) => record.action === 'mutate_graph');
console.log(`onGraph: mutate_graph by ${mutation?.actor?.kind}:${mutation?.actor?.id} ${mutation?.decision}`);

// onAudio: every sample halved.
const half = new VoiceEngine();
await half.loadPlugin(plugin('half-gain'));
const halved = await half.speak('Hello there.');
console.log(`onAudio: peak ${(peak(halved.audio) / peak(baseline.audio)).toFixed(2)} of the plain one`);

// synthesize: an experimental backend.
const sine = new VoiceEngine();
await sine.loadPlugin(plugin('sine-voice'));
const toned = await sine.speak('Hello', { backend: 'plugin-sine-voice' });
console.log(`synthesize: ${toned.backend} at ${toned.sampleRateHz} Hz`);

// onSchedule: a second play mixes with the first instead of queueing behind it (null device, no sound card).
const output = new AudioOutput({ backend: 'null' });
const mixer = new VoiceEngine({ output });
await mixer.loadPlugin(plugin('always-mix'));
const first = mixer.play('The first play is a long sentence that keeps going for a while.');
while (!mixer.schedule().active.some((entry) => entry.playing)) await new Promise((resolve) => setTimeout(resolve, 10));
const second = mixer.play('Second.');
let most = 0;
while (most < 2) {
  most = Math.max(most, mixer.schedule().active.length);
  if (mixer.schedule().queued.length > 0) break;
  await new Promise((resolve) => setTimeout(resolve, 10));
}
console.log(`onSchedule: ${most === 2 ? 'the second play mixed with the first' : 'the second play queued'}`);
await Promise.all([first, second]);

for (const engine of [plain, beat, breathe, half, sine, mixer]) await engine.close();
output.close();
