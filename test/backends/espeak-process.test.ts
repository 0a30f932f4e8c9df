import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isEspeakProcessAvailable, runEspeakProcess } from '../../src/backends/espeak-process.js';
import { EspeakBackend } from '../../src/backends/espeak.js';
import { AbortError, BackendError } from '../../src/errors.js';
import { NEUTRAL_PROSODY } from '../../src/graph/engine-output.js';
import { processExists, waitUntil } from '../helpers/waiting.js';

/**
 * An espeak-ng stand-in for abort tests: `--version` and voice listings go to the real program;
 * any other run writes its pid to `pidLog` and then never finishes (it is stuck mid-run).
 */
interface StuckProgram {
  binaryPath: string;
  pidLog: string;
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'voice-soundboard-espeak-process-'));
});
const leftovers: number[] = [];
afterAll(async () => {
  for (const pid of leftovers) if (processExists(pid)) process.kill(pid, 'SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

async function stuckProgram(name: string): Promise<StuckProgram> {
  const binaryPath = join(dir, name);
  const pidLog = join(dir, `${name}.pids`);
  await writeFile(binaryPath, ['#!/bin/sh', 'case " $* " in *" --version "*|*" --voices"*) exec espeak-ng "$@";; esac', `echo "$$" >> '${pidLog}'`, 'exec sleep 600', ''].join('\n'));
  await chmod(binaryPath, 0o755);
  return { binaryPath, pidLog };
}

/** The pids the stuck program logged so far. */
async function stuckPids(program: StuckProgram): Promise<number[]> {
  const text = await readFile(program.pidLog, 'utf8').catch(() => '');
  return text.split('\n').filter((line) => /^\d+$/.test(line)).map(Number);
}

/** Waits until the stuck program runs once; returns its pid (killed after the file if still alive). */
async function firstStuckRun(program: StuckProgram): Promise<number> {
  await waitUntil(async () => (await stuckPids(program)).length > 0, 'the program to start');
  const [pid = 0] = await stuckPids(program);
  leftovers.push(pid);
  return pid;
}

describe('runEspeakProcess', () => {
  it('passes text through stdin and returns stdout', async () => {
    const result = await runEspeakProcess({ binaryPath: 'espeak-ng', args: ['-q', '--ipa=3', '-v', 'en-us', '--stdin'], stdinText: '--help me' });
    expect(result.stdout.toString('utf8').replace(/\u200d/g, '')).toContain('hˈɛlp');
  });

  it('reports a non-zero exit with espeak-ng’s own message', async () => {
    const error = await runEspeakProcess({ binaryPath: 'espeak-ng', args: ['-q', '-v', 'xx-does-not-exist', '--stdin'], stdinText: 'hi' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ code: 'ESPEAK_FAILED', retryable: false });
    expect((error as Error).message).toMatch(/exited with code 1: .*voice does not exist/);
  });

  it('reports a missing program with the install hint', async () => {
    const error = await runEspeakProcess({ binaryPath: '/nonexistent/espeak-ng', args: ['--version'] }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ESPEAK_NOT_FOUND' });
    expect((error as Error).message).toContain('apt-get install espeak-ng');
    expect(await isEspeakProcessAvailable('/nonexistent/espeak-ng')).toBe(false);
    expect(await isEspeakProcessAvailable('espeak-ng')).toBe(true);
  });

  it('kills the program when aborted mid-run, and rejects without waiting for it', async () => {
    const program = await stuckProgram('stuck-run');
    const controller = new AbortController();
    const pending = runEspeakProcess({ binaryPath: program.binaryPath, args: ['--stdout', '-v', 'en-us', '--stdin'], stdinText: 'word '.repeat(100), signal: controller.signal }).catch(
      (caught: unknown) => caught,
    );
    const pid = await firstStuckRun(program);
    expect(processExists(pid)).toBe(true);
    controller.abort();
    expect(await pending).toBeInstanceOf(AbortError); // the program would run for ten minutes
    await waitUntil(() => !processExists(pid), `the aborted program (pid ${pid}) to be killed`);
  });

  it('aborts a backend call inside one long chunk without yielding audio, killing its run', async () => {
    const program = await stuckProgram('stuck-backend');
    const backend = new EspeakBackend({ mode: 'process', binaryPath: program.binaryPath, maxChunkChars: 10_000, maxRetries: 0, firstChunkTimeoutMs: 600_000 });
    try {
      const segment = { text: 'word '.repeat(1990), prosody: { ...NEUTRAL_PROSODY } };
      const controller = new AbortController();
      let chunks = 0;
      const pending = (async () => {
        for await (const _chunk of backend.synthesize(segment, {}, controller.signal)) chunks += 1;
      })().catch((caught: unknown) => caught);
      const pid = await firstStuckRun(program); // the one chunk of ~10 000 characters is being spoken
      controller.abort();
      expect(await pending).toBeInstanceOf(AbortError);
      expect(chunks).toBe(0);
      await waitUntil(() => !processExists(pid), `the aborted run (pid ${pid}) to be killed`);
      expect(await stuckPids(program)).toEqual([pid]); // one run, not retried
    } finally {
      await backend.close();
    }
  });
});
