/**
 * The package's own version, read once from its package.json (the CLI's `--version`, the MCP
 * server's name, the generator tag of written files).
 */
import { readFileSync } from 'node:fs';

let version: string | undefined;

/** This package's version, e.g. `0.1.0`. */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}
