/**
 * Speaks text with the embedded voice (espeak-ng, no model files) and writes it to a file.
 *
 *   npx tsx examples/speak-to-file.ts [text] [out.wav|out.mp3|out.pcm]
 */
import { VoiceEngine } from '../src/index.js';

const text = process.argv[2] ?? 'Hello from Voice Soundboard. The time is 3:45 pm and the price is $12.50.';
const path = process.argv[3] ?? 'hello.wav';

const engine = new VoiceEngine();
try {
  const result = await engine.speakToFile(text, path, { targetLufs: -16 });
  console.log(
    `wrote ${result.file.path}: ${(result.durationMs / 1000).toFixed(2)} s at ${result.sampleRateHz} Hz, ` +
      `${result.loudness?.integratedLufs.toFixed(1)} LUFS, real-time factor ${result.realtimeFactor.toFixed(3)}`,
  );
  console.log(`lifecycle: ${result.attestations.map((attestation) => `${attestation.action}(${attestation.decision})`).join(' → ')}`);
} finally {
  await engine.close();
}
