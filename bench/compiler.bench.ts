/**
 * Cost of the compiler, each against a baseline measured in the same run.
 * Run: node --import tsx bench/compiler.bench.ts
 *
 * 1. compile one sentence with numbers, money, a date and a time (what an assistant says), and a
 *    ten-sentence paragraph, against a naive baseline (split on ". " and collapse whitespace);
 * 2. compile a ten-paragraph SSML document against the same baseline on its text;
 * 3. adversarial input of ~90k characters (stray '&' in lenient SSML, dotted runs, run-on
 *    text): must stay linear, so each is reported per 1,000 characters next to plain prose.
 */
import { Bench, hrtimeNowTimestampProvider } from 'tinybench';
import { compile } from '../src/compiler/compile.js';
import { splitSentences } from '../src/compiler/sentences.js';

const sentence = 'Dr. Smith paid $1,234.56 on 2024-03-15 at 3:30 pm, e.g. 15% more than in 1999. ';
const paragraph = sentence.repeat(10);
const ssml = `<speak>${'<p>Hello <emphasis>there</emphasis>, it is <say-as interpret-as="date" format="ymd">2024-03-15</say-as>. <break time="200ms"/> Bye.</p>'.repeat(10)}</speak>`;
const prose = sentence.repeat(1100);
const ampersands = `<speak>${'a & '.repeat(22_000)}</speak>`;
const dotted = 'a.b-'.repeat(22_000);

/** Baseline: the least a compiler could do (cut at ". ", collapse spaces). */
function naive(text: string): string[] {
  return text.split(/(?<=[.!?])\s+/).map((part) => part.replace(/\s+/g, ' ').trim());
}

function stats(bench: Bench, name: string): { p50Ms: number; p99Ms: number; samples: number } {
  const result = bench.getTask(name)?.result;
  if (result === undefined || !('latency' in result)) throw new Error(`bench task ${name} did not complete`);
  return { p50Ms: result.latency.p50, p99Ms: result.latency.p99, samples: result.latency.samplesCount };
}

async function main(): Promise<void> {
  const bench = new Bench({ time: 1500, iterations: 10, warmupTime: 200, timestampProvider: hrtimeNowTimestampProvider });
  bench
    .add('compile 1 sentence', () => void compile(sentence))
    .add('baseline: naive 1 sentence', () => void naive(sentence))
    .add('compile 10 sentences', () => void compile(paragraph))
    .add('baseline: naive 10 sentences', () => void naive(paragraph))
    .add('compile SSML 10 paragraphs', () => void compile(ssml))
    .add('splitSentences 10 sentences', () => void splitSentences(paragraph))
    .add('compile prose ~90k chars', () => void compile(prose))
    .add('compile lenient SSML of stray & ~90k chars', () => void compile(ampersands, { lenient: true }))
    .add('compile dotted run ~90k chars', () => void compile(dotted, { format: 'text', maxSentenceChars: 100_000 }));
  await bench.run();
  const rows = bench.tasks.map((task) => ({ name: task.name, ...stats(bench, task.name) }));
  const p50 = (name: string): number => rows.find((row) => row.name === name)?.p50Ms ?? Number.NaN;
  console.table(rows.map((row) => ({ task: row.name, 'p50 ms': row.p50Ms.toFixed(3), 'p99 ms': row.p99Ms.toFixed(3), samples: row.samples })));
  const ratio = (name: string, baseline: string): string => (p50(name) / p50(baseline)).toFixed(1);
  const perThousand = (name: string, length: number): string => ((p50(name) * 1000) / length).toFixed(3);
  console.log(`compile 1 sentence: ${ratio('compile 1 sentence', 'baseline: naive 1 sentence')}x the naive baseline`);
  console.log(`compile 10 sentences: ${ratio('compile 10 sentences', 'baseline: naive 10 sentences')}x the naive baseline; ${(p50('compile 10 sentences') / 10).toFixed(3)} ms per sentence`);
  console.log(`per 1,000 chars: prose ${perThousand('compile prose ~90k chars', prose.length)} ms, stray & ${perThousand('compile lenient SSML of stray & ~90k chars', ampersands.length)} ms, dotted ${perThousand('compile dotted run ~90k chars', dotted.length)} ms`);
}

await main();
