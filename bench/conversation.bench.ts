/**
 * Rendering a conversation: 20 turns by two speakers (gaps, overlaps, a barge-in), through
 * `engine.speak(conversation)` (one stream per turn, edge trim, placement, mixdown), against the
 * same 20 texts spoken one by one with `engine.speak()` in the same run, so the ratio is the
 * conversation layer's own cost. Prints p50/p99 and × real time.
 * Run: npm run bench conversation   (or node --import tsx bench/conversation.bench.ts)
 */
import { Bench, hrtimeNowTimestampProvider } from 'tinybench';
import { Conversation } from '../src/conversation/conversation.js';
import type { ConversationTurnInput } from '../src/conversation/turns.js';
import { VoiceEngine } from '../src/engine/voice-engine.js';

const LINES = [
  'Did you hear that?', 'Only the wind, I think.', 'The wind does not knock twice.', 'Then who is at the door?',
  'I will go and look.', 'Wait, take the lamp with you.', 'It is dark out there.', 'I know, I know.',
  'Anyone there?', 'Nobody answers.', 'Close the door, quickly!', 'Done. It is locked now.',
];
/** 20 turns, alternating speakers; every fifth overlaps, every seventh barges in. */
const TURNS: ConversationTurnInput[] = Array.from({ length: 20 }, (_, index) => ({
  speaker: index % 2 === 0 ? 'Alice' : 'Bob',
  text: LINES[index % LINES.length] ?? 'Hello.',
  ...(index > 0 && index % 7 === 0 ? { bargeIn: true } : index > 0 && index % 5 === 0 ? { overlapMs: 200 } : { gapMs: 150 + (index % 3) * 100 }),
}));

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const engine = new VoiceEngine();
  const voices = new Map([['Alice', 'en-us'], ['Bob', 'en-us+f3']]);
  const totals = new Map<string, number[]>();
  const audioMs = new Map<string, number>();
  const record = (name: string, ms: number) => totals.set(name, [...(totals.get(name) ?? []), ms]);
  const bench = new Bench({ time: 6000, iterations: 5, warmupTime: 0, timestampProvider: hrtimeNowTimestampProvider });
  bench
    .add('20 turns: engine.speak() each (baseline)', async () => {
      const started = performance.now();
      let total = 0;
      for (const turn of TURNS) total += (await engine.speak(turn.text, { voice: voices.get(turn.speaker) ?? 'en-us' })).durationMs;
      audioMs.set('20 turns: engine.speak() each (baseline)', total);
      record('20 turns: engine.speak() each (baseline)', performance.now() - started);
    })
    .add('20 turns: engine.speak(conversation)', async () => {
      const started = performance.now();
      const result = await engine.speak(new Conversation(TURNS));
      audioMs.set('20 turns: engine.speak(conversation)', result.durationMs);
      record('20 turns: engine.speak(conversation)', performance.now() - started);
    });
  await bench.run();
  console.table(
    [...totals.entries()].map(([task, list]) => ({
      task,
      runs: list.length,
      'total p50 (ms)': percentile(list, 50).toFixed(1),
      'total p99 (ms)': percentile(list, 99).toFixed(1),
      'audio (s)': ((audioMs.get(task) ?? 0) / 1000).toFixed(1),
      '× real time p50': ((audioMs.get(task) ?? 0) / percentile(list, 50)).toFixed(1),
    })),
  );
  const baseline = totals.get('20 turns: engine.speak() each (baseline)') ?? [];
  const conversation = totals.get('20 turns: engine.speak(conversation)') ?? [];
  console.log(`conversation/baseline p50 ratio ${(percentile(conversation, 50) / percentile(baseline, 50)).toFixed(2)}x`);
  await engine.close();
}

await main();
