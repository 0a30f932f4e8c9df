/**
 * The speech-backend interface and its base class. The base class owns retries (with backoff),
 * timeouts, cancellation and metrics, so each backend implements only `synthesizeOnce`.
 */
import { AbortError, BackendError } from '../errors.js';
import type { EngineOutput, SynthesisOptions, SynthesisSegment } from '../graph/engine-output.js';

/** A voice offered by a backend. */
export interface VoiceInfo {
  /** Id to pass as `voice` (unique within the backend). */
  id: string;
  backend: string;
  name: string;
  /** BCP-47 languages the voice speaks. */
  languages: string[];
  gender?: 'female' | 'male' | 'neutral';
  styles?: string[];
  sampleRateHz?: number;
}

/** A voice and language one segment asks a backend for (what `checkVoice` is asked about). */
export interface VoiceRequest {
  /** Voice id (a call's `voice` or an SSML `<voice name>`). */
  voice?: string;
  /** BCP-47 language of the segment. */
  language?: string;
}

/** Why a backend cannot take a `VoiceRequest`: the part at fault, a code and what was expected. */
export interface VoiceRequestProblem {
  part: 'voice' | 'language';
  code: 'VOICE_UNKNOWN' | 'LANGUAGE_UNSUPPORTED';
  /** Says what was received and what is expected, without a field name (the caller adds it). */
  message: string;
}

/** What a backend can do. */
export interface BackendCapabilities {
  /** Yields audio before the whole segment is synthesized. */
  streaming: boolean;
  wordTimings: boolean;
  phonemes: boolean;
  /** Needs network access (a cloud API). */
  remote: boolean;
  /** Speaks a sentence's `parts` (emphasis, prosody spans) in one call; absent = false. */
  inlineProsody?: boolean;
}

/** A backend's health. */
export interface BackendHealth {
  backend: string;
  status: 'ok' | 'degraded' | 'unavailable';
  modelLoaded: boolean;
  /** Why it is not ok, when it is not. */
  detail?: string;
}

/** Counters kept by the base class. */
export interface BackendMetrics {
  calls: number;
  failures: number;
  retries: number;
  /** Sum of the audio produced, in ms. */
  audioMs: number;
  /** Time to the first chunk of the last call, in ms. */
  lastFirstChunkMs: number | null;
}

/** A speech backend. */
export interface SpeechBackend {
  readonly name: string;
  readonly capabilities: BackendCapabilities;
  /** The voices this backend offers right now. */
  voices(): Promise<VoiceInfo[]>;
  /**
   * Optional check before any synthesis: resolves with the problem when the backend cannot speak
   * `request` (an unknown voice, a language it has no voice for), undefined when it can. The engine
   * turns a problem into an `InputError` naming the field, before any registrar request.
   */
  checkVoice?(request: VoiceRequest): Promise<VoiceRequestProblem | undefined>;
  /** Synthesizes one segment into PCM chunks; honours `signal`. */
  synthesize(segment: SynthesisSegment, options?: SynthesisOptions, signal?: AbortSignal): AsyncIterable<EngineOutput>;
  health(): Promise<BackendHealth>;
  metrics(): BackendMetrics;
  /** Frees models, processes and sockets; idempotent. */
  close(): Promise<void>;
}

/** Retry and timeout policy of a backend. */
export interface BackendPolicy {
  /** Attempts after the first one, for retryable errors raised before any audio was yielded. */
  maxRetries: number;
  /** First backoff delay; doubles each retry, with jitter. */
  retryBaseMs: number;
  /** Per-attempt timeout until the first chunk arrives. */
  firstChunkTimeoutMs: number;
}

/** Default policy: 2 retries, 200 ms base backoff, 30 s to the first chunk. */
export const DEFAULT_BACKEND_POLICY: Readonly<BackendPolicy> = Object.freeze({
  maxRetries: 2,
  retryBaseMs: 200,
  firstChunkTimeoutMs: 30_000,
});

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Base class of every backend: subclasses implement `synthesizeOnce` (one attempt) and
 * `voices`/`health` as they need; retries, timeouts, cancellation and metrics live here.
 */
