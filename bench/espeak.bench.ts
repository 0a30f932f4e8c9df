/**
 * The espeak backend's cost per sentence on each path, against the baseline of the npm WASM
 * package used the way its README shows (a fresh instance per call), measured in the same run.
 * Run: node --import tsx bench/espeak.bench.ts
 *
 * 1. synthesize one sentence (WAV + IPA + word timings) through the system program, through the
 *    warm WASM instance in its worker thread (message round trip and WAV transfer included), and
 *    through a cold WASM instance (baseline);
 * 2. phonemize one sentence on both paths;
 * 3. the worker's fixed cost: a round trip of `espeak-ng --version` (memory restore + message);
 * 4. time to the first chunk of a five-sentence paragraph vs. the whole paragraph (process path).
 * The ratio of the two synthesize rows is what `auto` mode is decided on (see espeak-engine.ts).
 */
import { Bench, hrtimeNowTimestampProvider } from 'tinybench';
import { EspeakBackend } from '../src/backends/espeak.js';
import { phonemize } from '../src/backends/phonemize.js';
import { sharedEspeakWasm } from '../src/backends/espeak-wasm.js';
import { NEUTRAL_PROSODY, type SynthesisSegment } from '../src/graph/engine-output.js';

const SENTENCE = 'The quick brown fox jumps over the lazy dog.';
const PARAGRAPH =
  'The first sentence sets the scene. A second one adds detail to it. The third asks a question, does it not? ' +
  'A fourth answers it at some length, with a comma or two. And the fifth one closes the paragraph.';
const segment = (text: string): SynthesisSegment => ({ text, prosody: { ...NEUTRAL_PROSODY } });

interface EspeakModule {
  FS: { readFile(path: string): Uint8Array };
}
type EspeakFactory = (options: { arguments: string[]; print: () => void; printErr: () => void }) => Promise<EspeakModule>;

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _chunk of stream) {
    // consume
  }
}

function stats(bench: Bench, name: string): { p50Ms: number; p99Ms: number; samples: number } {
  const result = bench.getTask(name)?.result;
  if (result === undefined || !('latency' in result)) throw new Error(`bench task ${name} did not complete`);
  return { p50Ms: result.latency.p50, p99Ms: result.latency.p99, samples: result.latency.samplesCount };
}

async function main(): Promise<void> {
  const viaProcess = new EspeakBackend({ mode: 'process' });
  const viaWasm = new EspeakBackend({ mode: 'wasm' });
  const specifier: string = 'espeak-ng';
  const coldFactory = ((await import(specifier)) as { default: EspeakFactory }).default;
  // Warm both paths once (first WASM call compiles the module; first process call probes the binary).
  await drain(viaProcess.synthesize(segment(SENTENCE)));
  await drain(viaWasm.synthesize(segment(SENTENCE)));
  const wasm = await sharedEspeakWasm();

  const bench = new Bench({ time: 3000, iterations: 10, warmupTime: 200, timestampProvider: hrtimeNowTimestampProvider });
  bench
    .add('synthesize: system program', () => drain(viaProcess.synthesize(segment(SENTENCE))))
    .add('synthesize: warm WASM (worker)', () => drain(viaWasm.synthesize(segment(SENTENCE))))
    .add('baseline: cold WASM instance per call', async () => {
      const instance = await coldFactory({ arguments: ['-w', '/out.wav', '-v', 'en-us', SENTENCE], print: () => undefined, printErr: () => undefined });
      instance.FS.readFile('/out.wav');
    })
    .add('phonemize: system program', () => phonemize(SENTENCE, 'en-US', undefined, { mode: 'process' }))
    .add('phonemize: warm WASM (worker)', () => phonemize(SENTENCE, 'en-US', undefined, { mode: 'wasm' }))
    .add('worker round trip: --version', () => wasm.run({ args: ['--version'] }))
    .add('paragraph: first chunk (process)', async () => {
      for await (const _chunk of viaProcess.synthesize(segment(PARAGRAPH))) break;
    })
    .add('paragraph: all chunks (process)', () => drain(viaProcess.synthesize(segment(PARAGRAPH))));
  await bench.run();

  const names = bench.tasks.map((task) => task.name);
  const rows = names.map((name) => ({ name, ...stats(bench, name) }));
  const p50 = (name: string) => rows.find((row) => row.name === name)?.p50Ms ?? Number.NaN;
  console.table(rows.map((row) => ({ task: row.name, 'p50 ms': row.p50Ms.toFixed(2), 'p99 ms': row.p99Ms.toFixed(2), samples: row.samples })));
  const cold = p50('baseline: cold WASM instance per call');
  const wasmP50 = p50('synthesize: warm WASM (worker)');
  const processP50 = p50('synthesize: system program');
  console.log(`warm WASM (worker) vs cold WASM (baseline): ${(cold / wasmP50).toFixed(1)}x faster`);
  console.log(`system program vs cold WASM (baseline): ${(cold / processP50).toFixed(1)}x faster`);
  console.log(`warm WASM (worker) vs system program: ${(processP50 / wasmP50).toFixed(2)}x faster per sentence (p50)`);
  console.log(`first chunk of a 5-sentence paragraph: ${((p50('paragraph: first chunk (process)') / p50('paragraph: all chunks (process)')) * 100).toFixed(0)}% of the whole`);
  await Promise.all([viaProcess.close(), viaWasm.close()]);
}

await main();
