/**
 * `voice-soundboard backends`: lists the speech backends and whether each can be used here.
 */
import { z } from 'zod';
import { BackendRegistry } from '../backends/registry.js';
import { parseCliArgs, type FlagSpec } from './args.js';
import type { CliCommand, CliIo } from './main.js';

const HELP = `Usage: voice-soundboard backends [--json]

Lists the speech backends: ready (usable as is), needs-options (model files or an API key
missing) or unavailable (a dependency is missing), with what each needs.

Options:
      --json   print JSON instead of a table
  -h, --help   show this help
`;

const FLAGS: FlagSpec = { json: { type: 'boolean' } };
const valuesSchema = z.object({ json: z.boolean().optional() });

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCliArgs(args, FLAGS, valuesSchema);
  if (positionals.length > 0) {
    io.stderr.write(`voice-soundboard backends: unexpected argument ${JSON.stringify(positionals[0])}\n`);
    return 2;
  }
  const rows = await new BackendRegistry().list();
  if (values.json) {
    io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  const nameWidth = Math.max(7, ...rows.map((row) => row.name.length));
  const statusWidth = Math.max(6, ...rows.map((row) => row.status.length));
  io.stdout.write(`${'BACKEND'.padEnd(nameWidth)}  ${'STATUS'.padEnd(statusWidth)}  DETAIL\n`);
  for (const row of rows) io.stdout.write(`${row.name.padEnd(nameWidth)}  ${row.status.padEnd(statusWidth)}  ${row.detail}\n`);
  return 0;
}

/** The `backends` subcommand. */
export const backendsCommand: CliCommand = { summary: 'list the speech backends and what each needs', help: HELP, run };
