/**
 * The `kokoro` backend: Kokoro-82M on onnxruntime-node, from a model file and a voices file the
 * user points at (nothing is downloaded). Text -> sentences -> IPA through espeak-ng (punctuation
 * kept, ties kept) -> the symbols Kokoro v1.0 was trained on (misaki's for English, misaki's folded
 * espeak IPA elsewhere: see kokoro-g2p.ts) -> Kokoro token ids -> one ONNX run per sentence, or per
 * piece of at most 510 tokens when a sentence is longer (cut at clause, then word boundaries;
 * nothing is dropped) -> 24 kHz mono PCM. The language is the caller's, else the voice's own
 * (its name's first letter), else en-US.
 *
 * Model signature (onnx-community and kokoro-onnx exports): `input_ids` (or `tokens`) int64
 * [1, n + 2] with pad 0 at both ends, `style` float32 [1, 256] = row n - 1 of the voice pack,
 * `speed` float32 (or int32) [1]; first output = float32 waveform.
 */
import { z } from 'zod';
import { BackendError } from '../errors.js';
import type { EngineOutput, SynthesisOptions, SynthesisSegment } from '../graph/engine-output.js';
import { parseInput } from '../validation.js';
import type { VoiceInfo } from './backend.js';
import { espeakToKokoro, kokoroEspeakLanguage, kokoroTextPunctuation } from './kokoro-g2p.js';
import { KOKORO_MAX_TOKENS, KOKORO_PAD_TOKEN_ID, tokenizeKokoroPhonemes } from './kokoro-vocab.js';
import { loadKokoroVoices, selectStyle, type KokoroVoicePack } from './kokoro-voices.js';
import { LazyLoad } from './lazy-load.js';
import { OnnxBackend, onnxBackendCommonOptions } from './onnx-backend.js';
import { assertInputs, type FeedTensor, type OnnxModel } from './onnx-session.js';
import { phonemizeKeepingPunctuation, prepareSentencesAhead, rankSymbolBoundary, splitAtBoundaries, type Phonemizer } from './phoneme-text.js';
import { phonemize } from './phonemize.js';

/** Kokoro's output rate. */
export const KOKORO_SAMPLE_RATE_HZ = 24_000;
/** Width of one style vector. */
export const KOKORO_STYLE_DIM = 256;
/** Voice used when none is asked for and the options name none (if the voices file has it). */
export const KOKORO_PREFERRED_DEFAULT_VOICE = 'af_heart';

/** Options of `new KokoroBackend(options)`. */
export const kokoroOptionsSchema = z
  .object({
    /** Path of the Kokoro ONNX model (e.g. `kokoro-v1.0.onnx`, `model_quantized.onnx`). */
    modelPath: z.string().min(1, 'expected the path of a Kokoro .onnx model'),
    /** A voices file (.bin raw float32, .npy, .npz / kokoro-onnx `voices-v1.0.bin`, .json) or a directory of .bin/.npy voices. */
    voicesPath: z.string().min(1, 'expected the path of a voices file or directory'),
    /** Voice used when a call names none; default `af_heart` if present, else the first voice by name. */
    defaultVoice: z.string().min(1).optional(),
    /** Base speed multiplier (the segment's prosody rate multiplies it); the product is clamped to [0.5, 2]. */
    speed: z.number().min(0.5).max(2).default(1),
    /** Most tokens per ONNX run (the model's limit is 510); lower it to get smaller, earlier chunks. */
    maxTokensPerRun: z.number().int().min(8).max(KOKORO_MAX_TOKENS).default(KOKORO_MAX_TOKENS),
    ...onnxBackendCommonOptions,
  })
  .strict();

/** Options of `new KokoroBackend(options)` as a caller writes them. */
export type KokoroOptions = z.input<typeof kokoroOptionsSchema>;
type ParsedKokoroOptions = z.output<typeof kokoroOptionsSchema>;

/**
 * Kokoro's voice-name convention: first letter = language, second = gender (`af_heart`). Letters as
 * in hexgrad/Kokoro-82M VOICES.md and kokoro's KPipeline `LANG_CODES` (a en-us, b en-gb, e es,
 * f fr-fr, h hi, i it, j ja, p pt-br, z zh).
 */
