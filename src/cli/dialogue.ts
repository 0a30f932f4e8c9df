/**
 * `voice-soundboard dialogue <script|-> -o out.wav [--cast alice=voiceA,bob=voiceB] [--srt f]
 * [--vtt f]`: renders a conversation script (docs/CONVERSATIONS.md) with one registrar stream
 * per turn and writes the mono mixdown in any supported format, plus subtitles. Without `-o` it
 * plays the conversation live on the audio device.
 */
import { createReadStream } from 'node:fs';
import { z } from 'zod';
import { AUDIO_FORMATS } from '../audio/encode.js';
import { writeAudioFile } from '../audio/file-writer.js';
import { openOutputTarget, writeFailed, type OutputTarget } from '../audio/output-target.js';
import { AudioOutput } from '../audio/output.js';
import { Conversation } from '../conversation/conversation.js';
import { MAX_SCRIPT_CHARS } from '../conversation/script.js';
import { VoiceEngine } from '../engine/voice-engine.js';
import { InputError, VoiceSoundboardError } from '../errors.js';
import { parseCliArgs, type FlagSpec } from './args.js';
import type { CliCommand, CliIo } from './main.js';
import { cliError, outputFormat } from './speak-flags.js';

const HELP = `Usage: voice-soundboard dialogue <script|-> [-o out.wav] [options]

Speaks a conversation script: one turn per line ("Alice: Hello!"), [pause 500ms], [overlap 300ms]
and [barge-in] on their own lines, (stage directions) dropped or read as emotions, # comments.
Each speaker gets a distinct voice unless --cast names one. Reads standard input for "-". Writes
the mono mixdown with -o (format from the extension unless -f); plays it live otherwise.

Options:
  -o, --output <file>        write the mixdown here (wav, mp3, flac, opus, ... by extension)
  -f, --format <format>      ${AUDIO_FORMATS.join(' | ')}
      --cast <list>          speaker=voice pairs, comma-separated: alice=en-us,bob=en-us+f3
      --gap <ms>             silence between turns by default (default 250)
      --srt <file>           also write SubRip subtitles of the timeline (needs -o)
      --vtt <file>           also write WebVTT subtitles of the timeline (needs -o)
  -b, --backend <name>       backend of every speaker (default espeak)
      --one-voice            the backend has one voice: speakers differ by pitch and rate
      --sample-rate <hz>     output sample rate (default: the backend's)
  -q, --quiet                no summary line on standard error
  -h, --help                 show this help

Examples:
  voice-soundboard dialogue scene.txt -o scene.wav --srt scene.srt
  voice-soundboard dialogue scene.txt -o scene.mp3 --cast alice=en-gb+f3,bob=en-us

Exit codes: 0 ok, 1 runtime failure, 2 bad usage (a bad flag, a script error naming its line,
an unknown voice).
`;

const FLAGS: FlagSpec = {
  output: { type: 'string', short: 'o' },
  format: { type: 'string', short: 'f' },
  cast: { type: 'string' },
  gap: { type: 'string' },
  srt: { type: 'string' },
  vtt: { type: 'string' },
  backend: { type: 'string', short: 'b' },
  'one-voice': { type: 'boolean' },
  'sample-rate': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
};

const castPair = /^\s*([^=,\s][^=,]*?)\s*=\s*([^=,\s]+)\s*$/;

const valuesSchema = z
  .object({
    output: z.string().min(1).optional(),
    format: z.enum(AUDIO_FORMATS).optional(),
    cast: z
      .string()
      .refine((list) => list.split(',').every((pair) => castPair.test(pair)), 'expected speaker=voice pairs separated by commas, e.g. alice=en-us,bob=en-us+f3')
      .optional(),
    gap: z.string().regex(/^\d+(\.\d+)?$/, 'expected a number of ms').transform(Number).pipe(z.number().max(60_000)).optional(),
    srt: z.string().min(1).optional(),
    vtt: z.string().min(1).optional(),
    backend: z.string().min(1).optional(),
    'one-voice': z.boolean().optional(),
    'sample-rate': z.string().regex(/^\d+$/, 'expected a whole number of Hz').transform(Number).pipe(z.number().int().min(8000).max(192_000)).optional(),
    quiet: z.boolean().optional(),
  })
  .refine((values) => values.output !== undefined || (values.srt === undefined && values.vtt === undefined), { message: 'subtitles need -o/--output (the timeline of a written render)', path: ['srt'] })
  .refine((values) => values.output !== '-', { message: 'write the dialogue to a file (standard output is not supported)', path: ['output'] });

/** The cast of `--cast`; built from entries, so a speaker named like an Object member (even `__proto__`) is an own key. */
function castOf(list: string | undefined): Record<string, { voice: string }> {
  const pairs = (list?.split(',') ?? []).flatMap((pair) => {
    const match = castPair.exec(pair);
    return match ? [[(match[1] ?? '').trim(), { voice: match[2] ?? '' }] as const] : [];
  });
  return Object.fromEntries(pairs);
}

/** Most bytes of a script read (UTF-8 of MAX_SCRIPT_CHARS, and a BOM): past that the read stops and the script is refused. */
const MAX_SCRIPT_BYTES = 4 * MAX_SCRIPT_CHARS + 3;

