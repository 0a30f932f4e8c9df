/**
 * The `piper` backend: one Piper (VITS) voice on onnxruntime-node, from the voice's `.onnx` and its
 * `.onnx.json` config the user points at (nothing is downloaded). Text -> sentences -> IPA through
 * espeak-ng with the config's espeak voice (punctuation kept, language flags removed) -> phonemes
 * decomposed to NFD code points (`ç` -> `c` + U+0327) and passed through the config's
 * `phoneme_map` (else piper-phonemize's default map for the voice) -> phoneme ids from the config's
 * `phoneme_id_map`, laid out as Piper does (BOS `^`, then each phoneme's ids followed by PAD `_`,
 * then EOS `$`) -> one ONNX run per sentence -> PCM at the voice's own sample rate. The steps follow
 * piper-phonemize (rhasspy/piper-phonemize src/phonemize.cpp `phonemize_eSpeak`, src/phoneme_ids.cpp
 * `phonemes_to_ids`).
 *
 * Model signature: `input` int64 [1, n], `input_lengths` int64 [1], `scales` float32 [3]
 * (noise_scale, length_scale, noise_w), `sid` int64 [1] for multi-speaker voices; output `output`
 * float32 (any shape; flattened).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { z } from 'zod';
import { BackendError, InputError } from '../errors.js';
import type { EngineOutput, SynthesisOptions, SynthesisSegment } from '../graph/engine-output.js';
import { parseInput } from '../validation.js';
import type { VoiceInfo } from './backend.js';
import { LazyLoad } from './lazy-load.js';
import { OnnxBackend, onnxBackendCommonOptions } from './onnx-backend.js';
import { assertInputs, assertModelFile, type FeedTensor, type OnnxModel } from './onnx-session.js';
import { phonemizeKeepingPunctuation, prepareSentencesAhead } from './phoneme-text.js';

/** Piper's special symbols. */
export const PIPER_PAD = '_';
/** Beginning of sentence. */
export const PIPER_BOS = '^';
/** End of sentence. */
export const PIPER_EOS = '$';

/** Options of `new PiperBackend(options)`. */
export const piperOptionsSchema = z
  .object({
    /** Path of the voice's `.onnx` model. */
    modelPath: z.string().min(1, 'expected the path of a Piper .onnx voice'),
    /** Path of the voice's config; default: `<modelPath>.json`. */
    configPath: z.string().min(1).optional(),
    /** Default speaker of a multi-speaker voice: name from `speaker_id_map` or numeric id; default 0. */
    speaker: z.union([z.string().min(1), z.number().int().min(0)]).optional(),
    /** Overrides of the config's `inference` values. */
    noiseScale: z.number().min(0).max(2).optional(),
    lengthScale: z.number().positive().max(10).optional(),
    noiseW: z.number().min(0).max(2).optional(),
    ...onnxBackendCommonOptions,
  })
  .strict();

/** Options of `new PiperBackend(options)` as a caller writes them. */
export type PiperOptions = z.input<typeof piperOptionsSchema>;
type ParsedPiperOptions = z.output<typeof piperOptionsSchema>;

/** The fields of a Piper `.onnx.json` this backend reads (others are ignored). */
export const piperConfigSchema = z.object({
  audio: z.object({ sample_rate: z.number().int().min(4000).max(192_000) }),
  espeak: z.object({ voice: z.string().min(1) }).optional(),
  inference: z
    .object({
      noise_scale: z.number().min(0).optional(),
      length_scale: z.number().positive().optional(),
      noise_w: z.number().min(0).optional(),
    })
    .optional(),
  phoneme_type: z.enum(['espeak', 'text']).default('espeak'),
  phoneme_id_map: z
    .record(z.string(), z.array(z.number().int().min(0)).min(1))
    .refine((map) => PIPER_PAD in map && PIPER_BOS in map && PIPER_EOS in map, `expected entries for "${PIPER_PAD}", "${PIPER_BOS}" and "${PIPER_EOS}"`),
  phoneme_map: z.record(z.string(), z.array(z.string())).optional(),
  num_speakers: z.number().int().min(1).default(1),
  speaker_id_map: z.record(z.string(), z.number().int().min(0)).default({}),
  language: z.object({ code: z.string().min(1).optional() }).optional(),
  dataset: z.string().optional(),
});

/** A parsed Piper voice config. */
export type PiperConfig = z.output<typeof piperConfigSchema>;

