/**
 * Writing audio files safely: `AudioFileWriter` streams PCM chunks into an output target
 * (output-target.ts). For a new path or a regular file that is a temp file next to it which, on
 * `close()`, gets the WAV header patched with the final sizes, is synced and renamed into place;
 * on any failure or `abort()` the temp file is removed: the path either gets a complete file or is
 * left as it was. A FIFO or character device (or a symlink to one) is written through with a
 * streaming WAV header; nothing at the path is ever replaced by a file of another kind.
 * `writeAudioFile` does the same for a whole buffer in any `encodeAudio` format.
 */
import { z } from 'zod';
import { AudioError, InputError } from '../errors.js';
import { parseInput } from '../validation.js';
import { audioFormatSchema, encodeAudio, formatFromExtension, type AudioFormat } from './encode.js';
import { openOutputTarget, writeFailed, type OutputTarget } from './output-target.js';
import { BYTES_PER_SAMPLE, wavHeader, wavStreamHeader, writeSamples, type WavSampleFormat } from './wav.js';

/** Formats `AudioFileWriter` can stream (the uncompressed ones). */
export type StreamableFormat = 'wav' | 'wav-f32' | 'pcm' | 'pcm-f32';

/** Options of `AudioFileWriter.open`. */
export interface AudioFileWriterOptions {
  sampleRateHz: number;
  channels: number;
  /** `wav` (16-bit), `wav-f32`, `pcm` (raw s16le) or `pcm-f32` (raw f32le). Default: from the extension. */
  format?: StreamableFormat;
}

/** What a finished file holds. */
export interface WrittenAudioFile {
  path: string;
  format: AudioFormat;
  frames: number;
  bytes: number;
}

const streamableFormatSchema = z.enum(['wav', 'wav-f32', 'pcm', 'pcm-f32']);

const writerOptionsSchema = z.object({
  sampleRateHz: z.number().int().min(1).max(768000),
  channels: z.number().int().min(1).max(64),
  format: streamableFormatSchema.optional(),
});

/** Largest data size a RIFF header can describe, minus room for the header itself. */
const MAX_WAV_DATA_BYTES = 0xffffffff - 64;

/**
 * Streams interleaved float32 PCM to a WAV or raw PCM file, atomically. Calls are serialised in
 * the order made; `close()` and `abort()` are idempotent. Not for the audio callback (async I/O).
 */
export class AudioFileWriter {
  /** Final path of the file. */
  readonly path: string;
  /** Format being written. */
  readonly format: StreamableFormat;
  readonly sampleRateHz: number;
  readonly channels: number;
  /** Sample encoding of the data (s16 or f32). */
  readonly sampleFormat: WavSampleFormat;
  private readonly isWav: boolean;
  private readonly headerBytes: number;
  private dataBytes = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private state: 'open' | 'closed' | 'aborted' | 'failed' = 'open';
  private result: WrittenAudioFile | undefined;

  private constructor(
    path: string,
    private readonly target: OutputTarget,
    options: Required<AudioFileWriterOptions>,
  ) {
    this.path = path;
    this.format = options.format;
    this.sampleRateHz = options.sampleRateHz;
    this.channels = options.channels;
    this.sampleFormat = options.format === 'wav' || options.format === 'pcm' ? 's16' : 'f32';
    this.isWav = options.format === 'wav' || options.format === 'wav-f32';
    this.headerBytes = this.isWav ? this.header().length : 0;
  }

  /** Opens `path` as an output target (the directory must exist) and writes a provisional header. */
  static async open(path: string, options: AudioFileWriterOptions): Promise<AudioFileWriter> {
    parseInput(z.string().min(1), path, 'path');
    const parsed = parseInput(writerOptionsSchema, options, 'options');
    let format: StreamableFormat;
    if (parsed.format !== undefined) {
      format = parsed.format;
    } else {
      const fromExtension = formatFromExtension(path);
      const streamable = streamableFormatSchema.safeParse(fromExtension);
      if (!streamable.success) {
        throw new InputError(
          `options.format: ${fromExtension} cannot be streamed to a file (expected wav, wav-f32, pcm or pcm-f32; use writeAudioFile for compressed formats)`,
          { field: 'options.format' },
        );
      }
      format = streamable.data;
    }
    const target = await openOutputTarget(path);
    const writer = new AudioFileWriter(path, target, { ...parsed, format });
    if (writer.isWav) {
      try {
        // A write-through target cannot be patched at the end: it gets the streaming header.
        await target.write(target.atomic ? writer.header() : wavStreamHeader({ sampleRateHz: writer.sampleRateHz, channels: writer.channels, format: writer.sampleFormat }));
      } catch (error) {
        await writer.discard();
        throw writeFailed(path, error);
      }
    }
    return writer;
  }

