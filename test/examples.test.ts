import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../src/audio/wav.js';

const root = resolve(import.meta.dirname, '..');
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'vs-examples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function example(name: string, args: string[] = []) {
  return run(process.execPath, ['--import', 'tsx', join('examples', name), ...args], { cwd: root, timeout: 60_000 });
}

describe('examples that need no model file run', () => {
  it('speak-to-file.ts writes speech at the loudness target', async () => {
    const path = join(dir, 'example.wav');
    const { stdout } = await example('speak-to-file.ts', ['Examples are tested.', path]);
    expect(stdout).toContain(`wrote ${path}`);
    expect(stdout).toContain('start(allowed) → compile(allowed) → synthesize(allowed) → play(allowed) → stop(allowed)');
    expect(decodeWav(readFileSync(path)).pcm.length).toBeGreaterThan(10_000);
  });

  it('stream.ts prints sentence chunks as they arrive', async () => {
    const { stdout } = await example('stream.ts', ['First sentence. Second sentence.']);
    expect(stdout).toMatch(/#0 +\d+ ms of audio {2}"First sentence\."/);
    expect(stdout).toMatch(/"Second sentence\."/);
  });

  it('accessibility-override.ts shows the override winning and a verified log', async () => {
    const { stdout } = await example('accessibility-override.ts');
    expect(stdout).toContain('agent interrupts: denied (accessibility_override)');
    expect(stdout).toContain('alice interrupts: allowed');
    expect(stdout).toMatch(/\d+ attestations, hash chain and invariants verified/);
  });

  it('the model examples explain their arguments when given none', async () => {
    for (const name of ['kokoro-from-path.ts', 'piper-from-path.ts']) {
      const failure = await example(name).then(
        () => null,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure?.code, name).toBe(2);
      expect(failure?.stderr, name).toMatch(/usage: npx tsx examples\//);
    }
  });
});
