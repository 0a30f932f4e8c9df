/**
 * Audio files as scene sources: WAV decoded in-process (src/audio/wav.ts), every other format
 * (FLAC, MP3, Opus, Ogg, AAC...) decoded by ffmpeg to float32 stereo (src/audio/ffmpeg.ts);
 * then resampled to the scene's rate and split into planar channels (mono stays mono; more than
 * two channels are averaged to mono). Only regular files of at most MAX_SOURCE_FILE_BYTES are
 * read (a FIFO or `/dev/zero` fails at once), and ffmpeg decodes at most a scene's longest length
 * (MAX_SCENE_MS), so memory stays bounded whatever the file. Errors name the layer and the file: `SCENE_SOURCE_UNREADABLE`
 * (cannot read or decode) as an InputError.
 */
import { extname } from 'node:path';
import { DEFAULT_FFMPEG_PATH, runFfmpeg } from '../audio/ffmpeg.js';
import { checkRegularFile, readRegularFile } from '../audio/input-file.js';
import { decodeF32le } from '../audio/pcm.js';
import { resample } from '../audio/resampler.js';
import { decodeWav } from '../audio/wav.js';
import { InputError } from '../errors.js';
import type { PlanarAudio } from './procedural.js';
import { toMonoPlanar } from './scene-engine.js';
import { MAX_SCENE_MS } from './scene-schema.js';

/** Largest audio file a scene reads (bytes): a FIFO, a device or a bigger file is refused before decoding. */
export const MAX_SOURCE_FILE_BYTES = 2 * 1024 ** 3;

/** Interleaved PCM → planar (1 or 2 channels; more are averaged to mono). */
export function toPlanar(pcm: Float32Array, channels: number): PlanarAudio {
  if (channels === 1) return [pcm];
  if (channels > 2) return [toMonoPlanar(pcm, channels)];
  const frames = Math.floor(pcm.length / 2);
  const left = new Float32Array(frames);
  const right = new Float32Array(frames);
  for (let frame = 0; frame < frames; frame++) {
    left[frame] = pcm[2 * frame]!;
    right[frame] = pcm[2 * frame + 1]!;
  }
  return [left, right];
}

/** Resamples each channel of planar audio to `outputRate` (no copy when the rates match). */
export function resamplePlanar(audio: PlanarAudio, inputRate: number, outputRate: number): PlanarAudio {
  if (inputRate === outputRate) return audio;
  return audio.map((channel) => resample(channel, { inputRateHz: inputRate, outputRateHz: outputRate }));
}

function unreadable(field: string, path: string, error: unknown): InputError {
  const why = error instanceof Error ? error.message : String(error);
  return new InputError(`${field}: cannot read audio file ${JSON.stringify(path)}: ${why}`, { code: 'SCENE_SOURCE_UNREADABLE', field, cause: error });
}

/** Decodes the audio file at `path` to planar float32 at `sampleRate`; `field` names the layer in errors. */
export async function loadAudioFile(path: string, sampleRate: number, field: string, ffmpegPath: string = DEFAULT_FFMPEG_PATH): Promise<PlanarAudio> {
  const extension = extname(path).toLowerCase();
  if (extension === '.wav' || extension === '.wave') {
    let bytes: Uint8Array;
    try {
      bytes = await readRegularFile(path, MAX_SOURCE_FILE_BYTES);
    } catch (error) {
      throw unreadable(field, path, error);
    }
    try {
      const wav = decodeWav(bytes);
      return resamplePlanar(toPlanar(wav.pcm, wav.channels), wav.sampleRateHz, sampleRate);
    } catch (error) {
      throw unreadable(field, path, error);
    }
  }
  try {
    await checkRegularFile(path, MAX_SOURCE_FILE_BYTES);
    // ffmpeg resamples and lays out the channels itself: raw float32 stereo at the scene's rate, at most a scene long.
    const { stdout } = await runFfmpeg(ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-i', path, '-t', String(MAX_SCENE_MS / 1000), '-f', 'f32le', '-ac', '2', '-ar', String(sampleRate), 'pipe:1']);
    return toPlanar(decodeF32le(stdout.subarray(0, stdout.byteLength - (stdout.byteLength % 8))), 2);
  } catch (error) {
    throw unreadable(field, path, error);
  }
}
