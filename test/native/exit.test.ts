import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./fixtures/exit-without-close.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function runChild(mode: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', FIXTURE, mode], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 20_000, // a hang (device thread never joined) shows as signal SIGTERM
  });
}

describe('process exit without close()', () => {
  for (const mode of ['natural', 'process-exit']) {
    it(`exits 0 with a running null device (${mode})`, () => {
      const child = runChild(mode);
      expect(child.error).toBeUndefined();
      expect(child.signal).toBeNull();
      expect(child.stderr).toBe('');
      expect(child.stdout).toBe('playing yes\n');
      expect(child.status).toBe(0);
    });
  }
});
