// Types of scripts/guard.mjs for the TypeScript tests that import it.
import type { CompilerOptions } from 'typescript';

/** A rule id of the regression guard. */
export type GuardRule = 'lifecycle-state-write' | 'decision-core-access' | 'device-write' | 'registrar-internal-import' | 'host-entry-point';

/** One violation: where (path relative to the root, 1-based line and column), which rule, what. */
export interface GuardViolation {
  readonly path: string;
  readonly line: number;
  readonly column: number;
  readonly rule: GuardRule;
  readonly text: string;
}

/** What `checkFiles` found. */
export interface GuardResult {
  readonly violations: GuardViolation[];
  readonly checkedFiles: number;
}

/** The rule ids and what each one forbids. */
export const GUARD_RULES: Readonly<Record<GuardRule, string>>;
/** The package root. */
export const PACKAGE_ROOT: string;
/** The compiler options and the src/ files of the package's tsconfig.json. */
export function guardProject(root?: string): { options: CompilerOptions; files: string[] };
/** Every .ts file under a folder. */
export function typeScriptFilesUnder(folder: string): string[];
/** Checks `files` (absolute paths) with one Program. */
export function checkFiles(input: { root?: string; files: readonly string[]; options?: CompilerOptions }): GuardResult;
/** Formats one violation as the CLI prints it: `path:line:col rule: text`. */
export function formatViolation(violation: GuardViolation): string;
/** What the CLI prints for a result (stdout, stderr) and its exit code. */
export function guardReport(result: GuardResult): { exitCode: 0 | 1; stdout: string; stderr: string };
