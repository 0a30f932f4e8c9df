/**
 * Output format negotiation: encode float32 PCM to WAV/raw PCM in-process, or to compressed
 * formats (mp3, opus, ogg vorbis, flac, aac) through an ffmpeg child process (stdin→stdout);
 * report which formats work here and why the others do not; map file extensions to formats.
 */
import { extname } from 'node:path';
import { z } from 'zod';
import { AudioError, InputError } from '../errors.js';
import { parseInput } from '../validation.js';
import { DEFAULT_FFMPEG_PATH, probeFfmpeg, runFfmpeg, type FfmpegProbe } from './ffmpeg.js';
import { encodeF32le, encodeS16le } from './pcm.js';
import { encodeWav } from './wav.js';

/** Every format `encodeAudio` knows. */
export const AUDIO_FORMATS = ['wav', 'wav-f32', 'pcm', 'pcm-f32', 'mp3', 'opus', 'ogg', 'flac', 'aac'] as const;

/** An output format: `wav` (16-bit), `wav-f32`, `pcm` (raw s16le), `pcm-f32` (raw f32le) or a compressed one. */
export type AudioFormat = (typeof AUDIO_FORMATS)[number];

/** Zod schema of an `AudioFormat`. */
export const audioFormatSchema = z.enum(AUDIO_FORMATS);

interface FormatSpec {
  extension: string;
  mimeType: string;
  /** ffmpeg encoder and muxer; absent for formats encoded in-process. */
  ffmpeg?: {
    encoder: string;
    muxer: string;
    /** Whether `bitrateKbps` applies (lossy codecs). */
    lossy: boolean;
    /** Bitrate used when the caller gives none; absent: the encoder's own default (vorbis: quality 3). */
    defaultBitrateKbps?: number;
  };
}

const FORMATS: Readonly<Record<AudioFormat, FormatSpec>> = {
  wav: { extension: '.wav', mimeType: 'audio/wav' },
  'wav-f32': { extension: '.wav', mimeType: 'audio/wav' },
  pcm: { extension: '.pcm', mimeType: 'audio/L16' },
  'pcm-f32': { extension: '.f32', mimeType: 'application/octet-stream' },
  mp3: { extension: '.mp3', mimeType: 'audio/mpeg', ffmpeg: { encoder: 'libmp3lame', muxer: 'mp3', lossy: true, defaultBitrateKbps: 128 } },
  opus: { extension: '.opus', mimeType: 'audio/ogg; codecs=opus', ffmpeg: { encoder: 'libopus', muxer: 'ogg', lossy: true, defaultBitrateKbps: 64 } },
  ogg: { extension: '.ogg', mimeType: 'audio/ogg; codecs=vorbis', ffmpeg: { encoder: 'libvorbis', muxer: 'ogg', lossy: true } },
  flac: { extension: '.flac', mimeType: 'audio/flac', ffmpeg: { encoder: 'flac', muxer: 'flac', lossy: false } },
  aac: { extension: '.aac', mimeType: 'audio/aac', ffmpeg: { encoder: 'aac', muxer: 'adts', lossy: true, defaultBitrateKbps: 128 } },
};

/** File extensions (lower case, with the dot) and the format each means. */
const EXTENSIONS: Readonly<Record<string, AudioFormat>> = {
  '.wav': 'wav',
  '.wave': 'wav',
  '.pcm': 'pcm',
  '.raw': 'pcm',
  '.s16': 'pcm',
  '.f32': 'pcm-f32',
  '.mp3': 'mp3',
  '.opus': 'opus',
  '.ogg': 'ogg',
  '.oga': 'ogg',
  '.flac': 'flac',
  '.aac': 'aac',
};

/** The PCM layout being encoded. */
export interface PcmFormat {
  sampleRateHz: number;
  channels: number;
}

