#!/usr/bin/env node
// Regression guard (spec 4.8.9, issue 7 item 5): a static check, on the TypeScript AST with the
// type checker, that code outside the registrar cannot change what the registrar decides or act
// without a decision. Comments, strings and type-only positions never trigger a rule: only
// expressions that run are looked at, and "is this a stream view / a decision core / the device"
// is answered from types, not from names.
//
//   node scripts/guard.mjs            checks tsconfig.json's src/ files
//   node scripts/guard.mjs FILE...    checks these files (same rules)
//
// Prints each violation as `path:line:col rule: text` and exits 1 when there is any; otherwise
// prints `guard: ok (N files)`. A file outside src/ may say which src/ path it stands for with a
// first-lines comment `// guard-as: src/<layer>/<name>.ts` (the test's fixtures do): the file is
// judged as that path and its declarations count as declared there. Files under src/ are always
// judged by their real path.
import { readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

/** The rule ids and what each one forbids. */
export const GUARD_RULES = {
  'lifecycle-state-write':
    'writing a lifecycle field (state, owner, version, ...) of a registrar view or record outside src/registrar/ and src/native/',
  'decision-core-access': 'touching a decision core (any member, construction, createDefaultCore) outside src/registrar/',
  'device-write': 'writing to / starting / interrupting the audio device or a voice of it outside src/audio/output.ts, src/audio/voice.ts and the gated sink src/streaming/stream-sink.ts',
  'registrar-internal-import':
    'importing a registrar internal module, REPLAY_HOOKS, or the registrar addon binding from another layer',
  'host-entry-point': 'calling requestAsHost/observeAsHost (trusted by-name entry) from an untrusted layer',
};

/** The package root (this file sits in scripts/). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const LIFECYCLE_FIELDS = new Set(['state', 'owner', 'committed', 'graphRevision', 'version', 'lastAttestation', 'stateBefore', 'stateAfter']);
const DEVICE_WRITE_METHODS = new Set(['write', 'writeAll', 'interrupt', 'resume', 'start', 'drain', 'openVoice', 'end', 'setGain', 'voiceWrite', 'voiceEnd', 'voiceInterrupt', 'voiceSetGain']);
const HOST_ENTRY_METHODS = new Set(['requestAsHost', 'observeAsHost']);
/** src/registrar/ modules other layers may import values from (request-schema.ts: types only). */
const PUBLIC_REGISTRAR_MODULES = new Set(['registrar', 'types', 'errors', 'core', 'version', 'invariants', 'actor-handle', 'verify', 'snapshot-signature']);
/** Layers that act for agents, plugins or sessions: they hold handles, never names. */
const UNTRUSTED_LAYERS = ['src/engine/', 'src/streaming/', 'src/mcp/', 'src/plugins/', 'src/conversation/'];
const CORE_TYPES = { DecisionCore: 'src/registrar/core.ts', NativeCore: 'src/registrar/native-core.ts', ReferenceCore: 'src/registrar/reference-core.ts' };
const DEVICE_TYPES = { AudioOutput: 'src/audio/output.ts', AudioVoice: 'src/audio/voice.ts', NativeAudioDevice: 'src/native/audio-binding.ts' };
const REGISTRAR_BINDING_FILE = 'src/native/registrar-binding.ts';
const GUARD_AS = /^\s*\/\/\s*guard-as:\s*(\S+)/m;

/** The compiler options and the src/ files of the package's tsconfig.json. */
export function guardProject(root = PACKAGE_ROOT) {
  const configPath = join(root, 'tsconfig.json');
  const read = ts.readConfigFile(configPath, ts.sys.readFile);
  if (read.error) throw new Error(`guard: cannot read ${configPath}: ${ts.flattenDiagnosticMessageText(read.error.messageText, '\n')}`);
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, root, undefined, configPath);
  const files = parsed.fileNames.filter((file) => toPosix(relative(root, file)).startsWith('src/') && !file.endsWith('.d.ts'));
  return { options: parsed.options, files };
}

