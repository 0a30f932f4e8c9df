import { chmodSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { SecretError, SecretManager } from '../../src/security/secrets.js';
import { rejection } from '../helpers/errors.js';
import { waitUntil } from '../helpers/waiting.js';

const directory = mkdtempSync(join(tmpdir(), 'vs-secrets-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let counter = 0;
function keyFile(content: string, mode = 0o600): string {
  const path = join(directory, `key-${counter++}`);
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
  return path;
}

describe('SecretManager', () => {
  it('reads a key from the option, the environment, a 0600 file and a command', async () => {
    expect(await new SecretManager({ name: 't', apiKey: 'from-option' }).get()).toBe('from-option');
    process.env.VS_TEST_SECRET = '  from-env\n';
    try {
      expect(await new SecretManager({ name: 't', envName: 'VS_TEST_SECRET' }).get()).toBe('from-env');
    } finally {
      delete process.env.VS_TEST_SECRET;
    }
    expect(await new SecretManager({ name: 't', apiKeyFile: keyFile('from-file\n') }).get()).toBe('from-file');
    expect(await new SecretManager({ name: 't', apiKeyFile: keyFile('read-only', 0o400) }).get()).toBe('read-only');
    expect(await new SecretManager({ name: 't', apiKeyCommand: [process.execPath, '-e', 'process.stdout.write("  from-command \\n")'] }).get()).toBe('from-command');
  });

  it('runs the command without a shell: metacharacters are plain arguments', async () => {
    const marker = join(directory, 'shell-ran');
    const manager = new SecretManager({ name: 't', apiKeyCommand: [process.execPath, '-e', 'process.stdout.write(process.argv[1])', `k; touch ${marker}`] });
    expect(await manager.get()).toBe(`k; touch ${marker}`);
    await expect(import('node:fs').then((fs) => fs.existsSync(marker))).resolves.toBe(false);
  });

  it('refuses a key file readable by others, naming the mode, never the content', async () => {
    for (const mode of [0o644, 0o640, 0o604, 0o660]) {
      const error = await rejection(new SecretManager({ name: 't', apiKeyFile: keyFile('sk-planted-group-readable', mode) }).get());
      expect(error).toBeInstanceOf(SecretError);
      expect(error.code).toBe('SECRET_FILE_UNSAFE');
      expect(error.message).toContain(`has mode ${mode.toString(8).padStart(4, '0')}`);
      expect(error.message).not.toContain('sk-planted');
    }
  });

  it('refuses a symlink to a file elsewhere, a directory and a FIFO; accepts a link inside its own directory (Kubernetes style)', async () => {
    const elsewhere = keyFile('sk-elsewhere');
    const mount = join(directory, 'mount');
    mkdirSync(join(mount, '..data'), { recursive: true });
    const link = join(mount, 'key');
    symlinkSync(elsewhere, link);
    expect((await rejection(new SecretManager({ name: 't', apiKeyFile: link }).get())).message).toContain('is a symlink to a file outside its directory');
    writeFileSync(join(mount, '..data', 'inner'), 'sk-inside', { mode: 0o600 });
    symlinkSync(join('..data', 'inner'), join(mount, 'inner'));
    expect(await new SecretManager({ name: 't', apiKeyFile: join(mount, 'inner') }).get()).toBe('sk-inside');
    expect((await rejection(new SecretManager({ name: 't', apiKeyFile: directory }).get())).code).toBe('SECRET_FILE_UNSAFE');
    const { execFileSync } = await import('node:child_process');
    const fifo = join(directory, 'fifo');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    expect((await rejection(new SecretManager({ name: 't', apiKeyFile: fifo }).get())).message).toContain('is not a regular file');
    expect((await rejection(new SecretManager({ name: 't', apiKeyFile: join(directory, 'absent') }).get())).code).toBe('SECRET_FILE_UNREADABLE');
  });

  it('fails a command that exits non-zero, times out or prints nothing, without quoting its output', async () => {
    const failing = new SecretManager({ name: 't', apiKeyCommand: [process.execPath, '-e', 'process.stdout.write("sk-partial"); process.stderr.write("sk-stderr"); process.exit(3)'] });
    const failed = await rejection(failing.get());
    expect(failed.code).toBe('SECRET_COMMAND_FAILED');
    expect(failed.message).toBe(`apiKeyCommand ${JSON.stringify(process.execPath)} exited with 3`);
    const slow = new SecretManager({ name: 't', apiKeyCommand: [process.execPath, '-e', 'setTimeout(() => {}, 60000)'], apiKeyCommandTimeoutMs: 200 });
    expect((await rejection(slow.get())).code).toBe('SECRET_COMMAND_TIMEOUT');
    expect((await rejection(new SecretManager({ name: 't', apiKeyCommand: [process.execPath, '-e', ''] }).get())).code).toBe('SECRET_MISSING');
    expect((await rejection(new SecretManager({ name: 't', apiKeyCommand: [join(directory, 'no-such-binary')] }).get())).message).toContain('could not be run (ENOENT)');
  });

  it('picks up a rotated key on rotate() and after apiKeyRefreshMs, without a restart', async () => {
    const path = keyFile('sk-one');
    const cached = new SecretManager({ name: 't', apiKeyFile: path });
    expect(await cached.get()).toBe('sk-one');
    writeFileSync(path, 'sk-two');
    expect(await cached.get()).toBe('sk-one');
    await cached.rotate();
    expect(await cached.get()).toBe('sk-two');
    const fresh = new SecretManager({ name: 't', apiKeyFile: path, apiKeyRefreshMs: 0 });
    expect(await fresh.get()).toBe('sk-two');
    writeFileSync(path, 'sk-three');
    expect(await fresh.get()).toBe('sk-three');
  });

  it('tells a listener about each read and refusal, without the key', async () => {
    const events: unknown[] = [];
    await new SecretManager({ name: 'openai', apiKeyFile: keyFile('sk-listened'), onAccess: (event) => events.push(event) }).get();
    await rejection(new SecretManager({ name: 'openai', apiKeyFile: keyFile('sk-listened', 0o644), onAccess: (event) => events.push(event) }).get());
    expect(events).toEqual([
      { name: 'openai', source: 'file', outcome: 'read' },
      { name: 'openai', source: 'file', outcome: 'refused', reason: 'SECRET_FILE_UNSAFE' },
    ]);
  });

  it('validates its options: one source at most, absolute file paths, argv arrays', () => {
    expect(() => new SecretManager({ name: 'openai', apiKey: 'a', apiKeyFile: '/k' })).toThrow('openai.apiKey: give at most one of apiKey, apiKeyFile and apiKeyCommand');
    expect(() => new SecretManager({ name: 't', apiKeyFile: 'relative' })).toThrow(/t\.apiKeyFile: expected an absolute path/);
    expect(() => new SecretManager({ name: 't', apiKeyCommand: 'pass show x' as never })).toThrow(InputError);
  });

  it('a command that ignores SIGTERM, or prints megabytes while ignoring it, is killed at the timeout or the output limit (no hang)', async () => {
    const stubborn = "process.on('SIGTERM', () => {}); setTimeout(() => process.exit(0), 60000);";
    const hanging = new SecretManager({ name: 't', apiKeyCommand: [process.execPath, '-e', `${stubborn} process.stdout.write('sk-')`], apiKeyCommandTimeoutMs: 300 });
    expect((await rejection(hanging.get())).code).toBe('SECRET_COMMAND_TIMEOUT');
    const flooding = new SecretManager({ name: 't', apiKeyCommand: [process.execPath, '-e', `${stubborn} process.stdout.write('k'.repeat(10 * 1024 * 1024))`] });
    const flooded = await rejection(flooding.get());
    expect(flooded.code).toBe('SECRET_COMMAND_FAILED');
    expect(flooded.message).toBe(`apiKeyCommand ${JSON.stringify(process.execPath)} printed more than 65536 bytes`);
  }, 20_000);

  it('refuses an environment variable larger than the key limit (10 MB), as it refuses such a file', async () => {
    process.env.VS_TEST_HUGE_KEY = 'k'.repeat(10 * 1024 * 1024);
    try {
      const huge = await rejection(new SecretManager({ name: 't', envName: 'VS_TEST_HUGE_KEY' }).get());
      expect(huge.code).toBe('SECRET_TOO_LARGE');
      expect(huge.message).toBe('VS_TEST_HUGE_KEY is larger than 65536 bytes');
      process.env.VS_TEST_HUGE_KEY = 'sk-small';
      expect(await new SecretManager({ name: 't', envName: 'VS_TEST_HUGE_KEY' }).get()).toBe('sk-small');
    } finally {
      delete process.env.VS_TEST_HUGE_KEY;
    }
  });

  it('rotate() while a read is in flight reads again: the rotated key wins, not the one the old read saw', async () => {
    const key = keyFile('sk-old');
    const seen = join(directory, `seen-${counter++}`);
    const go = join(directory, `go-${counter++}`);
    // Reads the key, says so, then waits for "go" before printing what it read.
    const script = `const fs = require('node:fs'); const k = fs.readFileSync(${JSON.stringify(key)}, 'utf8'); fs.writeFileSync(${JSON.stringify(seen)}, ''); const t = setInterval(() => { if (fs.existsSync(${JSON.stringify(go)})) { clearInterval(t); process.stdout.write(k); } }, 10);`;
    const manager = new SecretManager({ name: 't', apiKeyCommand: [process.execPath, '-e', script] });
    const inFlight = manager.get();
    await waitUntil(() => existsSync(seen), 'the first read to see the old key');
    rmSync(seen);
    writeFileSync(key, 'sk-new');
    const rotated = manager.rotate();
    writeFileSync(go, '');
    expect(await inFlight).toBe('sk-old');
    await rotated;
    expect(await manager.get()).toBe('sk-new');
  }, 30_000);
});
