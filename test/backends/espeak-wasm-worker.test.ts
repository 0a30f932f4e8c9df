import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AbortError, BackendError } from '../../src/errors.js';
import { EspeakBackend } from '../../src/backends/espeak.js';
import { sharedEspeakWasm } from '../../src/backends/espeak-wasm.js';
import { segment } from '../helpers/synthesis.js';
import { collect, FOX } from './espeak-signal.js';

/** One long clause (no sentence end), so the backend sends it to espeak-ng as a single chunk. */
const LONG_CLAUSE = Array.from({ length: 120 }, (_, index) => `clause number ${index + 1} goes on and on`).join(', ');

/** Runs `body` while a 5 ms interval counts its ticks; returns the ticks and the elapsed ms. */
async function ticksDuring(body: () => Promise<unknown>): Promise<{ ticks: number; elapsedMs: number }> {
  let ticks = 0;
  const timer = setInterval(() => {
    ticks += 1;
  }, 5);
  const startMs = performance.now();
  try {
    await body();
  } finally {
    clearInterval(timer);
  }
  return { ticks, elapsedMs: performance.now() - startMs };
}

describe('espeak WASM build in a worker thread', () => {
  const backend = new EspeakBackend({ mode: 'wasm', maxChunkChars: 10_000 });
  afterAll(() => backend.close());

  it('keeps the event loop ticking during a long synthesis', async () => {
    await collect(backend.synthesize(segment('Warm up.')));
    const { ticks, elapsedMs } = await ticksDuring(() => collect(backend.synthesize(segment(LONG_CLAUSE))));
    // On the JS thread the whole clause ran as one synchronous call: no tick could fire during it.
    expect(elapsedMs).toBeGreaterThan(100);
    expect(ticks).toBeGreaterThanOrEqual(5);
    expect(ticks).toBeGreaterThan(elapsedMs / 5 / 4);
  });

  it('rejects within 50 ms of an abort in the middle of one chunk, and the next call gets its own audio', async () => {
    const reference = await collect(backend.synthesize(segment(FOX)));
    const controller = new AbortController();
    let abortedAtMs = 0;
    const pending = collect(backend.synthesize(segment(LONG_CLAUSE), {}, controller.signal)).catch((caught: unknown) => ({ caught, atMs: performance.now() }));
    setTimeout(() => {
      abortedAtMs = performance.now();
      controller.abort();
    }, 30);
    const outcome = await pending;
    expect('caught' in outcome && outcome.caught).toBeInstanceOf(AbortError);
    expect('atMs' in outcome ? outcome.atMs - abortedAtMs : Infinity).toBeLessThan(50);
    // The abandoned run may still be executing in the worker; its result must not answer this call.
    const next = await collect(backend.synthesize(segment(FOX)));
    expect(next.pcm).toEqual(reference.pcm);
    expect(next.chunks[0]?.metadata.phonemes).toBe(reference.chunks[0]?.metadata.phonemes);
  });

  it('starts a new worker transparently after the worker was killed', async () => {
    const reference = await collect(backend.synthesize(segment(FOX)));
    const killed = await sharedEspeakWasm();
    const inFlight = killed.run({ args: ['-q', '-w', '/tmp/in-flight.wav'], inputText: LONG_CLAUSE, outputFiles: ['/tmp/in-flight.wav'] });
    await killed.crashForTests();
    const error = await inFlight.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ code: 'BACKEND_WORKER_FAILED', retryable: true });
    expect(killed.alive).toBe(false);
    await expect(killed.run({ args: ['--version'] })).rejects.toMatchObject({ code: 'BACKEND_WORKER_FAILED', message: 'espeak: the espeak-ng (wasm) worker exited (code 1)' });

    const again = await collect(backend.synthesize(segment(FOX)));
    expect(again.pcm).toEqual(reference.pcm);
    const restarted = await sharedEspeakWasm();
    expect(restarted).not.toBe(killed);
    expect(restarted.alive).toBe(true);
  });

  it('stops the worker when the last backend using it is closed', async () => {
    const vendored = createRequire(import.meta.url).resolve('espeak-ng');
    const first = new EspeakBackend({ mode: 'wasm', wasmPackage: vendored });
    const second = new EspeakBackend({ mode: 'wasm', wasmPackage: vendored });
    await collect(first.synthesize(segment('One.')));
    await collect(second.synthesize(segment('Two.')));
    const instance = await sharedEspeakWasm(vendored);
    await first.close();
    expect(instance.alive).toBe(true);
    await second.close();
    expect(instance.alive).toBe(false);
    await expect(instance.run({ args: ['--version'] })).rejects.toMatchObject({ code: 'BACKEND_CLOSED', retryable: false, message: 'espeak: the espeak-ng (wasm) instance was closed' });
  });

  it('reports a build whose WebAssembly does not compile as ESPEAK_NOT_FOUND, with the worker\'s reason', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'voice-soundboard-espeak-bad-'));
    try {
      const entry = join(dir, 'espeak-ng.js');
      await copyFile(createRequire(import.meta.url).resolve('espeak-ng'), entry);
      await writeFile(join(dir, 'espeak-ng.wasm'), 'not WebAssembly');
      const error = await sharedEspeakWasm(entry).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BackendError);
      expect(error).toMatchObject({ code: 'ESPEAK_NOT_FOUND', message: `espeak: the WASM build ${JSON.stringify(entry)} could not be loaded; install espeak-ng (apt-get install espeak-ng) or the espeak-ng npm package` });
      expect(String((error as Error).cause)).toMatch(/WebAssembly|magic/i);
      const backend = new EspeakBackend({ mode: 'wasm', wasmPackage: entry });
      await expect(backend.path()).rejects.toMatchObject({ code: 'ESPEAK_NOT_FOUND', message: `espeak: the espeak-ng WASM build ${JSON.stringify(entry)} could not be loaded; install espeak-ng (apt-get install espeak-ng) or the espeak-ng npm package` });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('does not keep the process alive: a child exits promptly after a synthesis without close()', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'voice-soundboard-espeak-exit-'));
    try {
      const script = join(dir, 'child.mts');
      const backendUrl = pathToFileURL(fileURLToPath(new URL('../../src/backends/espeak.ts', import.meta.url))).href;
      await writeFile(
        script,
        [
          `import { EspeakBackend } from ${JSON.stringify(backendUrl)};`,
          `const backend = new EspeakBackend({ mode: 'wasm' });`,
          `let samples = 0;`,
          `for await (const chunk of backend.synthesize({ text: 'Hello there.', prosody: { rate: 1, pitchSemitones: 0, volumeDb: 0 } })) samples += chunk.pcm.length;`,
          `process.stdout.write('done ' + samples + '\\n');`,
        ].join('\n'),
      );
      const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let doneAtMs = 0;
      child.stdout.on('data', (data: Buffer) => {
        stdout += data.toString('utf8');
        if (doneAtMs === 0 && stdout.includes('done')) doneAtMs = performance.now();
      });
      child.stderr.on('data', (data: Buffer) => {
        stderr += data.toString('utf8');
      });
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const exitCode = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      clearTimeout(killTimer);
      const exitedAfterMs = performance.now() - doneAtMs;
      expect(stderr).toBe('');
      expect(exitCode).toBe(0);
      expect(Number(/done (\d+)/.exec(stdout)?.[1])).toBeGreaterThan(10_000);
      expect(exitedAfterMs).toBeLessThan(2000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
