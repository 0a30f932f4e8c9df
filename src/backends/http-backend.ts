/**
 * The base class of the cloud backends (OpenAI, ElevenLabs, Azure). It owns what they do the same
 * way: the options every HTTP backend accepts and their mapping onto the retry policy, the API-key
 * lookup (option, else environment variable), health without a network call, aborting requests in
 * flight on `close()`, building an authenticated `HttpCall`, a bounded JSON GET (voice lists, kept
 * for `voicesCacheMs` and shared by concurrent callers) and streaming a PCM answer. Subclasses
 * build their request and map the service's answer.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { BackendError } from '../errors.js';
import type { EngineOutput } from '../graph/engine-output.js';
import { SecretError, SecretManager, secretOptionsShape, type SecretAccessListener } from '../security/secrets.js';
import { BaseBackend, type BackendCapabilities, type BackendHealth, type BackendPolicy } from './backend.js';
import { readJson, sendHttp, startDeadline, streamS16lePcm, type HttpCall } from './http.js';

/** Options every HTTP backend accepts on top of its own (zod shape, spread into each schema). */
export const httpBackendOptionsShape = {
  /** Attempts after the first one, for retryable failures before any audio arrived. */
  maxRetries: z.number().int().min(0).max(10).optional(),
  /** First backoff delay; doubles each retry, with jitter. */
  retryBaseMs: z.number().int().min(0).max(60_000).optional(),
  /** Per-attempt time allowed until the first chunk of audio arrives. */
  firstChunkTimeoutMs: z.number().int().min(1).max(600_000).optional(),
  /** Longest Retry-After the backend waits for before retrying; longer ones fail at once. */
  maxRetryAfterMs: z.number().int().min(0).max(600_000).default(10_000),
  /** Longest wait for one chunk's worth of audio (`chunkMs`) while a response is streaming (or awaited after the first audio) before giving up: a body that drips bytes slower fails too. Over a whole answer, after its first audio, the network may wait at most this plus 4 x the audio sent (a quarter of real time). */
  idleTimeoutMs: z.number().int().min(1).max(600_000).default(15_000),
  /** Audio per yielded chunk (the last chunk of a segment may be shorter). */
  chunkMs: z.number().int().min(10).max(1000).default(80),
  /** Other key sources (a 0600 file, a command) and their refresh: see SecretManager. `apiKey` is each backend's own field. */
  apiKeyFile: secretOptionsShape.apiKeyFile,
  apiKeyCommand: secretOptionsShape.apiKeyCommand,
  apiKeyCommandTimeoutMs: secretOptionsShape.apiKeyCommandTimeoutMs,
  apiKeyRefreshMs: secretOptionsShape.apiKeyRefreshMs,
  /** How long a voice list (`voices()`) is reused before it is asked again (default 10 minutes; 0: every call asks). A failed listing is never kept; another API key asks again. */
  voicesCacheMs: z.number().int().min(0).max(86_400_000).default(600_000),
  /** Told about each read or refusal of the key, never the key itself (e.g. an AuditLogger's `secretAccess`). */
  onKeyAccess: z.custom<SecretAccessListener>((value) => typeof value === 'function', 'expected a function').optional(),
};

/** The parsed options an `HttpBackend` reads (each backend's parsed options extend these). */
export type HttpBackendOptions = z.output<z.ZodObject<typeof httpBackendOptionsShape>> & { apiKey?: string | undefined };

/** How a cloud backend finds and names its API key. */
export interface HttpCredential {
  /** The backend's name (in messages and audit events). */
  backend: string;
  /** Environment variable read when no `apiKey` option is given. */
  envName: string;
  /** What an auth failure tells the user to check, e.g. "the apiKey option or OPENAI_API_KEY". */
  hint: string;
}

/** What a backend adds to an authenticated call. */
export interface HttpRequestParts {
  headers?: Record<string, string>;
  body?: string;
}

/** What every cloud backend can do: stream PCM, no timings or phonemes, over the network. */
const CLOUD_CAPABILITIES: BackendCapabilities = Object.freeze({ streaming: true, wordTimings: false, phonemes: false, remote: true });

