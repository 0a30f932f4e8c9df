/**
 * The only code that loads the `.node` file. Prefers a prebuild matching this platform and
 * architecture, then `build/Release`; otherwise throws one NativeError saying what to run.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeError } from '../errors.js';
import type { NativeBinding } from './binding.js';

const ADDON_FILE = 'voice_soundboard.node';
/** The package root: this file sits in src/native/ (tests) or dist/native/ (built). */
const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const requireNative = createRequire(import.meta.url);

/** Where to look for the addon, in order. */
export function addonCandidates(root: string = PACKAGE_ROOT): string[] {
  return [
    join(root, 'prebuilds', `${process.platform}-${process.arch}`, ADDON_FILE),
    join(root, 'build', 'Release', ADDON_FILE),
  ];
}

/** Loads the addon from the first candidate that exists; throws NATIVE_ADDON_MISSING or NATIVE_ADDON_LOAD_FAILED. */
export function loadAddonFrom(candidates: readonly string[]): NativeBinding {
  const found = candidates.find((path) => existsSync(path));
  if (!found) {
    throw new NativeError(
      'NATIVE_ADDON_MISSING',
      [
        'The voice-soundboard native addon is not built. Looked for:',
        ...candidates.map((path) => `  - ${path}`),
        'Run `npm install` in the package folder (it fetches miniaudio and builds the addon),',
        'or `npm run build` to rebuild it; a C++17 compiler and cmake are needed.',
      ].join('\n'),
    );
  }
  try {
    return requireNative(found) as NativeBinding;
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new NativeError(
      'NATIVE_ADDON_LOAD_FAILED',
      `The voice-soundboard native addon at ${found} could not be loaded (${reason}). ` +
        'Rebuild it for this Node version with `npm run build`.',
      { cause },
    );
  }
}

let cached: NativeBinding | undefined;

/** The addon of this package, loaded once per thread. */
export function nativeBinding(): NativeBinding {
  cached ??= loadAddonFrom(addonCandidates());
  return cached;
}
