// 4.8.9 Regression guard: a static check that fails when code outside src/registrar/ (and the
// native binding, src/native/) reaches for stream state or the decision core directly.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ALLOWED_FOLDERS = ['src/registrar/', 'src/native/'];

/** Patterns that mean "this code writes stream state or bypasses the facade". */
const FORBIDDEN: { rule: string; pattern: RegExp }[] = [
  // core.js holds only frozen tables and types; a core *instance* comes only from these modules.
  { rule: 'imports a decision-core implementation', pattern: /^\s*import\s[^;]*from\s+['"][^'"]*registrar\/(reference-core|native-core|default-core)\.js['"]/ },
  { rule: 'calls a decision-core mutator', pattern: /\b\w*[cC]ore\s*(\?\.|\.)\s*(decide|evaluate|reserveSeq|load|registerActor)\s*\(/ },
  { rule: 'constructs a decision core', pattern: /new\s+(ReferenceCore|NativeCore)\s*\(/ },
  // A class's own `this.state` (a file writer's, say) is not stream state; anything else's is.
  { rule: 'assigns a stream state field', pattern: /(?<!\bthis)\.\s*(state|owner|committed|graphRevision)\s*(=(?!=)|\+\+|--|\+=|-=)/ },
  { rule: 'uses the registrar addon directly', pattern: /registrarCore|RegistrarCoreHandle/ },
];

/** Every violation of the guard in one source text. */
export function guardViolations(source: string): string[] {
  const found: string[] = [];
  source.split('\n').forEach((line, index) => {
    if (/^\s*(\/\/|\*)/.test(line)) return;
    for (const { rule, pattern } of FORBIDDEN) if (pattern.test(line)) found.push(`line ${index + 1}: ${rule}: ${line.trim()}`);
  });
  return found;
}

function sourceFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|js|mjs)$/.test(name) ? [path] : [];
  });
}

describe('regression guard', () => {
  it('no code outside src/registrar/ and src/native/ writes stream state or reaches the decision core', () => {
    const offenders: string[] = [];
    for (const file of sourceFiles(join(ROOT, 'src'))) {
      const path = relative(ROOT, file).split('\\').join('/');
      if (ALLOWED_FOLDERS.some((folder) => path.startsWith(folder))) continue;
      for (const problem of guardViolations(readFileSync(file, 'utf8'))) offenders.push(`${path} ${problem}`);
    }
    expect(offenders).toEqual([]);
  });

  it('the guard catches each kind of bypass (so it can fail)', () => {
    expect(guardViolations("import { ReferenceCore } from '../registrar/reference-core.js';")).toHaveLength(1);
    expect(guardViolations('const decision = core.decide(request);')).toHaveLength(1);
    expect(guardViolations('core.load(image);')).toHaveLength(1);
    expect(guardViolations('this.decisionCore.reserveSeq();')).toHaveLength(1);
    expect(guardViolations("import { createDefaultCore } from '../registrar/default-core.js';")).toHaveLength(1);
    expect(guardViolations("import type { TransitionAction } from '../registrar/core.js';")).toEqual([]);
    // The package index re-exports the cores for callers who pick one; re-exporting runs nothing.
    expect(guardViolations("export { ReferenceCore } from './registrar/reference-core.js';")).toEqual([]);
    expect(guardViolations('instance = EspeakWasm.load(packageName);')).toEqual([]);
    expect(guardViolations('const core = new NativeCore();')).toHaveLength(1);
    expect(guardViolations("stream.state = 'playing';")).toHaveLength(1);
    expect(guardViolations('view.owner = someone;')).toHaveLength(1);
    expect(guardViolations('graph.graphRevision += 1;')).toHaveLength(1);
    expect(guardViolations("if (stream.state === 'playing') start();")).toEqual([]);
    expect(guardViolations('// stream.state = "x" in a comment')).toEqual([]);
    expect(guardViolations('const permit = registrar.require(result);')).toEqual([]);
    expect(guardViolations("this.state = 'closed';")).toEqual([]);
  });
});
