/**
 * A two-voice dialogue from a script: each speaker gets their own voice, each turn is its own
 * registrar stream, and the result is one mixed WAV plus SubRip subtitles from the timeline.
 *
 *   npx tsx examples/two-voice-dialogue.ts [out.wav]
 */
import { writeFile } from 'node:fs/promises';
import { Conversation, VoiceEngine, writeAudioFile } from '../src/index.js';

const out = process.argv[2] ?? 'dialogue.wav';
const script = `
# A two-voice dialogue
Alice: Did you hear that noise?
Bob: (sighs) It was only the wind.
[pause 600ms]
Alice: The wind does not knock twice.
[overlap 300ms]
Bob: Then who is at the door?
`;

const conversation = Conversation.fromScript(script, { cast: { bob: { voice: 'en-gb+m3' } } });
const engine = new VoiceEngine();
try {
  const result = await engine.speak(conversation);
  await writeAudioFile(out, result.audio, { sampleRateHz: result.sampleRateHz, channels: 1 });
  await writeFile(out.replace(/\.wav$/, '') + '.srt', conversation.toSrt());
  for (const turn of conversation.timeline()) {
    console.log(`${turn.startMs.toFixed(0).padStart(5)}–${turn.endMs.toFixed(0).padStart(5)} ms  ${turn.speaker.padEnd(5)} (${turn.voice})  ${turn.words.length} words  "${turn.text}"`);
  }
  console.log(`wrote ${out} (${(result.durationMs / 1000).toFixed(2)} s, ${result.streamIds.length} turn streams, conversation ${result.conversationId})`);
} finally {
  await engine.close();
}
