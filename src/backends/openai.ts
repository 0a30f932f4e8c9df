/**
 * OpenAI text-to-speech over HTTP: `POST {baseUrl}/audio/speech` with `response_format: "pcm"`
 * (raw 24 kHz mono s16le), streamed as it arrives. Inputs longer than the API's 4096-character
 * limit are split at sentence or word ends and sent one after another, never truncated.
 */
import { z } from 'zod';
import type { EngineOutput, SynthesisOptions, SynthesisSegment } from '../graph/engine-output.js';
import { parseInput } from '../validation.js';
import type { VoiceInfo } from './backend.js';
import { dbToGain } from './gain.js';
import { HttpBackend, httpBackendOptionsShape, trimTrailingSlashes } from './http-backend.js';

/** Longest `input` the speech endpoint accepts, in characters. */
export const OPENAI_MAX_INPUT_CHARS = 4096;
/** Rate of the `pcm` response format. */
export const OPENAI_PCM_SAMPLE_RATE_HZ = 24_000;
/** Environment variable read when no `apiKey` option is given. */
export const OPENAI_API_KEY_ENV = 'OPENAI_API_KEY';

/** Built-in voices of the speech endpoint (`tts-1`/`tts-1-hd` support a subset). */
export const OPENAI_VOICES: readonly string[] = Object.freeze([
  'alloy', 'ash', 'ballad', 'coral', 'echo', 'fable', 'nova', 'onyx', 'sage', 'shimmer', 'verse', 'marin', 'cedar',
]);

const MIN_SPEED = 0.25;
const MAX_SPEED = 4;

/** Options of `OpenAIBackend` (validated with zod; every field optional). */
export const openAIBackendOptionsSchema = z
  .object({
    /** API key; defaults to the OPENAI_API_KEY environment variable at call time. */
    apiKey: z.string().min(1).optional(),
    /** API root, without the `/audio/speech` path. */
    baseUrl: z.url({ protocol: /^https?$/ }).default('https://api.openai.com/v1'),
    /** Speech model, e.g. `gpt-4o-mini-tts`, `tts-1`, `tts-1-hd`. */
    model: z.string().min(1).default('gpt-4o-mini-tts'),
    /** Voice used when neither the segment nor the call names one. */
    voice: z.string().min(1).default('alloy'),
    /** Delivery instructions (tone, accent...); not supported by `tts-1`/`tts-1-hd`. */
    instructions: z.string().min(1).max(OPENAI_MAX_INPUT_CHARS).optional(),
    ...httpBackendOptionsShape,
  })
  .strict()
  .superRefine((options, context) => {
    if (options.instructions !== undefined && options.model.startsWith('tts-1')) {
      context.addIssue({ code: 'custom', path: ['instructions'], message: `not supported by model ${options.model} (use gpt-4o-mini-tts)` });
    }
  });

/** What a caller passes to `new OpenAIBackend(...)`. */
export type OpenAIBackendOptions = z.input<typeof openAIBackendOptionsSchema>;
type ParsedOptions = z.output<typeof openAIBackendOptionsSchema>;

/** The OpenAI speech backend: streaming 24 kHz PCM, fixed voice list, speed from `prosody.rate`, volume applied as gain. */
export class OpenAIBackend extends HttpBackend<ParsedOptions> {
  readonly name = 'openai';

  constructor(options: OpenAIBackendOptions = {}) {
    super(parseInput(openAIBackendOptionsSchema, options, 'openai'), { backend: 'openai', envName: OPENAI_API_KEY_ENV, hint: `the apiKey option or ${OPENAI_API_KEY_ENV}` });
  }

  /** The built-in voices; custom voice ids are passed through as given. */
  async voices(): Promise<VoiceInfo[]> {
    return OPENAI_VOICES.map((id) => ({ id, backend: this.name, name: id, languages: ['en'], sampleRateHz: OPENAI_PCM_SAMPLE_RATE_HZ }));
  }

  protected authHeaders(apiKey: string): Record<string, string> {
    return { Authorization: `Bearer ${apiKey}` };
  }

  protected async *synthesizeOnce(segment: SynthesisSegment, options: SynthesisOptions, signal: AbortSignal): AsyncIterable<EngineOutput> {
    const apiKey = await this.apiKey();
    const voice = options.voice ?? segment.voice ?? this.options.voice;
    const speed = Math.min(MAX_SPEED, Math.max(MIN_SPEED, segment.prosody.rate));
    const gain = dbToGain(segment.prosody.volumeDb);
    const inputs = splitText(segment.text, OPENAI_MAX_INPUT_CHARS);
    for (const [index, input] of inputs.entries()) {
      const call = this.httpCall(apiKey, 'POST', new URL(`${trimTrailingSlashes(this.options.baseUrl)}/audio/speech`), signal, {
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          model: this.options.model,
          input,
          voice,
          response_format: 'pcm',
          speed,
          ...(this.options.instructions === undefined ? {} : { instructions: this.options.instructions }),
        }),
      });
      // The base class bounds the wait for the first audio; later parts get the same allowance here.
      if (index > 0) call.headersTimeoutMs = this.policy.firstChunkTimeoutMs;
      yield* this.streamPcm(call, OPENAI_PCM_SAMPLE_RATE_HZ, gain, input);
    }
  }
}

/** `text` cut into pieces of at most `maxChars` UTF-16 units at sentence or word ends, losing only whitespace at the cuts. */
function splitText(text: string, maxChars: number): string[] {
  const pieces: string[] = [];
  let rest = text.trim();
  while (rest.length > maxChars) {
    const cut = findCut(rest, maxChars);
    const piece = rest.slice(0, cut).trimEnd();
    if (piece.length > 0) pieces.push(piece);
    rest = rest.slice(cut).trimStart();
  }
  if (rest.length > 0) pieces.push(rest);
  return pieces;
}

/** Index to cut `text` at so the head is at most `maxChars` long: a sentence end, else a space, else a code-point boundary. */
function findCut(text: string, maxChars: number): number {
  const window = text.slice(0, maxChars + 1);
  // Prefer a sentence end in the second half of the window, so pieces stay long.
  const sentenceEnd = /[.!?;:…。！？]["'”’)\]]*\s/g;
  let best = -1;
  for (let match = sentenceEnd.exec(window); match; match = sentenceEnd.exec(window)) {
    const end = match.index + match[0].length - 1;
    if (end <= maxChars) best = end;
  }
  if (best >= maxChars / 2) return best;
  const space = window.search(/\s\S*$/);
  if (space > 0) return space;
  const code = text.charCodeAt(maxChars - 1);
  // Never split a surrogate pair.
  return code >= 0xd800 && code <= 0xdbff ? maxChars - 1 : maxChars;
}
