/**
 * `voice-soundboard voices`: lists the voices of every usable backend, filtered. `--language`
 * matches exactly (case-insensitive, `_` = `-`): `en-GB` lists en-GB voices only, a bare `en`
 * lists every en-*. Model flags (`--model`, `--voices-file`, `--config`) list a local model's voices.
 */
import { z } from 'zod';
import { VoiceCatalogue } from '../backends/catalogue.js';
import { BackendRegistry } from '../backends/registry.js';
import type { VoiceInfo } from '../backends/backend.js';
import { parseCliArgs, type FlagSpec } from './args.js';
import type { CliCommand, CliIo } from './main.js';
import { requireBackendFiles } from './speak-flags.js';

const HELP = `Usage: voice-soundboard voices [options]

Lists the voices of the backends that can be used here (espeak-ng always; others when configured).

Options:
  -l, --language <tag>   only voices speaking exactly this language (en-GB: only en-GB;
                         a bare en matches en, en-US, en-GB, ...)
  -g, --gender <g>       female | male | neutral
  -s, --style <style>    only voices offering this style
  -b, --backend <name>   only this backend's voices
      --model <path>     -b kokoro|piper: list this model's voices
      --voices-file <p>  -b kokoro: the voices file (or directory) of the model
      --config <path>    -b piper: the voice config (default <model>.json)
      --json             print JSON instead of a table
  -h, --help             show this help
`;

const FLAGS: FlagSpec = {
  language: { type: 'string', short: 'l' },
  gender: { type: 'string', short: 'g' },
  style: { type: 'string', short: 's' },
  backend: { type: 'string', short: 'b' },
  model: { type: 'string' },
  'voices-file': { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean' },
};

const valuesSchema = z.object({
  language: z.string().regex(/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$/, 'expected a language such as en or en-US').optional(),
  gender: z.enum(['female', 'male', 'neutral']).optional(),
  style: z.string().min(1).optional(),
  backend: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  'voices-file': z.string().min(1).optional(),
  config: z.string().min(1).optional(),
  json: z.boolean().optional(),
}).refine((values) => !((values.model ?? values['voices-file'] ?? values.config) !== undefined && values.backend === undefined), {
  message: 'model flags need -b/--backend (kokoro or piper)',
  path: ['backend'],
});

const normalise = (language: string) => language.toLowerCase().replaceAll('_', '-');

/** Exact language match: the tag itself or a more specific one (`en` → `en-GB`), never a broader or sibling one. */
function speaks(voice: VoiceInfo, wanted: string): boolean {
  return voice.languages.some((language) => normalise(language) === wanted || normalise(language).startsWith(`${wanted}-`));
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCliArgs(args, FLAGS, valuesSchema);
  if (positionals.length > 0) {
    io.stderr.write(`voice-soundboard voices: unexpected argument ${JSON.stringify(positionals[0])}\n`);
    return 2;
  }
  const { json, model, 'voices-file': voicesFile, config, ...filter } = values;
  const modelOptions = { ...(model ? { modelPath: model } : {}), ...(voicesFile ? { voicesPath: voicesFile } : {}), ...(config ? { configPath: config } : {}) };
  const hasModel = Object.keys(modelOptions).length > 0;
  // -b kokoro/piper lists a model's voices: without its files there is nothing to list (exit 2, as speak).
  requireBackendFiles(filter.backend, modelOptions);
  const catalogue = await VoiceCatalogue.fromRegistry(new BackendRegistry(), hasModel && filter.backend ? { [filter.backend]: modelOptions } : {});
  try {
    const found = await catalogue.search(filter);
    const wanted = filter.language === undefined ? undefined : normalise(filter.language);
    const voices = wanted === undefined ? found.voices : found.voices.filter((voice) => speaks(voice, wanted));
    const failures = found.failures;
    if (hasModel && filter.backend && voices.length === 0 && failures.length > 0) {
      io.stderr.write(`voice-soundboard voices: ${failures.map((failure) => `${failure.backend}: ${failure.message}`).join('; ')}\n`);
      return 1;
    }
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
