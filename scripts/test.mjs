#!/usr/bin/env node
// `npm test`: builds what is missing, type-checks, then runs vitest and the C++ unit tests (ctest).
// Extra arguments go to vitest (e.g. `npm test -- test/audio`); --no-native skips ctest.
import { join } from 'node:path';
import { root, run, runOrExit, step } from './lib.mjs';

const passthrough = process.argv.slice(2).filter((arg) => arg !== '--no-native');
const runNative = !process.argv.includes('--no-native') && passthrough.length === 0;

runOrExit(process.execPath, [join(root, 'scripts', 'build.mjs'), '--native', '--if-missing']);
runOrExit(process.execPath, [join(root, 'scripts', 'build.mjs'), '--ts']);
step('type-checking tests, benches and examples');
runOrExit(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')]);

let failed = 0;
step('vitest');
failed += run(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...passthrough]) === 0 ? 0 : 1;

if (runNative) {
  step('C++ unit tests (ctest)');
  const buildDir = join(root, 'build-test');
  const status =
    run('cmake', ['-S', root, '-B', buildDir, '-DVS_BUILD_TESTS=ON', '-DCMAKE_BUILD_TYPE=Release', '-Wno-dev'], { stdio: ['ignore', 'ignore', 'inherit'] }) ||
    run('cmake', ['--build', buildDir, '--parallel', '2']) ||
    run('ctest', ['--test-dir', buildDir, '--output-on-failure']);
  failed += status === 0 ? 0 : 1;
}

if (failed > 0) {
  process.stderr.write(`\n[voice-soundboard] ${failed} test step(s) failed\n`);
  process.exit(1);
}
