/**
 * SecretManager: where an API key comes from, read when it is needed, never shown. Sources, one per
 * manager: the `apiKey` option, a file (`apiKeyFile`: refused unless a regular file with mode 0600
 * or 0400 owned by this user; a symlink only when it resolves inside its own directory, as
 * Kubernetes secret mounts do; checked with lstat, then opened and re-checked with fstat so a swap
 * in between is caught), a command (`apiKeyCommand`: an argv array run without a shell, with a
 * timeout, its stdout trimmed, as password managers do), else an environment variable. File and
 * command keys are re-read after `refreshMs` and on `rotate()`, so a rotated key is picked up
 * without a restart. Errors name the source, never the key or the file's content; the key lives
 * in a private field (not shown by `util.inspect`).
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { lstat, open, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { VoiceSoundboardError } from '../errors.js';
import { parseInput } from '../validation.js';

/** A secret could not be read: `SECRET_MISSING`, `SECRET_TOO_LARGE`, `SECRET_FILE_UNSAFE`, `SECRET_FILE_UNREADABLE`, `SECRET_COMMAND_FAILED`, `SECRET_COMMAND_TIMEOUT`. */
export class SecretError extends VoiceSoundboardError {}

/** Longest key file or command output read, in bytes. */
export const MAX_SECRET_BYTES = 64 * 1024;

/** Where a key came from (what audit events and errors name; never the key). */
export type SecretSource = 'option' | 'file' | 'command' | 'env';

/** Someone told about each read of a secret (e.g. `AuditLogger.secretAccess`). */
export interface SecretAccessListener {
  (event: { name: string; source: SecretSource; outcome: 'read' | 'refused'; reason?: string }): void;
}

/** The `apiKey*` options a cloud backend accepts (spread into its schema). */
export const secretOptionsShape = {
  /** API key; defaults to the backend's environment variable at call time. */
  apiKey: z.string().min(1).optional(),
  /** File holding the API key (mode 0600 or 0400, owned by this user); re-read after `apiKeyRefreshMs`. */
  apiKeyFile: z.string().min(1).optional(),
  /** Command printing the API key, as an argv array run without a shell (e.g. `["pass", "show", "openai"]`). */
  apiKeyCommand: z
    .array(z.string().max(4096))
    .min(1)
    .max(64)
    .refine((argv) => argv[0] !== '', 'expected the program as the first element')
    .optional(),
  /** Longest the key command may run (default 10 000 ms). */
  apiKeyCommandTimeoutMs: z.number().int().min(1).max(120_000).optional(),
  /** How long a key read from a file or command is reused before it is read again (default 60 000 ms). */
  apiKeyRefreshMs: z.number().int().min(0).max(86_400_000).optional(),
};

/** Schema of `new SecretManager(options)`. */
export const secretManagerOptionsSchema = z
  .strictObject({
    /** What the secret is for, in messages (e.g. `openai`). */
    name: z.string().min(1).max(100),
    /** Environment variable read when no other source is given. */
    envName: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional(),
    ...secretOptionsShape,
    onAccess: z.custom<SecretAccessListener>((value) => typeof value === 'function', 'expected a function').optional(),
  })
  .refine((options) => [options.apiKey, options.apiKeyFile, options.apiKeyCommand].filter((source) => source !== undefined).length <= 1, {
    message: 'give at most one of apiKey, apiKeyFile and apiKeyCommand',
    path: ['apiKey'],
  })
  .refine((options) => options.apiKeyFile === undefined || isAbsolute(options.apiKeyFile), { message: 'expected an absolute path', path: ['apiKeyFile'] });

/** What callers pass to `new SecretManager(...)`. */
export type SecretManagerOptions = z.input<typeof secretManagerOptionsSchema>;

const DEFAULT_REFRESH_MS = 60_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;

/** Holds one API key and reads it from its source on demand (see the module comment). */
export class SecretManager {
  readonly #options: z.output<typeof secretManagerOptionsSchema>;
  #cached: { value: string; readAtMs: number } | undefined;
  #reading: Promise<string> | undefined;

  constructor(options: SecretManagerOptions) {
    const what = typeof (options as { name?: unknown } | undefined)?.name === 'string' ? options.name : 'secrets';
    this.#options = parseInput(secretManagerOptionsSchema, options, what);
  }

