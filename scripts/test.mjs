#!/usr/bin/env node
// `npm test`: builds what is missing, type-checks, then runs vitest and the C++ unit tests (ctest),
// and closes with one line counting every test: `tests: N passed, M failed`.
// Extra arguments go to vitest (e.g. `npm test -- test/audio`, which also skips ctest).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { root, run, runOrExit, step } from './lib.mjs';

const passthrough = process.argv.slice(2).filter((arg) => arg !== '--no-native');
const runNative = !process.argv.includes('--no-native') && passthrough.length === 0;

runOrExit(process.execPath, [join(root, 'scripts', 'build.mjs'), '--native', '--if-missing']);
runOrExit(process.execPath, [join(root, 'scripts', 'build.mjs'), '--ts']);
step('type-checking tests, benches and examples');
runOrExit(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')]);

let passed = 0;
let failed = 0;
let brokenSteps = 0;

step('vitest');
const reportDir = join(root, 'build-test');
mkdirSync(reportDir, { recursive: true });
const report = join(reportDir, 'vitest-report.json');
rmSync(report, { force: true });
const vitestStatus = run(process.execPath, [
  join(root, 'node_modules', 'vitest', 'vitest.mjs'),
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${report}`,
  ...passthrough,
]);
if (existsSync(report)) {
  const counts = JSON.parse(readFileSync(report, 'utf8'));
  passed += counts.numPassedTests ?? 0;
  // A file that fails to load has no failed test of its own: count it as one failure.
  failed += Math.max(counts.numFailedTests ?? 0, counts.numFailedTestSuites ?? 0);
}
if (vitestStatus !== 0) brokenSteps += 1;

/** Counts of a vitest JSON report (a file that fails to load counts as one failure). */
function countReport(path) {
  if (!existsSync(path)) return;
  const counts = JSON.parse(readFileSync(path, 'utf8'));
  passed += counts.numPassedTests ?? 0;
  failed += Math.max(counts.numFailedTests ?? 0, counts.numFailedTestSuites ?? 0);
}

if (passthrough.length === 0) {
  // Real-time tests (underruns under load) run last and alone: nothing else competes for the cores.
  step('vitest: real-time tests, alone (VS_ALONE=1)');
  const aloneReport = join(reportDir, 'vitest-alone-report.json');
  rmSync(aloneReport, { force: true });
  const aloneStatus = run(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${aloneReport}`], {
    env: { ...process.env, VS_ALONE: '1' },
  });
  countReport(aloneReport);
  if (aloneStatus !== 0) brokenSteps += 1;
}

if (runNative) {
  step('C++ unit tests (ctest)');
  const buildDir = join(root, 'build-test');
  const configured =
    run('cmake', ['-S', root, '-B', buildDir, '-DVS_BUILD_TESTS=ON', '-DCMAKE_BUILD_TYPE=Release', '-Wno-dev'], { stdio: ['ignore', 'ignore', 'inherit'] }) ||
    run('cmake', ['--build', buildDir, '--parallel', '2']);
  if (configured !== 0) {
    brokenSteps += 1;
  } else {
    const ctest = spawnSync('ctest', ['--test-dir', buildDir, '--output-on-failure'], { cwd: root, encoding: 'utf8' });
    process.stdout.write(ctest.stdout ?? '');
    process.stderr.write(ctest.stderr ?? '');
    const summary = /(\d+)% tests passed, (\d+) tests failed out of (\d+)/.exec(ctest.stdout ?? '');
    if (summary) {
      passed += Number(summary[3]) - Number(summary[2]);
      failed += Number(summary[2]);
    }
    if (ctest.status !== 0 || !summary) brokenSteps += 1;
  }
}

process.stdout.write(`\ntests: ${passed} passed, ${failed} failed\n`);
if (brokenSteps > 0 || failed > 0) {
  process.stderr.write(`[voice-soundboard] ${brokenSteps} test step(s) failed\n`);
  process.exit(1);
}
