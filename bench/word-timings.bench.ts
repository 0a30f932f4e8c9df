/**
 * How far the estimated espeak word timings (the WASM path and the program without the events
 * helper: `estimateWordTimings`) are from the measured ones (espeak-ng's own word/phoneme events
 * through build/espeak-events), on the same audio, over 24 sentences; and what the helper costs
 * per sentence against the espeak-ng program in the same run.
 * Run: node --import tsx bench/word-timings.bench.ts (needs build/espeak-events).
 */
import { Bench, hrtimeNowTimestampProvider } from 'tinybench';
import { decodeWav } from '../src/audio/wav.js';
import { DEFAULT_ESPEAK_EVENTS_HELPER, isEspeakEventsHelperBuilt, measuredWordTimings, runEspeakEventsHelper } from '../src/backends/espeak-events.js';
import { runEspeakProcess } from '../src/backends/espeak-process.js';
import { cleanEspeakIpa, estimateWordTimings } from '../src/backends/espeak-text.js';

const SENTENCES = [
  'The quick brown fox jumps over the lazy dog.',
  'Hello world, this is a test of the measured path.',
  'Please call Stella and ask her to bring these things with her from the store.',
  'Six spoons of fresh snow peas, five thick slabs of blue cheese, and maybe a snack for her brother Bob.',
  'We also need a small plastic snake and a big toy frog for the kids.',
  'She can scoop these things into three red bags, and we will go meet her Wednesday at the train station.',
  'When the sunlight strikes raindrops in the air, they act as a prism and form a rainbow.',
  'The rainbow is a division of white light into many beautiful colors.',
  'These take the shape of a long round arch, with its path high above.',
  'Do you know what time the meeting starts tomorrow?',
  'I would like a cup of coffee, with milk but no sugar.',
  'The weather today is cloudy with a chance of rain in the afternoon.',
  'Turn left at the second light, then keep going for about a mile.',
  'Our flight was delayed by two hours because of the storm.',
  'Reading a good book is one of the best ways to relax.',
  'Can you send me the report before the end of the day?',
  'The children played in the park until the sun went down.',
  'He opened the window to let some fresh air into the room.',
  'Every morning she runs along the river before breakfast.',
  'The museum is closed on Mondays, but open late on Fridays.',
  'Wait. Stop. Listen to me, just for a moment.',
  'Numbers like seven, eleven and forty two are easy to say.',
  'A gentle breeze moved the leaves of the old oak tree.',
  'Thank you very much for your help, it was greatly appreciated.',
];

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

if (!isEspeakEventsHelperBuilt()) {
  process.stderr.write(`word-timings bench: ${DEFAULT_ESPEAK_EVENTS_HELPER} is not built (apt-get install libespeak-ng-dev; node scripts/build.mjs --helper)\n`);
  process.exit(1);
}

const startErrors: number[] = [];
const endErrors: number[] = [];
let words = 0;
let skipped = 0;
for (const text of SENTENCES) {
  const run = await runEspeakEventsHelper({ helperPath: DEFAULT_ESPEAK_EVENTS_HELPER, args: ['-v', 'en-us'], text });
  const { pcm, sampleRateHz } = decodeWav(run.wav);
  const measured = measuredWordTimings(text, run.events);
  const estimated = estimateWordTimings(text, cleanEspeakIpa(run.ipa), pcm, sampleRateHz, 0);
  if (measured.map((w) => w.word).join(' ') !== estimated.map((w) => w.word).join(' ')) {
    skipped += 1;
    if (process.env.DEBUG) console.log(measured.map((w) => w.word).join(' '), '|', estimated.map((w) => w.word).join(' '));
    continue;
  }
  measured.forEach((timing, index) => {
    startErrors.push(Math.abs((estimated[index]?.startMs ?? NaN) - timing.startMs));
    endErrors.push(Math.abs((estimated[index]?.endMs ?? NaN) - timing.endMs));
  });
  words += measured.length;
}
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
console.log(`estimated vs measured word timings: ${SENTENCES.length - skipped} sentences, ${words} words (${skipped} sentences skipped: word lists differ)`);
console.table([
  { edge: 'start', meanMs: mean(startErrors).toFixed(1), p50Ms: percentile(startErrors, 50).toFixed(1), p95Ms: percentile(startErrors, 95).toFixed(1), maxMs: Math.max(...startErrors).toFixed(1) },
  { edge: 'end', meanMs: mean(endErrors).toFixed(1), p50Ms: percentile(endErrors, 50).toFixed(1), p95Ms: percentile(endErrors, 95).toFixed(1), maxMs: Math.max(...endErrors).toFixed(1) },
]);

// Cost per sentence: the helper (audio + IPA + events) vs the program (-w WAV + --ipa=3, the process path).
const bench = new Bench({ time: 1500, warmupTime: 200, timestampProvider: hrtimeNowTimestampProvider });
const sentence = SENTENCES[0] as string;
bench.add('espeak-ng program (--ipa=3, WAV on stdout)', async () => {
  await runEspeakProcess({ binaryPath: 'espeak-ng', args: ['--ipa=3', '-v', 'en-us', '--stdout', '--stdin'], stdinText: sentence });
});
bench.add('events helper (audio + IPA + events)', async () => {
  await runEspeakEventsHelper({ helperPath: DEFAULT_ESPEAK_EVENTS_HELPER, args: ['-v', 'en-us'], text: sentence });
});
await bench.run();
const rows = bench.tasks.map((task) => {
  const result = task.result;
  const latency = result && 'latency' in result ? result.latency : undefined;
  return { task: task.name, p50Ms: latency?.p50?.toFixed(2), p99Ms: latency?.p99?.toFixed(2), samples: latency?.samplesCount };
});
console.table(rows);
const [program, helper] = rows.map((row) => Number(row.p50Ms));
console.log(`helper / program p50 ratio: ${((helper ?? NaN) / (program ?? NaN)).toFixed(2)}`);
