/**
 * `voice-soundboard speak <text|->`: speaks text to a file (`-o`) or to the audio device.
 */
import { z } from 'zod';
import { AUDIO_FORMATS, formatFromExtension } from '../audio/encode.js';
import { EMOTION_NAMES, PRESET_NAMES } from '../compiler/index.js';
import { VoiceEngine } from '../engine/voice-engine.js';
import { AudioError, InputError } from '../errors.js';
import { parseCliArgs, readAllText, type FlagSpec } from './args.js';
import type { CliCommand, CliIo } from './main.js';

const HELP = `Usage: voice-soundboard speak <text|-> [options]

Speaks text with the embedded espeak-ng voice (or another backend). Reads standard input for "-".
Writes a file with -o; plays on the default audio device otherwise.

Options:
  -o, --output <file>        write audio here (format from the extension unless --format)
  -f, --format <format>      ${AUDIO_FORMATS.join(' | ')}
  -v, --voice <id>           voice id (see \`voice-soundboard voices\`)
  -b, --backend <name>       espeak (default) | kokoro | piper | openai | elevenlabs | azure
      --model <path>         model file for kokoro/piper (backend option modelPath)
      --voices-file <path>   kokoro voices file (backend option voicesPath)
      --config <path>        piper voice config .onnx.json (backend option configPath)
  -O, --backend-option k=v   any other backend option (repeatable; values parsed as JSON when they can be)
      --ssml                 the text is SSML (default: detected from a leading <speak>)
      --plain                the text is plain text: no markup at all
      --lenient              read malformed SSML as text instead of failing
      --strict               fail on unknown light markup such as {word} (default: read it as text)
  -r, --rate <x>             speaking rate multiplier, e.g. 1.2
      --emotion <name>       ${EMOTION_NAMES.join(' | ')}
      --preset <name>        ${PRESET_NAMES.join(' | ')}
  -l, --language <tag>       BCP-47 language of the text (default en-US)
      --lufs <target>        normalise loudness to this integrated level, e.g. -16
      --sample-rate <hz>     output sample rate (default: the backend's)
  -q, --quiet                no progress output
  -h, --help                 show this help

Examples:
  voice-soundboard speak "Hello there" -o hello.wav
  echo "Read from stdin" | voice-soundboard speak - -o out.mp3 --lufs -16
  voice-soundboard speak "<speak>Wait<break time='500ms'/>now</speak>" --ssml -o wait.wav
`;

const FLAGS: FlagSpec = {
  output: { type: 'string', short: 'o' },
  format: { type: 'string', short: 'f' },
  voice: { type: 'string', short: 'v' },
  backend: { type: 'string', short: 'b' },
  model: { type: 'string' },
  'voices-file': { type: 'string' },
  config: { type: 'string' },
  'backend-option': { type: 'string', short: 'O', multiple: true },
  ssml: { type: 'boolean' },
  plain: { type: 'boolean' },
  lenient: { type: 'boolean' },
  strict: { type: 'boolean' },
  rate: { type: 'string', short: 'r' },
  emotion: { type: 'string' },
  preset: { type: 'string' },
  language: { type: 'string', short: 'l' },
  lufs: { type: 'string' },
  'sample-rate': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
};

const numberFlag = (min: number, max: number) =>
  z
    .string()
    .regex(/^-?\d+(\.\d+)?$/, 'expected a number')
    .transform(Number)
    .pipe(z.number().min(min).max(max));

const valuesSchema = z
  .object({
    output: z.string().min(1).optional(),
    format: z.enum(AUDIO_FORMATS).optional(),
    voice: z.string().min(1).optional(),
    backend: z.string().min(1).optional(),
    model: z.string().min(1).optional(),
    'voices-file': z.string().min(1).optional(),
    config: z.string().min(1).optional(),
    'backend-option': z.array(z.string().regex(/^[A-Za-z][\w]*=.*$/, 'expected key=value')).optional(),
    ssml: z.boolean().optional(),
    plain: z.boolean().optional(),
    lenient: z.boolean().optional(),
    strict: z.boolean().optional(),
    rate: numberFlag(0.25, 4).optional(),
    emotion: z.enum(EMOTION_NAMES as [string, ...string[]]).optional(),
    preset: z.enum(PRESET_NAMES as [string, ...string[]]).optional(),
    language: z.string().min(2).optional(),
    lufs: numberFlag(-70, 0).optional(),
    'sample-rate': numberFlag(8000, 192_000).pipe(z.number().int()).optional(),
    quiet: z.boolean().optional(),
  })
  .refine((values) => !(values.ssml && values.plain), { message: '--ssml and --plain exclude each other', path: ['plain'] })
  .refine((values) => !(values.lenient && values.strict), { message: '--lenient and --strict exclude each other', path: ['strict'] });

