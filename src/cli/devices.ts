/**
 * `voice-soundboard devices`: lists the playback devices of the audio backend (the platform's by
 * default, `VOICE_SOUNDBOARD_AUDIO_BACKEND` or `--backend null` for the null one), with the id to
 * pass as `{ device }` / `audioDevice` / `--device`.
 */
import { z } from 'zod';
import { listOutputDevices } from '../audio/devices.js';
import { parseCliArgs, type FlagSpec } from './args.js';
import type { CliCommand, CliIo } from './main.js';

const HELP = `Usage: voice-soundboard devices [--backend default|null] [--json]

Lists the playback devices: id, name, and which is the default. Choose one with
new AudioOutput({ device: ID_OR_NAME }) or new VoiceEngine({ audioDevice: ID_OR_NAME }).

Options:
  -b, --backend NAME  default (the platform's audio system) or null (no sound card);
                      default: $VOICE_SOUNDBOARD_AUDIO_BACKEND, else default
      --json          print JSON instead of a table
  -h, --help          show this help
`;

const FLAGS: FlagSpec = { backend: { type: 'string', short: 'b' }, json: { type: 'boolean' } };
const valuesSchema = z.object({ backend: z.enum(['default', 'null']).optional(), json: z.boolean().optional() });

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCliArgs(args, FLAGS, valuesSchema);
  if (positionals.length > 0) {
    io.stderr.write(`voice-soundboard devices: unexpected argument ${JSON.stringify(positionals[0])}\n`);
    return 2;
  }
  const devices = listOutputDevices(values.backend ? { backend: values.backend } : {});
  if (values.json) {
    io.stdout.write(`${JSON.stringify(devices, null, 2)}\n`);
    return 0;
  }
  const idWidth = Math.max(2, ...devices.map((device) => device.id.length));
  io.stdout.write(`  ${'ID'.padEnd(idWidth)}  NAME (BACKEND)\n`);
  for (const device of devices) io.stdout.write(`${device.isDefault ? '*' : ' '} ${device.id.padEnd(idWidth)}  ${device.name} (${device.backend})\n`);
  return 0;
}

/** The `devices` subcommand. */
export const devicesCommand: CliCommand = { summary: 'list the audio playback devices (* = default)', help: HELP, run };
