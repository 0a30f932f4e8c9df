// docs/REGISTRAR_ARCHITECTURE.md promises that the prototypes and constructors of a list of classes
// are frozen (a patched method cannot slip into every instance). This test reads that list from
// the doc and holds both sides to it: every class it names is frozen (its module imported, the
// class and its prototype checked with Object.isFrozen), and every class src/ freezes
// (`Object.freeze(Name.prototype)`) is on the list. Planted: an unfrozen class, a list missing a
// frozen class and a name with no class are each reported.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const DOC = join(ROOT, 'docs', 'REGISTRAR_ARCHITECTURE.md');
const SRC = join(ROOT, 'src');

/** The class names in the doc's frozen list: the backticked names between "The prototypes and constructors of" and "are frozen". */
function frozenListOf(doc: string): string[] {
  const start = doc.indexOf('The prototypes and constructors of');
  const end = doc.indexOf('are frozen', start);
  if (start < 0 || end < 0) throw new Error('docs/REGISTRAR_ARCHITECTURE.md: the frozen-classes paragraph is gone');
  const names = [...doc.slice(start, end).matchAll(/`([^`]+)`/g)].map((match) => match[1] ?? '');
  // `createDefaultCore().constructor` says how NativeCore is reached, not a class.
  return names.filter((name) => /^[A-Z]\w*$/.test(name));
}

/** Every .ts file under `dir`. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Where each class is declared (`export class Name`), and the names whose prototype src/ freezes. */
function scanSources(files: readonly string[]): { declaredIn: Map<string, string>; frozen: Set<string> } {
  const declaredIn = new Map<string, string>();
  const frozen = new Set<string>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/^export (?:abstract )?class (\w+)/gm)) declaredIn.set(match[1] ?? '', file);
    for (const match of text.matchAll(/Object\.freeze\((\w+)\.prototype\)/g)) frozen.add(match[1] ?? '');
  }
  return { declaredIn, frozen };
}

type AnyClass = abstract new (...args: never[]) => unknown;

/** What breaks the doc's promise: a listed class not frozen (or not found), a frozen class not listed. */
function frozenViolations(listed: readonly string[], frozenInSource: ReadonlySet<string>, classes: ReadonlyMap<string, AnyClass | undefined>): string[] {
  const violations: string[] = [];
  for (const name of listed) {
    const found = classes.get(name);
    if (found === undefined) violations.push(`${name}: listed as frozen, but no module exports such a class`);
    else if (!Object.isFrozen(found) || !Object.isFrozen(found.prototype)) violations.push(`${name}: listed as frozen, but its ${Object.isFrozen(found) ? 'prototype' : 'constructor'} is not frozen`);
  }
  for (const name of frozenInSource) {
    if (!listed.includes(name)) violations.push(`${name}: src/ freezes its prototype, but docs/REGISTRAR_ARCHITECTURE.md does not list it`);
  }
  return violations;
}

/** The listed classes, imported from the modules that declare them. */
async function importClasses(names: readonly string[], declaredIn: ReadonlyMap<string, string>): Promise<Map<string, AnyClass | undefined>> {
  const classes = new Map<string, AnyClass | undefined>();
  for (const name of names) {
    const file = declaredIn.get(name);
    const exported = file === undefined ? undefined : ((await import(pathToFileURL(file).href)) as Record<string, unknown>)[name];
    classes.set(name, typeof exported === 'function' ? (exported as AnyClass) : undefined);
  }
  return classes;
}

describe('the frozen classes of docs/REGISTRAR_ARCHITECTURE.md', () => {
  const listed = frozenListOf(readFileSync(DOC, 'utf8'));
  const { declaredIn, frozen } = scanSources(sourceFiles(SRC));

  it('the doc lists the classes (the paragraph still parses)', () => {
    expect(listed.length).toBeGreaterThanOrEqual(18);
    expect(listed).toContain('AudioRegistrar');
    expect(listed).toContain('VoiceEngine');
  });

  it('every listed class has a frozen constructor and prototype, and every class src/ freezes is listed', async () => {
    const classes = await importClasses(listed, declaredIn);
    expect(frozenViolations(listed, frozen, classes)).toEqual([]);
  });

  it('planted: an unfrozen class, a frozen class missing from the list and a name with no class are each reported', async () => {
    const classes = await importClasses(listed, declaredIn);
    class Unfrozen {
      obey(): void {}
    }
    class HalfFrozen {
      obey(): void {}
    }
    Object.freeze(HalfFrozen);
    const planted = new Map(classes).set('VoiceEngine', Unfrozen).set('Scheduler', HalfFrozen);
    expect(frozenViolations(listed, frozen, planted)).toEqual([
      'VoiceEngine: listed as frozen, but its constructor is not frozen',
      'Scheduler: listed as frozen, but its prototype is not frozen',
    ]);
    const withoutSinkBook = listed.filter((name) => name !== 'SinkBook');
    expect(frozenViolations(withoutSinkBook, frozen, classes)).toEqual(['SinkBook: src/ freezes its prototype, but docs/REGISTRAR_ARCHITECTURE.md does not list it']);
    expect(frozenViolations([...listed, 'Phantom'], frozen, new Map(classes).set('Phantom', undefined))).toEqual(['Phantom: listed as frozen, but no module exports such a class']);
  });
});
