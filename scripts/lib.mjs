// Small helpers shared by the build, test and CI scripts.
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root. */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Prints a step header with the time since the script started. */
const started = Date.now();
export function step(message) {
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stderr.write(`\n[voice-soundboard ${seconds}s] ${message}\n`);
}

/** Runs a command in the package root with inherited stdio; returns its exit status. */
export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.error) {
    process.stderr.write(`[voice-soundboard] could not run ${command}: ${result.error.message}\n`);
    return 127;
  }
  return result.status ?? 1;
}

/** Runs a command and exits the process when it fails. */
export function runOrExit(command, args, options = {}) {
  const status = run(command, args, options);
  if (status !== 0) {
    process.stderr.write(`[voice-soundboard] failed (exit ${status}): ${command} ${args.join(' ')}\n`);
    process.exit(status);
  }
}

/** The node executable and a package's bin script, so npm's PATH is not needed. */
export function nodeBin(packageBin) {
  return [process.execPath, [resolve(root, 'node_modules', packageBin)]];
}
