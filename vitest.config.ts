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
    reporters: ['default'],
  },
});
