/**
 * ElevenLabs text-to-speech over HTTP: `POST {baseUrl}/v1/text-to-speech/{voice_id}/stream` with
 * `output_format=pcm_<rate>` (raw mono s16le), streamed as it arrives; voices from `GET /v1/voices`.
 * With `timestamps: true` it asks `/with-timestamps` instead: one JSON answer per segment (base64
 * PCM + the service's character alignment), so no streaming within a segment, but word timings
 * measured by the service (`source: 'reported'`, see alignment.ts).
 */
import { z } from 'zod';
import type { EngineOutput, SynthesisOptions, SynthesisSegment } from '../graph/engine-output.js';
import { parseInput } from '../validation.js';
import type { VoiceInfo } from './backend.js';
import { characterAlignmentSchema, wordsFromCharacterAlignment } from './alignment.js';
import { applyGainInPlace, dbToGain } from './gain.js';
import { readJson, sendHttp } from './http.js';
import { HttpBackend, httpBackendOptionsShape, trimTrailingSlashes } from './http-backend.js';

/** Environment variable read when no `apiKey` option is given. */
export const ELEVENLABS_API_KEY_ENV = 'ELEVENLABS_API_KEY';
/** Sample rates of the service's raw PCM output formats (`pcm_<rate>`). */
export const ELEVENLABS_PCM_RATES_HZ = [8000, 16_000, 22_050, 24_000, 44_100, 48_000] as const;

/** Largest `/with-timestamps` answer read (base64 PCM + alignment): 64 MiB, over 8 minutes of 48 kHz audio for one segment. */
const MAX_TIMESTAMPS_ANSWER_BYTES = 64 * 1024 * 1024;

/** The service accepts `voice_settings.speed` in this range. */
const MIN_SPEED = 0.7;
const MAX_SPEED = 1.2;

const unit = z.number().min(0).max(1);
const pcmRateSchema = z.union(ELEVENLABS_PCM_RATES_HZ.map((rate) => z.literal(rate)));

/** Options of `ElevenLabsBackend` (validated with zod; every field optional). */
export const elevenLabsBackendOptionsSchema = z
  .object({
    /** API key; defaults to the ELEVENLABS_API_KEY environment variable at call time. */
    apiKey: z.string().min(1).optional(),
    /** API origin, without `/v1`. */
    baseUrl: z.url({ protocol: /^https?$/ }).default('https://api.elevenlabs.io'),
    /** Model id, e.g. `eleven_flash_v2_5` (lowest latency) or `eleven_multilingual_v2`. */
    model: z.string().min(1).default('eleven_flash_v2_5'),
    /** Voice id used when neither the segment nor the call names one. */
    voice: z.string().min(1).default('JBFqnCBsd6RMkjVDRZzb'),
    /** Output rate when the call does not prefer one of the supported rates. */
    sampleRateHz: pcmRateSchema.default(24_000),
    /** Per-request voice settings; unset fields keep the voice's stored settings. */
    voiceSettings: z
      .object({
        stability: unit.optional(),
        similarityBoost: unit.optional(),
        style: unit.optional(),
        useSpeakerBoost: z.boolean().optional(),
      })
      .strict()
      .optional(),
    /** Ask for the character alignment (`/with-timestamps`): reported word timings, one chunk per segment. */
    timestamps: z.boolean().default(false),
    ...httpBackendOptionsShape,
  })
  .strict();

/** The part of a `/with-timestamps` answer the backend reads. */
const timestampsResponseSchema = z.object({
  audio_base64: z.string(),
  alignment: characterAlignmentSchema.nullish(),
});

/** What a caller passes to `new ElevenLabsBackend(...)`. */
export type ElevenLabsBackendOptions = z.input<typeof elevenLabsBackendOptionsSchema>;
type ParsedOptions = z.output<typeof elevenLabsBackendOptionsSchema>;

/** The part of a `GET /v1/voices` answer the backend reads. */
const voicesResponseSchema = z.object({
  voices: z.array(
    z.object({
      voice_id: z.string().min(1),
      name: z.string().nullish(),
      labels: z.record(z.string(), z.string().nullish()).nullish(),
      verified_languages: z.array(z.object({ language: z.string().nullish(), locale: z.string().nullish() })).nullish(),
    }),
  ),
});

/** The ElevenLabs backend: streaming PCM at 8–48 kHz, voices from the account, speed from `prosody.rate` (0.7–1.2), volume applied as gain. */
export class ElevenLabsBackend extends HttpBackend<ParsedOptions> {
  readonly name = 'elevenlabs';

