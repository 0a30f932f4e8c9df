/**
 * The benches' shared tinybench runner: runs named tasks for a while and returns each one's
 * p50/p99 latency in µs (hrtime clock, 100 ms warm-up).
 */
import { Bench, hrtimeNowTimestampProvider } from 'tinybench';

/** p50/p99 latency of a task, in µs. */
export interface Stats {
  p50Us: number;
  p99Us: number;
}

/** Runs every task for `timeMs` and returns its latency percentiles; throws if one did not complete. */
export async function measure(tasks: Record<string, () => unknown>, timeMs: number): Promise<Record<string, Stats>> {
  const bench = new Bench({ time: timeMs, warmupTime: 100, timestampProvider: hrtimeNowTimestampProvider });
  for (const [name, task] of Object.entries(tasks)) bench.add(name, task);
  await bench.run();
  const stats: Record<string, Stats> = {};
  for (const name of Object.keys(tasks)) {
    const result = bench.getTask(name)?.result;
    if (result === undefined || !('latency' in result)) throw new Error(`bench task ${name} did not complete`);
    stats[name] = { p50Us: result.latency.p50 * 1000, p99Us: result.latency.p99 * 1000 };
  }
  return stats;
}

/** A µs figure as printed in the benches' tables. */
export const us = (value: number): string => `${value.toFixed(2)} µs`;
