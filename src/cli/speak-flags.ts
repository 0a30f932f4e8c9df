/**
 * What `voice-soundboard speak` checks before it speaks, and how it names things for a user:
 * the output format from `-o`/`-f` (conflicts are usage errors), the flags a backend needs, and
 * errors from the engine rewritten to name the CLI flag instead of the internal field (exit 2
 * for every usage error: bad path kind, unknown voice or language, text too long).
 */
import { extname } from 'node:path';
import { AUDIO_FORMATS, formatFromExtension, type AudioFormat } from '../audio/encode.js';
import { AudioError, BackendError, InputError, VoiceSoundboardError } from '../errors.js';

function usage(message: string, field: string, cause?: unknown): InputError {
  return new InputError(message, { code: 'CLI_USAGE', field, ...(cause === undefined ? {} : { cause }) });
}

/** The format to write: `-f`, else from `-o`'s extension (`wav` for `-o -`); `-o x.mp3 -f wav` is a usage error. */
export function outputFormat(output: string, format: AudioFormat | undefined): AudioFormat {
  if (output === '-') return format ?? 'wav';
  const extension = extname(output).toLowerCase();
  let fromExtension: AudioFormat | undefined;
  try {
    fromExtension = extension === '' ? undefined : formatFromExtension(extension);
  } catch {
    if (format === undefined) throw usage(`-o/--output: unknown extension ${JSON.stringify(extension)} (give a known one, e.g. .wav or .mp3, or -f/--format: ${AUDIO_FORMATS.join(' | ')})`, '-o/--output');
  }
  if (format === undefined) {
    if (fromExtension === undefined) throw usage(`-o/--output: ${JSON.stringify(output)} has no extension to take the format from; give -f/--format (${AUDIO_FORMATS.join(' | ')})`, '-o/--output');
    return fromExtension;
  }
  // `.wav` holds wav or wav-f32, `.pcm`/`.raw` hold pcm or pcm-f32: the same family is no conflict.
  const family = (name: AudioFormat) => name.replace(/-f32$/, '');
  if (fromExtension !== undefined && family(fromExtension) !== family(format)) {
    throw usage(`-f/--format: "${format}" does not match the extension of -o/--output ${JSON.stringify(output)} (${fromExtension}); drop one or make them agree`, '-f/--format');
  }
  return format;
}

/** The model files each local backend needs, as flags. */
const REQUIRED_FILES: Record<string, Array<{ flag: string; option: string }>> = {
  kokoro: [
    { flag: '--model', option: 'modelPath' },
    { flag: '--voices-file', option: 'voicesPath' },
  ],
  piper: [{ flag: '--model', option: 'modelPath' }],
};

/** Throws `--model is required for kokoro` (etc.) when a backend's file flags are missing. */
export function requireBackendFiles(backend: string | undefined, options: Record<string, unknown> | undefined): void {
  for (const { flag, option } of REQUIRED_FILES[backend ?? ''] ?? []) {
    if (options?.[option] === undefined) throw usage(`${flag} is required for ${backend ?? ''}`, flag);
  }
}

/** Internal option fields → the flags a user typed. */
const FLAG_OF_FIELD: Record<string, string> = {
  path: '-o/--output',
  pathOrExtension: '-o/--output',
  'options.voice': '-v/--voice',
  'options.language': '-l/--language',
  'options.rate': '-r/--rate',
  'options.sampleRateHz': '--sample-rate',
  'options.targetLufs': '--lufs',
  'options.maxInputChars': '--max-input-chars',
  input: '<text>',
};

/** An engine error as the CLI reports it: usage errors (InputError, exit 2) name the flag. */
export function cliError(error: unknown): unknown {
  if (!(error instanceof VoiceSoundboardError)) return error;
  const strip = (message: string, field: string) => message.replace(new RegExp(`^${field.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `), '');
  if (error instanceof BackendError && error.code === 'VOICE_UNKNOWN') return new InputError(`-v/--voice: ${error.message}`, { code: error.code, field: '-v/--voice', cause: error });
  if (error instanceof BackendError && error.code === 'LANGUAGE_UNSUPPORTED') return new InputError(`-l/--language: ${error.message}`, { code: error.code, field: '-l/--language', cause: error });
  if (error instanceof AudioError && error.code === 'AUDIO_DEVICE_INIT_FAILED') {
    return new AudioError(error.code, `no audio device could be opened here (${error.message}); write a file instead: voice-soundboard speak <text> -o out.wav`, { cause: error });
  }
  if (error instanceof AudioError && error.code === 'OUTPUT_NOT_WRITABLE') return new AudioError(error.code, `-o/--output: ${error.message}`, { cause: error });
  if (!(error instanceof InputError)) return error;
  if (error.code === 'INPUT_TOO_LARGE') {
    return new InputError(`${strip(error.message, 'input').replace('maxInputChars', '--max-input-chars')}; raise it with --max-input-chars`, { code: error.code, field: '--max-input-chars', cause: error });
  }
  const flag = error.field === undefined ? undefined : FLAG_OF_FIELD[error.field];
  if (flag === undefined || error.field === undefined) return error;
  return new InputError(`${flag}: ${strip(error.message, error.field)}`, { code: error.code, field: flag, cause: error });
}
