/**
 * Speaks a sentence with Kokoro from files you already have (nothing is downloaded) and writes a
 * WAV file.
 *
 *   npx tsx examples/kokoro-from-path.ts <model.onnx> <voices> [--voice af_heart] [--text "..."] [--out kokoro.wav]
 *
 * <voices> is a voices file (kokoro-onnx `voices-v1.0.bin` / any .npz, a raw float32 `.bin` voice,
 * a `.npy`, a `voices.json`) or a directory of `.bin`/`.npy` voices (onnx-community `voices/`).
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { encodeWav } from '../src/audio/wav.js';
import { KokoroBackend } from '../src/backends/kokoro.js';
import { NEUTRAL_PROSODY } from '../src/graph/engine-output.js';

const USAGE = `usage: npx tsx examples/kokoro-from-path.ts <model.onnx> <voices> [--voice <id>] [--text <text>] [--out <file.wav>] [--speed <0.5-2>]
  <model.onnx>  a Kokoro ONNX export (e.g. kokoro-v1.0.onnx or onnx/model.onnx)
  <voices>      voices-v1.0.bin / .npz / .bin / .npy / .json, or a directory of .bin voices`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    voice: { type: 'string' },
    text: { type: 'string', default: 'Hello from Kokoro. This sentence was spoken from files on your disk.' },
    out: { type: 'string', default: 'kokoro.wav' },
    speed: { type: 'string', default: '1' },
    help: { type: 'boolean', short: 'h' },
  },
});
const [modelPath, voicesPath] = positionals;
if (values.help || modelPath === undefined || voicesPath === undefined) {
  console.error(USAGE);
  process.exit(values.help ? 0 : 2);
}

const backend = new KokoroBackend({ modelPath, voicesPath, speed: Number(values.speed), ...(values.voice ? { defaultVoice: values.voice } : {}) });
try {
  const voices = await backend.voices();
  console.log(`${voices.length} voices: ${voices.map((voice) => voice.id).join(', ')}`);
  const started = performance.now();
  let firstChunkMs: number | undefined;
  const chunks: Float32Array[] = [];
  let sampleRateHz = 24_000;
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
