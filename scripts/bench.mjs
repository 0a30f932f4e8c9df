#!/usr/bin/env node
// `npm run bench [name...]`: runs bench/*.bench.ts (tinybench) one after another. Not part of `npm test`.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { root, run, step } from './lib.mjs';

const wanted = process.argv.slice(2);
const files = readdirSync(join(root, 'bench'))
  .filter((name) => name.endsWith('.bench.ts'))
  .filter((name) => wanted.length === 0 || wanted.some((want) => name.includes(want)))
  .sort();
let failed = 0;
for (const file of files) {
  step(`bench/${file}`);
  failed += run(process.execPath, ['--import', 'tsx', join(root, 'bench', file)]) === 0 ? 0 : 1;
}
process.exit(failed === 0 ? 0 : 1);
