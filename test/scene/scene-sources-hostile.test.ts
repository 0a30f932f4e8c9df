/**
 * Hostile scene inputs: a FIFO or a device (`/dev/zero`) given as an audio file or as the scene
 * file must fail at once with a clear error (never hang, never read forever), and a missing
 * ffmpeg is a clear error naming the layer.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSceneFile } from '../../src/scene/scene-file.js';
import { loadAudioFile } from '../../src/scene/sources.js';
import { inputRejection } from '../helpers/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'vs-scene-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));


describe('scene sources that are not regular files', () => {
  it('a FIFO as a WAV or compressed source fails SCENE_SOURCE_UNREADABLE without waiting for a writer', async () => {
    for (const name of ['music.wav', 'music.mp3']) {
      const fifo = join(dir, `fifo-${name}`);
      execFileSync('mkfifo', [fifo]);
      const error = await inputRejection(loadAudioFile(fifo, 48_000, 'layers.music'));
      expect(error.code).toBe('SCENE_SOURCE_UNREADABLE');
      expect(error.message).toMatch(/^layers\.music: .*not a regular file/);
    }
  }, 30_000);

  it('/dev/zero behind a .wav or .flac name fails at once (nothing is read)', async () => {
    for (const name of ['zero.wav', 'zero.flac']) {
      const link = join(dir, name);
      symlinkSync('/dev/zero', link);
      const error = await inputRejection(loadAudioFile(link, 48_000, 'effects.0'));
      expect(error.code).toBe('SCENE_SOURCE_UNREADABLE');
      expect(error.message).toMatch(/not a regular file/);
    }
  }, 30_000);

  it('a FIFO or a device as the scene file fails SCENE_FILE_INVALID', async () => {
    const fifo = join(dir, 'scene.json');
    execFileSync('mkfifo', [fifo]);
    for (const path of [fifo, '/dev/zero']) {
      const error = await inputRejection(loadSceneFile(path));
      expect(error.code).toBe('SCENE_FILE_INVALID');
      expect(error.message).toMatch(/not a regular file/);
    }
  }, 30_000);

  it('a missing ffmpeg is a clear error naming the layer and the binary', async () => {
    const flac = join(dir, 'ok.flac');
    writeFileSync(flac, 'not really flac');
    const error = await inputRejection(loadAudioFile(flac, 48_000, 'layers.rain', '/nonexistent/ffmpeg'));
    expect(error.code).toBe('SCENE_SOURCE_UNREADABLE');
    expect(error.message).toMatch(/^layers\.rain: .*could not start ffmpeg/);
  }, 30_000);
});
