/**
 * The attestation wall clock writes what Date.prototype.toISOString writes (the independent
 * reference), for every millisecond it can be given: day, month, year and leap-year boundaries,
 * each hour, minute and second edge, random instants across many centuries, and a clock that
 * goes back (a wall clock may be set back).
 */
import { describe, expect, it } from 'vitest';
import { isoOfMs, wallClockIso } from '../../src/registrar/wall-clock.js';

const reference = (ms: number): string => new Date(ms).toISOString();

describe('attestation wall clock', () => {
  it('matches toISOString at calendar boundaries, edges of every unit, and far dates', () => {
    const instants: number[] = [0, 1, 999, 1000, 59_999, 60_000, 3_599_999, 3_600_000, 86_399_999, 86_400_000];
    for (const [year, month, day] of [[1972, 1, 29], [1999, 11, 31], [2000, 1, 29], [2000, 2, 1], [2024, 1, 29], [2026, 11, 6], [2100, 1, 28], [2400, 1, 29], [9999, 11, 31]] as const) {
      const start = Date.UTC(year, month, day);
      for (const offset of [-86_400_001, -1, 0, 1, 999, 1000, 43_199_999, 43_200_000, 86_399_999, 86_400_000]) instants.push(start + offset);
    }
    for (const ms of instants) expect(isoOfMs(ms), String(ms)).toBe(reference(ms));
  });

  it('matches toISOString on 200,000 random instants, visited out of order', () => {
    let seed = 12345;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let index = 0; index < 200_000; index += 1) {
      // Alternately far jumps (the cached day changes every call) and steps within a day (cache hits), forwards and back.
      const ms = index % 2 === 0 ? next() * 4096 + (next() % 4096) : Date.UTC(2026, 11, 6) + (next() % 86_400_000) - 43_200_000;
      expect(isoOfMs(ms)).toBe(reference(ms));
    }
  });

  it('reads the clock now', () => {
    const before = Date.now();
    const text = wallClockIso();
    const after = Date.now();
    const ms = Date.parse(text);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after);
    expect(text).toBe(reference(ms));
  });
});