/** Options of `encodeAudio`. */
export interface EncodeAudioOptions {
  /** ffmpeg binary for compressed formats (default: `ffmpeg` on PATH). */
  ffmpegPath?: string;
  /**
   * Target bitrate for lossy formats in kbit/s (defaults: mp3 128, opus 64, aac 128, vorbis its
   * quality 3); ignored for lossless ones. The encoder may refuse rates that do not suit the
   * sample rate and channels (then `FFMPEG_FAILED` carries its message).
   */
  bitrateKbps?: number;
  /** Cancels a running ffmpeg encode. */
  signal?: AbortSignal;
  /** Container tags for ffmpeg formats (`-metadata key=value`: ID3v2 for mp3, Vorbis comments for ogg/opus/flac; aac (ADTS) has none). */
  metadata?: Readonly<Record<string, string>>;
}

/** Whether a format can be produced here, and if not, why and what to install. */
export interface FormatAvailability {
  format: AudioFormat;
  available: boolean;
  /** Why not (only when unavailable), e.g. `mp3 needs ffmpeg: apt-get install ffmpeg`. */
  reason?: string;
  extension: string;
  mimeType: string;
}

/** Zod schema of a `PcmFormat`. */
export const pcmFormatSchema = z.object({
  sampleRateHz: z.number().int().min(1).max(768000),
  channels: z.number().int().min(1).max(64),
});

/** Zod schema of `EncodeAudioOptions`. */
export const encodeAudioOptionsSchema = z
  .object({
    ffmpegPath: z.string().min(1).optional(),
    bitrateKbps: z.number().int().min(6).max(640).optional(),
    signal: z.instanceof(AbortSignal).optional(),
    metadata: z.record(z.string().regex(/^[A-Za-z0-9_]{1,64}$/), z.string().max(4096)).optional(),
  })
  .default({});

const ffmpegPathSchema = z.object({ ffmpegPath: z.string().min(1).optional() }).default({});

/** The format a file name or extension means (`out.mp3` → `mp3`); `InputError` `FORMAT_UNKNOWN` otherwise. */
export function formatFromExtension(pathOrExtension: string): AudioFormat {
  parseInput(z.string().min(1), pathOrExtension, 'pathOrExtension');
  const fromPath = extname(pathOrExtension);
  if (fromPath === '' && /[\\/]/.test(pathOrExtension)) {
    throw new InputError(`pathOrExtension: ${JSON.stringify(pathOrExtension)} has no file extension to pick a format from`, {
      code: 'FORMAT_UNKNOWN',
      field: 'pathOrExtension',
    });
  }
  // A bare extension ("mp3" or ".mp3") is accepted as well as a file name.
  const extension = (fromPath || (pathOrExtension.startsWith('.') ? pathOrExtension : `.${pathOrExtension}`)).toLowerCase();
  const format = EXTENSIONS[extension];
  if (format === undefined) {
    throw new InputError(
      `pathOrExtension: unknown audio file extension ${JSON.stringify(extension)} (expected one of ${Object.keys(EXTENSIONS).join(', ')})`,
      { code: 'FORMAT_UNKNOWN', field: 'pathOrExtension' },
    );
  }
  return format;
}

/** The usual file extension (with the dot) and MIME type of a format. */
export function formatInfo(format: AudioFormat): { extension: string; mimeType: string } {
  const spec = FORMATS[parseInput(audioFormatSchema, format, 'format')];
  return { extension: spec.extension, mimeType: spec.mimeType };
}

/** Lists every format with whether it works here (ffmpeg found, encoder built in) and why not. */
export async function availableFormats(options: { ffmpegPath?: string } = {}): Promise<FormatAvailability[]> {
  const { ffmpegPath = DEFAULT_FFMPEG_PATH } = parseInput(ffmpegPathSchema, options, 'options');
  const probe = await probeFfmpeg(ffmpegPath);
  return AUDIO_FORMATS.map((format) => {
    const spec = FORMATS[format];
    const reason = missingEncoderReason(format, ffmpegPath, probe);
    return {
      format,
      available: reason === undefined,
      ...(reason === undefined ? {} : { reason }),
      extension: spec.extension,
      mimeType: spec.mimeType,
    };
  });
}

