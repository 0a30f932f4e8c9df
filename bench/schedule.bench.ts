/**
 * Scheduling decisions (src/streaming/schedule-core.ts): what one arrival + its end costs the
 * caller of play() before any audio, with 0, 8 and 64 plays already waiting on the device, and a
 * preemption (arrive, preempt, outcome, admit), each as a ratio of the empty-device row measured in
 * the same run. The decisions are synchronous and allocation-light; the queue is a sorted array,
 * so the cost grows with the depth (bounded by `maxQueue`).
 * Run: node --import tsx bench/schedule.bench.ts
 */
import { measure, us } from './latency.js';
import { ScheduleCore, type ArrivalSpec } from '../src/streaming/schedule-core.js';
import { SCHEDULE_DEFAULTS } from '../src/streaming/schedule-policy.js';

const BENCH_TIME_MS = 400;
const DUCK = { gainDb: SCHEDULE_DEFAULTS.duckDb, attackMs: SCHEDULE_DEFAULTS.duckAttackMs, releaseMs: SCHEDULE_DEFAULTS.duckReleaseMs };
let next = 0;
const spec = (fields: Partial<ArrivalSpec> = {}): ArrivalSpec => ({ id: `t${++next}`, owner: 'engine', group: 'registrar', actor: 'system:engine', priority: 5, policy: undefined, maxQueue: 1000, maxConcurrent: 64, dropPolicy: 'graceful', duck: DUCK, ...fields });

/** A core with one play admitted and `waiting` plays queued behind it. */
function busy(waiting: number): ScheduleCore {
  const core = new ScheduleCore();
  core.arrive(spec({ priority: 1 }));
  for (let index = 0; index < waiting; index++) core.arrive(spec({ priority: 1 + (index % 5), policy: 'queue' }));
  return core;
}

const empty = new ScheduleCore();
const depth8 = busy(8);
const depth64 = busy(64);
const preempting = new ScheduleCore();

const stats = await measure({
  'arrive + end, empty device': () => {
    const arrival = spec();
    empty.arrive(arrival);
    empty.end(arrival.id);
  },
  'arrive + end, 8 waiting': () => {
    const arrival = spec({ priority: 3 });
    depth8.arrive(arrival);
    depth8.end(arrival.id);
  },
  'arrive + end, 64 waiting': () => {
    const arrival = spec({ priority: 3 });
    depth64.arrive(arrival);
    depth64.end(arrival.id);
  },
  'preemption (arrive, playing, preempt, outcome, admit, end)': () => {
    const low = spec({ priority: 1 });
    preempting.arrive(low);
    preempting.playing(low.id);
    const high = spec({ priority: 10, policy: 'preempt' });
    preempting.arrive(high);
    preempting.preemptOutcome(low.id, high.id, true);
    preempting.end(high.id);
  },
}, BENCH_TIME_MS);

const baseline = stats['arrive + end, empty device'];
console.log('scheduling decisions (p50 / p99, ratio of p50 to the empty-device row)');
for (const [name, row] of Object.entries(stats)) {
  console.log(`  ${name.padEnd(60)} ${us(row.p50Us).padStart(10)} ${us(row.p99Us).padStart(10)}  ${(row.p50Us / (baseline?.p50Us ?? 1)).toFixed(1)}x`);
}