function backendOptions(values: z.output<typeof valuesSchema>): Record<string, unknown> | undefined {
  const options: Record<string, unknown> = {};
  if (values.model) options['modelPath'] = values.model;
  if (values['voices-file']) options['voicesPath'] = values['voices-file'];
  if (values.config) options['configPath'] = values.config;
  for (const pair of values['backend-option'] ?? []) {
    const at = pair.indexOf('=');
    const key = pair.slice(0, at);
    const raw = pair.slice(at + 1);
    try {
      options[key] = JSON.parse(raw);
    } catch {
      options[key] = raw;
    }
  }
  return Object.keys(options).length > 0 ? options : undefined;
}

async function readText(positionals: string[], io: CliIo): Promise<string> {
  if (positionals.length === 0) throw new InputError('missing <text>: give the text to speak, or - to read standard input', { code: 'CLI_USAGE', field: 'text' });
  if (positionals.length > 1) throw new InputError(`expected one <text> argument (received ${positionals.length}); quote the text`, { code: 'CLI_USAGE', field: 'text' });
  const text = positionals[0] === '-' ? await readAllText(io.stdin) : (positionals[0] ?? '');
  if (text.trim() === '') throw new InputError('the text to speak is empty', { code: 'CLI_USAGE', field: 'text' });
  return text;
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCliArgs(args, FLAGS, valuesSchema);
  const format = values.format ?? (values.output ? formatFromExtension(values.output) : undefined);
  const text = await readText(positionals, io);
  const options = backendOptions(values);
  const engine = new VoiceEngine({
    ...(values.backend ? { backend: values.backend } : {}),
    ...(options ? { backendOptions: options } : {}),
    ...(values['sample-rate'] ? { sampleRateHz: values['sample-rate'] } : {}),
  });
  const showProgress = !values.quiet;
  try {
    const speakOptions = {
      format: values.ssml ? ('ssml' as const) : values.plain ? ('text' as const) : ('auto' as const),
      ...(values.lenient ? { lenient: true } : values.strict ? { lenient: false } : {}),
      ...(values.voice ? { voice: values.voice } : {}),
      ...(values.rate !== undefined ? { rate: values.rate } : {}),
      ...(values.emotion ? { emotion: values.emotion } : {}),
      ...(values.preset ? { preset: values.preset } : {}),
      ...(values.language ? { language: values.language } : {}),
      ...(values.lufs !== undefined ? { targetLufs: values.lufs } : {}),
      onProgress: ({ done, total, audioMs }: { done: number; total: number; audioMs: number }) => {
        if (showProgress && total > 3) io.stderr.write(`voice-soundboard speak: sentence ${done}/${total} (${(audioMs / 1000).toFixed(1)} s of audio)\n`);
      },
    };
    if (values.output) {
      const result = await engine.speakToFile(text, values.output, { ...speakOptions, ...(format ? { audioFormat: format } : {}) });
      if (showProgress) {
        const degraded = result.degraded ? ` (degraded: ${result.degraded.failures.map((failure) => failure.backend).join(', ')} failed)` : '';
        io.stderr.write(
          `voice-soundboard speak: wrote ${result.file.path} (${result.file.format}, ${(result.durationMs / 1000).toFixed(2)} s, ${result.sampleRateHz} Hz, ${result.backend}${degraded})\n`,
        );
      }
    } else {
      const result = await engine.play(text, speakOptions).catch((error: unknown) => {
        if (error instanceof AudioError && error.code === 'AUDIO_DEVICE_INIT_FAILED') {
          throw new AudioError(error.code, `no audio device could be opened here (${error.message}); write a file instead: voice-soundboard speak <text> -o out.wav`, { cause: error });
        }
        throw error;
      });
      if (showProgress) io.stderr.write(`voice-soundboard speak: played ${(result.durationMs / 1000).toFixed(2)} s with ${result.backend}\n`);
    }
    return 0;
  } finally {
    await engine.close();
  }
}

/** The `speak` subcommand. */
export const speakCommand: CliCommand = {
  summary: 'speak text to a file or the audio device',
  help: HELP,
  run,
};
