/**
 * Speech from a live text stream: time from the first sentence boundary in the input to the
 * first audio chunk of `engine.stream(source)`, against the baseline of `engine.stream()` of that
 * same sentence alone, measured in the same run (rows interleaved sample by sample, so machine
 * load hits all alike). Run: npm run bench text-stream
 *
 * The source hands out an LLM-like token stream (each word with its leading space). "Boundary"
 * is the moment the source hands out the delta that ends the first sentence (`…short.`); the
 * cutter learns it is a sentence end from the next delta, so the paced rows include that wait
 * (one token interval) unless `maxWaitMs: 0` lets the cutter take a probable sentence end at
 * once, the back-to-back rows only the engine's own overhead. Baseline: from the
 * `stream()` call to its first chunk. Backends: espeak-ng (the default voice) and the tone
 * fixture of the tests (no synthesis cost: the engine's overhead alone). `live` and `alone` are
 * also rows of bench/realtime.bench.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import type { SpeechBackend } from '../src/backends/backend.js';
import { VoiceEngine } from '../src/engine/voice-engine.js';
import { ToneWordsBackend } from '../test/helpers/tone-words-backend.js';
import { tokenize } from '../test/helpers/text-source.js';

const FIRST_SENTENCE = 'The first sentence is short.';
const ANSWER = `${FIRST_SENTENCE} And then the model keeps writing, token after token, until it is done.`;
/** Recorded samples per row, after the warm-up. */
const SAMPLES_PER_ROW = Number(process.env.TEXT_STREAM_SAMPLES ?? 60);
const WARMUP_PER_ROW = 3;
/** Token pacing of the paced rows: 50 tokens per second, a brisk LLM. */
const TOKEN_INTERVAL_MS = 20;

/** An LLM-like source; `boundary.atMs` is set when the delta ending the first sentence is handed out. */
async function* llm(intervalMs: number, boundary: { atMs: number }): AsyncGenerator<string> {
  let text = '';
  for (const token of tokenize(ANSWER)) {
    if (intervalMs > 0) await sleep(intervalMs);
    text += token;
    if (boundary.atMs < 0 && text.trimStart() === FIRST_SENTENCE) boundary.atMs = performance.now();
    yield token;
  }
}

/** ms from the first sentence boundary in the input to the first chunk (the stream stops there). */
export async function live(engine: VoiceEngine, intervalMs: number, maxWaitMs?: number): Promise<number> {
  const boundary = { atMs: -1 };
  for await (const chunk of engine.stream(llm(intervalMs, boundary), maxWaitMs === undefined ? {} : { textStream: { maxWaitMs } })) {
    void chunk;
    break;
  }
  return performance.now() - boundary.atMs;
}

/** ms from `stream(sentence)` to its first chunk. */
export async function alone(engine: VoiceEngine): Promise<number> {
  const started = performance.now();
  for await (const chunk of engine.stream(FIRST_SENTENCE)) {
    void chunk;
    break;
  }
  return performance.now() - started;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const engines: Array<[string, VoiceEngine]> = [
    ['espeak', new VoiceEngine()],
    ['tone fixture', new VoiceEngine({ backend: new ToneWordsBackend({ sampleRateHz: 24_000, toneFrames: 2400, gapFrames: 480, level: 0.5 }) as SpeechBackend })],
  ];
  const rows: Array<[string, (engine: VoiceEngine) => Promise<number>]> = [
    ['sentence alone (baseline)', alone],
    ['live, tokens back to back', (engine) => live(engine, 0)],
    [`live, a token every ${TOKEN_INTERVAL_MS} ms`, (engine) => live(engine, TOKEN_INTERVAL_MS)],
    [`live, a token every ${TOKEN_INTERVAL_MS} ms, maxWaitMs 0`, (engine) => live(engine, TOKEN_INTERVAL_MS, 0)],
  ];
  const samples = new Map<string, number[]>();
  for (let round = 0; round < WARMUP_PER_ROW + SAMPLES_PER_ROW; round++) {
    for (const [backend, engine] of engines) {
      for (const [row, run] of rows) {
        const ms = await run(engine);
        if (round < WARMUP_PER_ROW) continue;
        const key = `${backend}: ${row}`;
        samples.set(key, [...(samples.get(key) ?? []), ms]);
      }
    }
  }
  const table = [...samples.entries()].map(([task, values]) => {
    const baseline = samples.get(`${task.split(':')[0]}: sentence alone (baseline)`) ?? [];
    return {
      task,
      samples: values.length,
      'p50 (ms)': percentile(values, 50).toFixed(2),
      'p99 (ms)': percentile(values, 99).toFixed(2),
      'p50 − baseline p50 (ms)': (percentile(values, 50) - percentile(baseline, 50)).toFixed(2),
      'p50 / baseline p50': (percentile(values, 50) / percentile(baseline, 50)).toFixed(2),
    };
  });
  console.table(table);
  for (const [, engine] of engines) await engine.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
