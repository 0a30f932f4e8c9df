/**
 * The log writer drains other threads' decisions in short turns: a drain call asks at most a
 * small batch of seqs, and once a slice has run its time budget the writer's thread gets a turn
 * for other work before the next slice. Checked by order of events, not by durations: each batch
 * busy-waits long enough to use the whole budget, so every slice is one batch, and a timer that is
 * due waits at most two slices (a slice queued from outside the event loop's check phase runs in
 * that same turn, before the timers). The negative check plants three batches in a row and shows
 * the same check catches it; the writer before this budget asked 4096 seqs per call.
 */
import { describe, expect, it } from 'vitest';
import { Doorbell } from '../../src/registrar/doorbell.js';
import { LogWriter } from '../../src/registrar/log-writer.js';
import { waitUntil } from '../helpers/waiting.js';

const BATCHES = 8;
/** More than the writer's 4 ms slice budget: one batch uses it all. */
const BATCH_BUSY_MS = 6;

/** Indexes of drain calls that followed two drain calls with no timer between them. */
function batchesWithoutTurn(events: readonly string[]): number[] {
  const drain = (index: number) => events[index]?.startsWith('drain') ?? false;
  return events.flatMap((_, index) => (index > 1 && drain(index) && drain(index - 1) && drain(index - 2) ? [index] : []));
}

describe('log writer turns', () => {
  it('asks small batches and lets due timers run between slices', async () => {
    const events: string[] = [];
    const asked: number[] = [];
    let calls = 0;
    const writer = new LogWriter(
      Doorbell.create(),
      (sliceSeqs) => {
        calls += 1;
        asked.push(sliceSeqs);
        events.push(`drain ${calls}`);
        const until = performance.now() + BATCH_BUSY_MS;
        while (performance.now() < until) {
          // busy: this batch uses the slice's whole budget
        }
        return { written: sliceSeqs, waitingFor: null, more: calls < BATCHES };
      },
      60_000,
    );
    const ticker = setInterval(() => events.push('timer'), 1);
    try {
      writer.start();
      await waitUntil(() => calls >= BATCHES, `${BATCHES} drain batches`);
    } finally {
      clearInterval(ticker);
      writer.stop();
    }
    expect(Math.max(...asked)).toBeLessThanOrEqual(32);
    expect(batchesWithoutTurn(events)).toEqual([]);
  });

  it('negative: three batches back to back (a long slice) are caught by the same check', () => {
    expect(batchesWithoutTurn(['drain 1', 'drain 2', 'timer', 'drain 3', 'drain 4', 'drain 5', 'timer', 'drain 6'])).toEqual([5]);
  });
});