const LANGUAGE_BY_PREFIX: Readonly<Record<string, string>> = {
  a: 'en-US',
  b: 'en-GB',
  e: 'es',
  f: 'fr-FR',
  h: 'hi',
  i: 'it',
  j: 'ja',
  p: 'pt-BR',
  z: 'zh',
};

/** Language and gender a Kokoro voice name implies (`bm_george` -> en-GB, male). */
export function describeKokoroVoice(name: string): { language: string | undefined; gender: VoiceInfo['gender'] } {
  const [languageLetter, genderLetter] = name;
  const gender = genderLetter === 'f' ? 'female' : genderLetter === 'm' ? 'male' : undefined;
  return { language: languageLetter === undefined ? undefined : LANGUAGE_BY_PREFIX[languageLetter], gender };
}

/**
 * The language a segment is phonemized in: the caller's (a `language` option or an SSML
 * `xml:lang`), else the voice's own from its name, else the segment's default (en-US).
 */
export function kokoroSegmentLanguage(segment: Pick<SynthesisSegment, 'language' | 'languageIsDefault'>, voiceName: string): string {
  if (segment.language !== undefined && segment.languageIsDefault !== true) return segment.language;
  return describeKokoroVoice(voiceName).language ?? segment.language ?? 'en-US';
}

/** One ONNX run's worth of tokens. */
interface TokenPiece {
  ids: number[];
  phonemes: string;
}

/** The model and how to feed it (export variants differ in input names and the speed type). */
interface LoadedKokoroModel {
  onnx: OnnxModel;
  idsInput: string;
  speedType: string;
  outputName: string;
}

/** Kokoro-82M through onnxruntime-node. */
export class KokoroBackend extends OnnxBackend<ParsedKokoroOptions, LoadedKokoroModel> {
  readonly name = 'kokoro';
  private readonly voicePacks = new LazyLoad(() => loadKokoroVoices(this.options.voicesPath, KOKORO_STYLE_DIM));
  /** Text -> IPA with ties (`a^ɪ`), which the symbol mapping needs: the `phonemizer` option, else espeak-ng with ties. */
  private readonly tiedPhonemizer: Phonemizer;

  /** Validates the options (InputError naming the field); files are opened on first use or `load()`. */
  constructor(options: KokoroOptions) {
    super(parseInput(kokoroOptionsSchema, options, 'kokoro'));
    this.tiedPhonemizer = this.options.phonemizer ?? ((text, language, signal) => phonemize(text, language, signal, { ties: true }));
  }

  /** Opens the model and the voices now instead of on first use; rejects with the load error. */
  override async load(): Promise<void> {
    await this.loaded();
  }

  /** Model and voices, opened together; when both fail, the model's error is the one reported (deterministically). */
  private async loaded(): Promise<[LoadedKokoroModel, Awaited<ReturnType<typeof loadKokoroVoices>>]> {
    const [model, packs] = await Promise.allSettled([this.model.get(), this.voicePacks.get()]);
    if (model.status === 'rejected') throw model.reason;
    if (packs.status === 'rejected') throw packs.reason;
    return [model.value, packs.value];
  }

  override async voices(): Promise<VoiceInfo[]> {
    const packs = await this.voicePacks.get();
    return [...packs.keys()].map((id) => {
      const { language, gender } = describeKokoroVoice(id);
      return {
        id,
        backend: this.name,
        name: id,
        languages: language ? [language] : [],
        ...(gender ? { gender } : {}),
        sampleRateHz: KOKORO_SAMPLE_RATE_HZ,
      };
    });
  }

  override async close(): Promise<void> {
    this.voicePacks.take();
    await super.close();
  }

  protected override openModel(): Promise<LoadedKokoroModel> {
    return this.loadCheckedModel((onnx) => {
      const idsInput = onnx.inputs.has('input_ids') ? 'input_ids' : 'tokens';
      assertInputs(this.name, onnx, 'Kokoro', { [idsInput]: ['int64'], style: ['float32'], speed: ['float32', 'int32'] });
      const styleWidth = onnx.inputs.get('style')?.shape.at(-1);
      if (typeof styleWidth === 'number' && styleWidth !== KOKORO_STYLE_DIM) {
        throw new BackendError(this.name, 'BACKEND_MODEL_INVALID', `${onnx.path}: style input has width ${styleWidth}, expected ${KOKORO_STYLE_DIM}`);
      }
      const speedType = onnx.inputs.get('speed')?.type ?? 'float32';
      return { onnx, idsInput, speedType, outputName: onnx.outputNames[0] as string };
    });
  }

