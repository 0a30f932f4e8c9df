#!/usr/bin/env node
// Builds what the package needs: the native addon (cmake-js) and the TypeScript (tsc).
// Also the espeak-ng events helper (build/espeak-events), when libespeak-ng's headers are installed.
// Usage: node scripts/build.mjs [--native] [--ts] [--helper] [--if-missing]
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { root, run, runOrExit, step } from './lib.mjs';

const args = new Set(process.argv.slice(2));
const all = !args.has('--native') && !args.has('--ts') && !args.has('--helper');
const ifMissing = args.has('--if-missing');

/** Builds the addon into build/Release unless it is there (with --if-missing). */
export function buildNative() {
  const addon = join(root, 'build', 'Release', 'voice_soundboard.node');
  if (ifMissing && existsSync(addon)) return;
  step('finding miniaudio.h');
  runOrExit(process.execPath, [join(root, 'scripts', 'setup-miniaudio.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
  step('building the native addon (cmake-js, first build ~30 s)');
  runOrExit(process.execPath, [join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js'), 'compile', '--log-level', 'warn']);
  // The loader prefers a prebuild: keep an existing one for this platform in step with the new build.
  const prebuild = join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'voice_soundboard.node');
  if (existsSync(prebuild)) copyFileSync(addon, prebuild);
}

/** Compiles src/ to dist/ with tsc, when TypeScript is installed (a development checkout). */
export function buildTypeScript() {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) {
    if (!existsSync(join(root, 'dist', 'index.js'))) {
      process.stderr.write('[voice-soundboard] dist/ is missing and TypeScript is not installed: run `npm install` with dev dependencies\n');
      process.exit(1);
    }
    return;
  }
  step('compiling TypeScript (tsc)');
  runOrExit(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')]);
}

/**
 * Compiles native/espeak-helper/espeak-events.c into build/espeak-events with the system C compiler
 * and libespeak-ng (GPL-3: a separate program, never linked into the addon). Optional: without the
 * headers or a compiler it prints one line and the espeak backend estimates word timings instead.
 */
export function buildEspeakHelper() {
  const output = join(root, 'build', 'espeak-events');
  if (ifMissing && existsSync(output)) return;
  const compiler = process.env.CC || 'cc';
  const headers = ['/usr/include', '/usr/local/include', '/opt/homebrew/include'].some((dir) => existsSync(join(dir, 'espeak-ng', 'speak_lib.h')));
  if (!headers) {
    process.stderr.write('[voice-soundboard] espeak-events helper skipped: libespeak-ng headers not found (apt-get install libespeak-ng-dev); espeak word timings stay estimated\n');
    return;
  }
  step('building the espeak-ng events helper (build/espeak-events)');
  mkdirSync(join(root, 'build'), { recursive: true });
  const status = run(compiler, ['-O2', '-Wall', '-o', output, join(root, 'native', 'espeak-helper', 'espeak-events.c'), '-lespeak-ng'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (status !== 0) process.stderr.write('[voice-soundboard] espeak-events helper not built (compiler failed); espeak word timings stay estimated\n');
}

if (all || args.has('--native')) buildNative();
if (all || args.has('--helper')) buildEspeakHelper();
if (all || args.has('--ts')) buildTypeScript();
