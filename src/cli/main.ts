/**
 * The `voice-soundboard` command. Each subcommand lives in its own file under src/cli/ and
 * registers in COMMANDS; `main` returns the exit code (0 ok, 1 runtime failure, 2 bad usage).
 */
import { packageVersion } from '../package-version.js';
import { InputError, VoiceSoundboardError } from '../errors.js';
import { auditCommand } from './audit.js';
import { backendsCommand } from './backends.js';
import { pluginsCommand } from './plugins.js';
import { devicesCommand } from './devices.js';
import { sceneCommand } from './scene.js';
import { dialogueCommand } from './dialogue.js';
import { mcpCommand } from './mcp.js';
import { inspectCommand } from './inspect.js';
import { watchInterrupts } from './speak-guards.js';
import { speakCommand } from './speak.js';
import { visibleText } from '../security/visible-text.js';
import { voicesCommand } from './voices.js';

/** A CLI subcommand. */
export interface CliCommand {
  /** One line for the command list. */
  summary: string;
  /** Full `--help` text. */
  help: string;
  /** Runs the command; returns the exit code. */
  run(args: string[], io: CliIo): Promise<number>;
  /** True when the command stops cleanly on `io.signal` (SIGINT/SIGTERM/SIGHUP); others keep the default (the process dies). */
  interruptible?: boolean;
}

/** Where the CLI reads and writes; injected so tests run the real code on buffers. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  /** Aborted when the user interrupts (SIGINT/SIGTERM/SIGHUP), for the binary's own process. */
  signal?: AbortSignal;
}

/** Subcommands by name. */
export const COMMANDS: Record<string, CliCommand> = {
  audit: auditCommand,
  backends: backendsCommand,
  devices: devicesCommand,
  plugins: pluginsCommand,
  scene: sceneCommand,
  dialogue: dialogueCommand,
  mcp: mcpCommand,
  inspect: inspectCommand,
  speak: speakCommand,
  voices: voicesCommand,
};


function usage(): string {
  const names = Object.keys(COMMANDS).sort();
  const width = Math.max(8, ...names.map((name) => name.length));
  return [
    'Usage: voice-soundboard <command> [options]',
    '',
    'Text-to-speech runtime for latency-sensitive Node apps.',
    '',
    'Commands:',
    ...names.map((name) => `  ${name.padEnd(width)}  ${COMMANDS[name]?.summary ?? ''}`),
    '',
    'Options:',
    '  -h, --help     show this help (or `voice-soundboard <command> --help`)',
    '  -V, --version  print the version',
    '',
  ].join('\n');
}

/**
 * Runs the CLI with `argv` (without node and script); returns the exit code. Without `io` it is
 * the process's own: an interruptible command (speak) then turns SIGINT/SIGTERM/SIGHUP into an abort and
 * exits 130/143.
 */
export async function main(argv: string[], io?: CliIo): Promise<number> {
  if (io !== undefined) return runCli(argv, io);
  const own = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
  if (COMMANDS[argv[0] ?? '']?.interruptible !== true) return runCli(argv, own);
  const interrupts = watchInterrupts();
  try {
    const code = await runCli(argv, { ...own, signal: interrupts.signal });
    return interrupts.exitCode() ?? code;
  } finally {
    interrupts.dispose();
  }
}

async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    io.stdout.write(usage());
    return first === undefined ? 2 : 0;
  }
  if (first === '-V' || first === '--version') {
    io.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const command = COMMANDS[first];
  if (!command) {
    io.stderr.write(`voice-soundboard: unknown command "${first}"\n\n${usage()}`);
    return 2;
  }
  if (rest.includes('-h') || rest.includes('--help')) {
    io.stdout.write(command.help);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    const interrupted = io.signal?.aborted === true ? ` (interrupted by ${String(io.signal.reason)})` : '';
    const message = `${error instanceof Error ? error.message : String(error)}${interrupted}`;
    const code = error instanceof VoiceSoundboardError ? ` [${error.code}]` : '';
    // Messages may quote the user's input: print it so it cannot reorder or hide what the terminal shows.
    io.stderr.write(`voice-soundboard ${first}: ${visibleText(message)}${code}\n`);
    return error instanceof InputError ? 2 : 1;
  }
}