  private pickVoice(packs: Map<string, KokoroVoicePack>, requested: string | undefined): KokoroVoicePack {
    const id = requested ?? this.options.defaultVoice ?? (packs.has(KOKORO_PREFERRED_DEFAULT_VOICE) ? KOKORO_PREFERRED_DEFAULT_VOICE : [...packs.keys()].sort()[0]);
    const pack = id === undefined ? undefined : packs.get(id);
    if (!pack) {
      const known = [...packs.keys()].sort();
      const listed = known.slice(0, 20).join(', ') + (known.length > 20 ? `, … (${known.length} in all)` : '');
      throw new BackendError(this.name, 'BACKEND_VOICE_UNKNOWN', `unknown voice ${JSON.stringify(id)} in ${this.options.voicesPath}; available: ${listed}`);
    }
    return pack;
  }

  /** Phonemizes one sentence into Kokoro's symbols and cuts its tokens into pieces of at most `maxTokensPerRun`. */
  private async sentencePieces(sentence: string, language: string, signal: AbortSignal): Promise<TokenPiece[]> {
    const ipa = await phonemizeKeepingPunctuation(kokoroTextPunctuation(sentence), kokoroEspeakLanguage(language), this.tiedPhonemizer, signal);
    const { ids, symbols } = tokenizeKokoroPhonemes(espeakToKokoro(ipa, language));
    let start = 0;
    return splitAtBoundaries(ids.length, this.options.maxTokensPerRun, (index) => rankSymbolBoundary(symbols[index] ?? '')).map((end) => {
      const piece = { ids: ids.slice(start, end), phonemes: symbols.slice(start, end).join('') };
      start = end;
      return piece;
    });
  }

  protected override async *synthesizeOnce(segment: SynthesisSegment, options: SynthesisOptions, signal: AbortSignal): AsyncIterable<EngineOutput> {
    const [model, packs] = await this.loaded();
    const pack = this.pickVoice(packs, options.voice ?? segment.voice);
    const language = kokoroSegmentLanguage(segment, pack.name);
    const speed = Math.min(2, Math.max(0.5, this.options.speed * segment.prosody.rate));
    for await (const pieces of prepareSentencesAhead(segment.text, (sentence) => this.sentencePieces(sentence, language, signal))) {
      for (const piece of pieces) {
        if (piece.ids.length === 0) continue;
        const samples = await this.run(model, pack, piece.ids, speed, signal);
        yield this.outputChunk(samples, segment.prosody.volumeDb, KOKORO_SAMPLE_RATE_HZ, piece.phonemes);
      }
    }
  }

  private run(model: LoadedKokoroModel, pack: KokoroVoicePack, ids: number[], speed: number, signal: AbortSignal): Promise<Float32Array> {
    const padded = new BigInt64Array(ids.length + 2);
    padded[0] = BigInt(KOKORO_PAD_TOKEN_ID);
    ids.forEach((id, index) => (padded[index + 1] = BigInt(id)));
    padded[ids.length + 1] = BigInt(KOKORO_PAD_TOKEN_ID);
    // The kokoro-onnx v1.0 export declares speed as int32 (whole speeds only); the others take float32.
    const speedFeed: FeedTensor =
      model.speedType === 'int32' ? { type: 'int32', data: Int32Array.from([Math.round(speed)]), dims: [1] } : { type: 'float32', data: Float32Array.from([speed]), dims: [1] };
    const feeds: Record<string, FeedTensor> = {
      [model.idsInput]: { type: 'int64', data: padded, dims: [1, padded.length] },
      style: { type: 'float32', data: Float32Array.from(selectStyle(pack, ids.length)), dims: [1, KOKORO_STYLE_DIM] },
      speed: speedFeed,
    };
    return this.runModel(model.onnx, feeds, model.outputName, signal);
  }
}
