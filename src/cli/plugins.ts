/**
 * `voice-soundboard plugins list|inspect`: lists the plugins the host's package.json names
 * (`"voice-soundboard": { "plugins": [...] }`) and inspects one plugin (path or package). Each is
 * loaded in a throwaway isolate to read and validate its manifest; nothing is granted, nothing runs.
 */
import { z } from 'zod';
import { inspectPlugin, pluginsFromPackageJson, type PluginInspection } from '../plugins/loader.js';
import { AudioRegistrar } from '../registrar/registrar.js';
import { parseCliArgs, type FlagSpec } from './args.js';
import type { CliCommand, CliIo } from './main.js';

const HELP = `Usage: voice-soundboard plugins list [--json]
       voice-soundboard plugins inspect <path|package> [--json]

list     the plugins of ./package.json's "voice-soundboard".plugins, each loaded in a sandbox
         to validate its manifest (name, version, apiVersion, hooks, permissions)
inspect  one plugin's manifest, or why it cannot load (e.g. PLUGIN_IMPORT_BLOCKED)

Options:
      --json   print JSON instead of text
  -h, --help   show this help
`;

const FLAGS: FlagSpec = { json: { type: 'boolean' } };
const valuesSchema = z.object({ json: z.boolean().optional() });

function line(row: PluginInspection): string {
  if (!row.ok) return `${row.source}  error ${row.code}: ${row.error}`;
  const { name, version, apiVersion, hooks, permissions } = row.manifest;
  return `${name}@${version}  api ${apiVersion}  hooks ${hooks.join(',')}  permissions ${permissions.join(',') || '-'}  ${row.path}`;
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCliArgs(args, FLAGS, valuesSchema);
  const [verb, target, extra] = positionals;
  const registrar = new AudioRegistrar();
  let rows: PluginInspection[];
  if (verb === 'list' && target === undefined) {
    const entries = await pluginsFromPackageJson(process.cwd());
    rows = [];
    for (const entry of entries) rows.push(await inspectPlugin(typeof entry === 'string' ? entry : entry.source, registrar));
  } else if (verb === 'inspect' && target !== undefined && extra === undefined) {
    rows = [await inspectPlugin(target, registrar)];
  } else {
    io.stderr.write(`voice-soundboard plugins: expected "list" or "inspect <path|package>"\n${HELP}`);
    return 2;
  }
  if (values.json) io.stdout.write(`${JSON.stringify(verb === 'inspect' ? rows[0] : rows, null, 2)}\n`);
  else if (rows.length === 0) io.stdout.write('no plugins: add "voice-soundboard": { "plugins": [...] } to package.json\n');
  else for (const row of rows) io.stdout.write(`${line(row)}\n`);
  await registrar.close();
  return rows.every((row) => row.ok) ? 0 : 1;
}

/** The `plugins` subcommand. */
export const pluginsCommand: CliCommand = { summary: 'list and inspect plugins (manifest, hooks, permissions)', help: HELP, run };