/** The retry/timeout policy fields set in parsed options (unset ones keep the base class defaults). */
function policyFromOptions(options: Pick<HttpBackendOptions, 'maxRetries' | 'retryBaseMs' | 'firstChunkTimeoutMs'>): Partial<BackendPolicy> {
  const policy: Partial<BackendPolicy> = {};
  if (options.maxRetries !== undefined) policy.maxRetries = options.maxRetries;
  if (options.retryBaseMs !== undefined) policy.retryBaseMs = options.retryBaseMs;
  if (options.firstChunkTimeoutMs !== undefined) policy.firstChunkTimeoutMs = options.firstChunkTimeoutMs;
  return policy;
}

/** Whether a setting is available from the option or the environment (no network call). */
export function hasCredential(value: string | undefined, envName: string): boolean {
  return (value ?? process.env[envName] ?? '').trim() !== '';
}

/** `url` without trailing slashes, so paths can be appended. */
export function trimTrailingSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}

/** Audio any answer may carry whatever its text: 60 s. */
const ANSWER_BASE_MS = 60_000;
/** Audio one character of text may add: 1 s (speech runs about 15 characters a second; the slowest rate any service takes, 0.25, makes that 4). */
const ANSWER_MS_PER_CHAR = 1000;

/** The longest answer a cloud backend accepts for `text`, in ms: 60 s + 1 s per character, far beyond any service's slowest speech. */
export function longestAnswerMs(text: string): number {
  return ANSWER_BASE_MS + text.length * ANSWER_MS_PER_CHAR;
}

/** Base class of the cloud backends; subclasses implement `authHeaders`, `synthesizeOnce` and `voices`. */
export abstract class HttpBackend<Options extends HttpBackendOptions> extends BaseBackend {
  readonly capabilities: BackendCapabilities = CLOUD_CAPABILITIES;
  /** The validated options. */
  protected readonly options: Options;
  /** Aborted (with BACKEND_CLOSED) by `close()`; every call's signal follows it. */
  private readonly closing = new AbortController();
  /** Where the API key comes from; `rotate()` it after rotating the key at its source. */
  readonly secrets: SecretManager;
  /** Voice lists asked or answered, by URL and key digest (never the key), with when they may no longer be reused. */
  private readonly voiceLists = new Map<string, { answer: Promise<unknown>; expiresAtMs: number }>();

  /** Takes options already validated by the subclass's schema; the key options go to `secrets` only. */
  protected constructor(
    options: Options,
    private readonly credential: HttpCredential,
  ) {
    super(policyFromOptions(options));
    const { apiKey, apiKeyFile, apiKeyCommand, apiKeyCommandTimeoutMs, apiKeyRefreshMs, onKeyAccess, ...rest } = options;
    this.secrets = new SecretManager({
      name: credential.backend,
      envName: credential.envName,
      ...(apiKey !== undefined ? { apiKey } : {}),
      ...(apiKeyFile !== undefined ? { apiKeyFile } : {}),
      ...(apiKeyCommand !== undefined ? { apiKeyCommand } : {}),
      ...(apiKeyCommandTimeoutMs !== undefined ? { apiKeyCommandTimeoutMs } : {}),
      ...(apiKeyRefreshMs !== undefined ? { apiKeyRefreshMs } : {}),
      ...(onKeyAccess !== undefined ? { onAccess: onKeyAccess } : {}),
    });
    // The key is not kept in `options`, so inspecting or logging the backend cannot show it.
    this.options = rest as Options;
  }

  /** The service's authentication headers for `apiKey`. */
  protected abstract authHeaders(apiKey: string): Record<string, string>;

  /** `unavailable` when a call would fail before reaching the network (see `missingSetting`); no network call is made. */
  override async health(): Promise<BackendHealth> {
    const health = await super.health();
    if (health.status !== 'ok') return health;
    const missing = this.missingSetting();
    return missing === undefined ? health : { ...health, status: 'unavailable', detail: missing };
  }

  /** Aborts requests in flight (they fail with BACKEND_CLOSED) and refuses new ones; idempotent. */
  override async close(): Promise<void> {
    if (!this.closing.signal.aborted) this.closing.abort(new BackendError(this.name, 'BACKEND_CLOSED', 'the backend was closed'));
    this.voiceLists.clear();
    await super.close();
  }

