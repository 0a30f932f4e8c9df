// 4.8.9 Regression guard: scripts/guard.mjs, an AST check with the type checker (run in CI as
// `npm run guard`), must pass on src/ and must report exactly the violations planted in
// fixtures/guard/ (each marked `// PLANTED: <rule>`), so it fails both when it misses one and
// when it flags a look-alike (a class's own this.state, comparisons, comments, strings, type-only
// imports, index re-exports).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkFiles, formatViolation, GUARD_RULES, guardProject, guardReport, typeScriptFilesUnder, type GuardResult } from '../../scripts/guard.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/guard/', import.meta.url));
const PLANTED = /\/\/ PLANTED: ([\w-]+)\s*$/;
const runFile = promisify(execFile);

const fixtureFiles = typeScriptFilesUnder(FIXTURES);
const toRelative = (file: string): string => relative(ROOT, file).split('\\').join('/');

/** `path:line rule` of every planted violation. */
function plantedViolations(): string[] {
  return fixtureFiles.flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line, index) => {
        const match = PLANTED.exec(line);
        return match ? [`${toRelative(file)}:${index + 1} ${match[1]}`] : [];
      }),
  );
}

type CliRun = { code: number; stdout: string; stderr: string };
const DIRTY_FIXTURE = `${FIXTURES}host-entry.ts`;

describe('regression guard (AST)', () => {
  let result: GuardResult;
  let cliRun: Promise<CliRun | null>;

  beforeAll(() => {
    // The CLI runs in a child process while this one builds its own Program (2 cores, not 1).
    cliRun = runFile(process.execPath, ['scripts/guard.mjs', DIRTY_FIXTURE], { cwd: ROOT }).then(
      () => null,
      (error: CliRun) => error,
    );
    // One Program for src/ and the fixtures: the type checker is built once.
    const project = guardProject(ROOT);
    expect(project.files.length).toBeGreaterThan(50);
    result = checkFiles({ root: ROOT, files: [...project.files, ...fixtureFiles], options: project.options });
  });

  it('src/ has no violation', () => {
    const inSource = result.violations.filter((violation) => violation.path.startsWith('src/')).map(formatViolation);
    expect(inSource).toEqual([]);
  });

  it('the fixtures plant at least 3 distinct violations of every rule', () => {
    const planted = plantedViolations();
    for (const rule of Object.keys(GUARD_RULES)) {
      expect(planted.filter((entry) => entry.endsWith(` ${rule}`)).length, rule).toBeGreaterThanOrEqual(3);
    }
  });

  it('reports exactly the planted lines: none missed, no look-alike flagged', () => {
    const planted = plantedViolations();
    const reported = result.violations
      .filter((violation) => violation.path.startsWith('test/'))
      .map((violation) => `${violation.path}:${violation.line} ${violation.rule}`);
    const caught = planted.filter((entry) => reported.includes(entry));
    console.log(`guard caught ${caught.length}/${planted.length} planted violations`);
    expect(planted.filter((entry) => !reported.includes(entry)), 'missed').toEqual([]);
    expect(reported.filter((entry) => !planted.includes(entry)), 'false positives').toEqual([]);
    expect(reported).toHaveLength(planted.length);
  });

  it('the CLI prints path:line:col rule: text and exits 1 on a violation', async () => {
    const failed = await cliRun;
    const expected = result.violations.filter((violation) => violation.path === toRelative(DIRTY_FIXTURE));
    expect(expected.length).toBeGreaterThanOrEqual(3);
    expect(failed?.code).toBe(1);
    expect(failed?.stdout).toBe(expected.map((violation) => `${formatViolation(violation)}\n`).join(''));
    expect(failed?.stdout).toMatch(/^test\/registrum\/fixtures\/guard\/host-entry\.ts:\d+:\d+ host-entry-point: /);
    expect(failed?.stderr).toBe(`guard: ${expected.length} violation(s) in 1 files\n`);
  });

  it('a clean run prints one "guard: ok (N files)" line and exits 0', () => {
    const clean = result.violations.filter((violation) => violation.path === toRelative(`${FIXTURES}stream-sink.ts`));
    expect(guardReport({ violations: clean, checkedFiles: 1 })).toEqual({ exitCode: 0, stdout: 'guard: ok (1 files)\n', stderr: '' });
    expect(guardReport({ violations: result.violations.slice(0, 1), checkedFiles: 1 }).exitCode).toBe(1);
  });
});
