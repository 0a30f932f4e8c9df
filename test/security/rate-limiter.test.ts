import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { RateLimiter } from '../../src/security/rate-limiter.js';

setFlagsFromString('--expose-gc');
/** A full collection: the heap measured after it is what is retained. */
const fullGc = runInNewContext('gc') as () => void;

/** A clock the test moves by hand. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let nowMs = 0;
  return { now: () => nowMs, advance: (ms) => void (nowMs += ms) };
}

describe('RateLimiter', () => {
  it('allows a window of requests per key, then refuses with the time until one fits', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ requestsPerWindow: 3, windowMs: 3000, clock: clock.now });
    expect([1, 2, 3].map(() => limiter.check('a').allowed)).toEqual([true, true, true]);
    const refused = limiter.check('a');
    expect(refused).toEqual({ allowed: false, retryAfterMs: 1000, limit: 'requests' });
    // Another key has its own bucket.
    expect(limiter.check('b').allowed).toBe(true);
    clock.advance(999);
    expect(limiter.check('a').allowed).toBe(false);
    clock.advance(1);
    expect(limiter.check('a').allowed).toBe(true);
  });

  it('counts characters in their own bucket', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ requestsPerWindow: 100, charsPerWindow: 1000, windowMs: 1000, clock: clock.now });
    expect(limiter.check('a', { chars: 900 }).allowed).toBe(true);
    const refused = limiter.check('a', { chars: 200 });
    expect(refused).toEqual({ allowed: false, retryAfterMs: 100, limit: 'chars' });
    // A refusal spends nothing: a small request still fits.
    expect(limiter.check('a', { chars: 100 }).allowed).toBe(true);
    // More than a whole window's budget never fits.
    expect(limiter.check('c', { chars: 1001 })).toEqual({ allowed: false, retryAfterMs: Number.POSITIVE_INFINITY, limit: 'chars' });
  });

  it('refills no further than the full budget after a long idle time', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ requestsPerWindow: 2, windowMs: 100, clock: clock.now });
    clock.advance(1_000_000);
    expect([1, 2, 3].map(() => limiter.check('a').allowed)).toEqual([true, true, false]);
  });

  it('keeps at most maxKeys buckets, the least recently used dropped first', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ requestsPerWindow: 1, windowMs: 1_000_000, maxKeys: 2, clock: clock.now });
    limiter.check('a');
    limiter.check('b');
    limiter.check('a'); // refused, but a is now the most recent
    limiter.check('c'); // evicts b, the least recent
    expect(limiter.size).toBe(2);
    expect(limiter.check('a').allowed).toBe(false); // still tracked: still spent
    expect(limiter.check('b').allowed).toBe(true); // dropped: back with a full bucket
  });

  it('holds 10^6 distinct keys in bounded memory', () => {
    /** Heap retained after checking `keys` distinct keys on a limiter of `maxKeys`. */
    const retainedBytes = (maxKeys: number, keys: number): { limiter: RateLimiter; bytes: number } => {
      fullGc();
      const before = process.memoryUsage().heapUsed;
      const limiter = new RateLimiter({ maxKeys });
      for (let index = 0; index < keys; index += 1) limiter.check(`client-${index}`, { chars: 10 });
      fullGc();
      return { limiter, bytes: process.memoryUsage().heapUsed - before };
    };
    const bounded = retainedBytes(1000, 1_000_000);
    expect(bounded.limiter.size).toBe(1000);
    // 1000 buckets retain well under 1 MB (bound generous against allocator noise).
    expect(bounded.bytes).toBeLessThan(4 * 1024 * 1024);
    // The check can fail: a limiter that keeps 10^5 keys retains far more than the bound.
    const large = retainedBytes(100_000, 100_000);
    expect(large.limiter.size).toBe(100_000);
    expect(large.bytes).toBeGreaterThan(4 * 1024 * 1024);
  });

  it('refuses bad options and keys with an InputError naming the field', () => {
    expect(() => new RateLimiter({ requestsPerWindow: 0 })).toThrow(/RateLimiterOptions\.requestsPerWindow/);
    expect(() => new RateLimiter({ windowMs: -1 })).toThrow(InputError);
    const limiter = new RateLimiter();
    expect(() => limiter.check('')).toThrow(/key/);
    expect(() => limiter.check('a', { chars: -1 })).toThrow(/options\.chars/);
    expect(() => limiter.check('a', { chars: 1.5 })).toThrow(/options\.chars/);
  });
});