  /** Why calls cannot work without more configuration (no API key), or undefined. Subclasses add their own settings. */
  protected missingSetting(): string | undefined {
    return this.secrets.missing();
  }

  /** The API key from its source (SecretManager); BACKEND_AUTH_MISSING when there is none, the SECRET_* code when its file or command failed. */
  protected async apiKey(): Promise<string> {
    try {
      return await this.secrets.get();
    } catch (error) {
      if (!(error instanceof SecretError)) throw error;
      throw new BackendError(this.name, error.code === 'SECRET_MISSING' && this.secrets.source === 'env' ? 'BACKEND_AUTH_MISSING' : error.code, error.message, { cause: error });
    }
  }

  /** An authenticated call whose signal also aborts when the backend closes; `request.headers` are added to the auth headers. */
  protected httpCall(apiKey: string, method: HttpCall['method'], url: URL, signal: AbortSignal, request: HttpRequestParts = {}): HttpCall {
    return {
      backend: this.name,
      method,
      url,
      headers: { ...this.authHeaders(apiKey), ...request.headers },
      ...(request.body === undefined ? {} : { body: request.body }),
      signal: AbortSignal.any([signal, this.closing.signal]),
      secrets: [apiKey],
      credentialHint: this.credential.hint,
      maxRetryAfterMs: this.options.maxRetryAfterMs,
    };
  }

  /**
   * GETs a voice list from `url` and validates its JSON with `schema`, within `firstChunkTimeoutMs`
   * ("no voice list within … ms"). An answer is reused for `voicesCacheMs` (conversations and voice
   * checks list voices often; the list changes rarely) and callers asking while it is on its way share
   * it; a failure is dropped at once, so the next call asks again. Keyed by the URL and a digest of
   * the key: a rotated key (another account) asks again.
   */
  protected async getVoiceList<Schema extends z.ZodType>(apiKey: string, url: URL, schema: Schema): Promise<z.output<Schema>> {
    const ttlMs = this.options.voicesCacheMs;
    if (ttlMs === 0 || this.closing.signal.aborted) return this.fetchVoiceList(apiKey, url, schema);
    const key = `${url.href} ${createHash('sha256').update(apiKey).digest('hex')}`;
    const nowMs = performance.now();
    const kept = this.voiceLists.get(key);
    if (kept && kept.expiresAtMs > nowMs) return kept.answer as Promise<z.output<Schema>>;
    for (const [other, entry] of this.voiceLists) if (entry.expiresAtMs <= nowMs) this.voiceLists.delete(other);
    const entry = { answer: this.fetchVoiceList(apiKey, url, schema), expiresAtMs: Number.POSITIVE_INFINITY };
    this.voiceLists.set(key, entry);
    entry.answer.then(
      () => {
        entry.expiresAtMs = performance.now() + ttlMs;
      },
      () => {
        if (this.voiceLists.get(key) === entry) this.voiceLists.delete(key);
      },
    );
    return entry.answer as Promise<z.output<Schema>>;
  }

  /** One voice-list GET, validated with `schema`, within `firstChunkTimeoutMs`. */
  private async fetchVoiceList<Schema extends z.ZodType>(apiKey: string, url: URL, schema: Schema): Promise<z.output<Schema>> {
    const deadline = startDeadline(this.name, this.policy.firstChunkTimeoutMs, 'no voice list');
    try {
      const call = this.httpCall(apiKey, 'GET', url, deadline.signal);
      return await readJson(call, await sendHttp(call), schema);
    } finally {
      deadline.clear();
    }
  }

  /**
   * Sends `call` and streams its mono s16le answer in `chunkMs` chunks, with `gain` applied. The
   * answer to `text` may last at most `longestAnswerMs(text)`: a service that keeps sending (a
   * hostile or broken one) is cut there instead of filling `speak()`'s memory or a file's disk.
   */
  protected async *streamPcm(call: HttpCall, sampleRateHz: number, gain: number, text: string): AsyncGenerator<EngineOutput> {
    const response = await sendHttp(call);
    yield* streamS16lePcm(call, response, {
      sampleRateHz,
      chunkMs: this.options.chunkMs,
      idleTimeoutMs: this.options.idleTimeoutMs,
      gain,
      maxAudioMs: longestAnswerMs(text),
    });
  }
}
