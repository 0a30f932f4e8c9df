/**
 * The embedded default voice: espeak-ng. Real speech with no model files, through the system
 * `espeak-ng` program when installed (~13 ms a sentence p50 including process start-up) or else
 * the npm WASM build kept warm in a worker thread (~9 ms a sentence p50, never blocking the event
 * loop; ~120-300 ms and ~70 MB to load once). `mode: 'auto'` prefers the program for its cheap
 * start (one-shot CLI calls); long-running apps may choose `mode: 'wasm'`. espeak-ng is GPL-3 and
 * is only ever run as a separate program or loaded as an optional package; nothing of it is
 * linked into the addon.
 *
 * Long text is synthesized sentence by sentence and each sentence is yielded as its own chunk, so
 * the first audio arrives after one sentence. Each chunk carries its IPA (`--ipa=3` of the same
 * run), word timings and visemes: *measured* from espeak-ng's own events when the events helper is
 * built (`reported`), else *estimated* from the phoneme counts (see espeak-timings.ts).
 * A segment with `parts` (a sentence with emphasis or a prosody span inside; capability
 * `inlineProsody`) is one SSML call (`-m`, espeak-ssml.ts): one intonation, no hole at the change.
 * The silence espeak-ng puts around each piece is left in; the engine trims it (speech-edges.ts).
 */
import { z } from 'zod';
import { decodeWav } from '../audio/wav.js';
import { BackendError } from '../errors.js';
import type { EngineOutput, SynthesisOptions, SynthesisSegment } from '../graph/engine-output.js';
import { parseInput } from '../validation.js';
import { BaseBackend, type BackendCapabilities, type BackendHealth, type VoiceInfo, type VoiceRequest, type VoiceRequestProblem } from './backend.js';
import { openEspeakEngine } from './espeak-engine.js';
import { cleanEspeakIpa, espeakProsody, splitIntoChunks } from './espeak-text.js';
import { espeakTimings } from './espeak-timings.js';
import { espeakPartsSsml } from './espeak-ssml.js';
import { applyGainInPlace } from './gain.js';
import { LazyLoad } from './lazy-load.js';
import { resolveEspeakRequest, type EspeakVoiceEntry, type EspeakVoiceList, type ResolvedEspeakVoice } from './espeak-voices.js';

/** Rate of espeak-ng's output. */
export const ESPEAK_SAMPLE_RATE_HZ = 22050;
/** Voice used when neither the call, the segment nor the options name one. */
export const ESPEAK_DEFAULT_VOICE = 'en-us';
/** The variant listed as each voice's female counterpart in `voices()`. */
const FEMALE_VARIANT = 'f3';

/** Zod schema of the espeak backend's options. */
export const espeakBackendOptionsSchema = z
  .object({
    /**
     * `helper` = the events helper (measured word timings), `process` = the system program,
     * `wasm` = the npm package, `auto` = the helper when built, else the program if it runs, else WASM.
     */
    mode: z.enum(['auto', 'helper', 'process', 'wasm']).default('auto'),
    /** Path of the events helper program (default: the package's build/espeak-events). */
    helperPath: z.string().min(1).optional(),
    /** Path or PATH name of the system program. */
    binaryPath: z.string().min(1).optional(),
    /** npm package name, or path of a vendored `espeak-ng.js`, of the WASM build (default `espeak-ng`). */
    wasmPackage: z.string().min(1).optional(),
    /** Voice when a segment names none and has no language (default `en-us`). */
    defaultVoice: z.string().min(1).optional(),
    /** Longest chunk of text synthesized at once; sentences longer than this are cut at a comma or space. */
    maxChunkChars: z.number().int().min(20).max(10_000).default(300),
    /** Attempts after the first for retryable failures (a crashed process). */
    maxRetries: z.number().int().min(0).max(10).default(1),
    /** First backoff delay. */
    retryBaseMs: z.number().int().min(0).max(60_000).default(50),
    /** Time allowed until the first chunk. */
    firstChunkTimeoutMs: z.number().int().min(1).max(600_000).default(10_000),
  })
  .strict();

/** Options of the espeak backend (all optional; see `espeakBackendOptionsSchema`). */
export type EspeakBackendOptions = z.input<typeof espeakBackendOptionsSchema>;

/** Capabilities of the espeak backend. */
export const ESPEAK_CAPABILITIES: Readonly<BackendCapabilities> = Object.freeze({ streaming: true, wordTimings: true, phonemes: true, remote: false, inlineProsody: true });

/** What `health().detail` says of each path (the helper measures word timings; the others estimate them). */
const ESPEAK_PATH_DETAIL = Object.freeze({
  helper: 'espeak-ng events helper (measured word timings)',
  process: 'system espeak-ng program',
  wasm: 'espeak-ng WASM build',
});

/** espeak-ng's lowercase language names as BCP-47 (`en-us` -> `en-US`, `es-419` stays). */
function toBcp47(language: string): string {
  return language
    .split('-')
    .map((part, index) => (index > 0 && /^[a-z]{2}$/.test(part) ? part.toUpperCase() : part))
    .join('-');
}

function voiceInfo(entry: EspeakVoiceEntry, idSuffix = '', gender = entry.gender, nameSuffix = ''): VoiceInfo {
  return { id: `${entry.id}${idSuffix}`, backend: 'espeak', name: `${entry.name}${nameSuffix}`, languages: entry.languages.map(toBcp47), gender, sampleRateHz: ESPEAK_SAMPLE_RATE_HZ };
}

