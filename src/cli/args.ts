/**
 * Flag parsing shared by the CLI subcommands: node's parseArgs for the syntax, zod for the values,
 * and one InputError (code CLI_USAGE, exit code 2) naming the flag when either is wrong.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { z } from 'zod';
import { InputError } from '../errors.js';

/** Flag definitions in node:util parseArgs form. */
export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

/** The parsed flags (validated by `schema`) and positional arguments. */
export interface ParsedArgs<Values> {
  values: Values;
  positionals: string[];
}

/** Parses `args` against `flags`, then validates the values with `schema`; throws CLI_USAGE on any error. */
export function parseCliArgs<Schema extends z.ZodType>(args: string[], flags: FlagSpec, schema: Schema): ParsedArgs<z.output<Schema>> {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: joinNegativeNumbers(args, flags), options: flags, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new InputError(message, { code: 'CLI_USAGE', cause });
  }
  const result = schema.safeParse(parsed.values);
  if (!result.success) {
    const issue = result.error.issues[0];
    const name = issue?.path[0] === undefined ? 'options' : `--${String(issue.path[0])}`;
    const received = issue?.path[0] === undefined ? undefined : parsed.values[String(issue.path[0])];
    throw new InputError(`${name}: ${issue?.message ?? 'invalid value'}${received === undefined ? '' : ` (received ${JSON.stringify(received)})`}`, {
      code: 'CLI_USAGE',
      field: name,
      cause: result.error,
    });
  }
  return { values: result.data, positionals: parsed.positionals };
}

/**
 * `--lufs -16` → `--lufs=-16`: node's parseArgs refuses a value that starts with a dash, but a
 * negative number after a flag that takes a value is what a user means.
 */
function joinNegativeNumbers(args: string[], flags: FlagSpec): string[] {
  const takesValue = new Set<string>();
  for (const [name, spec] of Object.entries(flags)) {
    if (spec.type !== 'string') continue;
    takesValue.add(`--${name}`);
    if (spec.short) takesValue.add(`-${spec.short}`);
  }
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const next = args[i + 1];
    if (takesValue.has(arg) && next !== undefined && /^-\d+(\.\d+)?$/.test(next)) {
      joined.push(arg.startsWith('--') ? `${arg}=${next}` : `${arg}${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

/** Reads all of a readable stream as UTF-8 text (for `-` meaning stdin). */
export async function readAllText(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}
