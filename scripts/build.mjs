#!/usr/bin/env node
// Builds what the package needs: the native addon (cmake-js) and the TypeScript (tsc).
// Usage: node scripts/build.mjs [--native] [--ts] [--if-missing]
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { root, runOrExit, step } from './lib.mjs';

const args = new Set(process.argv.slice(2));
const all = !args.has('--native') && !args.has('--ts');
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

if (all || args.has('--native')) buildNative();
if (all || args.has('--ts')) buildTypeScript();
