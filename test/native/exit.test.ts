import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./fixtures/exit-without-close.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function runChild(how: string, via: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', FIXTURE, how, via], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 45_000, // a deadline only: a hang (a device thread never joined) shows as signal SIGTERM
  });
}

describe('process exit without close()', () => {
  for (const how of ['natural', 'process-exit']) {
    it(`exits 0 with a running null device opened through AudioOutput (${how}), closing it on exit`, () => {
      const child = runChild(how, 'output');
      expect(child.error).toBeUndefined();
      expect(child.signal).toBeNull();
      expect(child.stderr).toBe('');
      expect(child.stdout).toBe('playing yes\nclosed on exit: true\n');
      expect(child.status).toBe(0);
    });

    it(`exits 0 with a running null device opened through the raw binding (${how})`, () => {
      const child = runChild(how, 'binding');
      expect(child.error).toBeUndefined();
      expect(child.signal).toBeNull();
      expect(child.stderr).toBe('');
      expect(child.stdout).toBe('playing yes\n');
      expect(child.status).toBe(0);
    });
  }
});
