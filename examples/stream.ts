/**
 * Streams speech sentence by sentence: each chunk arrives as soon as its sentence is synthesized,
 * so playback (or a network send) can start long before the whole text is done.
 *
 *   npx tsx examples/stream.ts ["some long text"]
 */
import { VoiceEngine } from '../src/index.js';

const text =
  process.argv[2] ??
  'Streaming keeps latency low. Each sentence is synthesized on its own. {joy}The first one plays while the rest are still being made!{/joy} [pause 300ms] That is all.';

const engine = new VoiceEngine();
const started = performance.now();
try {
  for await (const chunk of engine.stream(text)) {
    const at = (performance.now() - started).toFixed(0).padStart(4);
    const what = chunk.kind === 'speech' ? JSON.stringify(chunk.text) : chunk.kind;
    console.log(`+${at} ms  #${chunk.index} ${chunk.durationMs.toFixed(0).padStart(5)} ms of audio  ${what}`);
  }
} finally {
  await engine.close();
}