export abstract class BaseBackend implements SpeechBackend {
  abstract readonly name: string;
  abstract readonly capabilities: BackendCapabilities;
  protected readonly policy: BackendPolicy;
  private readonly counters: BackendMetrics = { calls: 0, failures: 0, retries: 0, audioMs: 0, lastFirstChunkMs: null };
  private closed = false;

  constructor(policy: Partial<BackendPolicy> = {}) {
    this.policy = { ...DEFAULT_BACKEND_POLICY, ...policy };
  }

  /** One attempt at synthesizing a segment. Throw a retryable BackendError for transient failures. */
  protected abstract synthesizeOnce(segment: SynthesisSegment, options: SynthesisOptions, signal: AbortSignal): AsyncIterable<EngineOutput>;

  abstract voices(): Promise<VoiceInfo[]>;

  async health(): Promise<BackendHealth> {
    return { backend: this.name, status: this.closed ? 'unavailable' : 'ok', modelLoaded: true };
  }

  metrics(): BackendMetrics {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  async *synthesize(segment: SynthesisSegment, options: SynthesisOptions = {}, signal?: AbortSignal): AsyncIterable<EngineOutput> {
    if (this.closed) throw new BackendError(this.name, 'BACKEND_CLOSED', 'the backend was closed');
    this.counters.calls += 1;
    for (let attempt = 0; ; attempt++) {
      const controller = new AbortController();
      const forwardAbort = () => controller.abort(signal?.reason);
      signal?.addEventListener('abort', forwardAbort, { once: true });
      let yielded = false;
      const started = performance.now();
      const timer = setTimeout(
        () => controller.abort(new BackendError(this.name, 'BACKEND_TIMEOUT', `no audio within ${this.policy.firstChunkTimeoutMs} ms`, { retryable: true })),
        this.policy.firstChunkTimeoutMs,
      );
      try {
        if (signal?.aborted) throw new AbortError();
        for await (const chunk of this.synthesizeOnce(segment, options, controller.signal)) {
          if (!yielded) {
            clearTimeout(timer);
            this.counters.lastFirstChunkMs = performance.now() - started;
            yielded = true;
          }
          this.counters.audioMs += (chunk.pcm.length / chunk.channels / chunk.sampleRateHz) * 1000;
          yield chunk;
          if (signal?.aborted) throw new AbortError();
        }
        return;
      } catch (error) {
        const failure = this.normalise(error, controller.signal, signal);
        const canRetry = failure.retryable && !yielded && attempt < this.policy.maxRetries && !signal?.aborted;
        if (!canRetry) {
          this.counters.failures += 1;
          throw failure;
        }
        this.counters.retries += 1;
        // A service's own Retry-After wins over our backoff when it asks for longer.
        const jittered = this.policy.retryBaseMs * 2 ** attempt * (0.75 + Math.random() * 0.5);
        const backoff = Math.max(failure instanceof BackendError ? (failure.retryAfterMs ?? 0) : 0, jittered);
        await sleep(backoff, signal);
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', forwardAbort);
      }
    }
  }

  /** Turns whatever an attempt threw into an AbortError or a BackendError. */
  private normalise(error: unknown, attemptSignal: AbortSignal, callerSignal: AbortSignal | undefined): AbortError | BackendError {
    if (callerSignal?.aborted) return error instanceof AbortError ? error : new AbortError('synthesis was aborted', { cause: error });
    if (attemptSignal.aborted && attemptSignal.reason instanceof BackendError) return attemptSignal.reason;
    if (error instanceof BackendError || error instanceof AbortError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new BackendError(this.name, 'BACKEND_FAILED', message, { cause: error });
  }
}
