/**
 * `inspectAudioFile`: what a written audio file says about itself (its tags: WAV LIST/INFO read
 * in-process, other containers through ffprobe) and, given a key, whether it carries that key's
 * watermark (WAV decoded in-process, other formats decoded by ffmpeg to mono at the detector's
 * analysis rate). Behind `voice-soundboard inspect`.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { DEFAULT_FFMPEG_PATH, runFfmpeg } from '../audio/ffmpeg.js';
import { decodeF32le } from '../audio/pcm.js';
import { decodeWav } from '../audio/wav.js';
import { readWavInfo } from '../audio/wav-info.js';
import { AudioError, InputError } from '../errors.js';
import { parseInput } from '../validation.js';
import { complianceTagsFromWavInfo, COMPLIANCE_INFO_IDS, type ComplianceTags } from './compliance-tags.js';
import { ANALYSIS_RATE_HZ } from './watermark-detect.js';
import { detectWatermark, watermarkOptionsSchema, type WatermarkDetection } from './watermark.js';

/** Options of `inspectAudioFile`. */
export interface InspectOptions {
  /** Watermark key to look for (without it the detector does not run). */
  key?: string | undefined;
  /** ffmpeg binary for non-WAV files (ffprobe is looked for next to it). */
  ffmpegPath?: string | undefined;
}

/** What a file says and holds. */
export interface AudioFileInspection {
  path: string;
  /** `wav` (read in-process) or the container ffprobe names (`mp3`, `ogg`, `flac`, ...). */
  container: string;
  /** Every tag found (WAV: INFO ids; others: ffprobe's keys, format tags then the audio stream's). */
  tags: Record<string, string>;
  /** The compliance tags among them (keys of ComplianceTags). */
  compliance: Partial<ComplianceTags>;
  /** The detector's answer, or null when no key was given. */
  watermark: WatermarkDetection | null;
}

const optionsSchema = z.strictObject({
  key: watermarkOptionsSchema.shape.key.optional(),
  ffmpegPath: z.string().min(1).optional(),
});

/** Reads `path`'s tags and, with `key`, runs the watermark detector on its audio. */
export async function inspectAudioFile(path: string, options: InspectOptions = {}): Promise<AudioFileInspection> {
  parseInput(z.string().min(1), path, 'path');
  const { key, ffmpegPath = DEFAULT_FFMPEG_PATH } = parseInput(optionsSchema, options, 'options');
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    throw new InputError(`path: cannot read ${JSON.stringify(path)} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { code: 'FILE_UNREADABLE', field: 'path', cause: error });
  }
  const isWav = bytes.length >= 12 && String.fromCharCode(...bytes.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...bytes.subarray(8, 12)) === 'WAVE';
  if (isWav) {
    const tags = readWavInfo(bytes);
    const watermark = key === undefined ? null : detectWatermark(decodeWav(bytes), key);
    return { path, container: 'wav', tags, compliance: complianceTagsFromWavInfo(tags), watermark };
  }
  const probe = await ffprobe(ffprobePathFor(ffmpegPath), path);
  const compliance: Partial<ComplianceTags> = {};
  for (const name of Object.keys(COMPLIANCE_INFO_IDS) as Array<keyof ComplianceTags>) {
    const value = probe.tags[name];
    if (value !== undefined) compliance[name] = value;
  }
  let watermark: WatermarkDetection | null = null;
  if (key !== undefined) {
    const args = ['-hide_banner', '-loglevel', 'error', '-i', path, '-f', 'f32le', '-ac', '1', '-ar', String(ANALYSIS_RATE_HZ), 'pipe:1'];
    const { stdout } = await runFfmpeg(ffmpegPath, args);
    watermark = detectWatermark({ pcm: decodeF32le(stdout), sampleRateHz: ANALYSIS_RATE_HZ }, key);
  }
  return { path, container: probe.container, tags: probe.tags, compliance, watermark };
}

/** ffprobe next to the ffmpeg binary (`VOICE_SOUNDBOARD_FFPROBE` overrides). */
function ffprobePathFor(ffmpegPath: string): string {
  return process.env['VOICE_SOUNDBOARD_FFPROBE'] ?? ffmpegPath.replace(/ffmpeg(\.exe)?$/, 'ffprobe$1');
}

const probeSchema = z.object({
  format: z.object({ format_name: z.string().optional(), tags: z.record(z.string(), z.string()).optional() }).optional(),
  streams: z.array(z.object({ codec_type: z.string().optional(), tags: z.record(z.string(), z.string()).optional() })).optional(),
});

function ffprobe(ffprobePath: string, path: string): Promise<{ container: string; tags: Record<string, string> }> {
  const args = ['-v', 'error', '-show_entries', 'format=format_name:format_tags:stream=codec_type:stream_tags', '-of', 'json', path];
  return new Promise((resolve, reject) => {
    execFile(ffprobePath, args, { maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) {
        const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
        reject(
          missing
            ? new AudioError('FFMPEG_NOT_FOUND', `reading ${path} needs ffprobe ("${ffprobePath}" not found): apt-get install ffmpeg`, { cause: error })
            : new AudioError('FFMPEG_FAILED', `ffprobe could not read ${path}: ${stderr.trim().split('\n').at(-1) ?? error.message}`, { cause: error }),
        );
        return;
      }
      const parsed = probeSchema.safeParse(JSON.parse(stdout));
      if (!parsed.success) {
        reject(new AudioError('FFMPEG_FAILED', `ffprobe gave unexpected output for ${path}`));
        return;
      }
      const audio = parsed.data.streams?.find((stream) => stream.codec_type === 'audio');
      resolve({ container: (parsed.data.format?.format_name ?? 'unknown').split(',')[0] ?? 'unknown', tags: { ...(parsed.data.format?.tags ?? {}), ...(audio?.tags ?? {}) } });
    });
  });
}