/** The espeak-ng backend. */
export class EspeakBackend extends BaseBackend {
  readonly name = 'espeak';
  readonly capabilities = ESPEAK_CAPABILITIES;
  private readonly options: z.output<typeof espeakBackendOptionsSchema>;
  private readonly engine = new LazyLoad(() => {
    const { mode, binaryPath, wasmPackage, helperPath } = this.options;
    return openEspeakEngine({ mode, ...(binaryPath ? { binaryPath } : {}), ...(wasmPackage ? { wasmPackage } : {}), ...(helperPath ? { helperPath } : {}) });
  });

  /** Validates `options` (throws `InputError` naming the field). The engine is opened on first use. */
  constructor(options: EspeakBackendOptions = {}) {
    const parsed = parseInput(espeakBackendOptionsSchema, options, 'espeak');
    super({ maxRetries: parsed.maxRetries, retryBaseMs: parsed.retryBaseMs, firstChunkTimeoutMs: parsed.firstChunkTimeoutMs });
    this.options = parsed;
  }

  /** Which espeak-ng runs: `helper`, `process` or `wasm`. Rejects with `ESPEAK_NOT_FOUND` when none is available. */
  async path(): Promise<'helper' | 'process' | 'wasm'> {
    return (await this.engine.get()).kind;
  }

  /** Base voices as espeak-ng lists them, each followed by its female variant (`<id>+f3`). */
  async voices(): Promise<VoiceInfo[]> {
    const list = await (await this.engine.get()).voiceList();
    const hasFemale = list.variants.some((variant) => variant.id === FEMALE_VARIANT);
    return list.voices.flatMap((entry) =>
      hasFemale && entry.gender !== 'female' ? [voiceInfo(entry), voiceInfo(entry, `+${FEMALE_VARIANT}`, 'female', ' (female)')] : [voiceInfo(entry)],
    );
  }

  /** Refuses an unknown voice or a language espeak-ng has no voice for (see `resolveEspeakRequest`). */
  async checkVoice(request: VoiceRequest): Promise<VoiceRequestProblem | undefined> {
    return resolveEspeakRequest(await (await this.engine.get()).voiceList(), request, this.options.defaultVoice ?? ESPEAK_DEFAULT_VOICE).problem;
  }

  override async health(): Promise<BackendHealth> {
    const base = await super.health();
    if (base.status !== 'ok') return base;
    try {
      const kind = await this.path();
      return { backend: this.name, status: 'ok', modelLoaded: true, detail: ESPEAK_PATH_DETAIL[kind] };
    } catch (error) {
      return { backend: this.name, status: 'unavailable', modelLoaded: false, detail: error instanceof Error ? error.message : String(error) };
    }
  }

  override async close(): Promise<void> {
    await super.close();
    const engine = this.engine.take();
    if (engine) await engine.then((opened) => opened.close(), () => undefined);
  }

  protected async *synthesizeOnce(segment: SynthesisSegment, options: SynthesisOptions, signal: AbortSignal): AsyncIterable<EngineOutput> {
    const engine = await this.engine.get();
    const voice = this.resolveVoice(await engine.voiceList(), options.voice ?? segment.voice, segment.language);
    const prosody = espeakProsody(segment.prosody);
    const args = ['--ipa=3', '-v', voice.argument, '-s', String(prosody.wordsPerMinute), '-p', String(prosody.pitch)];
    // A sentence with emphasis or a prosody span inside is one SSML call (`-m`): one intonation, no hole.
    const parts = segment.parts && segment.parts.length > 1 ? segment.parts : undefined;
    const chunks = parts ? [segment.text] : splitIntoChunks(segment.text, this.options.maxChunkChars);
    for (const chunk of chunks) {
      const input = parts ? { args: [...args, '-m'], text: espeakPartsSsml(parts, segment.prosody) } : { args, text: chunk };
      const result = await engine.invoke({ ...input, wav: true, signal });
      if (!result.wav) throw new BackendError(this.name, 'ESPEAK_FAILED', 'espeak-ng produced no WAV', { retryable: true });
      const decoded = decodeWav(result.wav);
      const pcm = decoded.pcm;
      if (prosody.gain !== 1) applyGainInPlace(pcm, prosody.gain, decoded.sampleRateHz, decoded.channels);
      const phonemes = cleanEspeakIpa(result.stdout);
      // Word times and visemes are relative to the start of the chunk that carries them.
      // Measured word positions refer to the text espeak-ng read (shaped; SSML tags are blanked when matched).
      const timings = espeakTimings(result.spokenText ?? input.text, phonemes, pcm, decoded.sampleRateHz, result.events);
      yield { pcm, sampleRateHz: decoded.sampleRateHz, channels: decoded.channels, metadata: { phonemes, ...timings } };
    }
  }

  /** The call's voice, else the segment's language, else the default voice. */
  private resolveVoice(list: EspeakVoiceList, voiceId: string | undefined, language: string | undefined): ResolvedEspeakVoice {
    const resolved = resolveEspeakRequest(list, { ...(voiceId !== undefined ? { voice: voiceId } : {}), ...(language !== undefined ? { language } : {}) }, this.options.defaultVoice ?? ESPEAK_DEFAULT_VOICE);
    if (resolved.problem) throw new BackendError(this.name, resolved.problem.code, resolved.problem.message);
    return resolved.voice;
  }
}
