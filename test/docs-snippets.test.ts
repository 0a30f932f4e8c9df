import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  extractSnippets,
  findBrokenReferences,
  infoProblems,
  runProblem,
  runSnippet,
  snippetLabel,
  typeCheckSnippets,
  writeSnippetModules,
} from './helpers/doc-snippets.js';

// README.md and docs/*.md are held to the code: every ```ts block type-checks against src/ (as the
// `voice-soundboard` package), every block that needs no sound card, model file or network runs
// with exit 0, and no doc points at a file outside the repository.

const root = resolve(import.meta.dirname, '..');
const tsconfig = join(root, 'tsconfig.json');
const srcIndex = join(root, 'src', 'index.ts');
/** Only bounds a hang: a snippet that needs longer than this is stuck. */
const RUN_DEADLINE_MS = 60_000;

const docNames = ['README.md', ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).sort().map((name) => `docs/${name}`)];
const docs = docNames.map((doc) => ({ doc, path: join(root, doc), text: readFileSync(join(root, doc), 'utf8') }));
const snippets = docs.flatMap(({ doc, text }) => extractSnippets(text, doc));

const dir = mkdtempSync(join(tmpdir(), 'vs-doc-snippets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A planted markdown file: its mistakes must be reported, its good block must pass.
const PLANTED = [
  '# Planted', //                                                          1
  '', //                                                                   2
  '```ts', //                                                              3
  "import { splitSentences } from 'voice-soundboard';", //                4
  "const sentences = splitSentences('One. Two.');", //                      5
  'const count: number = sentences;', //                                   6: string[] is not a number
  'console.log(count);', //                                                7
  '```', //                                                                8
  '', //                                                                   9
  '```ts no-run', //                                                      10: no reason
  'console.log(undeclaredPlaceholder);', //                               11
  '```', //                                                               12
  '', //                                                                  13
  '```sh', //                                                             14: not TypeScript
  'npx voice-soundboard speak "not a ts block"', //                       15
  '```', //                                                               16
  '', //                                                                  17
  '```typescript no-run (plays on the default audio device)', //          18
  "import { compile } from 'voice-soundboard';", //                       19
  '', //                                                                  20
  "compile('Hello.', { maxInputChars: 'many' });", //                     21: not a number
  '```', //                                                               22
  '', //                                                                  23
  '```ts', //                                                             24
  "import { compile } from 'voice-soundboard';", //                       25
  "console.log(`nodes: ${compile('Hello there. Bye.').nodes.length}`);", // 26
  '```', //                                                               27
  '', //                                                                  28
  '```ts', //                                                             29
  "throw new Error('planted failure');", //                               30
  '```', //                                                               31
].join('\n');
const plantedDoc = join(dir, 'PLANTED.md');
writeFileSync(plantedDoc, PLANTED);
const planted = extractSnippets(readFileSync(plantedDoc, 'utf8'), 'PLANTED.md');

// One program type-checks the docs' blocks and the planted ones together.
const modules = writeSnippetModules([...snippets, ...planted], join(dir, 'modules'), srcIndex);
let checked: string[] | undefined;
function typeProblems(doc: (name: string) => boolean): string[] {
  checked ??= typeCheckSnippets(modules, tsconfig);
  return checked.filter((problem) => doc(problem.slice(0, problem.indexOf(' block '))) || problem.startsWith('TypeScript setup'));
}
const isPlanted = (name: string) => name === 'PLANTED.md';
const plantedModule = (index: number) => modules.find((module) => module.snippet.doc === 'PLANTED.md' && module.snippet.index === index)!;

describe('the doc snippet checker catches planted mistakes', () => {
  it('finds only the TypeScript blocks, numbered per file, with the markdown line of their first code line', () => {
    expect(planted.map((snippet) => [snippet.index, snippet.firstLine, snippet.noRunReason])).toEqual([
      [1, 4, null],
      [2, 11, null],
      [3, 19, 'plays on the default audio device'],
      [4, 25, null],
      [5, 30, null],
    ]);
    expect(planted[2]?.code).toBe("import { compile } from 'voice-soundboard';\n\ncompile('Hello.', { maxInputChars: 'many' });");
  });

  it('requires the reason of a no-run block', () => {
    expect(infoProblems(planted)).toEqual([expect.stringMatching(/^PLANTED\.md block 2 \(line 11\): `no-run` needs its reason in parentheses/)]);
    expect(infoProblems(extractSnippets('```ts run-later\nconst a = 1;\n```\n', 'X.md'))).toEqual(['X.md block 1 (line 2): unknown fence info "run-later" (only `no-run (reason)` may follow the language)']);
  });

  it('reports each type error as doc, block and markdown line, and passes the good block', () => {
    const problems = typeProblems(isPlanted);
    expect(problems).toEqual([
      expect.stringMatching(/^PLANTED\.md block 1 \(line 6\): TS2322 Type 'string\[\]' is not assignable to type 'number'\./),
      expect.stringMatching(/^PLANTED\.md block 2 \(line 11\): TS2304 Cannot find name 'undeclaredPlaceholder'\./),
      expect.stringMatching(/^PLANTED\.md block 3 \(line 21\): TS2322 Type 'string' is not assignable to type 'number'\./),
    ]);
  });

  it('runs a good block for real (voice-soundboard resolves to src/) and fails a block that throws', async () => {
    const [good, bad] = await Promise.all([runSnippet(plantedModule(4), RUN_DEADLINE_MS), runSnippet(plantedModule(5), RUN_DEADLINE_MS)]);
    expect(runProblem(plantedModule(4), good)).toBeNull();
    expect(good.stdout).toMatch(/^nodes: [1-9]\d*$/m);
    expect(runProblem(plantedModule(5), bad)).toMatch(/^PLANTED\.md block 5 \(line 30\): exited with code 1\n[\s\S]*planted failure/);
  });

  it('reports links and paths that leave the repository or name no file', () => {
    const markdown = [
      'See [the design](../shared/DESIGN.md) and `../shared/spec/registrar.md`.',
      'The engine is `src/engine/voice-engine.ts`; [compiler](docs/COMPILER.md); `src/no-such-file.ts`.',
      '```mermaid',
      'A["`../outside.md`"]',
      '```',
      'A placeholder: `normalize/<language>.ts`; a glob: `bench/*.bench.ts`; a link out: [npm](https://www.npmjs.com/).',
      'A folder the build makes: `dist/`; a folder outside: `../shared/`.',
      'In prose: the contract is ../shared/spec/registrar.md.',
    ].join('\n');
    expect(findBrokenReferences(markdown, join(root, 'README.md'), root, 'README.md')).toEqual([
      'README.md (line 1): link `../shared/DESIGN.md` points outside the repository',
      'README.md (line 1): path `../shared/spec/registrar.md` points outside the repository',
      'README.md (line 2): path `src/no-such-file.ts` names no file in the repository',
      'README.md (line 4): mention `../outside.md` points outside the repository',
      'README.md (line 7): path `../shared/` points outside the repository',
      'README.md (line 8): mention `../shared/spec/registrar.md` points outside the repository',
    ]);
  });
});

describe('README.md and docs/*.md are true to the code', () => {
  it('have TypeScript blocks, each with valid fence info', () => {
    expect(snippets.length).toBeGreaterThan(0);
    expect(infoProblems(snippets)).toEqual([]);
  });

  it('every TypeScript block type-checks against src/ with the strict options of tsconfig.json', () => {
    expect(typeProblems((name) => !isPlanted(name))).toEqual([]);
  });

  it('no doc points at a file outside the repository or at a file that does not exist', () => {
    expect(docs.flatMap(({ doc, path, text }) => findBrokenReferences(text, path, root, doc))).toEqual([]);
  });

  const runnable = modules.filter((module) => module.snippet.doc !== 'PLANTED.md' && module.snippet.noRunReason === null);
  describe.concurrent('every block that needs no sound card, model file or network runs with exit 0', () => {
    for (const module of runnable) {
      it(snippetLabel(module.snippet), async () => {
        expect(runProblem(module, await runSnippet(module, RUN_DEADLINE_MS))).toBeNull();
      });
    }
  });
});
