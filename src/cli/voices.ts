/**
 * `voice-soundboard voices`: lists the voices of every usable backend, filtered.
 */
import { z } from 'zod';
import { VoiceCatalogue } from '../backends/catalogue.js';
import { BackendRegistry } from '../backends/registry.js';
import { parseCliArgs, type FlagSpec } from './args.js';
import type { CliCommand, CliIo } from './main.js';

const HELP = `Usage: voice-soundboard voices [options]

Lists the voices of the backends that can be used here (espeak-ng always; others when configured).

Options:
  -l, --language <tag>   only voices speaking this language (en matches en-US, en-GB, ...)
  -g, --gender <g>       female | male | neutral
  -s, --style <style>    only voices offering this style
  -b, --backend <name>   only this backend's voices
      --json             print JSON instead of a table
  -h, --help             show this help
`;

const FLAGS: FlagSpec = {
  language: { type: 'string', short: 'l' },
  gender: { type: 'string', short: 'g' },
  style: { type: 'string', short: 's' },
  backend: { type: 'string', short: 'b' },
  json: { type: 'boolean' },
};

const valuesSchema = z.object({
  language: z.string().regex(/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$/, 'expected a language such as en or en-US').optional(),
  gender: z.enum(['female', 'male', 'neutral']).optional(),
  style: z.string().min(1).optional(),
  backend: z.string().min(1).optional(),
  json: z.boolean().optional(),
});

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCliArgs(args, FLAGS, valuesSchema);
  if (positionals.length > 0) {
    io.stderr.write(`voice-soundboard voices: unexpected argument ${JSON.stringify(positionals[0])}\n`);
    return 2;
  }
  const catalogue = await VoiceCatalogue.fromRegistry(new BackendRegistry());
  try {
    const { json, ...filter } = values;
    const { voices, failures } = await catalogue.search(filter);
    if (json) {
      io.stdout.write(`${JSON.stringify({ voices, failures }, null, 2)}\n`);
      return 0;
    }
    const rows = voices.map((voice) => [voice.backend, voice.id, voice.languages.join(','), voice.gender ?? '-', voice.name]);
    const header = ['BACKEND', 'VOICE', 'LANGUAGES', 'GENDER', 'NAME'];
    const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
    const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
    io.stdout.write(`${[line(header), ...rows.map(line)].join('\n')}\n`);
    io.stderr.write(`${voices.length} voice(s)${failures.length > 0 ? `; not listed: ${failures.map((failure) => `${failure.backend} (${failure.message})`).join('; ')}` : ''}\n`);
    return 0;
  } finally {
    await Promise.allSettled(catalogue.backends().map((backend) => backend.close()));
  }
}

/** The `voices` subcommand. */
export const voicesCommand: CliCommand = { summary: 'list the voices that can be used here', help: HELP, run };
