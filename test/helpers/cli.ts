/** Runs a CLI command in-process with captured output, as the `voice-soundboard` binary would. */
import { PassThrough } from 'node:stream';
import type { CliCommand } from '../../src/cli/main.js';

/** What a command printed and returned. */
export interface CommandRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `command` with `args`, capturing stdout and stderr; stdin is empty. */
export async function runCommand(command: CliCommand, args: string[]): Promise<CommandRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()));
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  const code = await command.run(args, { stdout, stderr, stdin: new PassThrough() });
  return { code, stdout: out.join(''), stderr: err.join('') };
}
