/**
 * Doc snippets: finds the TypeScript blocks of markdown files, type-checks them together against
 * this repository's `src/` (as if `voice-soundboard` were installed) and runs them with tsx, so a
 * test can hold README.md and docs/ to the code. Also finds references to files outside the repo.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';

/** One ```ts / ```typescript fenced block of a markdown file. */
export interface DocSnippet {
  /** The markdown file as reported (e.g. `README.md`, `docs/COMPILER.md`). */
  doc: string;
  /** 1-based position among that file's TypeScript blocks. */
  index: number;
  /** 1-based markdown line of the block's first code line. */
  firstLine: number;
  /** The block's code, fence indentation removed. */
  code: string;
  /** Why the block cannot run here (`no-run (reason)` in the info string), or null: it runs. */
  noRunReason: string | null;
  /** What is wrong with the fence info string itself (e.g. `no-run` without a reason). */
  infoProblems: string[];
}

/** A snippet written to disk as a module. */
export interface SnippetModule {
  snippet: DocSnippet;
  /** Absolute path of the module file. */
  path: string;
  /** Directory the snippet runs in (its own, so files it writes do not collide). */
  cwd: string;
}

/** How a run of one snippet ended. */
export interface SnippetRun {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

const FENCE_OPEN = /^( {0,3})(`{3,}|~{3,})\s*([^`]*)$/;
const TS_LANGUAGES = new Set(['ts', 'typescript']);
const NO_RUN = /^no-run\s+\(([^()]*\S[^()]*)\)\s*$/;
/** The package name snippets import; resolved to this repository's `src/index.ts`. */
export const PACKAGE_NAME = 'voice-soundboard';

/** `README.md block 3 (line 57)`: how every problem names its block. */
export function snippetLabel(snippet: DocSnippet, line: number = snippet.firstLine): string {
  return `${snippet.doc} block ${snippet.index} (line ${line})`;
}

function readInfo(info: string): { noRunReason: string | null; problems: string[] } {
  if (info === '') return { noRunReason: null, problems: [] };
  const noRun = NO_RUN.exec(info);
  if (noRun) return { noRunReason: (noRun[1] as string).trim(), problems: [] };
  if (info.startsWith('no-run')) {
    return { noRunReason: null, problems: ['`no-run` needs its reason in parentheses: ```ts no-run (what it needs that a test machine lacks)'] };
  }
  return { noRunReason: null, problems: [`unknown fence info "${info}" (only \`no-run (reason)\` may follow the language)`] };
}

/** Every TypeScript fenced block of `markdown`, numbered per file; other blocks are skipped. */
export function extractSnippets(markdown: string, doc: string): DocSnippet[] {
  const lines = markdown.split(/\r?\n/);
  const snippets: DocSnippet[] = [];
  for (let at = 0; at < lines.length; at += 1) {
    const open = FENCE_OPEN.exec(lines[at] as string);
    if (!open) continue;
    const indent = (open[1] as string).length;
    const fence = open[2] as string;
    const [language = '', ...rest] = (open[3] as string).trim().split(/\s+/);
    const close = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    const body: string[] = [];
    let end = at + 1;
    while (end < lines.length && !close.test(lines[end] as string)) {
      const line = lines[end] as string;
      body.push(line.slice(Math.min(indent, line.length - line.trimStart().length)));
      end += 1;
    }
    if (TS_LANGUAGES.has(language.toLowerCase())) {
      const { noRunReason, problems } = readInfo(rest.join(' '));
      const unclosed = end >= lines.length ? ['the block is never closed'] : [];
      snippets.push({ doc, index: snippets.length + 1, firstLine: at + 2, code: body.join('\n'), noRunReason, infoProblems: [...problems, ...unclosed] });
    }
    at = end;
  }
  return snippets;
}

/** Fence-info problems of every snippet, each labelled with its block. */
export function infoProblems(snippets: readonly DocSnippet[]): string[] {
  return snippets.flatMap((snippet) => snippet.infoProblems.map((problem) => `${snippetLabel(snippet)}: ${problem}`));
}

/**
 * Writes each snippet into `dir` as an ES module whose `'voice-soundboard'` imports point at
 * `srcIndexPath` (the specifier is replaced in place, so lines and columns of the code keep their
 * meaning). `dir` gets a `package.json` with `"type": "module"`.
 */
export function writeSnippetModules(snippets: readonly DocSnippet[], dir: string, srcIndexPath: string): SnippetModule[] {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  const target = srcIndexPath.replace(/\.ts$/, '.js');
  const specifier = new RegExp(`(['"])${PACKAGE_NAME}\\1`, 'g');
  return snippets.map((snippet) => {
    const slug = `${snippet.doc.replace(/[^A-Za-z0-9]+/g, '-')}-${snippet.index}`;
    const cwd = join(dir, slug);
    mkdirSync(cwd, { recursive: true });
    const path = join(cwd, 'snippet.ts');
    writeFileSync(path, `${snippet.code.replace(specifier, (_match, quote: string) => `${quote}${target}${quote}`)}\n`);
    return { snippet, path, cwd };
  });
}

/**
 * Type-checks every module in ONE TypeScript program with the compiler options of `tsconfigPath`.
 * Returns one line per diagnostic: `README.md block 3 (line 57): TS2304 Cannot find name 'x'.`
 */
