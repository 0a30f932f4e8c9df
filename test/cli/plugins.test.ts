// `voice-soundboard plugins list|inspect`: in-process for inspect, through the built binary for list
// (it reads the package.json of its working directory).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { pluginsCommand } from '../../src/cli/plugins.js';
import { runCommand } from '../helpers/cli.js';

const root = resolve(import.meta.dirname, '..', '..');
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'vs-plugins-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('voice-soundboard plugins', () => {
  it('inspect shows a manifest, as text and JSON', async () => {
    const path = join(root, 'examples', 'plugins', 'breathe.mjs');
    const text = await runCommand(pluginsCommand, ['inspect', path]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('breathe@1.0.0  api 1  hooks onGraph  permissions mutate_graph');
    const json = JSON.parse((await runCommand(pluginsCommand, ['inspect', path, '--json'])).stdout) as { ok: boolean; manifest: { name: string }; mode: string };
    expect(json).toMatchObject({ ok: true, mode: 'isolate', manifest: { name: 'breathe' } });
  });

  it('inspect says why a malicious plugin cannot load (exit 1)', async () => {
    const result = await runCommand(pluginsCommand, ['inspect', join(root, 'test', 'fixtures', 'plugins', 'reads-file.mjs')]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/error PLUGIN_IMPORT_BLOCKED: .*imports "node:fs"/);
  });

  it('a missing verb is a usage error', async () => {
    expect((await runCommand(pluginsCommand, [])).code).toBe(2);
    expect((await runCommand(pluginsCommand, ['inspect'])).code).toBe(2);
  });

  it('list reads "voice-soundboard".plugins of the package.json in the working directory', async () => {
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'host-app', 'voice-soundboard': { plugins: [join(root, 'examples', 'plugins', 'half-gain.mjs'), { source: join(root, 'examples', 'plugins', 'breathe.mjs'), grant: ['mutate_graph'] }] } }),
    );
    const { stdout } = await run(process.execPath, [resolve(root, 'bin', 'voice-soundboard.js'), 'plugins', 'list'], { cwd: dir });
    expect(stdout).toMatch(/^half-gain@1\.0\.0 {2}api 1 {2}hooks onAudio/m);
    expect(stdout).toMatch(/^breathe@1\.0\.0 {2}api 1 {2}hooks onGraph/m);
  });
});
