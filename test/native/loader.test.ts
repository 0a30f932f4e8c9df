import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NativeError } from '../../src/errors.js';
import { addonCandidates, loadAddonFrom, nativeBinding } from '../../src/native/loader.js';

const tempDir = mkdtempSync(join(tmpdir(), 'vs-loader-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

describe('native loader', () => {
  it('says which paths it tried and to run npm install when the addon is missing', () => {
    const missing = [join(tempDir, 'nope', 'voice_soundboard.node'), join(tempDir, 'also-not-here.node')];
    let error: unknown;
    try {
      loadAddonFrom(missing);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(NativeError);
    const nativeError = error as NativeError;
    expect(nativeError.code).toBe('NATIVE_ADDON_MISSING');
    expect(nativeError.message).toContain('Run `npm install`');
    for (const path of missing) expect(nativeError.message).toContain(path);
  });

  it('reports a file that is not a loadable addon as NATIVE_ADDON_LOAD_FAILED', () => {
    const corrupt = join(tempDir, 'corrupt.node');
    writeFileSync(corrupt, 'not an ELF file');
    expect(() => loadAddonFrom([corrupt])).toThrow(
      expect.objectContaining({ code: 'NATIVE_ADDON_LOAD_FAILED', message: expect.stringContaining('npm run build') }),
    );
  });

  it('prefers a prebuild for this platform over build/Release', () => {
    const root = join(tempDir, 'package');
    const prebuildDir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
    mkdirSync(prebuildDir, { recursive: true });
    mkdirSync(join(root, 'build', 'Release'), { recursive: true });
    const built = addonCandidates().find((path) => path.includes(join('build', 'Release'))) ?? '';
    copyFileSync(built, join(prebuildDir, 'voice_soundboard.node'));
    writeFileSync(join(root, 'build', 'Release', 'voice_soundboard.node'), 'a stale, broken build');
    const candidates = addonCandidates(root);
    expect(candidates[0]).toBe(join(prebuildDir, 'voice_soundboard.node'));
    expect(typeof loadAddonFrom(candidates).addonVersion).toBe('function');
  });

  it('loads the built addon with the audio exports', () => {
    expect(addonCandidates().some((path) => path.endsWith(join('build', 'Release', 'voice_soundboard.node')))).toBe(true);
    const binding = nativeBinding();
    expect(typeof binding.AudioDevice).toBe('function');
    expect(typeof binding.PcmRingBuffer).toBe('function');
    expect(binding.listBackends()).toContain('Null');
  });
});