  /** The source the key is read from. */
  get source(): SecretSource {
    if (this.#options.apiKey !== undefined) return 'option';
    if (this.#options.apiKeyFile !== undefined) return 'file';
    if (this.#options.apiKeyCommand !== undefined) return 'command';
    return 'env';
  }

  /** Whether a key may be available without reading anything (an option, a file or command configured, or the variable set). */
  configured(): boolean {
    return this.source !== 'env' || (this.#options.envName !== undefined && (process.env[this.#options.envName] ?? '').trim() !== '');
  }

  /** Why no key can be had without more configuration, or undefined. */
  missing(): string | undefined {
    return this.configured() ? undefined : `no apiKey: pass the \`apiKey\` option or set ${this.#options.envName ?? 'its environment variable'}`;
  }

  /** The key: cached for `apiKeyRefreshMs` when it comes from a file or command, read again after. */
  async get(): Promise<string> {
    const source = this.source;
    if (source === 'option') return this.#report(source, this.#options.apiKey as string);
    if (source === 'env') {
      const value = process.env[this.#options.envName ?? '']?.trim();
      if (!value) throw this.#refuse(source, 'SECRET_MISSING', this.missing() ?? 'no key');
      if (Buffer.byteLength(value) > MAX_SECRET_BYTES) throw this.#refuse(source, 'SECRET_TOO_LARGE', `${this.#options.envName ?? 'the variable'} is larger than ${MAX_SECRET_BYTES} bytes`);
      return this.#report(source, value);
    }
    const refreshMs = this.#options.apiKeyRefreshMs ?? DEFAULT_REFRESH_MS;
    if (this.#cached && performance.now() - this.#cached.readAtMs < refreshMs) return this.#cached.value;
    return this.#readOnce();
  }

  /**
   * Forgets the cached key and reads it again now (after the key was rotated at its source). A
   * read already in flight may have seen the old key: it is let finish, then the key is read anew.
   */
  async rotate(): Promise<void> {
    this.#cached = undefined;
    if (this.source !== 'file' && this.source !== 'command') return;
    await this.#reading?.catch(() => undefined);
    this.#cached = undefined;
    await this.#readOnce();
  }

  #readOnce(): Promise<string> {
    // Concurrent callers share one read (one command run, one file open).
    this.#reading ??= (async () => {
      try {
        const value = this.source === 'file' ? await this.#readFile() : await this.#runCommand();
        this.#cached = { value, readAtMs: performance.now() };
        return this.#report(this.source, value);
      } finally {
        this.#reading = undefined;
      }
    })();
    return this.#reading;
  }

  #report(source: SecretSource, value: string): string {
    this.#options.onAccess?.({ name: this.#options.name, source, outcome: 'read' });
    return value;
  }

  #refuse(source: SecretSource, code: string, message: string): SecretError {
    this.#options.onAccess?.({ name: this.#options.name, source, outcome: 'refused', reason: code });
    return new SecretError(code, message);
  }

  async #readFile(): Promise<string> {
    const path = this.#options.apiKeyFile as string;
    const refuse = (code: string, why: string) => this.#refuse('file', code, `apiKeyFile ${JSON.stringify(path)} ${why}`);
    let target = path;
    try {
      const link = await lstat(path);
      if (link.isSymbolicLink()) {
        // Only a link to a file in its own directory (Kubernetes' ..data/ swaps); never elsewhere.
        target = await realpath(path);
        const home = await realpath(dirname(path));
        const inside = relative(home, target);
        if (inside.split(sep)[0] === '..' || isAbsolute(inside)) throw refuse('SECRET_FILE_UNSAFE', 'is a symlink to a file outside its directory');
      }
    } catch (error) {
      if (error instanceof SecretError) throw error;
      throw refuse('SECRET_FILE_UNREADABLE', `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    const expected = await lstat(target).catch(() => undefined);
    let handle;
    try {
      handle = await open(resolve(target), constants.O_RDONLY | constants.O_NOFOLLOW | (constants.O_NONBLOCK ?? 0));
    } catch (error) {
      throw refuse('SECRET_FILE_UNREADABLE', `cannot be opened (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw refuse('SECRET_FILE_UNSAFE', 'is not a regular file');
      if (!expected || expected.ino !== stats.ino || expected.dev !== stats.dev) throw refuse('SECRET_FILE_UNSAFE', 'changed while it was opened');
      if ((stats.mode & 0o077) !== 0) throw refuse('SECRET_FILE_UNSAFE', `has mode ${(stats.mode & 0o777).toString(8).padStart(4, '0')}: it must be readable by its owner only (chmod 600)`);
      if (typeof process.getuid === 'function' && stats.uid !== process.getuid()) throw refuse('SECRET_FILE_UNSAFE', 'is not owned by the user running voice-soundboard');
      if (stats.size > MAX_SECRET_BYTES) throw refuse('SECRET_FILE_UNSAFE', `is larger than ${MAX_SECRET_BYTES} bytes`);
      const buffer = Buffer.alloc(MAX_SECRET_BYTES + 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      const value = buffer.subarray(0, bytesRead).toString('utf8').trim();
      buffer.fill(0);
      if (value === '') throw refuse('SECRET_MISSING', 'is empty');
      return value;
    } finally {
      await handle.close();
    }
  }

  async #runCommand(): Promise<string> {
    const [file, ...args] = this.#options.apiKeyCommand as string[];
    const timeoutMs = this.#options.apiKeyCommandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const what = `apiKeyCommand ${JSON.stringify(file)}`;
    const output = await new Promise<string>((resolvePromise, reject) => {
      // SIGKILL: a command that ignores SIGTERM must not hold the read (and every request waiting on it) forever.
      execFile(file as string, args, { shell: false, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_SECRET_BYTES, encoding: 'utf8', windowsHide: true }, (error, stdout) => {
        if (!error) return resolvePromise(stdout);
        // Neither stdout nor stderr is quoted: either may hold the key.
        const failure = error as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: string | number | null };
        if (failure.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return reject(this.#refuse('command', 'SECRET_COMMAND_FAILED', `${what} printed more than ${MAX_SECRET_BYTES} bytes`));
        if (failure.killed && failure.signal) return reject(this.#refuse('command', 'SECRET_COMMAND_TIMEOUT', `${what} did not finish within ${timeoutMs} ms`));
        if (typeof failure.code === 'string') return reject(this.#refuse('command', 'SECRET_COMMAND_FAILED', `${what} could not be run (${failure.code})`));
        reject(this.#refuse('command', 'SECRET_COMMAND_FAILED', `${what} exited with ${failure.code ?? failure.signal ?? 'an error'}`));
      });
    });
    const value = output.trim();
    if (value === '') throw this.#refuse('command', 'SECRET_MISSING', `${what} printed nothing`);
    return value;
  }
}
