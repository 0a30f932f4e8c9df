/**
 * The default voice end to end: time to first audio and real-time factor through
 * `VoiceEngine.stream()` (compiler + registrar lifecycle + backend + chunking), against the raw
 * backend call on the same text in the same run, so the ratio is the pipeline's overhead.
 * Run: npm run bench tts   (or node --import tsx bench/tts.bench.ts)
 *
 * Cases: one sentence, and a 1000-word text.
 */
import { Bench, hrtimeNowTimestampProvider } from 'tinybench';
import { EspeakBackend } from '../src/backends/espeak.js';
import { splitSentences } from '../src/compiler/index.js';
import { VoiceEngine } from '../src/engine/voice-engine.js';
import { NEUTRAL_PROSODY } from '../src/graph/engine-output.js';

const SENTENCE = 'The quick brown fox jumps over the lazy dog.';
const WORDS = [
  'speech', 'runtime', 'latency', 'voice', 'assistant', 'stream', 'sentence', 'audio', 'device', 'agent',
  'registrar', 'override', 'user', 'game', 'narrator', 'character', 'dialogue', 'scene', 'music', 'silence',
];
/** About 1000 words in sentences of 8–15 words, deterministic. */
function longText(): string {
  const sentences: string[] = [];
  let words = 0;
  let seed = 7;
  while (words < 1000) {
    const length = 8 + (seed % 8);
    const sentence = Array.from({ length }, (_, i) => WORDS[(seed * 31 + i * 17) % WORDS.length] ?? 'word');
    sentences.push(`${sentence.join(' ').replace(/^./, (c) => c.toUpperCase())}.`);
    words += length;
    seed = (seed * 1103515245 + 12345) % 2147483647;
  }
  return sentences.join(' ');
}
const LONG = longText();

interface Run {
  firstMs: number;
  totalMs: number;
  audioMs: number;
}

async function viaEngine(engine: VoiceEngine, text: string): Promise<Run> {
  const started = performance.now();
  let firstMs = -1;
  let audioMs = 0;
  for await (const chunk of engine.stream(text)) {
    if (firstMs < 0 && chunk.kind === 'speech') firstMs = performance.now() - started;
    audioMs += chunk.durationMs;
  }
  return { firstMs, totalMs: performance.now() - started, audioMs };
}

/** The baseline: the backend alone, one call per sentence (what the engine's plan does), no compiler, no registrar. */
async function viaBackend(backend: EspeakBackend, sentences: string[]): Promise<Run> {
  const started = performance.now();
  let firstMs = -1;
  let audioMs = 0;
  for (const text of sentences) {
    for await (const output of backend.synthesize({ text, prosody: { ...NEUTRAL_PROSODY } })) {
      if (firstMs < 0) firstMs = performance.now() - started;
      audioMs += (output.pcm.length / output.channels / output.sampleRateHz) * 1000;
    }
  }
  return { firstMs, totalMs: performance.now() - started, audioMs };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const engine = new VoiceEngine();
  const backend = new EspeakBackend();
  const longSentences = splitSentences(LONG);
  await viaEngine(engine, SENTENCE);
  await viaBackend(backend, [SENTENCE]);

  const runs = new Map<string, Run[]>();
  const record = (name: string, run: Run) => runs.set(name, [...(runs.get(name) ?? []), run]);
  const bench = new Bench({ time: 4000, iterations: 5, warmupTime: 0, timestampProvider: hrtimeNowTimestampProvider });
  bench
    .add('sentence: raw backend (baseline)', async () => record('sentence: raw backend (baseline)', await viaBackend(backend, [SENTENCE])))
    .add('sentence: engine.stream()', async () => record('sentence: engine.stream()', await viaEngine(engine, SENTENCE)))
    .add('1000 words: raw backend (baseline)', async () => record('1000 words: raw backend (baseline)', await viaBackend(backend, longSentences)))
    .add('1000 words: engine.stream()', async () => record('1000 words: engine.stream()', await viaEngine(engine, LONG)));
  await bench.run();

  const rows = [...runs.entries()].map(([name, list]) => {
    const firsts = list.map((run) => run.firstMs);
    const totals = list.map((run) => run.totalMs);
    const audio = list[0]?.audioMs ?? 0;
    return {
      task: name,
      runs: list.length,
      'first audio p50 (ms)': percentile(firsts, 50).toFixed(1),
      'first audio p99 (ms)': percentile(firsts, 99).toFixed(1),
      'total p50 (ms)': percentile(totals, 50).toFixed(1),
      'audio (s)': (audio / 1000).toFixed(1),
      'real-time factor p50': (percentile(totals, 50) / audio).toFixed(4),
    };
  });
  console.table(rows);
  for (const size of ['sentence', '1000 words']) {
    const raw = runs.get(`${size}: raw backend (baseline)`) ?? [];
    const piped = runs.get(`${size}: engine.stream()`) ?? [];
    const ratio = (pick: (run: Run) => number) => percentile(piped.map(pick), 50) / percentile(raw.map(pick), 50);
    console.log(`${size}: engine/raw p50 ratio — first audio ${ratio((run) => run.firstMs).toFixed(2)}x, total ${ratio((run) => run.totalMs).toFixed(2)}x`);
  }
  await engine.close();
  await backend.close();
}

await main();