/**
 * Reads and validates a Piper config. Throws `BackendError` `BACKEND_CONFIG_NOT_FOUND` naming the
 * path when it is missing, `BACKEND_CONFIG_INVALID` naming the path and the field when it is not
 * JSON or lacks what synthesis needs.
 */
export async function loadPiperConfig(path: string): Promise<PiperConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? String(error)})`;
    throw new BackendError('piper', code === 'ENOENT' ? 'BACKEND_CONFIG_NOT_FOUND' : 'BACKEND_CONFIG_INVALID', `voice config ${reason}: ${path}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new BackendError('piper', 'BACKEND_CONFIG_INVALID', `voice config ${path} is not JSON (${(error as Error).message})`, { cause: error });
  }
  try {
    return parseInput(piperConfigSchema, json, 'config');
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    throw new BackendError('piper', 'BACKEND_CONFIG_INVALID', `voice config ${path}: ${error.message}`, { cause: error });
  }
}

/**
 * piper-phonemize's `DEFAULT_PHONEME_MAP` (espeak voice -> phoneme -> phonemes), used for an espeak
 * voice whose config has no `phoneme_map` of its own.
 */
export const PIPER_DEFAULT_PHONEME_MAPS: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  'pt-br': { c: ['k'] },
};

/** The phoneme map a voice uses: its config's `phoneme_map`, else piper-phonemize's default for its espeak voice (espeak phonemes only). */
export function piperPhonemeMap(config: Pick<PiperConfig, 'phoneme_map' | 'phoneme_type' | 'espeak'>): Readonly<Record<string, readonly string[]>> | undefined {
  if (config.phoneme_map) return config.phoneme_map;
  return config.phoneme_type === 'espeak' && config.espeak ? PIPER_DEFAULT_PHONEME_MAPS[config.espeak.voice] : undefined;
}

/**
 * Maps phonemes to Piper ids as piper-phonemize does: the phonemes decomposed to NFD code points,
 * each passed through `phonemeMap`, then BOS, PAD, each known phoneme's ids and a PAD, then EOS.
 * Phonemes missing from `phoneme_id_map` are skipped (and counted).
 */
export function piperPhonemeIds(
  phonemes: string,
  config: Pick<PiperConfig, 'phoneme_id_map'>,
  phonemeMap?: Readonly<Record<string, readonly string[]>>,
): { ids: number[]; skippedSymbols: number } {
  const map = config.phoneme_id_map;
  const pad = map[PIPER_PAD] as number[];
  const ids: number[] = [...(map[PIPER_BOS] as number[]), ...pad];
  let skippedSymbols = 0;
  for (const symbol of phonemes.normalize('NFD')) {
    for (const mapped of phonemeMap?.[symbol] ?? [symbol]) {
      const symbolIds = map[mapped];
      if (symbolIds === undefined) skippedSymbols += 1;
      else ids.push(...symbolIds, ...pad);
    }
  }
  ids.push(...(map[PIPER_EOS] as number[]));
  return { ids, skippedSymbols };
}

/** `en_US` -> `en-US`. */
function toBcp47(code: string): string {
  return code.replace(/_/gu, '-');
}

interface LoadedPiperVoice {
  onnx: OnnxModel;
  config: PiperConfig;
  outputName: string;
  hasSpeakerInput: boolean;
}

/** One Piper voice through onnxruntime-node. */
export class PiperBackend extends OnnxBackend<ParsedPiperOptions, LoadedPiperVoice> {
  readonly name = 'piper';
  /** Voice id: the model file's name without `.onnx` (e.g. `en_US-lessac-medium`). */
  readonly voiceId: string;
  private readonly configPath: string;
  private readonly config = new LazyLoad(() => loadPiperConfig(this.configPath));

  /** Validates the options (InputError naming the field); files are opened on first use or `load()`. */
  constructor(options: PiperOptions) {
    const parsed = parseInput(piperOptionsSchema, options, 'piper');
    super(parsed);
    this.configPath = parsed.configPath ?? `${parsed.modelPath}.json`;
    this.voiceId = basename(parsed.modelPath).replace(/\.onnx$/iu, '');
  }

  override async voices(): Promise<VoiceInfo[]> {
    const config = await this.config.get();
    const common = {
      backend: this.name,
      languages: config.language?.code ? [toBcp47(config.language.code)] : config.espeak ? [config.espeak.voice] : [],
      sampleRateHz: config.audio.sample_rate,
    };
    const speakers = Object.keys(config.speaker_id_map);
    if (config.num_speakers <= 1 || speakers.length === 0) return [{ id: this.voiceId, name: config.dataset ?? this.voiceId, ...common }];
    return speakers.map((speaker) => ({ id: `${this.voiceId}:${speaker}`, name: `${config.dataset ?? this.voiceId} (${speaker})`, ...common }));
  }

