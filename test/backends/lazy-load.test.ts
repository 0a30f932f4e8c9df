import { describe, expect, it } from 'vitest';
import { LazyLoad } from '../../src/backends/lazy-load.js';

describe('LazyLoad', () => {
  it('opens once for concurrent and later callers', async () => {
    let opens = 0;
    const lazy = new LazyLoad(async () => ({ id: ++opens }));

    const [first, second] = await Promise.all([lazy.get(), lazy.get()]);
    const third = await lazy.get();

    expect(opens).toBe(1);
    expect(second).toBe(first);
    expect(third).toBe(first);
  });

  it('forgets a failed load, so the next call tries again', async () => {
    let attempts = 0;
    const lazy = new LazyLoad(async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('file not found');
      return 'loaded';
    });

    await expect(lazy.get()).rejects.toThrow('file not found');
    await expect(lazy.get()).resolves.toBe('loaded');
    expect(attempts).toBe(2);
  });

  it('loads again when the loaded value is no longer usable', async () => {
    const opened: Array<{ alive: boolean }> = [];
    const lazy = new LazyLoad(
      async () => {
        const value = { alive: true };
        opened.push(value);
        return value;
      },
      (value) => value.alive,
    );

    const first = await lazy.get();
    first.alive = false;
    const second = await lazy.get();

    expect(second).not.toBe(first);
    expect(opened).toHaveLength(2);
    expect(await lazy.get()).toBe(second);
  });

  it('take() hands back the load and forgets it', async () => {
    let opens = 0;
    const lazy = new LazyLoad(async () => ++opens);

    expect(lazy.take()).toBeUndefined();
    await lazy.get();
    await expect(lazy.take()).resolves.toBe(1);
    expect(lazy.take()).toBeUndefined();
    await expect(lazy.get()).resolves.toBe(2);
  });
});
