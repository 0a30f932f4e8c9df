/**
 * Speaks with Kokoro from files you already have (nothing is downloaded) and writes a WAV file.
 *
 *   npx tsx examples/kokoro-from-path.ts <model.onnx> <voices> [--voice af_heart] [--text "..."] [--out kokoro.wav]
 *
 * <voices> is a voices file (kokoro-onnx `voices-v1.0.bin` / any .npz, a raw float32 `.bin` voice,
 * a `.npy`, a `voices.json`) or a directory of `.bin`/`.npy` voices (onnx-community `voices/`).
 */
import { parseArgs } from 'node:util';
import { VoiceEngine } from '../src/index.js';

const USAGE = `usage: npx tsx examples/kokoro-from-path.ts <model.onnx> <voices> [--voice <id>] [--text <text>] [--out <file.wav>]
  <model.onnx>  a Kokoro ONNX export (e.g. kokoro-v1.0.onnx or onnx/model.onnx)
  <voices>      voices-v1.0.bin / .npz / .bin / .npy / .json, or a directory of .bin voices`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    voice: { type: 'string' },
    text: { type: 'string', default: 'Hello from Kokoro. This sentence was spoken from files on your disk.' },
    out: { type: 'string', default: 'kokoro.wav' },
    help: { type: 'boolean', short: 'h' },
  },
});
const [modelPath, voicesPath] = positionals;
if (values.help || modelPath === undefined || voicesPath === undefined) {
  console.error(USAGE);
  process.exit(values.help ? 0 : 2);
}

const engine = new VoiceEngine({ backend: 'kokoro', backendOptions: { modelPath, voicesPath } });
try {
  const result = await engine.speakToFile(values.text, values.out, values.voice ? { voice: values.voice } : {});
  console.log(`wrote ${result.file.path}: ${result.durationMs.toFixed(0)} ms at ${result.sampleRateHz} Hz, real-time factor ${result.realtimeFactor.toFixed(2)}`);
} catch (error) {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
  process.exitCode = 1;
} finally {
  await engine.close();
}
