#!/usr/bin/env node
// The C++ unit tests under AddressSanitizer+UBSan and under ThreadSanitizer (a CI step).
// Usage: node scripts/sanitize.mjs [address,undefined|thread ...]
import { join } from 'node:path';
import { root, runOrExit, step } from './lib.mjs';

const sets = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['address,undefined', 'thread'];
for (const sanitizers of sets) {
  const buildDir = join(root, `build-${sanitizers.replace(/,/g, '-')}`);
  step(`C++ unit tests under -fsanitize=${sanitizers}`);
  runOrExit('cmake', ['-S', root, '-B', buildDir, '-DVS_BUILD_TESTS=ON', '-DCMAKE_BUILD_TYPE=RelWithDebInfo', `-DVS_SANITIZE=${sanitizers}`, '-Wno-dev'], { stdio: ['ignore', 'ignore', 'inherit'] });
  runOrExit('cmake', ['--build', buildDir, '--parallel', '2']);
  runOrExit('ctest', ['--test-dir', buildDir, '--output-on-failure'], {
    env: {
      ...process.env,
      // ThreadSanitizer reports a race from any one run in which two accesses are unordered, and
      // slows the racing tests ~12x: a quarter of the rounds (still 10,000 requests per thread in
      // the free-running race) keeps it to ~30 s. The release build runs them all (`npm test`).
      VS_TEST_SCALE: process.env.VS_TEST_SCALE ?? (sanitizers === 'thread' ? '0.25' : '1'),
      ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1',
      UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
      TSAN_OPTIONS: 'halt_on_error=1:second_deadlock_stack=1',
    },
  });
}
