/**
 * Azure AI Speech text-to-speech over REST: `POST https://{region}.tts.speech.microsoft.com/cognitiveservices/v1`
 * with an SSML body built from the segment (text escaped, prosody as `<prosody rate pitch volume>`) and a
 * raw PCM `X-Microsoft-OutputFormat`, streamed as it arrives; voices from `GET /cognitiveservices/voices/list`.
 */
import { z } from 'zod';
import { BackendError } from '../errors.js';
import type { EngineOutput, Prosody, SynthesisOptions, SynthesisSegment } from '../graph/engine-output.js';
import { escapeXml } from '../security/ssml-template.js';
import { parseInput } from '../validation.js';
import type { VoiceInfo } from './backend.js';
import { dbToGain } from './gain.js';
import { hasCredential, HttpBackend, httpBackendOptionsShape, trimTrailingSlashes } from './http-backend.js';

/** Environment variable read when no `apiKey` option is given. */
export const AZURE_SPEECH_KEY_ENV = 'AZURE_SPEECH_KEY';
/** Environment variable read when neither `region` nor `baseUrl` is given. */
export const AZURE_SPEECH_REGION_ENV = 'AZURE_SPEECH_REGION';

/** The raw (headerless) mono s16le output formats of the service and their rates. */
export const AZURE_PCM_FORMATS = Object.freeze({
  'raw-8khz-16bit-mono-pcm': 8000,
  'raw-16khz-16bit-mono-pcm': 16_000,
  'raw-22050hz-16bit-mono-pcm': 22_050,
  'raw-24khz-16bit-mono-pcm': 24_000,
  'raw-44100hz-16bit-mono-pcm': 44_100,
  'raw-48khz-16bit-mono-pcm': 48_000,
} as const);

/** An Azure raw PCM output format name. */
export type AzurePcmFormat = keyof typeof AZURE_PCM_FORMATS;

const REGION_PATTERN = /^[a-z0-9]+$/;
const NO_REGION_MESSAGE = `no region: pass the \`region\` or \`baseUrl\` option or set ${AZURE_SPEECH_REGION_ENV}`;
/** The service applies rate multipliers in this range. */
const MIN_RATE = 0.5;
const MAX_RATE = 2;

/** Options of `AzureBackend` (validated with zod; every field optional). */
export const azureBackendOptionsSchema = z
  .object({
    /** Speech resource key; defaults to AZURE_SPEECH_KEY at call time. */
    apiKey: z.string().min(1).optional(),
    /** Resource region, e.g. `westeurope`; defaults to AZURE_SPEECH_REGION at call time. */
    region: z.string().regex(REGION_PATTERN, 'expected a region name such as westeurope').optional(),
    /** TTS host origin, overriding `region` (sovereign clouds, private endpoints, tests). */
    baseUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** Voice used when neither the segment nor the call names one (a ShortName). */
    voice: z.string().min(1).default('en-US-AvaMultilingualNeural'),
    /** `xml:lang` used when the segment has no language; defaults to the voice's locale. */
    language: z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'expected a BCP-47 tag such as en-US').optional(),
    /** Raw PCM format used when the call does not prefer one of the supported rates. */
    outputFormat: z.enum(Object.keys(AZURE_PCM_FORMATS) as [AzurePcmFormat, ...AzurePcmFormat[]]).default('raw-24khz-16bit-mono-pcm'),
    ...httpBackendOptionsShape,
  })
  .strict();

/** What a caller passes to `new AzureBackend(...)`. */
export type AzureBackendOptions = z.input<typeof azureBackendOptionsSchema>;
type ParsedOptions = z.output<typeof azureBackendOptionsSchema>;

/** The part of a `voices/list` answer the backend reads. */
const voicesResponseSchema = z.array(
  z.object({
    ShortName: z.string().min(1),
    DisplayName: z.string().nullish(),
    Locale: z.string().min(1),
    SecondaryLocaleList: z.array(z.string()).nullish(),
    Gender: z.string().nullish(),
    StyleList: z.array(z.string()).nullish(),
    SampleRateHertz: z.string().nullish(),
  }),
);

/** The Azure backend: SSML with prosody, streaming raw PCM at 8–48 kHz, voices of the region. */
export class AzureBackend extends HttpBackend<ParsedOptions> {
  readonly name = 'azure';

  constructor(options: AzureBackendOptions = {}) {
    super(parseInput(azureBackendOptionsSchema, options, 'azure'), {
      backend: 'azure',
      envName: AZURE_SPEECH_KEY_ENV,
      hint: `the apiKey option or ${AZURE_SPEECH_KEY_ENV}, and that the key belongs to the region`,
    });
  }

