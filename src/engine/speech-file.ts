/**
 * SpeechFileWriter: the engine's chunks, sentence by sentence, into an encoder and an output
 * target (output-target.ts: atomic for files, write-through for FIFOs, devices and streams) in
 * constant memory: at most one chunk waits between the engine and the encoder, whatever the
 * length of the text.
 *
 * Loudness (`targetLufs`) has two modes, option `loudnessMode`:
 * - `integrated` (default): two passes. The first spools the raw float32 PCM to a temp file
 *   (next to a file target, else in the OS temp dir) while a LoudnessMeter measures it; the
 *   second streams the spool through the gain that brings the whole text to the target into the
 *   encoder. When that gain would put the true peak over `truePeakLimitDb`, the spool is read a
 *   few more times through the true-peak limiter to find the gain whose limited output meets the
 *   target (measured, as `speak()` searches in memory), then once more into the encoder. The
 *   result matches `speak()` within the search's tolerance; nothing reaches the output before the
 *   whole text is synthesized.
 * - `per-sentence`: each sentence normalised on its own (as `stream()`/`play()` do), written as it
 *   comes: progressive, but the level of the whole text may differ slightly from the target.
 *
 * A WAV to a regular file gets its real sizes patched in at the end; to a write-through target it
 * keeps the streaming header (sizes 0xFFFFFFFF, read to the end of the stream). On any failure
 * `abort()` removes the temp files; a file target is left as it was. An encoder that makes no
 * progress for `stallTimeoutMs` while the writer waits on it (encoder-watch.ts) is killed and
 * fails the writer. `finish()` encodes everything without committing; `close()` then commits.
 */
import { randomBytes } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { encodeAudioStream } from '../audio/encode-stream.js';
import type { AudioFormat } from '../audio/encode.js';
import type { WrittenAudioFile } from '../audio/file-writer.js';
import { LoudnessMeter } from '../audio/loudness-meter.js';
import { limitedGainSearch, normalizationGain } from '../audio/loudness.js';
import { TruePeakLimiter, type LimiterReport } from '../audio/limiter.js';
import { openOutputTarget, streamOutputTarget, writeFailed, type OutputTarget } from '../audio/output-target.js';
import { wavHeader, wavStreamHeader } from '../audio/wav.js';
import { withWavInfo } from '../audio/wav-info.js';
import { complianceWavInfo, type ComplianceTags } from '../security/compliance-tags.js';
import { AudioError } from '../errors.js';
import { EncoderWatch } from './encoder-watch.js';
import type { AudioChunk, SpeechLoudness } from './speech-types.js';

/** How `targetLufs` is applied to a file: over the whole text (two passes) or per sentence. */
export const LOUDNESS_MODES = ['integrated', 'per-sentence'] as const;

/** See LOUDNESS_MODES. */
export type LoudnessMode = (typeof LOUDNESS_MODES)[number];

/** Schema of the file options `speakToFile` takes besides the speak options. */
export const speechFileOptionsSchema = z.strictObject({
  /** Output format (default: from the extension; `wav` for a stream). */
  audioFormat: z.enum(['wav', 'wav-f32', 'pcm', 'pcm-f32', 'mp3', 'opus', 'ogg', 'flac', 'aac']).optional(),
  /** How `targetLufs` is applied (default `integrated`). */
  loudnessMode: z.enum(LOUDNESS_MODES).default('integrated'),
  /**
   * Also play on the engine's device while writing (the same chunks, through the stream's sink;
   * the file is then at the device's rate), holding the device turn by play()'s rules (admission
   * timeout, real-time pacing, turn released once the voice is free). With integrated loudness the device hears the
   * chunks before the whole-text gain; use `per-sentence` to hear the normalised level.
   */
  play: z.boolean().default(false),
});