  protected override async openModel(): Promise<LoadedPiperVoice> {
    // The model first: when both are missing, the model's path is the one the user typed.
    await assertModelFile(this.name, this.options.modelPath, 'model file');
    const config = await this.config.get();
    return this.loadCheckedModel((onnx) => {
      assertInputs(this.name, onnx, 'Piper', { input: ['int64'], input_lengths: ['int64'], scales: ['float32'] });
      const outputName = onnx.outputNames.includes('output') ? 'output' : (onnx.outputNames[0] as string);
      return { onnx, config, outputName, hasSpeakerInput: onnx.inputs.has('sid') };
    });
  }

  /** The speaker id for a requested voice: none or `<voice>` -> the default speaker (option `speaker`, else 0). */
  private speakerId(config: PiperConfig, requested: string | undefined): number {
    if (requested === undefined || requested === this.voiceId) return this.options.speaker === undefined ? 0 : this.resolveSpeaker(config, this.options.speaker);
    return this.resolveSpeaker(config, requested);
  }

  /** `<voice>:<speaker>`, a speaker name or a speaker number -> speaker id; `BACKEND_VOICE_UNKNOWN` otherwise. */
  private resolveSpeaker(config: PiperConfig, wanted: string | number): number {
    const name = typeof wanted === 'string' && wanted.startsWith(`${this.voiceId}:`) ? wanted.slice(this.voiceId.length + 1) : wanted;
    const byName = typeof name === 'string' ? config.speaker_id_map[name] : undefined;
    const byNumber = typeof name === 'number' ? name : /^\d+$/u.test(name) ? Number(name) : undefined;
    const id = byName ?? byNumber;
    if (id === undefined || id >= config.num_speakers) {
      const known = Object.keys(config.speaker_id_map);
      const speakers = known.length > 0 ? `speakers ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''}` : `${config.num_speakers} speaker(s)`;
      throw new BackendError(this.name, 'BACKEND_VOICE_UNKNOWN', `unknown voice ${JSON.stringify(wanted)}; this backend has ${this.voiceId} with ${speakers}`);
    }
    return id;
  }

  private sentencePhonemes(sentence: string, config: PiperConfig, signal: AbortSignal): Promise<string> {
    if (config.phoneme_type === 'text') return Promise.resolve(sentence);
    return phonemizeKeepingPunctuation(sentence, config.espeak?.voice ?? 'en-us', this.phonemizer, signal);
  }

  protected override async *synthesizeOnce(segment: SynthesisSegment, options: SynthesisOptions, signal: AbortSignal): AsyncIterable<EngineOutput> {
    const voice = await this.model.get();
    const { config } = voice;
    const speakerId = this.speakerId(config, options.voice ?? segment.voice);
    const rate = Math.min(4, Math.max(0.25, segment.prosody.rate));
    const scales = Float32Array.from([
      this.options.noiseScale ?? config.inference?.noise_scale ?? 0.667,
      (this.options.lengthScale ?? config.inference?.length_scale ?? 1) / rate,
      this.options.noiseW ?? config.inference?.noise_w ?? 0.8,
    ]);
    for await (const phonemes of prepareSentencesAhead(segment.text, (sentence) => this.sentencePhonemes(sentence, config, signal))) {
      if (phonemes.length === 0) continue;
      const { ids } = piperPhonemeIds(phonemes, config, piperPhonemeMap(config));
      const feeds: Record<string, FeedTensor> = {
        input: { type: 'int64', data: BigInt64Array.from(ids, (id) => BigInt(id)), dims: [1, ids.length] },
        input_lengths: { type: 'int64', data: BigInt64Array.from([BigInt(ids.length)]), dims: [1] },
        scales: { type: 'float32', data: scales.slice(), dims: [3] },
      };
      if (voice.hasSpeakerInput) feeds.sid = { type: 'int64', data: BigInt64Array.from([BigInt(speakerId)]), dims: [1] };
      const samples = await this.runModel(voice.onnx, feeds, voice.outputName, signal);
      yield this.outputChunk(samples, segment.prosody.volumeDb, config.audio.sample_rate, phonemes);
    }
  }
}