  /** Frames written so far. */
  get framesWritten(): number {
    return this.dataBytes / (BYTES_PER_SAMPLE[this.sampleFormat] * this.channels);
  }

  /** Appends one chunk of interleaved PCM (integer formats clamp, no dither). */
  write(pcm: Float32Array): Promise<void> {
    if (!(pcm instanceof Float32Array)) return Promise.reject(new InputError('pcm: expected a Float32Array', { field: 'pcm' }));
    if (pcm.length % this.channels !== 0) {
      return Promise.reject(
        new InputError(`pcm: expected a sample count divisible by channels (${this.channels}) (received ${pcm.length})`, { field: 'pcm' }),
      );
    }
    if (this.state !== 'open') {
      return Promise.reject(new AudioError('WRITER_CLOSED', `cannot write to ${this.path}: the writer is ${this.state}`));
    }
    const bytes = new Uint8Array(pcm.length * BYTES_PER_SAMPLE[this.sampleFormat]);
    writeSamples(pcm, this.sampleFormat, bytes, 0);
    if (this.isWav && this.dataBytes + bytes.length > MAX_WAV_DATA_BYTES) {
      return Promise.reject(new AudioError('WAV_TOO_LARGE', `${this.path}: a WAV file cannot hold more than 4 GiB of samples`));
    }
    this.dataBytes += bytes.length;
    return this.enqueue(async () => {
      // An earlier queued write may have failed (and removed the temp file) since this call.
      if (this.state !== 'open') throw new AudioError('WRITER_CLOSED', `cannot write to ${this.path}: the writer is ${this.state}`);
      try {
        await this.target.write(bytes);
      } catch (error) {
        this.state = 'failed';
        await this.discard();
        throw writeFailed(this.path, error);
      }
    });
  }

  /** Finishes the file: final header, sync, rename into place (write-through: close). Returns what was written. */
  close(): Promise<WrittenAudioFile> {
    return this.enqueue(async () => {
      if (this.result !== undefined) return this.result;
      if (this.state !== 'open') throw new AudioError('WRITER_CLOSED', `cannot close ${this.path}: the writer is ${this.state}`);
      try {
        if (this.isWav && this.target.atomic) await this.target.writeAt(this.header(), 0);
        await this.target.commit();
      } catch (error) {
        this.state = 'failed';
        await this.discard();
        throw writeFailed(this.path, error);
      }
      this.state = 'closed';
      this.result = { path: this.path, format: this.format, frames: this.framesWritten, bytes: this.headerBytes + this.dataBytes };
      return this.result;
    });
  }

  /** Gives up: closes and deletes the temp file; the target path is untouched. */
  abort(): Promise<void> {
    return this.enqueue(async () => {
      if (this.state !== 'open') return;
      this.state = 'aborted';
      await this.discard();
    });
  }

  private header(): Uint8Array {
    return wavHeader({ sampleRateHz: this.sampleRateHz, channels: this.channels, format: this.sampleFormat }, this.dataBytes);
  }

  private async discard(): Promise<void> {
    await this.target.discard();
  }

  private enqueue<T>(step: () => Promise<T>): Promise<T> {
    const next = this.queue.then(step);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/** Options of `writeAudioFile`. */
export interface WriteAudioFileOptions {
  sampleRateHz: number;
  channels: number;
  /** Any `encodeAudio` format; default: from the path's extension. */
  format?: AudioFormat;
  /** ffmpeg binary for compressed formats. */
  ffmpegPath?: string;
  /** Bitrate for lossy formats in kbit/s. */
  bitrateKbps?: number;
}

const writeAudioFileOptionsSchema = z.object({
  sampleRateHz: z.number().int().min(1).max(768000),
  channels: z.number().int().min(1).max(64),
  format: audioFormatSchema.optional(),
  ffmpegPath: z.string().min(1).optional(),
  bitrateKbps: z.number().int().min(6).max(640).optional(),
});

/** Encodes a whole buffer and writes it to an output target (atomic for files) in any supported format. */
export async function writeAudioFile(path: string, pcm: Float32Array, options: WriteAudioFileOptions): Promise<WrittenAudioFile> {
  parseInput(z.string().min(1), path, 'path');
  const { format = formatFromExtension(path), sampleRateHz, channels, ...encodeOptions } = parseInput(
    writeAudioFileOptionsSchema,
    options,
    'options',
  );
  const bytes = await encodeAudio(pcm, { sampleRateHz, channels }, format, encodeOptions);
  const target = await openOutputTarget(path);
  try {
    await target.write(bytes);
    await target.commit();
  } catch (error) {
    await target.discard();
    throw writeFailed(path, error);
  }
  return { path, format, frames: pcm.length / channels, bytes: bytes.length };
}