  /** The voices of the region (`GET /cognitiveservices/voices/list`). */
  async voices(): Promise<VoiceInfo[]> {
    const apiKey = await this.apiKey();
    const voices = await this.getVoiceList(apiKey, new URL(`${this.host()}/cognitiveservices/voices/list`), voicesResponseSchema);
    return voices.map((voice) => {
      const gender = voice.Gender?.toLowerCase();
      const sampleRateHz = Number(voice.SampleRateHertz);
      return {
        id: voice.ShortName,
        backend: this.name,
        name: voice.DisplayName ?? voice.ShortName,
        languages: [...new Set([voice.Locale, ...(voice.SecondaryLocaleList ?? [])])],
        ...(gender === 'female' || gender === 'male' || gender === 'neutral' ? { gender } : {}),
        ...(voice.StyleList && voice.StyleList.length > 0 ? { styles: [...voice.StyleList] } : {}),
        ...(Number.isFinite(sampleRateHz) && sampleRateHz > 0 ? { sampleRateHz } : {}),
      } satisfies VoiceInfo;
    });
  }

  /** Also `unavailable` without a region (no network call is made). */
  protected override missingSetting(): string | undefined {
    const missing = super.missingSetting();
    if (missing !== undefined || this.options.baseUrl !== undefined || hasCredential(this.options.region, AZURE_SPEECH_REGION_ENV)) return missing;
    return NO_REGION_MESSAGE;
  }

  protected authHeaders(apiKey: string): Record<string, string> {
    return { 'Ocp-Apim-Subscription-Key': apiKey };
  }

  protected async *synthesizeOnce(segment: SynthesisSegment, options: SynthesisOptions, signal: AbortSignal): AsyncIterable<EngineOutput> {
    const apiKey = await this.apiKey();
    const url = new URL(`${this.host()}/cognitiveservices/v1`);
    if (segment.text.trim() === '') return;
    const voice = options.voice ?? segment.voice ?? this.options.voice;
    const language = segment.language ?? this.options.language ?? localeOfVoice(voice) ?? 'en-US';
    const outputFormat = formatForRate(options.sampleRateHz) ?? this.options.outputFormat;
    const call = this.httpCall(apiKey, 'POST', url, signal, {
      headers: { 'Content-Type': 'application/ssml+xml', 'X-Microsoft-OutputFormat': outputFormat },
      body: buildSsml(segment.text, voice, language, segment.prosody),
    });
    // Volume is in the SSML, so the audio is passed through at unity gain.
    yield* this.streamPcm(call, AZURE_PCM_FORMATS[outputFormat], 1, segment.text);
  }

  /** The TTS host: `baseUrl`, else `https://{region}.tts.speech.microsoft.com`. */
  private host(): string {
    if (this.options.baseUrl !== undefined) return trimTrailingSlashes(this.options.baseUrl);
    const region = this.options.region ?? process.env[AZURE_SPEECH_REGION_ENV]?.trim();
    if (!region) throw new BackendError(this.name, 'BACKEND_CONFIG_MISSING', NO_REGION_MESSAGE);
    if (!REGION_PATTERN.test(region)) {
      throw new BackendError(this.name, 'BACKEND_CONFIG_INVALID', `${AZURE_SPEECH_REGION_ENV} must be a region name such as westeurope (received ${JSON.stringify(region.slice(0, 40))})`);
    }
    return `https://${region}.tts.speech.microsoft.com`;
  }
}

/**
 * The SSML document for one segment: text and attribute values are XML-escaped (and characters XML
 * cannot carry are dropped); non-neutral prosody becomes one `<prosody>` element.
 */
export function buildSsml(text: string, voice: string, language: string, prosody: Prosody): string {
  const attributes: string[] = [];
  if (prosody.rate !== 1) attributes.push(`rate="${formatNumber(Math.min(MAX_RATE, Math.max(MIN_RATE, prosody.rate)))}"`);
  if (prosody.pitchSemitones !== 0) attributes.push(`pitch="${formatSigned(prosody.pitchSemitones)}st"`);
  if (prosody.volumeDb !== 0) attributes.push(`volume="${formatSigned((dbToGain(prosody.volumeDb) - 1) * 100)}%"`);
  const body = escapeXml(text);
  const content = attributes.length > 0 ? `<prosody ${attributes.join(' ')}>${body}</prosody>` : body;
  return (
    `<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="${escapeXml(language)}">` +
    `<voice name="${escapeXml(voice)}">${content}</voice></speak>`
  );
}

/** Escapes the five XML special characters and drops characters XML 1.0 cannot represent (the `ssml` template's escaping). */
export { escapeXml };

/** `en-US` from `en-US-AvaMultilingualNeural`; undefined for names without a locale prefix. */
function localeOfVoice(voice: string): string | undefined {
  return /^([a-z]{2,3}(?:-[A-Z][a-z]{3})?-[A-Z]{2})-/.exec(voice)?.[1];
}

function formatForRate(sampleRateHz: number | undefined): AzurePcmFormat | undefined {
  if (sampleRateHz === undefined) return undefined;
  return (Object.keys(AZURE_PCM_FORMATS) as AzurePcmFormat[]).find((format) => AZURE_PCM_FORMATS[format] === sampleRateHz);
}

function formatNumber(value: number): string {
  return String(Math.round(value * 100) / 100);
}

function formatSigned(value: number): string {
  const rounded = Math.round(value * 100) / 100;
  return rounded >= 0 ? `+${rounded}` : String(rounded);
}
