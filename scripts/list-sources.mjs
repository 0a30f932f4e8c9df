#!/usr/bin/env node
// Lists the native sources of one target, so CMakeLists.txt and binding.gyp build exactly the same
// files and cannot drift. Usage: node scripts/list-sources.mjs core|miniaudio|binding|tests
import { readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MINIAUDIO_UNIT = 'native/core/miniaudio_impl.cc';

/** The C++ translation units of a target, relative to the package root, sorted. */
export function listSources(target) {
  const list = (dir) =>
    readdirSync(join(root, dir))
      .filter((name) => name.endsWith('.cc'))
      .map((name) => relative(root, join(root, dir, name)).split('\\').join('/'))
      .sort();
  switch (target) {
    case 'core':
      return list('native/core').filter((file) => file !== MINIAUDIO_UNIT);
    case 'miniaudio':
      return [MINIAUDIO_UNIT];
    case 'binding':
      return list('native/binding');
    case 'tests':
      return list('native/test');
    default:
      throw new Error(`unknown source target "${target}" (expected core, miniaudio, binding or tests)`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const separator = process.argv.includes('--cmake') ? ';' : ' ';
  process.stdout.write(listSources(process.argv[2] ?? '').join(separator));
}
