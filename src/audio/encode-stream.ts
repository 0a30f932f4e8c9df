/**
 * Streaming encoders: turn an (async) iterable of float32 PCM chunks into an async iterable of
 * encoded bytes, for HTTP responses and pipes. WAV gets a header with "unknown length"
 * placeholders (0xFFFFFFFF), which players, ffmpeg and `decodeWav` read to the end of the stream;
 * compressed formats stream through one ffmpeg child process.
 */
import { AbortError, AudioError, InputError } from '../errors.js';
import { parseInput } from '../validation.js';
import {
  audioFormatSchema,
  encodeAudioOptionsSchema,
  ffmpegArgumentsFor,
  missingEncoderReason,
  pcmFormatSchema,
  type AudioFormat,
  type EncodeAudioOptions,
  type PcmFormat,
} from './encode.js';
import { DEFAULT_FFMPEG_PATH, probeFfmpeg, streamFfmpeg } from './ffmpeg.js';
import { encodeF32le, encodeS16le } from './pcm.js';
import { wavStreamHeader } from './wav.js';

/**
 * Encodes a stream of interleaved float32 PCM chunks into `format`, yielding bytes as soon as the
 * encoder produces them. Bad chunks throw `InputError`; a missing encoder throws `AudioError`
 * `ENCODER_UNAVAILABLE` before anything is yielded; the signal aborts with `AbortError`.
 */
export async function* encodeAudioStream(
  chunks: AsyncIterable<Float32Array> | Iterable<Float32Array>,
  pcmFormat: PcmFormat,
  format: AudioFormat,
  options: EncodeAudioOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const { sampleRateHz, channels } = parseInput(pcmFormatSchema, pcmFormat, 'pcmFormat');
  const checkedFormat = parseInput(audioFormatSchema, format, 'format');
  const { ffmpegPath = DEFAULT_FFMPEG_PATH, bitrateKbps, signal, metadata } = parseInput(encodeAudioOptionsSchema, options, 'options');
  let index = 0;
  const checked = async function* (): AsyncGenerator<Float32Array> {
    for await (const chunk of chunks) {
      if (signal?.aborted) throw new AbortError();
      if (!(chunk instanceof Float32Array)) throw new InputError(`chunks.${index}: expected a Float32Array`, { field: `chunks.${index}` });
      if (chunk.length % channels !== 0) {
        throw new InputError(`chunks.${index}: expected a sample count divisible by channels (${channels}) (received ${chunk.length})`, {
          field: `chunks.${index}`,
        });
      }
      index++;
      yield chunk;
    }
  };
  switch (checkedFormat) {
    case 'wav':
    case 'wav-f32': {
      const sampleFormat = checkedFormat === 'wav' ? 's16' : 'f32';
      yield wavStreamHeader({ sampleRateHz, channels, format: sampleFormat });
      for await (const chunk of checked()) yield sampleFormat === 's16' ? encodeS16le(chunk) : encodeF32le(chunk);
      return;
    }
    case 'pcm':
      for await (const chunk of checked()) yield encodeS16le(chunk);
      return;
    case 'pcm-f32':
      for await (const chunk of checked()) yield encodeF32le(chunk);
      return;
    default:
      break;
  }
  const reason = missingEncoderReason(checkedFormat, ffmpegPath, await probeFfmpeg(ffmpegPath));
  if (reason !== undefined) throw new AudioError('ENCODER_UNAVAILABLE', reason);
  const args = ffmpegArgumentsFor(checkedFormat, { sampleRateHz, channels }, bitrateKbps, metadata);
  const input = (async function* (): AsyncGenerator<Uint8Array> {
    for await (const chunk of checked()) yield encodeF32le(chunk);
  })();
  yield* streamFfmpeg(ffmpegPath, args, input, signal);
}