/** Every .ts file under a folder (the test lists its fixtures with it). */
export function typeScriptFilesUnder(folder) {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return typeScriptFilesUnder(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/**
 * Checks `files` (absolute paths) with one Program. Returns the violations, each
 * `{ path, line, column, rule, text }` (path relative to `root`, line and column 1-based), sorted,
 * and the number of files checked.
 */
export function checkFiles({ root = PACKAGE_ROOT, files, options } = {}) {
  if (!Array.isArray(files) || files.length === 0) throw new Error('guard: checkFiles needs a non-empty files array');
  const compilerOptions = { ...(options ?? guardProject(root).options), noEmit: true };
  const program = ts.createProgram({ rootNames: files.map((file) => resolve(file)), options: compilerOptions });
  const checker = program.getTypeChecker();
  const memberNames = {
    core: declaredMemberNames(program, root, Object.entries(CORE_TYPES)),
    registrarBinding: declaredMemberNames(program, root, [[null, REGISTRAR_BINDING_FILE]]),
  };
  const violations = [];
  for (const file of files) {
    const sourceFile = program.getSourceFile(resolve(file));
    if (!sourceFile) throw new Error(`guard: ${file} is not in the program`);
    checkSourceFile({ root, sourceFile, checker, memberNames, report: (violation) => violations.push(violation) });
  }
  violations.sort((a, b) => a.path.localeCompare(b.path) || a.line - b.line || a.column - b.column || a.rule.localeCompare(b.rule));
  return { violations, checkedFiles: files.length };
}

/** Formats one violation as the CLI prints it. */
export function formatViolation(violation) {
  return `${violation.path}:${violation.line}:${violation.column} ${violation.rule}: ${violation.text}`;
}

/**
 * Names of the members (static ones included) of the named classes and interfaces in a file, or
 * of all of them when the name is null. A value of such a type has no other member (short of a
 * cast, which the guard looks through), so other names need no type check.
 */
function declaredMemberNames(program, root, entries) {
  const names = new Set(['constructor']);
  for (const [typeName, file] of entries) {
    const sourceFile = program.getSourceFile(join(root, file));
    for (const statement of sourceFile?.statements ?? []) {
      if (!ts.isClassDeclaration(statement) && !ts.isInterfaceDeclaration(statement)) continue;
      if (typeName !== null && statement.name?.text !== typeName) continue;
      for (const member of statement.members) {
        const memberName = member.name && ts.getNameOfDeclaration(member);
        if (memberName && (ts.isIdentifier(memberName) || ts.isStringLiteralLike(memberName) || ts.isPrivateIdentifier(memberName))) names.add(memberName.text);
      }
    }
  }
  return names;
}

/**
 * The path a file is judged as: its own, or for a file outside src/ the `// guard-as:` path of
 * its first lines. A src/ file cannot opt out of its layer.
 */
function guardPath(root, sourceFile) {
  const realPath = toPosix(relative(root, sourceFile.fileName));
  if (realPath.startsWith('src/')) return realPath;
  const declared = GUARD_AS.exec(sourceFile.text.slice(0, 2000));
  return declared ? declared[1] : realPath;
}

function toPosix(path) {
  return path.split('\\').join('/');
}

function checkSourceFile({ root, sourceFile, checker, memberNames, report }) {
  const realPath = toPosix(relative(root, sourceFile.fileName));
  const asPath = guardPath(root, sourceFile);
  const inRegistrar = asPath.startsWith('src/registrar/');
  const inNative = asPath.startsWith('src/native/');
  const isIndex = asPath === 'src/index.ts';
  const mayWriteDevice = asPath === 'src/audio/output.ts' || asPath === 'src/audio/voice.ts' || asPath === 'src/streaming/stream-sink.ts';
  const untrusted = UNTRUSTED_LAYERS.some((layer) => asPath.startsWith(layer));

  // Local names of renamed imports (`import { createDefaultCore as make }`): calls by these are resolved too.
  const renamedImports = new Set(
    sourceFile.statements.flatMap((statement) => {
      const bindings = ts.isImportDeclaration(statement) ? statement.importClause?.namedBindings : undefined;
      return bindings && ts.isNamedImports(bindings) ? bindings.elements.filter((element) => element.propertyName).map((element) => element.name.text) : [];
    }),
  );
  // Where a declaration lives, as the guard sees it (a fixture's types live at its guard-as path).
  const pathOf = (node) => guardPath(root, node.getSourceFile());
  const declaredIn = (symbol, predicate) => (symbol?.declarations ?? []).some((declaration) => predicate(pathOf(declaration)));
  const resolveAlias = (symbol) => (symbol && symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol);

  function flag(node, rule, message) {
    // A called member is shown with its call: `output.write(pcm)`, not `output.write`.
    if (node.parent && ts.isCallExpression(node.parent) && node.parent.expression === node) node = node.parent;
    const start = node.getStart(sourceFile);
    const { line, character } = sourceFile.getLineAndCharacterOfPosition(start);
    let snippet = node.getText(sourceFile).replace(/\s+/g, ' ');
    if (snippet.length > 80) snippet = `${snippet.slice(0, 77)}...`;
    report({ path: realPath, line: line + 1, column: character + 1, rule, text: `${message}: \`${snippet}\`` });
  }

  /** Does the type (or a union/intersection member, constraint or base type) satisfy `predicate(symbol)`? */
  function typeMatches(type, predicate, seen = new Set()) {
    if (!type || seen.has(type)) return false;
    seen.add(type);
    if (type.isUnionOrIntersection()) return type.types.some((member) => typeMatches(member, predicate, seen));
    if (type.flags & ts.TypeFlags.TypeParameter) return typeMatches(checker.getBaseConstraintOfType(type), predicate, seen);
    if ([type.getSymbol(), type.aliasSymbol].some((symbol) => symbol && predicate(symbol))) return true;
    const target = type.objectFlags & ts.ObjectFlags.Reference ? type.target : type;
    if (target.objectFlags & ts.ObjectFlags.ClassOrInterface) {
      return checker.getBaseTypes(target).some((base) => typeMatches(base, predicate, seen));
    }
    return false;
  }

  /** The types of an expression and of what it wraps: `(view as { state: string })` is still the view. */
  function typesThrough(expression) {
    const types = [];
    let current = expression;
    for (;;) {
      types.push(checker.getTypeAtLocation(current));
      if (ts.isParenthesizedExpression(current) || ts.isAsExpression(current) || ts.isTypeAssertionExpression(current) || ts.isNonNullExpression(current) || ts.isSatisfiesExpression(current)) {
        current = current.expression;
      } else return { types, innermost: current };
    }
  }

  const namedIn = (table) => (symbol) => {
    const file = table[symbol.getName()];
    return file !== undefined && declaredIn(symbol, (path) => path === file);
  };
  const isCoreSymbol = namedIn(CORE_TYPES);
  const isDeviceSymbol = namedIn(DEVICE_TYPES);
  const isNativeDeviceSymbol = namedIn({ NativeAudioDevice: DEVICE_TYPES.NativeAudioDevice });
  const isRegistrarRecordSymbol = (symbol) => declaredIn(symbol, (path) => path.startsWith('src/registrar/') || path.startsWith('src/attestation/'));

  // ---- Rule 3: imports and re-exports ----------------------------------------------------
  /** Flags a value import/re-export of a registrar internal or the registrar binding; true when flagged. */
  function checkModuleReference(statement, specifier) {
    if (!specifier || !ts.isStringLiteralLike(specifier)) return false;
    const moduleSymbol = checker.getSymbolAtLocation(specifier);
    const target = moduleSymbol?.valueDeclaration && ts.isSourceFile(moduleSymbol.valueDeclaration) ? pathOf(moduleSymbol.valueDeclaration) : null;
    if (target === null) return false;
    if (target.startsWith('src/registrar/') && !inRegistrar) {
      const name = target.slice('src/registrar/'.length).replace(/\.ts$/, '');
      const reExport = ts.isExportDeclaration(statement);
      if (!PUBLIC_REGISTRAR_MODULES.has(name) && !(isIndex && reExport)) {
        const why = name === 'request-schema' ? 'src/registrar/request-schema.ts may be imported for types only' : `src/registrar/${name}.ts is internal to the registrar`;
        flag(statement, 'registrar-internal-import', why);
        return true;
      }
    }
    if (target === REGISTRAR_BINDING_FILE && !inNative && !inRegistrar) {
      flag(statement, 'registrar-internal-import', 'the registrar addon binding is for src/native/ and src/registrar/ only');
      return true;
    }
    return false;
  }

  function checkReplayHooksSpecifiers(elements) {
    if (inRegistrar) return;
    for (const element of elements) {
      if (element.isTypeOnly) continue;
      if ((element.propertyName ?? element.name).text === 'REPLAY_HOOKS') {
        flag(element, 'registrar-internal-import', 'REPLAY_HOOKS is the registrar\'s replay back door');
      }
    }
  }

  function visitImport(node) {
    const clause = node.importClause;
    const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : [];
    const typeOnly = Boolean(clause && (clause.isTypeOnly || (!clause.name && named.length > 0 && named.every((element) => element.isTypeOnly))));
    if (typeOnly) return;
    if (!checkModuleReference(node, node.moduleSpecifier)) checkReplayHooksSpecifiers(named);
  }

  function visitExport(node) {
    const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : [];
    const typeOnly = node.isTypeOnly || (named.length > 0 && named.every((element) => element.isTypeOnly));
    if (typeOnly) return;
    if (node.moduleSpecifier && !checkModuleReference(node, node.moduleSpecifier)) checkReplayHooksSpecifiers(named);
  }

  // ---- Member references: property access, element access, object destructuring ----------
  /**
   * A member reference (`a.b`, `a['b']`, `const { b } = a`) as `{ node, name, wrapped, innermost,
   * types(), property() }`, else null. Types and symbols are asked for lazily: the checker is the
   * slow part, so each rule first filters by name (see `memberNames`).
   */
  function memberReference(node) {
    let name;
    let objectNode;
    let argument = null;
    if (ts.isPropertyAccessExpression(node)) {
      name = node.name.text;
      objectNode = node.expression;
    } else if (ts.isElementAccessExpression(node)) {
      argument = node.argumentExpression;
      name = ts.isStringLiteralLike(argument) || ts.isNumericLiteral(argument) ? argument.text : null;
      objectNode = node.expression;
    } else if (ts.isBindingElement(node) && ts.isObjectBindingPattern(node.parent) && !node.dotDotDotToken) {
      const key = node.propertyName ?? node.name;
      name = ts.isIdentifier(key) || ts.isStringLiteralLike(key) ? key.text : null;
      objectNode = null;
    } else return null;
    let innermost = objectNode;
    while (innermost && isWrapper(innermost)) innermost = innermost.expression;
    let types;
    let property;
    return {
      node,
      name,
      innermost,
      // `(core as unknown as { compact(): void }).compact()`: a cast can bring any name, so no name filter.
      wrapped: innermost !== objectNode || name === null,
      types() {
        types ??= objectNode ? typesThrough(objectNode).types : [checker.getTypeAtLocation(node.parent)];
        return types;
      },
      property() {
        if (property !== undefined) return property ?? undefined;
        if (name === null) property = null; // a computed key (`registrar[REPLAY_HOOKS]`): its import is what is checked
        else if (ts.isBindingElement(node)) property = checker.getPropertyOfType(checker.getApparentType(this.types()[0]), name) ?? null;
        else property = resolveAlias(checker.getSymbolAtLocation(argument ?? node.name)) ?? null;
        return property ?? undefined;
      },
    };
  }

  function visitMemberReference(reference) {
    const { node, name, wrapped } = reference;
    const matchesType = (predicate) => reference.types().some((type) => typeMatches(type, predicate));
    if (!inRegistrar && (wrapped || memberNames.core.has(name)) && matchesType(isCoreSymbol)) {
      flag(node, 'decision-core-access', 'the decision core is reachable only through the registrar');
      return;
    }
    if (name === null) return;
    // An untyped receiver could be the device: outside the gated sink, device-write names on `any` are refused too.
    if (!mayWriteDevice && DEVICE_WRITE_METHODS.has(name) && (matchesType(isDeviceSymbol) || reference.types().some((type) => (type.flags & ts.TypeFlags.Any) !== 0))) {
      flag(node, 'device-write', `${name}() on the audio device outside the gated sink`);
      return;
    }
    // By name alone, whatever the receiver's (possibly cast) type: no untrusted layer has a reason to say it.
    if (untrusted && HOST_ENTRY_METHODS.has(name)) {
      flag(node, 'host-entry-point', `${name} names actors; the ${asPath.split('/')[1]} layer must act through an actor handle`);
      return;
    }
    if (!inRegistrar && name === 'REPLAY_HOOKS') {
      flag(node, 'registrar-internal-import', 'REPLAY_HOOKS is the registrar\'s replay back door');
      return;
    }
    if (!inRegistrar && !inNative && memberNames.registrarBinding.has(name) && declaredIn(reference.property(), (path) => path === REGISTRAR_BINDING_FILE)) {
      flag(node, 'registrar-internal-import', 'the registrar addon binding is for src/native/ and src/registrar/ only');
      return;
    }
    if (!inRegistrar && !inNative && LIFECYCLE_FIELDS.has(name) && !ts.isBindingElement(node) && isWriteTarget(node)) {
      const property = reference.property();
      if (isOwnField(reference, property)) return;
      if (matchesType(isRegistrarRecordSymbol) || (property && isRegistrarRecordSymbol(property))) {
        flag(node, 'lifecycle-state-write', `only the registrar writes '${name}'`);
      }
    }
  }

  /** `this.state = ...` in a class that declares `state` itself: its own field, not stream state. */
  function isOwnField(reference, property) {
    if (reference.innermost?.kind !== ts.SyntaxKind.ThisKeyword || !property) return false;
    const ownClass = ts.findAncestor(reference.node, ts.isClassLike);
    return Boolean(ownClass && (property.declarations ?? []).some((declaration) => declaration.parent === ownClass));
  }

  // ---- Rule 1: writes ----------------------------------------------------------------------
  const isWrapper = (node) => ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isTypeAssertionExpression(node) || ts.isNonNullExpression(node) || ts.isSatisfiesExpression(node);
  const isAssignment = (node) => ts.isBinaryExpression(node) && node.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && node.operatorToken.kind <= ts.SyntaxKind.LastAssignment;

  /** Is `node` the target of an assignment, ++/--, delete, for-in/of, or a destructuring assignment? */
  function isWriteTarget(node) {
    let child = node;
    let parent = node.parent;
    while (parent && isWrapper(parent)) [child, parent] = [parent, parent.parent];
    if (!parent) return false;
    if (isAssignment(parent)) return parent.left === child;
    if (ts.isPrefixUnaryExpression(parent) || ts.isPostfixUnaryExpression(parent)) {
      return parent.operator === ts.SyntaxKind.PlusPlusToken || parent.operator === ts.SyntaxKind.MinusMinusToken;
    }
    if (ts.isDeleteExpression(parent)) return true;
    if ((ts.isForOfStatement(parent) || ts.isForInStatement(parent)) && parent.initializer === child) return true;
    return isInAssignmentPattern(child);
  }

  function isInAssignmentPattern(node) {
    const parent = node.parent;
    if (ts.isPropertyAssignment(parent) && parent.initializer === node) return isAssignmentPattern(parent.parent);
    if (ts.isSpreadAssignment(parent) || ts.isShorthandPropertyAssignment(parent)) return isAssignmentPattern(parent.parent);
    if (ts.isSpreadElement(parent)) return isAssignmentPattern(parent.parent);
    if (ts.isArrayLiteralExpression(parent)) return isAssignmentPattern(parent);
    return false;
  }

  function isAssignmentPattern(literal) {
    if (!ts.isObjectLiteralExpression(literal) && !ts.isArrayLiteralExpression(literal)) return false;
    let child = literal;
    let parent = literal.parent;
    while (ts.isParenthesizedExpression(parent)) [child, parent] = [parent, parent.parent];
    if (ts.isBinaryExpression(parent) && parent.operatorToken.kind === ts.SyntaxKind.EqualsToken) return parent.left === child;
    if ((ts.isForOfStatement(parent) || ts.isForInStatement(parent)) && parent.initializer === child) return true;
    return isInAssignmentPattern(child);
  }

  const REFLECTIVE_WRITES = {
    'Object.assign': 'sources',
    'Object.defineProperty': 'key',
    'Object.defineProperties': 'descriptors',
    'Reflect.set': 'key',
    'Reflect.defineProperty': 'key',
    'Reflect.deleteProperty': 'key',
  };

  /** `Object.assign(view, { state })`, `Object.defineProperty(view, 'owner', ...)`, `Reflect.set(...)`. */
  function visitReflectiveWrite(call) {
    const callee = call.expression;
    if (!ts.isPropertyAccessExpression(callee) || !ts.isIdentifier(callee.expression)) return;
    const how = REFLECTIVE_WRITES[`${callee.expression.text}.${callee.name.text}`];
    const [target, key, ...rest] = call.arguments;
    if (inRegistrar || inNative || !how || !target || !key) return;
    if (!typesThrough(target).types.some((type) => typeMatches(type, isRegistrarRecordSymbol))) return;
    const hasLifecycleProperty = (argument) => checker.getPropertiesOfType(checker.getTypeAtLocation(argument)).some((property) => LIFECYCLE_FIELDS.has(property.getName()));
    let writes = false;
    if (how === 'sources') writes = [key, ...rest].some((argument) => ts.isSpreadElement(argument) || hasLifecycleProperty(argument));
    else if (how === 'descriptors') writes = hasLifecycleProperty(key);
    else {
      const keyType = checker.getTypeAtLocation(key);
      const keys = keyType.isUnion() ? keyType.types : [keyType];
      writes = keys.some((member) => member.isStringLiteral() && LIFECYCLE_FIELDS.has(member.value));
    }
    if (writes) flag(call, 'lifecycle-state-write', 'only the registrar writes lifecycle fields');
  }

  // ---- Rule 1: making a core ---------------------------------------------------------------
  function visitConstruction(node) {
    // What the constructor makes, read off its construct signatures: cheaper than resolving the
    // `new` call itself (no overload resolution against the arguments).
    const constructorType = checker.getTypeAtLocation(node.expression);
    const made = checker.getSignaturesOfType(constructorType, ts.SignatureKind.Construct).map((signature) => checker.getReturnTypeOfSignature(signature));
    if (!inRegistrar && made.some((type) => typeMatches(type, isCoreSymbol))) {
      flag(node, 'decision-core-access', 'only the registrar makes a decision core');
    } else if (!mayWriteDevice && made.some((type) => typeMatches(type, isNativeDeviceSymbol))) {
      flag(node, 'device-write', 'only src/audio/output.ts opens the native device');
    }
  }

  function visitCall(call) {
    if (call.expression.kind === ts.SyntaxKind.ImportKeyword) {
      checkModuleReference(call, call.arguments[0]);
      return;
    }
    visitReflectiveWrite(call);
    const callee = ts.isPropertyAccessExpression(call.expression) ? call.expression.name : call.expression;
    if (inRegistrar || !ts.isIdentifier(callee)) return;
    // An import may rename it, so an unknown callee name is resolved; a known one is not.
    if (callee.text !== 'createDefaultCore' && !renamedImports.has(callee.text)) return;
    const called = resolveAlias(checker.getSymbolAtLocation(callee));
    if (called?.getName() === 'createDefaultCore' && declaredIn(called, (path) => path.startsWith('src/registrar/'))) {
      flag(call, 'decision-core-access', 'only the registrar makes a decision core');
    }
  }

  /** Inside a type (an interface, a type alias, `implements X`): nothing there runs. */
  function inTypePosition(node) {
    for (let current = node.parent; current && !ts.isSourceFile(current); current = current.parent) {
      if (ts.isTypeNode(current) && !(ts.isExpressionWithTypeArguments(current) && isClassExtends(current))) return true;
      if (ts.isInterfaceDeclaration(current) || ts.isTypeAliasDeclaration(current)) return true;
      if (ts.isBlock(current) || ts.isExpressionStatement(current)) return false;
    }
    return false;
  }
  const isClassExtends = (heritage) => ts.isHeritageClause(heritage.parent) && heritage.parent.token === ts.SyntaxKind.ExtendsKeyword && ts.isClassLike(heritage.parent.parent);

  function visit(node) {
    if (ts.isImportDeclaration(node)) visitImport(node);
    else if (ts.isExportDeclaration(node)) visitExport(node);
    else if (ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node) || ts.isImportTypeNode(node)) return;
    else if (node.flags & ts.NodeFlags.Ambient) return;
    else {
      const reference = memberReference(node);
      if (reference && !inTypePosition(node)) visitMemberReference(reference);
      if (ts.isNewExpression(node)) visitConstruction(node);
      if (ts.isCallExpression(node)) visitCall(node);
    }
    ts.forEachChild(node, visit);
  }
  ts.forEachChild(sourceFile, visit);
}

/** What the CLI prints for a result (stdout, stderr) and its exit code. */
export function guardReport({ violations, checkedFiles }) {
  if (violations.length === 0) return { exitCode: 0, stdout: `guard: ok (${checkedFiles} files)\n`, stderr: '' };
  return {
    exitCode: 1,
    stdout: violations.map((violation) => `${formatViolation(violation)}\n`).join(''),
    stderr: `guard: ${violations.length} violation(s) in ${checkedFiles} files\n`,
  };
}

function main(argv) {
  const project = guardProject(PACKAGE_ROOT);
  const files = argv.length > 0 ? argv.map((file) => resolve(file)) : project.files;
  const report = guardReport(checkFiles({ root: PACKAGE_ROOT, files, options: project.options }));
  process.stdout.write(report.stdout);
  process.stderr.write(report.stderr);
  return report.exitCode;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
