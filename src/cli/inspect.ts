/**
 * `voice-soundboard inspect FILE [--key K] [--json]`: prints what an audio file says about itself
 * (its compliance tags: generator, backend, voice, synthetic speech, stream, attestation,
 * watermark id) and, with a key, whether it carries that key's watermark and its payload.
 */
import { z } from 'zod';
import { inspectAudioFile } from '../security/inspect-file.js';
import { parseCliArgs, type FlagSpec } from './args.js';
import type { CliCommand, CliIo } from './main.js';

/** Environment variable read for the key when `--key` is not given (keeps it out of the process list). */
export const WATERMARK_KEY_ENV = 'VOICE_SOUNDBOARD_WATERMARK_KEY';

const HELP = `Usage: voice-soundboard inspect FILE [--key K] [--json]

Prints the tags of an audio file (WAV LIST/INFO, ID3, Vorbis comments): generator, backend,
voice, "synthetic speech", stream, attestation id, watermark id. With a key it also runs the
watermark detector (non-WAV files are decoded with ffmpeg) and prints whether the mark is
present, its 32-bit payload and the detector's confidence.

Options:
      --key K   the watermark key (default: $${WATERMARK_KEY_ENV})
      --json    print JSON instead of text
  -h, --help    show this help
`;

const FLAGS: FlagSpec = { key: { type: 'string' }, json: { type: 'boolean' } };
const valuesSchema = z.object({ key: z.string().min(1).optional(), json: z.boolean().optional() });

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCliArgs(args, FLAGS, valuesSchema);
  if (positionals.length !== 1) {
    io.stderr.write(`voice-soundboard inspect: expected one FILE (received ${positionals.length})\n`);
    return 2;
  }
  const key = values.key ?? (process.env[WATERMARK_KEY_ENV] || undefined);
  const result = await inspectAudioFile(positionals[0] ?? '', { key });
  if (values.json) {
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  const lines = [`file: ${result.path} (${result.container})`];
  const tags = Object.entries(result.tags);
  if (tags.length === 0) lines.push('tags: none');
  else {
    lines.push('tags:');
    const width = Math.max(...tags.map(([name]) => name.length));
    for (const [name, value] of tags) lines.push(`  ${name.padEnd(width)}  ${value}`);
  }
  const synthetic = result.compliance.comment === 'synthetic speech';
  lines.push(`synthetic speech: ${synthetic ? 'declared' : 'not declared'}`);
  const mark = result.watermark;
  if (mark === null) lines.push(`watermark: not checked (pass --key or set ${WATERMARK_KEY_ENV})`);
  else if (mark.present) lines.push(`watermark: present, payload ${mark.payload ?? 0} (0x${(mark.payload ?? 0).toString(16).padStart(8, '0')}), confidence ${mark.confidence.toFixed(2)}`);
  else lines.push(`watermark: not found for this key (confidence ${mark.confidence.toFixed(2)})${mark.reason === undefined ? '' : `; ${mark.reason}`}`);
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/** The `inspect` subcommand. */
export const inspectCommand: CliCommand = { summary: 'print an audio file\'s compliance tags and check its watermark', help: HELP, run };
