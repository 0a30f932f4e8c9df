#!/usr/bin/env node
// `npm run prebuild`: builds the addon and copies it to prebuilds/<platform>-<arch>/ (gitignored),
// where the loader prefers it.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { root, runOrExit, step } from './lib.mjs';

runOrExit(process.execPath, [join(root, 'scripts', 'build.mjs'), '--native']);
const target = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
mkdirSync(target, { recursive: true });
copyFileSync(join(root, 'build', 'Release', 'voice_soundboard.node'), join(target, 'voice_soundboard.node'));
step(`wrote ${join(target, 'voice_soundboard.node')}`);