/**
 * Why `format` cannot be encoded with this ffmpeg probe (what to install), or undefined when it
 * can. In-process formats never need ffmpeg.
 */
export function missingEncoderReason(format: AudioFormat, ffmpegPath: string, probe: FfmpegProbe): string | undefined {
  const encoder = FORMATS[format].ffmpeg?.encoder;
  if (encoder === undefined) return undefined;
  if (!probe.found) {
    return `${format} needs ffmpeg: apt-get install ffmpeg (or brew install ffmpeg), or pass ffmpegPath (tried "${ffmpegPath}": ${probe.error ?? 'not found'})`;
  }
  if (!probe.encoders.has(encoder)) {
    return `${format} needs an ffmpeg built with the ${encoder} encoder ("${ffmpegPath}" does not list it): install a full ffmpeg build`;
  }
  return undefined;
}

/** The ffmpeg arguments that read f32le PCM from stdin and write `format` (with `metadata` tags) to stdout. */
export function ffmpegArgumentsFor(format: AudioFormat, pcmFormat: PcmFormat, bitrateKbps: number | undefined, metadata: Readonly<Record<string, string>> = {}): string[] {
  const spec = FORMATS[format].ffmpeg;
  if (spec === undefined) throw new InputError(`format: ${format} is encoded in-process, not by ffmpeg`, { field: 'format' });
  const args = ['-hide_banner', '-loglevel', 'error', '-f', 'f32le', '-ar', String(pcmFormat.sampleRateHz)];
  args.push('-ac', String(pcmFormat.channels), '-i', 'pipe:0', '-c:a', spec.encoder);
  const kbps = bitrateKbps ?? spec.defaultBitrateKbps;
  if (kbps !== undefined && spec.lossy) args.push('-b:a', `${kbps}k`);
  for (const [key, value] of Object.entries(metadata)) args.push('-metadata', `${key}=${value}`);
  args.push('-f', spec.muxer, 'pipe:1');
  return args;
}

/**
 * Encodes interleaved float32 PCM into `format`. WAV and raw PCM are encoded in-process (integer
 * formats clamp, no dither); compressed formats go through ffmpeg and reject with `AudioError`
 * `ENCODER_UNAVAILABLE` (saying what to install) when it or its encoder is missing.
 */
export async function encodeAudio(
  pcm: Float32Array,
  pcmFormat: PcmFormat,
  format: AudioFormat,
  options: EncodeAudioOptions = {},
): Promise<Uint8Array> {
  parseInput(z.instanceof(Float32Array, { message: 'expected a Float32Array' }), pcm, 'pcm');
  const { sampleRateHz, channels } = parseInput(pcmFormatSchema, pcmFormat, 'pcmFormat');
  const checkedFormat = parseInput(audioFormatSchema, format, 'format');
  const { ffmpegPath = DEFAULT_FFMPEG_PATH, bitrateKbps, signal, metadata } = parseInput(encodeAudioOptionsSchema, options, 'options');
  if (pcm.length % channels !== 0) {
    throw new InputError(`pcm: expected a sample count divisible by channels (${channels}) (received ${pcm.length})`, { field: 'pcm' });
  }
  switch (checkedFormat) {
    case 'wav':
      return encodeWav(pcm, { sampleRateHz, channels, format: 's16' });
    case 'wav-f32':
      return encodeWav(pcm, { sampleRateHz, channels, format: 'f32' });
    case 'pcm':
      return encodeS16le(pcm);
    case 'pcm-f32':
      return encodeF32le(pcm);
    default:
      break;
  }
  const reason = missingEncoderReason(checkedFormat, ffmpegPath, await probeFfmpeg(ffmpegPath));
  if (reason !== undefined) throw new AudioError('ENCODER_UNAVAILABLE', reason);
  const args = ffmpegArgumentsFor(checkedFormat, { sampleRateHz, channels }, bitrateKbps, metadata);
  const { stdout } = await runFfmpeg(ffmpegPath, args, { input: encodeF32le(pcm), ...(signal === undefined ? {} : { signal }) });
  return stdout;
}
