import { readdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../helpers/waiting.js';

const WORKER_SCRIPT = new URL('./fixtures/device-in-worker.ts', import.meta.url).href;
// Workers do not inherit the test runner's TypeScript loader: register tsx, then import the fixture.
const WORKER_BOOTSTRAP = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(WORKER_SCRIPT)}); })`;

interface WorkerReport {
  framesPlayed: number;
  capturedFrames: number;
  allHalf: boolean;
}

/** Threads of this process (Linux): shows whether a worker's device thread was joined. */
function threadCount(): number {
  return readdirSync('/proc/self/task').length;
}

function runWorker(mode: string, onReport?: (worker: Worker) => void): Promise<{ report: WorkerReport; exitCode: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData: { mode } });
    let report: WorkerReport | undefined;
    worker.on('message', (message: WorkerReport) => {
      report = message;
      onReport?.(worker);
    });
    worker.on('error', reject);
    worker.on('exit', (exitCode) => {
      if (report === undefined) reject(new Error(`worker exited (${exitCode}) without a report`));
      else resolve({ report, exitCode });
    });
  });
}

describe('the addon inside worker_threads', () => {
  it('plays through a null device in a Worker and closes it', async () => {
    const { report, exitCode } = await runWorker('close');
    expect(exitCode).toBe(0);
    expect(report).toEqual({ framesPlayed: 2400, capturedFrames: 2400, allHalf: true });
  });

  it('runs in two Workers at once, each with its own device and state', async () => {
    const results = await Promise.all([runWorker('close'), runWorker('leave-running')]);
    for (const { report, exitCode } of results) {
      expect(exitCode).toBe(0);
      expect(report.framesPlayed).toBe(2400);
    }
  });

  it('stops a device left running when its Worker ends or is terminated (env cleanup hook)', async () => {
    const before = threadCount();
    const natural = await runWorker('leave-running');
    expect(natural.exitCode).toBe(0);
    const terminated = await runWorker('wait-for-terminate', (worker) => void worker.terminate());
    expect(terminated.exitCode).toBe(1); // what terminate() reports
    expect(terminated.report.allHalf).toBe(true);
    // The workers' JS threads and miniaudio device threads are gone (joined, not leaked): waited
    // for as an event (a leaked thread never goes, and the deadline fails the test).
    await waitUntil(() => threadCount() <= before, `the thread count to fall back to ${before}`);
    expect(threadCount()).toBeLessThanOrEqual(before);
  });
});
