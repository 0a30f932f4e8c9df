import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../../src/audio/wav.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { rejection } from '../helpers/errors.js';
import { ToneWordsBackend } from '../helpers/tone-words-backend.js';

const directory = mkdtempSync(join(tmpdir(), 'vs-clip-'));
const root = join(directory, 'clips');
mkdirSync(root);
const clip = encodeWav(new Float32Array(800).fill(0.25), { sampleRateHz: 8000, channels: 1, format: 's16' });
writeFileSync(join(root, 'inside.wav'), clip);
writeFileSync(join(directory, 'outside.wav'), clip);
symlinkSync(join(directory, 'outside.wav'), join(root, 'escape.wav'));
symlinkSync(join(root, 'inside.wav'), join(root, 'alias.wav'));
const engine = new VoiceEngine({ backend: new ToneWordsBackend({ sampleRateHz: 8000, toneFrames: 80, gapFrames: 40, level: 0.3 }) });
afterAll(async () => {
  await engine.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('<audio> clips stay inside audioRoot at read time', () => {
  it('plays a clip inside audioRoot, directly or through a link that stays inside', async () => {
    for (const name of ['inside.wav', 'alias.wav']) {
      const result = await engine.speak(`<speak>a<audio src="${name}"/>b</speak>`, { allowAudio: true, audioRoot: root });
      expect(result.durationMs).toBeGreaterThan(100);
    }
  });

  it('refuses a symlink inside audioRoot that leads out of it (the compiler only sees the path)', async () => {
    const error = await rejection(engine.speak('<speak>a<audio src="escape.wav"/>b</speak>', { allowAudio: true, audioRoot: root }));
    expect(error.code).toBe('AUDIO_CLIP_OUTSIDE_ROOT');
    expect(error.message).toBe(`engine: audio clip ${join(root, 'escape.wav')} resolves outside audioRoot (a symlink leads out of it)`);
  });

  it('refuses a FIFO inside audioRoot without waiting for a writer (read as a regular file only)', async () => {
    execFileSync('mkfifo', [join(root, 'pipe.wav')]);
    const error = await rejection(engine.speak('<speak>a<audio src="pipe.wav"/>b</speak>', { allowAudio: true, audioRoot: root }));
    expect(error.code).toBe('AUDIO_CLIP_UNREADABLE');
    expect(error.message).toMatch(/it is a FIFO, not a regular file/);
  });
});
