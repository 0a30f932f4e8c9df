/**
 * `voice-soundboard scene <scene.json> -o <file>`: renders a JSON or YAML scene (docs/SCENES.md) to an
 * audio file in any supported format, or plays it on the audio device (`--play`, as one
 * registrar stream). Dialogue is spoken with the embedded espeak-ng voice unless `--backend`.
 */
import { z } from 'zod';
import { AUDIO_FORMATS } from '../audio/encode.js';
import { VoiceEngine } from '../engine/voice-engine.js';
import { loadSceneFile } from '../scene/scene-file.js';
import { parseCliArgs, type FlagSpec } from './args.js';
import type { CliCommand, CliIo } from './main.js';

const HELP = `Usage: voice-soundboard scene <scene.json|scene.yaml> (-o <file> | --play) [options]

Renders a scene (dialogue, music, ambiance and effects; JSON, see docs/SCENES.md) to a stereo
audio file, or plays it live. The same scene and seed give the same bytes.

Options:
  -o, --output <file>     write the mix here (format from the extension unless --format)
  -f, --format <format>   ${AUDIO_FORMATS.join(' | ')}
      --play              play the scene on the audio device (one registrar stream)
      --audio-backend <b> default | null (no sound card) for --play
      --seed <n>          override the scene's seed
  -b, --backend <name>    speech backend of the dialogue (default espeak)
  -h, --help              show this help

Examples:
  voice-soundboard scene examples/scenes/tavern.json -o tavern.wav
  voice-soundboard scene scene.json -o scene.mp3 --seed 7

Exit codes: 0 ok, 1 runtime failure, 2 bad usage or an invalid scene (the message names the field).
`;

const FLAGS: FlagSpec = {
  output: { type: 'string', short: 'o' },
  format: { type: 'string', short: 'f' },
  play: { type: 'boolean' },
  'audio-backend': { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string', short: 'b' },
};

const valuesSchema = z.object({
  output: z.string().min(1).optional(),
  format: z.enum(AUDIO_FORMATS).optional(),
  play: z.boolean().optional(),
  'audio-backend': z.enum(['default', 'null']).optional(),
  seed: z.coerce.number().int().min(0).max(0xffffffff).optional(),
  backend: z.string().min(1).max(100).optional(),
});

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCliArgs(args, FLAGS, valuesSchema);
  if (positionals.length !== 1) {
    io.stderr.write(`voice-soundboard scene: expected one scene file (received ${positionals.length})\n\n${HELP}`);
    return 2;
  }
  if (values.output === undefined && values.play !== true) {
    io.stderr.write('voice-soundboard scene: give -o <file>, --play, or both\n');
    return 2;
  }
  let scene = await loadSceneFile(positionals[0]!);
  if (values.seed !== undefined) scene = scene.withSeed(values.seed);
  const engine = new VoiceEngine({ ...(values.backend ? { backend: values.backend } : {}), ...(values['audio-backend'] ? { audioBackend: values['audio-backend'] } : {}) });
  try {
    if (values.output !== undefined) {
      const { file, scene: rendered } = await scene.renderToFile(engine, values.output, values.format ? { audioFormat: values.format } : {});
      io.stdout.write(`wrote ${file.path} (${file.format}, ${(rendered.durationMs / 1000).toFixed(2)} s, ${rendered.layers.length} layers, ${rendered.effects.length} effects, ${rendered.turns.length} turns)\n`);
    }
    if (values.play === true) {
      const result = await engine.play(scene);
      io.stdout.write(`played ${(result.durationMs / 1000).toFixed(2)} s as stream ${result.streamId}\n`);
    }
  } finally {
    await engine.close();
  }
  return 0;
}

/** The `scene` subcommand. */
export const sceneCommand: CliCommand = { summary: 'render a JSON or YAML scene (dialogue, music, ambiance, effects) to a file, or play it', help: HELP, run };
