#!/usr/bin/env node
// House-style checks that the compiler cannot make (see ../shared/STYLE.md):
// - src/index.ts exports by name only (no `export *`);
// - only src/native/ loads the .node file.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { root } from './lib.mjs';

const problems = [];
function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : path.endsWith('.ts') ? [path] : [];
  });
}
for (const file of walk(join(root, 'src'))) {
  const rel = relative(root, file).split('\\').join('/');
  const text = readFileSync(file, 'utf8');
  if (rel === 'src/index.ts' && /export\s+\*/.test(text)) problems.push(`${rel}: use named exports, not export *`);
  if (!rel.startsWith('src/native/') && /\.node['"]/.test(text)) problems.push(`${rel}: only src/native/ may load the .node file`);
}
if (problems.length > 0) {
  process.stderr.write(`${problems.join('\n')}\n`);
  process.exit(1);
}
process.stderr.write('lint: ok\n');
