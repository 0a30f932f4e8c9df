import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

// `*.alone.test.ts` measure real-time behaviour (underruns under load) and need the machine to
// themselves: `npm test` runs them in a second vitest step with VS_ALONE=1, after the others.
const alone = process.env.VS_ALONE === '1';

export default defineConfig({
  test: {
    include: alone ? ['test/**/*.alone.test.ts'] : ['test/**/*.test.ts'],
    exclude: alone ? [...configDefaults.exclude] : [...configDefaults.exclude, 'test/**/*.alone.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most tests wait on paced devices, child processes and sockets, so two forks overlap well even on
    // a 2-core machine (vitest's default there is one); the alone step keeps the machine to one file.
    maxWorkers: alone ? 1 : Math.max(2, availableParallelism() - 1),
    reporters: ['default'],
  },
});
