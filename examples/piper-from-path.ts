/**
 * Speaks a sentence with a Piper voice from files you already have (nothing is downloaded) and
 * writes a WAV file at the voice's own sample rate.
 *
 *   npx tsx examples/piper-from-path.ts <voice.onnx> [--config voice.onnx.json] [--speaker name] [--text "..."] [--out piper.wav]
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { encodeWav } from '../src/audio/wav.js';
import { PiperBackend } from '../src/backends/piper.js';
import { NEUTRAL_PROSODY } from '../src/graph/engine-output.js';

const USAGE = `usage: npx tsx examples/piper-from-path.ts <voice.onnx> [--config <voice.onnx.json>] [--speaker <name|id>] [--text <text>] [--out <file.wav>]
  <voice.onnx>  a Piper voice model, e.g. en_US-lessac-medium.onnx; its config defaults to <voice.onnx>.json`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    config: { type: 'string' },
    speaker: { type: 'string' },
    text: { type: 'string', default: 'Hello from Piper. This sentence was spoken from files on your disk.' },
    out: { type: 'string', default: 'piper.wav' },
    help: { type: 'boolean', short: 'h' },
  },
});
const [modelPath] = positionals;
if (values.help || modelPath === undefined) {
  console.error(USAGE);
  process.exit(values.help ? 0 : 2);
}

const backend = new PiperBackend({
  modelPath,
  ...(values.config ? { configPath: values.config } : {}),
  ...(values.speaker ? { speaker: values.speaker } : {}),
});
try {
  const voices = await backend.voices();
  console.log(`voices: ${voices.map((voice) => `${voice.id} (${voice.languages.join(', ')}, ${voice.sampleRateHz} Hz)`).join('; ')}`);
  const started = performance.now();
  let firstChunkMs: number | undefined;
  const chunks: Float32Array[] = [];
  let sampleRateHz = voices[0]?.sampleRateHz ?? 22_050;
  for await (const chunk of backend.synthesize({ text: values.text, prosody: { ...NEUTRAL_PROSODY } })) {
    firstChunkMs ??= performance.now() - started;
    sampleRateHz = chunk.sampleRateHz;
    chunks.push(chunk.pcm);
    console.log(`chunk: ${chunk.pcm.length} samples, phonemes: ${chunk.metadata.phonemes}`);
  }
  const totalMs = performance.now() - started;
  const pcm = new Float32Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  chunks.reduce((offset, chunk) => (pcm.set(chunk, offset), offset + chunk.length), 0);
  await writeFile(values.out, encodeWav(pcm, { sampleRateHz, channels: 1, format: 's16' }));
  const audioMs = (pcm.length / sampleRateHz) * 1000;
  console.log(`wrote ${values.out}: ${audioMs.toFixed(0)} ms of audio; first chunk ${firstChunkMs?.toFixed(0)} ms, total ${totalMs.toFixed(0)} ms (RTF ${(totalMs / audioMs).toFixed(2)})`);
} catch (error) {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
  process.exitCode = 1;
} finally {
  await backend.close();
}