  constructor(options: ElevenLabsBackendOptions = {}) {
    super(parseInput(elevenLabsBackendOptionsSchema, options, 'elevenlabs'), { backend: 'elevenlabs', envName: ELEVENLABS_API_KEY_ENV, hint: `the apiKey option or ${ELEVENLABS_API_KEY_ENV}` });
  }

  /** The voices of the account (`GET /v1/voices`). */
  async voices(): Promise<VoiceInfo[]> {
    const body = await this.getVoiceList(await this.apiKey(), new URL(`${this.root()}/v1/voices`), voicesResponseSchema);
    return body.voices.map((voice) => {
      const gender = voice.labels?.gender?.toLowerCase();
      const languages = new Set<string>();
      for (const verified of voice.verified_languages ?? []) {
        const language = verified.locale ?? verified.language;
        if (language) languages.add(language);
      }
      const labelled = voice.labels?.language;
      if (languages.size === 0 && labelled) languages.add(labelled);
      return {
        id: voice.voice_id,
        backend: this.name,
        name: voice.name ?? voice.voice_id,
        languages: [...languages],
        ...(gender === 'female' || gender === 'male' || gender === 'neutral' ? { gender } : {}),
      } satisfies VoiceInfo;
    });
  }

  protected authHeaders(apiKey: string): Record<string, string> {
    return { 'xi-api-key': apiKey };
  }

  protected async *synthesizeOnce(segment: SynthesisSegment, options: SynthesisOptions, signal: AbortSignal): AsyncIterable<EngineOutput> {
    const apiKey = await this.apiKey();
    const text = segment.text.trim();
    if (text === '') return;
    const voice = options.voice ?? segment.voice ?? this.options.voice;
    const preferred = ELEVENLABS_PCM_RATES_HZ.find((rate) => rate === options.sampleRateHz);
    const sampleRateHz = preferred ?? this.options.sampleRateHz;
    const endpoint = this.options.timestamps ? 'with-timestamps' : 'stream';
    const url = new URL(`${this.root()}/v1/text-to-speech/${encodeURIComponent(voice)}/${endpoint}`);
    url.searchParams.set('output_format', `pcm_${sampleRateHz}`);
    const voiceSettings = this.voiceSettings(segment.prosody.rate);
    const call = this.httpCall(apiKey, 'POST', url, signal, {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text, model_id: this.options.model, ...(voiceSettings ? { voice_settings: voiceSettings } : {}) }),
    });
    if (!this.options.timestamps) {
      yield* this.streamPcm(call, sampleRateHz, dbToGain(segment.prosody.volumeDb), text);
      return;
    }
    const body = await readJson(call, await sendHttp(call), timestampsResponseSchema, MAX_TIMESTAMPS_ANSWER_BYTES);
    const bytes = Buffer.from(body.audio_base64, 'base64');
    const pcm = new Float32Array(bytes.byteLength >> 1);
    for (let index = 0; index < pcm.length; index++) pcm[index] = bytes.readInt16LE(index * 2) / 32768;
    const gain = dbToGain(segment.prosody.volumeDb);
    if (gain !== 1) applyGainInPlace(pcm, gain, sampleRateHz);
    // The alignment's times are from the start of this answer's audio: chunk-relative.
    const wordTimings = body.alignment ? wordsFromCharacterAlignment(body.alignment) : undefined;
    if (pcm.length > 0) yield { pcm, sampleRateHz, channels: 1, metadata: wordTimings ? { wordTimings } : {} };
  }

  /** The request's `voice_settings`, or undefined to keep the voice's stored settings. */
  private voiceSettings(rate: number): Record<string, number | boolean> | undefined {
    const configured = this.options.voiceSettings ?? {};
    const settings: Record<string, number | boolean> = {};
    if (configured.stability !== undefined) settings.stability = configured.stability;
    if (configured.similarityBoost !== undefined) settings.similarity_boost = configured.similarityBoost;
    if (configured.style !== undefined) settings.style = configured.style;
    if (configured.useSpeakerBoost !== undefined) settings.use_speaker_boost = configured.useSpeakerBoost;
    if (rate !== 1) settings.speed = Math.min(MAX_SPEED, Math.max(MIN_SPEED, rate));
    return Object.keys(settings).length > 0 ? settings : undefined;
  }

  private root(): string {
    return trimTrailingSlashes(this.options.baseUrl);
  }
}
