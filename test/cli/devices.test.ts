// `voice-soundboard devices`: in-process with the real addon, and once through the built binary.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { devicesCommand } from '../../src/cli/devices.js';
import { runCommand } from '../helpers/cli.js';

const root = resolve(import.meta.dirname, '..', '..');
const run = promisify(execFile);

describe('voice-soundboard devices', () => {
  it("lists the null backend's device as a table and as JSON", async () => {
    const table = await runCommand(devicesCommand, ['--backend', 'null']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^\* null:0\s+NULL Playback Device \(Null\)$/m);
    const json = await runCommand(devicesCommand, ['-b', 'null', '--json']);
    expect(JSON.parse(json.stdout)).toEqual([{ id: 'null:0', name: 'NULL Playback Device', isDefault: true, backend: 'Null' }]);
  });

  it('a bad flag is a usage error naming it', async () => {
    await expect(runCommand(devicesCommand, ['--backend', 'pulse'])).rejects.toMatchObject({ name: 'InputError' });
    expect((await runCommand(devicesCommand, ['extra'])).code).toBe(2);
  });

  it('the binary obeys VOICE_SOUNDBOARD_AUDIO_BACKEND', async () => {
    const { stdout } = await run(process.execPath, [resolve(root, 'bin', 'voice-soundboard.js'), 'devices', '--json'], { env: { ...process.env, VOICE_SOUNDBOARD_AUDIO_BACKEND: 'null' } });
    expect(JSON.parse(stdout)).toEqual([expect.objectContaining({ backend: 'Null' })]);
  });
});
