/**
 * Speaks with a Piper voice from files you already have (nothing is downloaded) and writes a WAV
 * file at the voice's own sample rate.
 *
 *   npx tsx examples/piper-from-path.ts <voice.onnx> [--config voice.onnx.json] [--speaker name] [--text "..."] [--out piper.wav]
 */
import { parseArgs } from 'node:util';
import { VoiceEngine } from '../src/index.js';

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

const backendOptions = {
  modelPath,
  ...(values.config ? { configPath: values.config } : {}),
  ...(values.speaker ? { speaker: values.speaker } : {}),
};
const engine = new VoiceEngine({ backend: 'piper', backendOptions });
try {
  const result = await engine.speakToFile(values.text, values.out);
  console.log(`wrote ${result.file.path}: ${result.durationMs.toFixed(0)} ms at ${result.sampleRateHz} Hz, real-time factor ${result.realtimeFactor.toFixed(2)}`);
} catch (error) {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
  process.exitCode = 1;
} finally {
  await engine.close();
}