/** What the writer needs to know up front. */
export interface SpeechFileWriterOptions {
  format: AudioFormat;
  /** Set only in `integrated` mode: the writer applies it over the whole text. */
  targetLufs?: number | undefined;
  truePeakLimitDb: number;
  /** Compliance tags, asked for when the encoder starts (the stream, backend and attestation are known by then). */
  tags?: (() => ComplianceTags) | undefined;
  /**
   * Longest wait on an encoder that makes no progress (takes no audio, puts out no bytes) while
   * the writer waits on it (encoder-watch.ts); past it the encoder (an ffmpeg child) is killed
   * and the waiting call rejects with `onStall()`'s error (default: none, no timeout).
   */
  stallTimeoutMs?: number | undefined;
  /** The error a stalled encoder fails the writer with (default AudioError `ENCODER_STALLED`); the caller may record the failure first. */
  onStall?: ((timeoutMs: number) => Error) | undefined;
}

/** What a finished speech file holds. */
export interface WrittenSpeech {
  file: WrittenAudioFile;
  sampleRateHz: number;
  frames: number;
  marks: Array<{ name: string; timeMs: number }>;
  loudness?: SpeechLoudness;
}

/** Samples read back from the spool per step of the second pass (bounds its memory). */
const SPOOL_READ_SAMPLES = 65_536;
/** Largest data size a RIFF header can describe (larger files keep the streaming header). */
const MAX_WAV_DATA_BYTES = 0xffffffff - 64;

/** A one-slot hand-over from `write()` (push) to the encoder (pull): the producer waits for the consumer. */
class ChunkChannel implements AsyncIterable<Float32Array> {
  readonly #onTake: () => void;
  #slot: Float32Array | null = null;
  #ended = false;
  #failure: unknown = undefined;
  #wakeConsumer: (() => void) | null = null;
  #wakeProducer: (() => void) | null = null;

  /** `onTake` is told each time the consumer takes a chunk. */
  constructor(onTake: () => void) {
    this.#onTake = onTake;
  }

