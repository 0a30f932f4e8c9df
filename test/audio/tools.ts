/** Test helpers: run the real ffmpeg and espeak-ng binaries (installed here and in CI). */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav } from '../../src/audio/wav.js';

/** Path of the ffmpeg binary the tests use (FFMPEG_PATH overrides). */
export const FFMPEG = process.env['FFMPEG_PATH'] ?? 'ffmpeg';

/** Fails (never skips) with a clear message when ffmpeg is not installed. */
export function requireFfmpeg(): void {
  const probe = spawnSync(FFMPEG, ['-version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      `These tests compare against ffmpeg, which was not found as "${FFMPEG}" (${probe.error?.message ?? `exit ${probe.status}`}). ` +
        'Install it (apt-get install ffmpeg) or set FFMPEG_PATH; CI installs it.',
    );
  }
}

/** Runs ffmpeg with `args` (quiet), feeding `input` on stdin, and returns stdout and stderr. */
export function runFfmpeg(args: string[], input?: Uint8Array): { stdout: Buffer; stderr: string } {
  const result = spawnSync(FFMPEG, ['-hide_banner', '-nostdin', ...args], {
    input: input === undefined ? undefined : Buffer.from(input.buffer, input.byteOffset, input.byteLength),
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.error !== undefined) throw result.error;
  const stderr = result.stderr.toString('utf8');
  if (result.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed (exit ${result.status}): ${stderr.slice(-2000)}`);
  return { stdout: result.stdout, stderr };
}

/** Runs `espeak-ng --stdout text` and returns the WAV bytes it writes. */
export function espeakWav(text: string): Uint8Array {
  return new Uint8Array(execFileSync('espeak-ng', ['--stdout', text]));
}

/** Creates a temp dir and returns it with a cleanup function. */
export function makeTempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A factory of fresh empty directories under `root` (one per test, so leftovers can be checked by listing it). */
export function freshDirs(root: string): () => string {
  let counter = 0;
  return () => {
    const dir = join(root, `case-${counter++}`);
    mkdirSync(dir);
    return dir;
  };
}

/** Interleaved sine of `frequencyHz` at `amplitude` (linear), `seconds` long, same on each channel. */
export function sine(frequencyHz: number, amplitude: number, seconds: number, sampleRateHz: number, channels = 1): Float32Array {
  const frames = Math.round(seconds * sampleRateHz);
  const out = new Float32Array(frames * channels);
  for (let i = 0; i < frames; i++) {
    const value = amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / sampleRateHz);
    for (let c = 0; c < channels; c++) out[i * channels + c] = value;
  }
  return out;
}

/**
 * Writes `pcm` as a float WAV to `path` and returns ffmpeg's ebur128 summary (`-af
 * ebur128=peak=true`): integrated loudness (LUFS) and true peak (dBTP), printed to 0.1.
 */
export function ffmpegLoudness(path: string, pcm: Float32Array, sampleRateHz: number, channels: number): { integratedLufs: number; truePeakDb: number } {
  writeFileSync(path, encodeWav(pcm, { sampleRateHz, channels, format: 'f32' }));
  const { stderr } = runFfmpeg(['-nostats', '-i', path, '-filter_complex', 'ebur128=peak=true', '-f', 'null', '-']);
  const summary = stderr.slice(stderr.lastIndexOf('Summary:'));
  const integrated = /I:\s+(-?[\d.]+|-inf) LUFS/.exec(summary);
  const peak = /Peak:\s+(-?[\d.]+|-inf) dBFS/.exec(summary);
  if (!integrated || !peak) throw new Error(`could not parse ffmpeg's ebur128 summary:\n${summary}`);
  const parse = (text: string): number => (text === '-inf' ? -Infinity : Number(text));
  return { integratedLufs: parse(integrated[1]!), truePeakDb: parse(peak[1]!) };
}
