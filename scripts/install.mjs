#!/usr/bin/env node
// `npm install` of this package: use a matching prebuild when one loads, else fetch miniaudio and
// build the addon; then compile the TypeScript when this is a development checkout.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { root, run, runOrExit, step } from './lib.mjs';

function prebuildLoads() {
  const file = join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'voice_soundboard.node');
  if (!existsSync(file)) return false;
  try {
    createRequire(import.meta.url)(file);
    return true;
  } catch {
    return false;
  }
}

if (prebuildLoads()) {
  step('using the prebuilt addon in prebuilds/');
  runOrExit(process.execPath, [join(root, 'scripts', 'build.mjs'), '--ts', '--helper']);
} else {
  const status = run(process.execPath, [join(root, 'scripts', 'build.mjs')]);
  if (status !== 0) process.exit(status);
}
step('ready: try `npx voice-soundboard speak "Hello" -o hello.wav`');
