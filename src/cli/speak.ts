/**
 * `voice-soundboard speak <text|->`: speaks text to a file (`-o`), to standard output (`-o -`),
 * to the audio device, or to a file and the device at once (`-o` with `--play`). Files are
 * written sentence by sentence in constant memory (VoiceEngine.speakToFile); `--attestations`
 * appends the utterance's attestations to a durable log that `audit verify` checks.
 */
import { z } from 'zod';
import { AUDIO_FORMATS } from '../audio/encode.js';
import { AudioOutput } from '../audio/output.js';
import { EMOTION_NAMES, PRESET_NAMES } from '../compiler/index.js';
import { LOUDNESS_MODES } from '../engine/speech-file.js';
import { VoiceEngine } from '../engine/voice-engine.js';
import { AudioError, InputError } from '../errors.js';
import { AudioRegistrar } from '../registrar/registrar.js';
import { parseCliArgs, readAllText, type FlagSpec } from './args.js';
import type { CliCommand, CliIo } from './main.js';
import { progressReporter } from './progress.js';
import { cliError, outputFormat, requireBackendFiles } from './speak-flags.js';
import { audioGoesToStderr, refuseClosedStdout, refuseOutputOverLog } from './speak-guards.js';

const HELP = `Usage: voice-soundboard speak <text|-> [options]

Speaks text with the embedded espeak-ng voice (or another backend). Reads standard input for "-".
Writes a file with -o (sentence by sentence: any length in constant memory); plays on the default
audio device otherwise, or as well with --play.

Options:
  -o, --output <file|->      write audio here (format from the extension unless --format); "-" is
                             standard output (WAV with a streaming header, or -f pcm for raw s16le).
                             A FIFO, a device such as /dev/null, /dev/stdout or /dev/fd/N (the
                             descriptor itself: a shell's >> keeps appending) or a symlink's target
                             is written through, never replaced; a regular file is replaced
                             atomically (updated in place when it has other hard links)
  -f, --format <format>      ${AUDIO_FORMATS.join(' | ')} (must agree with the extension of -o)
      --play                 with -o: also play on the audio device while writing
      --device <id|name>     the audio device to play on (forwarded to the audio output)
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
      --loudness-mode <m>    integrated (default: over the whole text, two passes through a temp
                             file) | per-sentence (each sentence on its own, written as it comes)
      --sample-rate <hz>     output sample rate (default: the backend's; with --play and -o the file
                             is at the device's rate, and another is refused)
      --max-input-chars <n>  longest text accepted (default 100000)
      --attestations <file>  append this utterance's attestations to a durable log (JSON Lines;
                             check it with \`voice-soundboard audit verify <file>\`)
  -q, --quiet                no progress output (else: a progress line on a terminal, sparse
                             lines elsewhere)
  -h, --help                 show this help

Examples:
  voice-soundboard speak "Hello there" -o hello.wav
  echo "Read from stdin" | voice-soundboard speak - -o out.mp3 --lufs -16
  voice-soundboard speak "<speak>Wait<break time='500ms'/>now</speak>" --ssml -o wait.wav
  voice-soundboard speak "Piped" -o - -f pcm | aplay -f S16_LE -r 22050

Exit codes: 0 ok, 1 runtime failure, 2 bad usage (a bad flag, an unknown voice, language or
--device, an output path that is a directory or socket, -o and --attestations naming one file, a
text longer than --max-input-chars), 130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP (the speech
is stopped, attested, and no temp file is left). A write-protected -o file is refused (exit 1) and
left as it was.
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
  play: { type: 'boolean' },
  device: { type: 'string' },
  'loudness-mode': { type: 'string' },
  'max-input-chars': { type: 'string' },
  attestations: { type: 'string' },
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
    play: z.boolean().optional(),
    device: z.string().min(1).max(500).optional(),
    'loudness-mode': z.enum(LOUDNESS_MODES).optional(),
    'max-input-chars': numberFlag(1, 10_000_000).pipe(z.number().int()).optional(),
    attestations: z.string().min(1).optional(),
  })
  .refine((values) => !(values.play && !values.output), { message: 'needs -o/--output (without -o, speak plays anyway)', path: ['play'] })
  .refine((values) => !(values.device && values.output && !values.play), { message: 'plays nothing with -o unless --play is given', path: ['device'] })
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

/** The device to play on: `VOICE_SOUNDBOARD_AUDIO_BACKEND=null` for headless runs (tests, CI); `--device` is forwarded when the output supports it. */
function openOutput(device: string | undefined): AudioOutput {
  const backend = process.env['VOICE_SOUNDBOARD_AUDIO_BACKEND'];
  if (backend !== undefined && backend !== 'null' && backend !== 'default') {
    throw new InputError(`VOICE_SOUNDBOARD_AUDIO_BACKEND: expected "null" or "default" (received ${JSON.stringify(backend)})`, { code: 'CLI_USAGE', field: 'VOICE_SOUNDBOARD_AUDIO_BACKEND' });
  }
  const options: Record<string, unknown> = { ...(backend === 'null' ? { backend: 'null' } : {}), ...(device !== undefined ? { device } : {}) };
  try {
    return new AudioOutput(options as ConstructorParameters<typeof AudioOutput>[0]);
  } catch (error) {
    if (device !== undefined && error instanceof InputError && /device/.test(error.message)) {
      throw new InputError(`--device: choosing a device is not supported by this build's audio output (${error.message})`, { code: 'CLI_USAGE', field: '--device', cause: error });
    }
    if (device !== undefined && error instanceof AudioError && error.code === 'AUDIO_DEVICE_NOT_FOUND') {
      throw new InputError(`--device: no playback device has the id or name ${JSON.stringify(device)}; list them with \`voice-soundboard devices\``, { code: error.code, field: '--device', cause: error });
    }
    throw cliError(error);
  }
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCliArgs(args, FLAGS, valuesSchema);
  const format = values.output ? outputFormat(values.output, values.format) : undefined;
  await refuseOutputOverLog(values.output, values.attestations);
  refuseClosedStdout(values.output, io.stdout);
  const text = await readText(positionals, io);
  const options = backendOptions(values);
  requireBackendFiles(values.backend, options);
  // Without the env var or --device the engine opens the default device itself, on first use (after validation).
  const wantsDevice = values.play === true || !values.output;
  const output = wantsDevice && (process.env['VOICE_SOUNDBOARD_AUDIO_BACKEND'] !== undefined || values.device !== undefined) ? openOutput(values.device) : undefined;
  const log = values.attestations ? AudioRegistrar.openLog(values.attestations) : undefined;
  const engine = new VoiceEngine({
    ...(values.backend ? { backend: values.backend } : {}),
    ...(options ? { backendOptions: options } : {}),
    ...(output ? { output } : {}),
    ...(log ? { registrar: log.registrar } : {}),
  });
  // Audio written to standard error gets no progress lines mixed into it.
  const quiet = values.quiet === true || (await audioGoesToStderr(values.output, io.stderr));
  const progress = progressReporter(io.stderr, { quiet });
  const say = (line: string) => {
    if (!quiet) io.stderr.write(`voice-soundboard speak: ${line}\n`);
  };
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
      ...(values['max-input-chars'] !== undefined ? { maxInputChars: values['max-input-chars'] } : {}),
      // A call option, not the engine's default: with --play and -o the engine then refuses a rate
      // other than the device's (the file is written at the device's rate) instead of ignoring it.
      ...(values['sample-rate'] ? { sampleRateHz: values['sample-rate'] } : {}),
      onProgress: progress.onProgress,
      ...(io.signal ? { signal: io.signal } : {}),
    };
    let attestations: number;
    if (values.output) {
      const destination = values.output === '-' ? io.stdout : values.output;
      const result = await engine.speakToFile(text, destination, {
        ...speakOptions,
        ...(format ? { audioFormat: format } : {}),
        ...(values['loudness-mode'] ? { loudnessMode: values['loudness-mode'] } : {}),
        ...(values.play ? { play: true } : {}),
      });
      progress.finish();
      attestations = result.attestations.length;
      const degraded = result.degraded ? ` (degraded: ${result.degraded.failures.map((failure) => failure.backend).join(', ')} failed)` : '';
      const where = values.output === '-' ? 'standard output' : result.file.path;
      say(`wrote ${where} (${result.file.format}, ${(result.durationMs / 1000).toFixed(2)} s, ${result.sampleRateHz} Hz, ${result.backend}${degraded}${values.play ? ', played' : ''})`);
    } else {
      const result = await engine.play(text, speakOptions);
      progress.finish();
      attestations = result.attestations.length;
      say(`played ${(result.durationMs / 1000).toFixed(2)} s with ${result.backend}`);
    }
    if (log) {
      await log.registrar.flush();
      say(`appended ${attestations} attestation(s) to ${values.attestations ?? ''}`);
    }
    return 0;
  } catch (error) {
    progress.finish();
    throw cliError(error);
  } finally {
    await engine.close();
    await log?.registrar.close();
    output?.close();
  }
}

/** The `speak` subcommand. */
export const speakCommand: CliCommand = {
  summary: 'speak text to a file or the audio device',
  help: HELP,
  run,
  interruptible: true,
};