/** Reads a script from a stream, stopping (and refusing) past MAX_SCRIPT_BYTES: `/dev/zero` is never read whole. */
async function readBounded(stream: NodeJS.ReadableStream & { destroy?: () => void }): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
      total += bytes.length;
      if (total > MAX_SCRIPT_BYTES) throw new InputError(`script: longer than ${MAX_SCRIPT_CHARS} characters (read more than ${MAX_SCRIPT_BYTES} bytes)`, { code: 'SCRIPT_INVALID', field: 'script' });
      chunks.push(bytes);
    }
  } finally {
    stream.destroy?.();
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readScript(positionals: string[], io: CliIo): Promise<string> {
  if (positionals.length !== 1) throw new InputError(`expected one <script> file argument, or - for standard input (received ${positionals.length})`, { code: 'CLI_USAGE', field: 'script' });
  const source = positionals[0] as string;
  if (source === '-') return readBounded(io.stdin);
  try {
    return await readBounded(createReadStream(source));
  } catch (cause) {
    if (cause instanceof InputError) throw cause;
    throw new InputError(`<script>: cannot read ${JSON.stringify(source)} (${cause instanceof Error ? cause.message : String(cause)})`, { code: 'CLI_USAGE', field: 'script', cause });
  }
}

/**
 * Opens the subtitle outputs like audio ones (src/audio/output-target.ts: atomic for files, a
 * link, FIFO or device never replaced, a dangling link refused) before anything is written, so a
 * bad subtitle path leaves no audio file behind; `write` then writes and commits each.
 */
async function openSubtitles(outputs: Array<[path: string | undefined, text: () => string]>): Promise<{ write(): Promise<void>; discard(): Promise<void> }> {
  const targets: Array<{ target: OutputTarget; text: () => string }> = [];
  const discard = async () => {
    for (const { target } of targets) await target.discard();
  };
  try {
    for (const [path, text] of outputs) if (path !== undefined) targets.push({ target: await openOutputTarget(path), text });
  } catch (error) {
    await discard();
    throw error;
  }
  return {
    async write() {
      for (const { target, text } of targets) {
        try {
          await target.write(new TextEncoder().encode(text()));
          await target.commit();
        } catch (error) {
          await discard();
          throw writeFailed(target.path, error);
        }
      }
    },
    discard,
  };
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCliArgs(args, FLAGS, valuesSchema);
  const format = values.output ? outputFormat(values.output, values.format) : undefined;
  const script = await readScript(positionals, io);
  const conversation = Conversation.fromScript(script, {
    cast: castOf(values.cast),
    ...(values.gap !== undefined ? { gapMs: values.gap } : {}),
    ...(values['one-voice'] ? { defaultVoices: [] } : {}),
  });
  const headless = process.env['VOICE_SOUNDBOARD_AUDIO_BACKEND'] === 'null';
  const output = !values.output && headless ? new AudioOutput({ backend: 'null' }) : undefined;
  const engine = new VoiceEngine({
    ...(values.backend ? { backend: values.backend } : {}),
    ...(values['sample-rate'] ? { sampleRateHz: values['sample-rate'] } : {}),
    ...(output ? { output } : {}),
  });
  const say = (line: string) => {
    if (values.quiet !== true) io.stderr.write(`voice-soundboard dialogue: ${line}\n`);
  };
  try {
    if (!values.output) {
      const result = await engine.play(conversation, io.signal ? { signal: io.signal } : {});
      say(`played ${result.turns.length} turn(s)${result.endedBy ? `, ended early by ${result.endedBy.action}` : ''}`);
      return 0;
    }
    const result = await engine.speak(conversation, io.signal ? { signal: io.signal } : {});
    const subtitles = await openSubtitles([
      [values.srt, () => conversation.toSrt()],
      [values.vtt, () => conversation.toVtt()],
    ]);
    let file: Awaited<ReturnType<typeof writeAudioFile>>;
    try {
      file = await writeAudioFile(values.output, result.audio, { sampleRateHz: result.sampleRateHz, channels: 1, ...(format ? { format } : {}) });
    } catch (error) {
      await subtitles.discard();
      throw error;
    }
    await subtitles.write();
    const speakers = [...conversation.cast()].map(([speaker, entry]) => `${speaker}=${entry.voice ?? `pitch ${entry.pitchSemitones ?? 0} st`}`).join(', ');
    say(`wrote ${file.path} (${file.format}, ${(result.durationMs / 1000).toFixed(2)} s, ${result.timeline.length} turns: ${speakers})`);
    return 0;
  } catch (error) {
    // Voices come from --cast (or the defaults): name that flag, not speak's -v.
    if (error instanceof VoiceSoundboardError && error.code === 'VOICE_UNKNOWN') throw new InputError(`--cast: ${error.message.replace(/^options\.voice: /, '')}`, { code: error.code, field: '--cast', cause: error });
    throw cliError(error);
  } finally {
    await engine.close();
    output?.close();
  }
}

/** The `dialogue` subcommand. */
export const dialogueCommand: CliCommand = {
  summary: 'speak a multi-speaker conversation script to a file (with subtitles) or the device',
  help: HELP,
  run,
  interruptible: true,
};
