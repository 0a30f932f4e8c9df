/**
 * Plugin hook overhead (issue 12): an identity `onAudio` and `onGraph` hook, in an isolate vs
 * trusted in-process, per call (p50/p99) and per second of audio in 20 ms chunks (24 kHz mono:
 * 480 samples, 50 calls per second), against a baseline measured in the same run (the hook point
 * with no plugin). An isolate call is a round trip to the plugin's sandbox process (its watchdog's
 * price; the in-process isolate it replaced took some 10 µs a call). Goal: isolate hook overhead
 * ≤ 5 % of real time for 20 ms chunks.
 * `npm run bench plugins`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackendRegistry } from '../src/backends/registry.js';
import { compile } from '../src/compiler/index.js';
import { EnginePlugins } from '../src/plugins/plugin-set.js';
import { AudioRegistrar } from '../src/registrar/registrar.js';
import { measure, us } from './latency.js';

const SAMPLE_RATE_HZ = 24_000;
const CHUNK_SAMPLES = (SAMPLE_RATE_HZ * 20) / 1000;
const CHUNKS_PER_SECOND = 50;
const GOAL_PERCENT = 5;

const dir = mkdtempSync(join(tmpdir(), 'vs-plugin-bench-'));
const source = join(dir, 'identity.mjs');
writeFileSync(
  source,
  `export const manifest = { name: 'identity', version: '1.0.0', apiVersion: '1', hooks: ['onAudio', 'onGraph'], permissions: [] };
export function onAudio(chunk) { return chunk.pcm; }
export function onGraph() { return []; }`,
);

const registrar = new AudioRegistrar();
const none = new EnginePlugins(registrar, new BackendRegistry());
const isolate = new EnginePlugins(registrar, new BackendRegistry());
const trusted = new EnginePlugins(registrar, new BackendRegistry());
await isolate.load(source);
await trusted.load(source, { trusted: true });

const pcm = new Float32Array(CHUNK_SAMPLES).map((_, index) => Math.sin(index / 10) * 0.5);
const view = { streamId: 'bench', index: 0, kind: 'speech' as const, sampleRateHz: SAMPLE_RATE_HZ, channels: 1 };
const graph = compile('The quick brown fox jumps over the lazy dog. It was not amused, and said so at length. Then it left.');
const graphSeconds = graph.durationMs / 1000;

const stats = await measure(
  {
    'onAudio none': () => (none.has('onAudio') ? none.onAudio(pcm, view) : pcm),
    'onAudio isolate': () => isolate.onAudio(pcm, view),
    'onAudio trusted': () => trusted.onAudio(pcm, view),
    'onGraph none': () => none.onGraph(graph, 'bench'),
    'onGraph isolate': () => isolate.onGraph(graph, 'bench'),
    'onGraph trusted': () => trusted.onGraph(graph, 'bench'),
  },
  400,
);

console.log(`identity hooks; 20 ms chunks of ${CHUNK_SAMPLES} samples; graph of ${graph.nodes.length} nodes, ~${graphSeconds.toFixed(1)} s of speech`);
console.log('task               p50          p99          per second of audio   % of real time');
for (const [name, { p50Us, p99Us }] of Object.entries(stats)) {
  const baseline = stats[name.startsWith('onAudio') ? 'onAudio none' : 'onGraph none']?.p50Us ?? 0;
  const overheadUs = Math.max(0, p50Us - baseline);
  const perSecondUs = name.startsWith('onAudio') ? overheadUs * CHUNKS_PER_SECOND : overheadUs / graphSeconds;
  const percent = (perSecondUs / 1_000_000) * 100;
  console.log(`${name.padEnd(18)} ${us(p50Us).padStart(11)}  ${us(p99Us).padStart(11)}  ${us(perSecondUs).padStart(20)}   ${percent.toFixed(3)} %`);
}
const isolatePercent = (((stats['onAudio isolate']?.p50Us ?? 0) - (stats['onAudio none']?.p50Us ?? 0)) * CHUNKS_PER_SECOND) / 10_000;
console.log(`isolate onAudio overhead: ${isolatePercent.toFixed(3)} % of real time (goal ≤ ${GOAL_PERCENT} %): ${isolatePercent <= GOAL_PERCENT ? 'met' : 'NOT met'}`);

isolate.dispose();
trusted.dispose();
await registrar.close();
rmSync(dir, { recursive: true, force: true });
