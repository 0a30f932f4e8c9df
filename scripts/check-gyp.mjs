#!/usr/bin/env node
// Builds the addon with node-gyp from binding.gyp in a scratch copy and checks that it exports the
// same names as the cmake-js build, so the two build descriptions cannot drift (a CI step).
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, runOrExit, step } from './lib.mjs';

const scratch = mkdtempSync(join(tmpdir(), 'vs-gyp-'));
try {
  for (const entry of ['binding.gyp', 'native', 'scripts', 'package.json']) {
    // native/ includes native/vendor/ when it holds miniaudio.h, so the copy needs no second fetch.
    cpSync(join(root, entry), join(scratch, entry), { recursive: true });
  }
  symlinkSync(join(root, 'node_modules'), join(scratch, 'node_modules'), 'dir');
  step('building the addon with node-gyp (binding.gyp)');
  const gyp = join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  const nodedir = existsSync('/usr/include/node/node_api.h') ? ['--nodedir=/usr'] : [];
  runOrExit(process.execPath, [gyp, 'rebuild', '-j', '2', ...nodedir], { cwd: scratch });
  const load = createRequire(import.meta.url);
  const viaGyp = Object.keys(load(join(scratch, 'build', 'Release', 'voice_soundboard.node'))).sort();
  const viaCmake = Object.keys(load(join(root, 'build', 'Release', 'voice_soundboard.node'))).sort();
  if (JSON.stringify(viaGyp) !== JSON.stringify(viaCmake)) {
    process.stderr.write(`node-gyp and cmake-js builds differ:\n  gyp:   ${viaGyp.join(', ')}\n  cmake: ${viaCmake.join(', ')}\n`);
    process.exit(1);
  }
  step(`node-gyp and cmake-js builds export the same ${viaGyp.length} names`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