export function typeCheckSnippets(modules: readonly SnippetModule[], tsconfigPath: string): string[] {
  const read = ts.readConfigFile(tsconfigPath, (path) => ts.sys.readFile(path));
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, dirname(tsconfigPath), undefined, tsconfigPath);
  const options: ts.CompilerOptions = { ...parsed.options, noEmit: true, declaration: false, sourceMap: false };
  const program = ts.createProgram({ rootNames: modules.map((module) => module.path), options });
  const byPath = new Map(modules.map((module) => [resolve(module.path), module]));
  const problems = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()].map(
    (diagnostic) => `TypeScript setup: TS${diagnostic.code} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`,
  );
  for (const module of modules) {
    const source = program.getSourceFile(module.path);
    if (!source) {
      problems.push(`${snippetLabel(module.snippet)}: not part of the program`);
      continue;
    }
    for (const diagnostic of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      const file = diagnostic.file && byPath.get(resolve(diagnostic.file.fileName));
      const line = file && diagnostic.start !== undefined ? module.snippet.firstLine + source.getLineAndCharacterOfPosition(diagnostic.start).line : module.snippet.firstLine;
      problems.push(`${snippetLabel(module.snippet, line)}: TS${diagnostic.code} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`);
    }
  }
  return problems;
}

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Runs one module with `node --import tsx` in its own directory; `deadlineMs` only bounds a hang. */
export function runSnippet(module: SnippetModule, deadlineMs: number): Promise<SnippetRun> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', tsxLoader, module.path],
      { cwd: module.cwd, timeout: deadlineMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NODE_OPTIONS: '' } },
      (error, stdout, stderr) => {
        const failure = error as (Error & { code?: number | string; signal?: string | null }) | null;
        done({
          exitCode: failure ? (typeof failure.code === 'number' ? failure.code : null) : 0,
          signal: failure?.signal ?? null,
          stdout,
          stderr,
        });
      },
    );
  });
}

/** What is wrong with a run (non-zero exit, killed at the deadline), or null when it exited 0. */
export function runProblem(module: SnippetModule, run: SnippetRun): string | null {
  if (run.exitCode === 0) return null;
  const how = run.signal ? `was killed (${run.signal}; the deadline passed?)` : `exited with code ${run.exitCode}`;
  // The error's name and message come first (after the offending source line), the stack after.
  const tail = run.stderr.trim().split('\n').slice(0, 16).join('\n');
  return `${snippetLabel(module.snippet)}: ${how}${tail ? `\n${tail}` : ''}`;
}

const LINK = /\[[^\]]*\]\(([^)\s]+)[^)]*\)/g;
const CODE_SPAN = /`([^`\s]+)`/g;
/** A file of the repository: must exist. */
const REPO_FILE = /\.(?:ts|mts|mjs|js|cjs|json|md|cc|cpp|h|hpp|gyp|txt)$/;
/** A folder: may be made by the build (`dist/`, `native/vendor/`), so only where it points is checked. */
const FOLDER = /\/$/;
/** A `../` path in any text. */
const PARENT_PATH = /(?<![\w./-])(?:\.\.\/)+[\w.-][\w./-]*/g;

/**
 * References in `markdown` (at `docPath`) to files outside `root` or to repository files that do
 * not exist: markdown links, and code spans that name a path (`src/x.ts`, `docs/Y.md`,
 * `../shared/...`; a folder such as `src/engine/` only must not leave the repository). A path is
 * looked up from the doc's directory, then from the root; spans with placeholders (`<language>`,
 * `*`) are not paths.
 */
export function findBrokenReferences(markdown: string, docPath: string, root: string, doc: string): string[] {
  const problems: string[] = [];
  const lines = markdown.split(/\r?\n/);
  let fenced = false;
  lines.forEach((line, at) => {
    const where = `${doc} (line ${at + 1})`;
    const before = problems.length;
    if (/^ {0,3}(`{3,}|~{3,})/.test(line)) fenced = !fenced;
    else if (!fenced) checkLine(line, where);
    // Anywhere else (prose, diagrams, code blocks), a `../` path must not leave the repository.
    if (problems.length > before) return;
    for (const match of line.matchAll(PARENT_PATH)) {
      problems.push(...checkPath(match[0].replace(/\.+$/, ''), docPath, root, where, 'mention', false));
    }
  });
  return problems;

  function checkLine(line: string, where: string): void {
    for (const match of line.matchAll(LINK)) {
      const target = (match[1] as string).split('#')[0] as string;
      if (target === '' || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      problems.push(...checkPath(target, docPath, root, where, 'link', true));
    }
    for (const match of line.matchAll(CODE_SPAN)) {
      const span = match[1] as string;
      if (!span.includes('/') || /[<>*:|"'(){}=]/.test(span)) continue;
      if (REPO_FILE.test(span)) problems.push(...checkPath(span, docPath, root, where, 'path', true));
      else if (FOLDER.test(span)) problems.push(...checkPath(span, docPath, root, where, 'path', false));
    }
  }
}

function checkPath(target: string, docPath: string, root: string, where: string, kind: 'link' | 'path' | 'mention', mustExist: boolean): string[] {
  const candidates = kind !== 'path' || target.startsWith('.') ? [resolve(dirname(docPath), target)] : [resolve(dirname(docPath), target), resolve(root, target)];
  const inside = candidates.filter((candidate) => {
    const fromRoot = relative(root, candidate);
    return fromRoot === '' || (!fromRoot.startsWith('..') && !isAbsolute(fromRoot));
  });
  if (isAbsolute(target) || inside.length === 0) return [`${where}: ${kind} \`${target}\` points outside the repository`];
  if (mustExist && !inside.some((candidate) => existsSync(candidate))) return [`${where}: ${kind} \`${target}\` names no file in the repository`];
  return [];
}
