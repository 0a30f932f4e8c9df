/**
 * RateLimiter: token buckets per client key, one for requests and one for characters, each
 * refilling continuously to its full budget over `windowMs`. `check(key, { chars })` answers
 * `{ allowed, retryAfterMs }` and spends only when allowed. Memory is bounded: at most `maxKeys`
 * buckets are kept, the least recently used dropped first (a dropped key comes back with full
 * buckets, which is what an idle key would have had anyway once its window passed).
 * Shared by the MCP server, the CLI server mode and embedding apps; it decides nothing about
 * streams (the registrar does), only whether a client may ask now.
 */
import { z } from 'zod';
import { parseInput } from '../validation.js';

/** Schema of `new RateLimiter(options)`. */
export const rateLimiterOptionsSchema = z.strictObject({
  /** Requests a key may make per window (the request bucket's capacity; default 60). */
  requestsPerWindow: z.number().int().min(1).max(1_000_000_000).default(60),
  /** Characters a key may send per window (the character bucket's capacity; default 100,000). */
  charsPerWindow: z.number().int().min(1).max(1_000_000_000_000).default(100_000),
  /** The window over which each bucket refills completely, in ms (default 60,000). */
  windowMs: z.number().int().min(1).max(86_400_000).default(60_000),
  /** Keys tracked at most; the least recently used is dropped beyond (default 10,000). */
  maxKeys: z.number().int().min(1).max(10_000_000).default(10_000),
  /** Monotonic clock in ms (default `performance.now`); injected by tests. */
  clock: z.custom<() => number>((value) => typeof value === 'function', 'expected a function returning ms').optional(),
});

/** What callers may pass to `new RateLimiter(...)`. */
export type RateLimiterOptions = z.input<typeof rateLimiterOptionsSchema>;

/** Schema of the options of `check`. */
const checkOptionsSchema = z.strictObject({
  /** Characters this request sends (default 0). */
  chars: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
});

/** A client key: 1–1024 characters. */
const keySchema = z.string().min(1).max(1024);

/** What one client key may spend, as `check` answers it. */
export interface RateDecision {
  /** True when the request fits both buckets (and was counted). */
  allowed: boolean;
  /** When refused: how long until it would fit, in ms (Infinity when it exceeds a whole window's budget); 0 when allowed. */
  retryAfterMs: number;
  /** When refused: the bucket that refused it. */
  limit?: 'requests' | 'chars';
}

/** A key's two buckets and when they were last refilled. */
interface Bucket {
  requests: number;
  chars: number;
  atMs: number;
}

/** Per-key token buckets for requests and characters, in bounded memory (LRU). */
export class RateLimiter {
  readonly #options: z.output<typeof rateLimiterOptionsSchema>;
  readonly #clock: () => number;
  /** Insertion order is recency order: a touched key is moved to the end, the first is the least recent. */
  readonly #buckets = new Map<string, Bucket>();

  /** Validates options (InputError naming the field). */
  constructor(options: RateLimiterOptions = {}) {
    this.#options = parseInput(rateLimiterOptionsSchema, options, 'RateLimiterOptions');
    this.#clock = this.#options.clock ?? (() => performance.now());
  }

  /** The budgets this limiter keeps (each key's per window) and the window, in ms. */
  get limits(): { readonly requestsPerWindow: number; readonly charsPerWindow: number; readonly windowMs: number } {
    const { requestsPerWindow, charsPerWindow, windowMs } = this.#options;
    return { requestsPerWindow, charsPerWindow, windowMs };
  }

  /** Keys tracked now (at most `maxKeys`). */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Whether `key` may make one request sending `chars` characters now; when allowed, it is counted.
   * Never throws on a well-formed call; a bad key or option is an InputError naming the field.
   */
  check(key: string, options: { chars?: number } = {}): RateDecision {
    parseInput(keySchema, key, 'key');
    const { chars } = parseInput(checkOptionsSchema, options, 'options');
    const { requestsPerWindow, charsPerWindow, windowMs } = this.#options;
    const nowMs = this.#clock();
    const bucket = this.#touch(key, nowMs);
    const elapsedMs = Math.max(0, nowMs - bucket.atMs);
    bucket.requests = Math.min(requestsPerWindow, bucket.requests + (elapsedMs * requestsPerWindow) / windowMs);
    bucket.chars = Math.min(charsPerWindow, bucket.chars + (elapsedMs * charsPerWindow) / windowMs);
    bucket.atMs = nowMs;
    if (chars > charsPerWindow) return { allowed: false, retryAfterMs: Number.POSITIVE_INFINITY, limit: 'chars' };
    const requestWaitMs = bucket.requests >= 1 ? 0 : ((1 - bucket.requests) * windowMs) / requestsPerWindow;
    const charWaitMs = bucket.chars >= chars ? 0 : ((chars - bucket.chars) * windowMs) / charsPerWindow;
    if (requestWaitMs > 0 || charWaitMs > 0) {
      return { allowed: false, retryAfterMs: Math.ceil(Math.max(requestWaitMs, charWaitMs)), limit: requestWaitMs >= charWaitMs ? 'requests' : 'chars' };
    }
    bucket.requests -= 1;
    bucket.chars -= chars;
    return { allowed: true, retryAfterMs: 0 };
  }

  /** Forgets a key (its buckets are full again). */
  delete(key: string): void {
    this.#buckets.delete(key);
  }

  /** The key's bucket, moved to most recent; a new key gets full buckets, evicting the least recent beyond `maxKeys`. */
  #touch(key: string, nowMs: number): Bucket {
    const known = this.#buckets.get(key);
    if (known) {
      this.#buckets.delete(key);
      this.#buckets.set(key, known);
      return known;
    }
    const fresh: Bucket = { requests: this.#options.requestsPerWindow, chars: this.#options.charsPerWindow, atMs: nowMs };
    this.#buckets.set(key, fresh);
    while (this.#buckets.size > this.#options.maxKeys) {
      const oldest = this.#buckets.keys().next();
      if (oldest.done) break;
      this.#buckets.delete(oldest.value);
    }
    return fresh;
  }
}
