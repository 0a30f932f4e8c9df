import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { AbortError, BackendError } from '../../src/errors.js';
import { EspeakBackend } from '../../src/backends/espeak.js';
import { sharedEspeakWasm, type EspeakWasm } from '../../src/backends/espeak-wasm.js';
import { segment } from '../helpers/synthesis.js';
import { collect, FOX } from './espeak-signal.js';
import { nextTurn, settledFlag, watchCalls, type CallWatch } from '../helpers/waiting.js';

/** One long clause (no sentence end), so the backend sends it to espeak-ng as a single chunk. */
const LONG_CLAUSE = Array.from({ length: 120 }, (_, index) => `clause number ${index + 1} goes on and on`).join(', ');

/** Watches the shared instance's runs: how many were handed to the worker, and this thread's event-loop turns while one executed there. */
function watchRuns(instance: EspeakWasm): CallWatch {
  const { watch, wrapped } = watchCalls(instance.run.bind(instance));
  vi.spyOn(instance, 'run').mockImplementation(wrapped);
  return watch;
}

describe('espeak WASM build in a worker thread', () => {
  const backend = new EspeakBackend({ mode: 'wasm', maxChunkChars: 10_000 });
  afterAll(() => backend.close());
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('keeps the event loop turning while the worker synthesizes', async () => {
    await collect(backend.synthesize(segment('Warm up.')));
    const watch = watchRuns(await sharedEspeakWasm());
    const audio = await collect(backend.synthesize(segment(LONG_CLAUSE)));
    expect(audio.chunks).toHaveLength(1);
    expect(watch.started).toBe(1);
    // On the JS thread the whole clause ran as one synchronous call: the loop could not turn
    // during it (a handful of turns at most, around the call). In the worker it turns freely.
    expect(watch.turnsWhileRunning).toBeGreaterThanOrEqual(50);
  });

  it('rejects as soon as it is aborted in the middle of one chunk, and the next call gets its own audio', async () => {
    const reference = await collect(backend.synthesize(segment(FOX)));
    const watch = watchRuns(await sharedEspeakWasm());
    const controller = new AbortController();
    const started = watch.nextStart();
    const pending = collect(backend.synthesize(segment(LONG_CLAUSE), {}, controller.signal)).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    const outcome = settledFlag(pending);
    await started; // the long clause is in the worker now
    controller.abort();
    // Settled within the microtasks of abort() and one turn of the loop: no waiting for the worker.
    await nextTurn();
    expect(outcome.settled).toBe(true);
    expect(await pending).toBeInstanceOf(AbortError);
    expect(watch.started).toBe(1);
    vi.restoreAllMocks();
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
      child.stdout.on('data', (data: Buffer) => {
        stdout += data.toString('utf8');
      });
      child.stderr.on('data', (data: Buffer) => {
        stderr += data.toString('utf8');
      });
      // A deadline only: a child the worker keeps alive never exits by itself and is killed here.
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 45_000);
      const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
      clearTimeout(killTimer);
      expect(stderr).toBe('');
      expect(exit).toEqual({ code: 0, signal: null });
      expect(Number(/done (\d+)/.exec(stdout)?.[1])).toBeGreaterThan(10_000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