  async push(pcm: Float32Array): Promise<void> {
    while (this.#slot !== null && this.#failure === undefined) await new Promise<void>((resolve) => (this.#wakeProducer = resolve));
    if (this.#failure !== undefined) throw this.#failure;
    this.#slot = pcm;
    this.#wakeConsumer?.();
  }

  end(): void {
    this.#ended = true;
    this.#wakeConsumer?.();
  }

  fail(error: unknown): void {
    this.#failure ??= error;
    this.#wakeConsumer?.();
    this.#wakeProducer?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Float32Array> {
    for (;;) {
      while (this.#slot === null && !this.#ended && this.#failure === undefined) await new Promise<void>((resolve) => (this.#wakeConsumer = resolve));
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#slot === null) return;
      const pcm = this.#slot;
      this.#slot = null;
      this.#onTake();
      this.#wakeProducer?.();
      yield pcm;
    }
  }
}

/** The raw float32 spool of the first pass, with its meter. */
interface Spool {
  path: string;
  handle: FileHandle;
  meter: LoudnessMeter;
  bytes: number;
}

/** Streams AudioChunks into a file or stream. `write` calls are awaited one at a time; `abort()` is idempotent. */
export class SpeechFileWriter {
  readonly #target: OutputTarget;
  readonly #options: SpeechFileWriterOptions;
  #sampleRateHz: number | undefined;
  #frames = 0;
  #marks: Array<{ name: string; timeMs: number }> = [];
  #channel: ChunkChannel | undefined;
  #pump: Promise<number> | undefined;
  #spool: Spool | undefined;
  #state: 'open' | 'closed' | 'aborted' = 'open';
  /** Set once `finish()` has encoded everything: what `close()` reports. */
  #finished: { bytes: number; loudness: WrittenSpeech['loudness'] } | undefined;
  /** Kills the encoder (the ffmpeg child) when it stalls. */
  readonly #encoderAbort = new AbortController();
  /** The encoder's progress timeout (none without `stallTimeoutMs`), and the error it failed the writer with. */
  readonly #watch: EncoderWatch | undefined;
  #stall: Error | undefined;

  private constructor(target: OutputTarget, options: SpeechFileWriterOptions) {
    this.#target = target;
    this.#options = options;
    const timeoutMs = options.stallTimeoutMs;
    this.#watch = timeoutMs === undefined ? undefined : new EncoderWatch(timeoutMs, () => this.#stalled(timeoutMs));
  }

  /** Opens the destination (a path by kind, or a writable stream) before any synthesis, so a bad path fails first. */
  static async open(destination: string | NodeJS.WritableStream, options: SpeechFileWriterOptions): Promise<SpeechFileWriter> {
    const target = typeof destination === 'string' ? await openOutputTarget(destination) : streamOutputTarget(destination);
    return new SpeechFileWriter(target, options);
  }

  /** Where the bytes go (`-` for a stream). */
  get path(): string {
    return this.#target.path;
  }

  /** Takes the next chunk (mono, at one rate: the engine's output). */
  async write(chunk: AudioChunk): Promise<void> {
    if (this.#state !== 'open') throw new AudioError('WRITER_CLOSED', `cannot write to ${this.path}: the writer is ${this.#state}`);
    this.#sampleRateHz ??= chunk.sampleRateHz;
    for (const name of chunk.marks) this.#marks.push({ name, timeMs: chunk.startMs });
    if (chunk.pcm.length === 0) return;
    this.#frames += chunk.pcm.length;
    if (this.#options.targetLufs !== undefined) {
      await this.#spoolWrite(chunk.pcm);
      return;
    }
    await this.#encode(chunk.pcm);
  }

  /**
   * Encodes everything taken so far and ends the encoder (second pass with integrated loudness,
   * header patch), without committing: the stream can still fail before `close()` commits.
   * Idempotent (returns the bytes written and the loudness); on failure the writer is aborted (as by `abort()`).
   */
  async finish(): Promise<{ bytes: number; loudness: WrittenSpeech['loudness'] }> {
    if (this.#state !== 'open') throw new AudioError('WRITER_CLOSED', `cannot finish ${this.path}: the writer is ${this.#state}`);
    if (this.#finished) return this.#finished;
    try {
      let loudness: WrittenSpeech['loudness'];
      if (this.#spool) loudness = await this.#secondPass(this.#spool);
      this.#channel?.end();
      const bytes = (await (this.#pump && this.#waitOnEncoder(this.#pump))) ?? 0;
      this.#watch?.stop();
      this.#finished = { bytes, loudness };
      return this.#finished;
    } catch (error) {
      await this.abort();
      throw writeFailed(this.path, this.#stall ?? error);
    }
  }

  /** Finishes (`finish()`, when not done yet), then commits the output. */
  async close(): Promise<WrittenSpeech> {
    if (this.#state !== 'open') throw new AudioError('WRITER_CLOSED', `cannot close ${this.path}: the writer is ${this.#state}`);
    try {
      if (this.#frames === 0) throw new AudioError('AUDIO_EMPTY', 'the text produced no audio; no file was written');
      const { bytes, loudness } = await this.finish();
      await this.#target.commit();
      this.#state = 'closed';
      const file: WrittenAudioFile = { path: this.path, format: this.#options.format, frames: this.#frames, bytes };
      return { file, sampleRateHz: this.#sampleRateHz ?? 0, frames: this.#frames, marks: this.#marks, ...(loudness ? { loudness } : {}) };
    } catch (error) {
      await this.abort();
      throw writeFailed(this.path, error);
    }
  }

  /** Gives up: stops the encoder, removes temp files; a file target is left as it was. */
  async abort(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'aborted';
    this.#watch?.stop();
    this.#channel?.fail(new AudioError('WRITER_CLOSED', `the writer of ${this.path} was aborted`));
    // A stream that takes nothing more (a peer that stopped reading) would hold the encoder's
    // output, and this wait, forever: its pending writes are given up first.
    if (this.#target.kind === 'stream') await this.#target.discard();
    await this.#pump?.catch(() => undefined);
    await this.#dropSpool();
    await this.#target.discard();
  }

  /** Hands PCM to the encoder, starting it on the first chunk (the rate is known then). */
  async #encode(pcm: Float32Array): Promise<void> {
    if (!this.#channel) {
      const channel = new ChunkChannel(() => this.#watch?.progress());
      this.#channel = channel;
      this.#pump = this.#runEncoder(channel, this.#sampleRateHz ?? 0);
      // A failed encoder fails the producer's next push instead of leaving it waiting.
      this.#pump.catch((error: unknown) => channel.fail(error));
    }
    await this.#waitOnEncoder(this.#channel.push(pcm));
  }

  /** Awaits what only the encoder can complete, under its progress timeout; a stall rejects with the stall's error. */
  async #waitOnEncoder<T>(work: Promise<T>): Promise<T> {
    if (!this.#watch) return work;
    try {
      return await this.#watch.waitFor(work);
    } catch (error) {
      throw this.#stall ?? error;
    }
  }

  /** The encoder made no progress for `timeoutMs`: it is killed, and the writer fails with the caller's error. */
  #stalled(timeoutMs: number): void {
    const stall = this.#options.onStall?.(timeoutMs) ?? new AudioError('ENCODER_STALLED', `the encoder of ${this.path} took no audio and put out nothing for ${timeoutMs} ms; it was stopped`);
    this.#stall = stall;
    this.#channel?.fail(stall);
    this.#encoderAbort.abort(stall);
  }

  /** Encoder output → target; returns the bytes written. A WAV in a regular file gets its real sizes at the end. */
  async #runEncoder(channel: ChunkChannel, sampleRateHz: number): Promise<number> {
    const format = this.#options.format;
    const isWav = format === 'wav' || format === 'wav-f32';
    // Tags: a LIST/INFO chunk before the WAV data (a streamed WAV stays valid), container tags through ffmpeg otherwise.
    const tags = this.#options.tags?.();
    const info = tags && isWav ? complianceWavInfo(tags) : new Uint8Array(0);
    let bytes = 0;
    const encoderOptions = { signal: this.#encoderAbort.signal, ...(tags && !isWav ? { metadata: { ...tags } } : {}) };
    for await (const encoded of encodeAudioStream(channel, { sampleRateHz, channels: 1 }, format, encoderOptions)) {
      this.#watch?.progress();
      const out = bytes === 0 && isWav ? withWavInfo(encoded, info) : encoded;
      await this.#outsideEncoder(this.#target.write(out));
      bytes += out.length;
    }
    if (isWav && this.#target.atomic) {
      const sampleFormat = format === 'wav' ? 's16' : 'f32';
      const headerBytes = wavStreamHeader({ sampleRateHz, channels: 1, format: sampleFormat }).length + info.length;
      const dataBytes = bytes - headerBytes;
      if (dataBytes <= MAX_WAV_DATA_BYTES) await this.#outsideEncoder(this.#target.writeAt(withWavInfo(wavHeader({ sampleRateHz, channels: 1, format: sampleFormat }, dataBytes), info), 0));
    }
    return bytes;
  }

  /** Awaits a write of the output target: the encoder's timeout pauses meanwhile. */
  #outsideEncoder(work: Promise<void>): Promise<void> {
    return this.#watch ? this.#watch.outside(work) : work;
  }

  async #spoolWrite(pcm: Float32Array): Promise<void> {
    if (!this.#spool) {
      const directory = this.#target.atomic ? dirname(this.#target.path) : tmpdir();
      const path = join(directory, `.voice-soundboard-spool.${process.pid}.${randomBytes(6).toString('hex')}.f32`);
      this.#spool = { path, handle: await open(path, 'wx+'), meter: new LoudnessMeter({ sampleRateHz: this.#sampleRateHz ?? 0, channels: 1 }), bytes: 0 };
    }
    const spool = this.#spool;
    spool.meter.push(pcm);
    await spool.handle.write(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength), 0, pcm.byteLength, spool.bytes);
    spool.bytes += pcm.byteLength;
  }

  /** Second pass: the whole text's gain (and the limiter when needed), applied while streaming the spool into the encoder. */
  async #secondPass(spool: Spool): Promise<WrittenSpeech['loudness']> {
    const targetLufs = this.#options.targetLufs ?? 0;
    const limitDb = this.#options.truePeakLimitDb;
    const plan = normalizationGain(spool.meter.finish(), targetLufs);
    if (plan.after.truePeakDb <= limitDb || plan.before.integratedLufs === -Infinity) {
      const gain = 10 ** (plan.gainDb / 20);
      await this.#readSpool(spool, async (chunk) => {
        // A fresh array per step: the encoder may still hold the previous one.
        const scaled = new Float32Array(chunk.length);
        for (let i = 0; i < scaled.length; i++) scaled[i] = chunk[i]! * gain;
        await this.#encode(scaled);
      });
      await this.#dropSpool();
      return { integratedLufs: plan.after.integratedLufs, truePeakDb: plan.after.truePeakDb, gainDb: plan.gainDb, limited: false, peakReductionDb: 0 };
    }
    // Search passes: the limited output measured at each gain tried.
    const search = limitedGainSearch(targetLufs, plan.gainDb);
    const peaks = new Map<number, number>();
    let step = search.next();
    while (!step.done) {
      const trial = await this.#limitedPass(spool, step.value, limitDb, false);
      peaks.set(step.value, trial.truePeakDb);
      step = search.next(trial.integratedLufs);
    }
    const gainDb = step.value;
    // As in memory: a residual inter-sample overshoot lowers the limiter's ceiling by its size.
    let ceilingDb = limitDb;
    let peakDb = peaks.get(gainDb) ?? Infinity;
    for (let check = 0; check < 2 && peakDb > limitDb; check++) {
      ceilingDb += limitDb - peakDb - 0.01;
      peakDb = (await this.#limitedPass(spool, gainDb, ceilingDb, false)).truePeakDb;
    }
    const result = await this.#limitedPass(spool, gainDb, ceilingDb, true);
    await this.#dropSpool();
    return { integratedLufs: result.integratedLufs, truePeakDb: result.truePeakDb, gainDb, limited: result.limited, peakReductionDb: result.peakReductionDb };
  }

  /** One pass over the spool through the gain and the true-peak limiter, measured; into the encoder when `encode`. */
  async #limitedPass(spool: Spool, gainDb: number, ceilingDb: number, encode: boolean): Promise<LimiterReport & { integratedLufs: number; truePeakDb: number }> {
    const sampleRateHz = this.#sampleRateHz ?? 0;
    const limiter = new TruePeakLimiter({ sampleRateHz, channels: 1, gainDb, ceilingDb });
    const meter = new LoudnessMeter({ sampleRateHz, channels: 1 });
    const take = async (pcm: Float32Array): Promise<void> => {
      if (pcm.length === 0) return;
      meter.push(pcm);
      if (encode) await this.#encode(pcm);
    };
    await this.#readSpool(spool, (chunk) => take(limiter.process(chunk)));
    await take(limiter.flush());
    const measured = normalizationGain(meter.finish(), 0).before;
    return { ...limiter.report, integratedLufs: measured.integratedLufs, truePeakDb: measured.truePeakDb };
  }

  /** Reads the spool in steps of SPOOL_READ_SAMPLES; each step's array is only valid during `onChunk`. */
  async #readSpool(spool: Spool, onChunk: (chunk: Float32Array) => Promise<void>): Promise<void> {
    const buffer = new Float32Array(SPOOL_READ_SAMPLES);
    const view = new Uint8Array(buffer.buffer);
    for (let position = 0; position < spool.bytes; ) {
      const { bytesRead } = await spool.handle.read(view, 0, Math.min(view.length, spool.bytes - position), position);
      if (bytesRead === 0) throw new AudioError('FILE_WRITE_FAILED', `the spool file ${spool.path} ended early`);
      position += bytesRead;
      await onChunk(buffer.subarray(0, bytesRead / 4));
    }
  }

  async #dropSpool(): Promise<void> {
    const spool = this.#spool;
    if (!spool) return;
    this.#spool = undefined;
    await spool.handle.close().catch(() => undefined);
    await rm(spool.path, { force: true }).catch(() => undefined);
  }
}
