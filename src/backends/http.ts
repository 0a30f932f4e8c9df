/**
 * HTTP plumbing shared by the cloud backends (OpenAI, ElevenLabs, Azure): one request with an
 * AbortSignal, error classification (which failures are worth a retry, honouring Retry-After),
 * redaction of secrets from every message, and streaming an s16le PCM body into `EngineOutput`
 * chunks as the bytes arrive. Retries belong to `BaseBackend`; options, credentials and lifetime to
 * `HttpBackend`.
 */
import { inspect } from 'node:util';
import { z } from 'zod';
import { s16leToFloat32 } from '../audio/pcm.js';
import { BackendError } from '../errors.js';
import type { EngineOutput } from '../graph/engine-output.js';
import { applyGainInPlace } from './gain.js';

/** User-Agent sent to every service (Azure requires one). */
export const USER_AGENT = 'voice-soundboard';

/** Longest error text quoted from a service response, in characters. */
const MAX_QUOTED_ERROR_CHARS = 300;
/** Bytes of an error body read before giving up on the rest. */
const MAX_ERROR_BODY_BYTES = 16 * 1024;
/** Bytes per sample of s16le PCM. */
const S16_BYTES = 2;

/** One HTTP call to a speech service. */
export interface HttpCall {
  /** Backend name, used in error messages and codes. */
  backend: string;
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  /** Strings that must never appear in an error message (API keys). */
  secrets: readonly string[];
  /** Where the credential comes from, named in auth failures, e.g. "the apiKey option or OPENAI_API_KEY". */
  credentialHint: string;
  /** Longest Retry-After honoured; a longer one makes the failure non-retryable. */
  maxRetryAfterMs: number;
  /** Time allowed until the response headers arrive (unset: bounded only by `signal`). */
  headersTimeoutMs?: number;
}

/**
 * Sends `call` and returns the response when its status is 2xx. Otherwise throws a BackendError:
 * network failures, 408, 429 and 5xx are retryable (after waiting out a Retry-After of at most
 * `maxRetryAfterMs`); other statuses are not, and quote the service's error text without secrets.
 * A redirect (3xx) is never followed: it is a non-retryable BACKEND_REQUEST_REJECTED naming only
 * the origin it pointed to. An abort rejects with the signal's reason.
 */
export async function sendHttp(call: HttpCall): Promise<Response> {
  const deadline = call.headersTimeoutMs === undefined ? undefined : startDeadline(call.backend, call.headersTimeoutMs, `no answer from ${describeCall(call)}`);
  const signal = deadline ? AbortSignal.any([call.signal, deadline.signal]) : call.signal;
  let response: Response;
  try {
    response = await fetch(call.url, {
      method: call.method,
      headers: { 'User-Agent': USER_AGENT, ...call.headers },
      ...(call.body === undefined ? {} : { body: call.body }),
      // Never follow a redirect: fetch strips only `Authorization` on another origin, so the
      // services' own key headers (xi-api-key, Ocp-Apim-Subscription-Key) and the text would go
      // wherever a hostile or hijacked answer points. A 3xx is refused below (statusError).
      redirect: 'manual',
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw signal.reason ?? error;
    throw networkError(call, error);
  } finally {
    deadline?.clear();
  }
  if (response.ok) return response;
  throw await statusError(call, response);
}

/** Largest JSON answer read by default (a voice list), in bytes. */
const MAX_JSON_BYTES = 16 * 1024 * 1024;

/**
 * Reads a JSON body of at most `maxBytes` and validates it with `schema`. A larger body is a
 * BACKEND_BAD_RESPONSE as soon as it passes the limit (the rest is never read: the connection
 * closes), so an endless or huge answer cannot fill the heap; a mismatch is one naming the field.
 */
export async function readJson<Schema extends z.ZodType>(call: HttpCall, response: Response, schema: Schema, maxBytes = MAX_JSON_BYTES): Promise<z.output<Schema>> {
  let text: string;
  try {
    text = await readBoundedText(call, response, maxBytes);
  } catch (error) {
    if (call.signal.aborted) throw call.signal.reason ?? error;
    if (error instanceof BackendError) throw error;
    throw networkError(call, error);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // No cause: the SyntaxError quotes the body around the error, which may be a key the service echoed.
    throw new BackendError(call.backend, 'BACKEND_BAD_RESPONSE', `${describeCall(call)} returned a body that is not JSON`);
  }
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'body';
  throw new BackendError(
    call.backend,
    'BACKEND_BAD_RESPONSE',
    `${describeCall(call)} returned an unexpected body at ${where}: ${issue?.message ?? 'invalid'}`,
    { cause: result.error },
  );
}

/** The body as UTF-8 text; a BACKEND_BAD_RESPONSE once it passes `maxBytes` (the body is cancelled, closing the connection). */
async function readBoundedText(call: HttpCall, response: Response, maxBytes: number): Promise<string> {
  const { bytes, over } = await readAtMost(response, maxBytes);
  if (over) throw new BackendError(call.backend, 'BACKEND_BAD_RESPONSE', `${describeCall(call)} returned a body larger than ${formatBytes(maxBytes)}`);
  return new TextDecoder().decode(bytes);
}

/**
 * Reads the body until it ends or passes `maxBytes`, then cancels it (an unfinished body closes
 * its connection): at most `maxBytes` bytes, and whether there was more.
 */
async function readAtMost(response: Response, maxBytes: number): Promise<{ bytes: Buffer; over: boolean }> {
  if (!response.body) return { bytes: Buffer.alloc(0), over: false };
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    while (total <= maxBytes) {
      const next = await reader.read();
      if (next.done) break;
      parts.push(next.value);
      total += next.value.byteLength;
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
  return { bytes: Buffer.concat(parts, total).subarray(0, maxBytes), over: total > maxBytes };
}

/** `bytes` in MiB when whole, else in bytes. */
function formatBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

/** How to turn a PCM response body into chunks. */
export interface PcmStreamFormat {
  sampleRateHz: number;
  /** Audio per chunk; every chunk but the last has exactly this many frames. */
  chunkMs: number;
  /** Linear gain applied to every sample (1 = unchanged); results are clamped to [-1, 1]. */
  gain: number;
  /** Longest wait for the next chunk's bytes (all of them, not the next read); a longer stall is a retryable BACKEND_TIMEOUT. */
  idleTimeoutMs: number;
  /** Most audio one answer may carry, in ms: past it the answer is a BACKEND_BAD_RESPONSE and its connection closes (unset: no limit). */
  maxAudioMs?: number;
}

/**
 * Streams a response body of mono s16le PCM as `EngineOutput` chunks while the bytes arrive.
 * Network chunks may split a sample anywhere: bytes are gathered into fixed, even-sized blocks,
 * so a split sample is completed by the next network chunk. A single dangling byte at the very
 * end (a truncated last sample) is dropped. Leaving the loop early cancels the body, which
 * closes the connection.
 */
export async function* streamS16lePcm(call: HttpCall, response: Response, format: PcmStreamFormat): AsyncGenerator<EngineOutput> {
  const body = response.body;
  if (!body) throw emptyAudioError(call);
  const reader = body.getReader();
  const chunkFrames = Math.max(1, Math.round((format.sampleRateHz * format.chunkMs) / 1000));
  const block = new Uint8Array(chunkFrames * S16_BYTES);
  let filledBytes = 0;
  let totalBytes = 0;
  let stall: ChunkDeadline | undefined;
  /** Bytes read since the current chunk deadline started (what a stall reports). */
  let bytesRead = 0;
  const maxBytes = format.maxAudioMs === undefined ? Number.POSITIVE_INFINITY : Math.ceil((format.sampleRateHz * format.maxAudioMs) / 1000) * S16_BYTES;
  try {
    rejectNonAudio(call, response);
    // One deadline per chunk, not per read: a body that drips a few bytes at a time (a slow-loris
    // answer) would otherwise hold the call for as long as it likes. It runs only while this
    // generator waits on the network; the consumer's time between chunks is not counted.
    stall = startChunkDeadline(call, format);
    // And over the whole answer, once audio flows: the network may keep it waiting at most
    // idleTimeoutMs + MIN_THROUGHPUT_FACTOR x the audio it has sent (a chunk sent just inside each
    // chunk deadline would otherwise stretch one answer to hours).
    let waitedMs = 0;
    for (;;) {
      let next: Awaited<ReturnType<typeof reader.read>>;
      const waitStarted = performance.now();
      try {
        next = await Promise.race([reader.read(), stall.stalled]);
      } catch (error) {
        if (call.signal.aborted) throw call.signal.reason ?? error;
        if (stall.signal.aborted) throw stalledError(call, format, bytesRead);
        throw networkError(call, error);
      }
      if (next.done) break;
      if (totalBytes > 0) {
        waitedMs += performance.now() - waitStarted;
        const sentMs = (totalBytes / S16_BYTES / format.sampleRateHz) * 1000;
        if (waitedMs > format.idleTimeoutMs + MIN_THROUGHPUT_FACTOR * sentMs) throw tooSlowError(call, format, waitedMs, sentMs);
      }
      const bytes = next.value;
      totalBytes += bytes.byteLength;
      bytesRead += bytes.byteLength;
      if (totalBytes > maxBytes) {
        throw new BackendError(
          call.backend,
          'BACKEND_BAD_RESPONSE',
          `${describeCall(call)} answered with audio longer than ${Math.round((format.maxAudioMs ?? 0) / 1000)} s, more than its text could last`,
        );
      }
      let offsetBytes = 0;
      while (offsetBytes < bytes.byteLength) {
        const takeBytes = Math.min(block.byteLength - filledBytes, bytes.byteLength - offsetBytes);
        block.set(bytes.subarray(offsetBytes, offsetBytes + takeBytes), filledBytes);
        filledBytes += takeBytes;
        offsetBytes += takeBytes;
        if (filledBytes === block.byteLength) {
          stall.clear();
          yield toOutput(block, format);
          filledBytes = 0;
          bytesRead = 0;
          stall = startChunkDeadline(call, format);
        }
      }
    }
    const wholeBytes = filledBytes - (filledBytes % S16_BYTES);
    if (wholeBytes > 0) yield toOutput(block.subarray(0, wholeBytes), format);
    if (totalBytes < S16_BYTES) throw emptyAudioError(call);
  } finally {
    stall?.clear();
    // Cancelling an unfinished body makes undici close the socket instead of draining it.
    reader.cancel().catch(() => undefined);
  }
}

/** A deadline: `signal` aborts after `ms` with a retryable BACKEND_TIMEOUT naming `what`, unless `clear` is called first. */
export interface Deadline {
  signal: AbortSignal;
  clear(): void;
}

/** Starts a deadline of `ms` (for calls outside `synthesize` and for stalls inside a stream). */
export function startDeadline(backend: string, ms: number, what: string): Deadline {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new BackendError(backend, 'BACKEND_TIMEOUT', `${what} within ${ms} ms`, { retryable: true })),
    ms,
  );
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/** A chunk's deadline, with the one promise every read of that chunk races (rejects when it passes). */
interface ChunkDeadline extends Deadline {
  readonly stalled: Promise<never>;
}

/** The deadline for the next chunk's bytes: `idleTimeoutMs` (its error is `stalledError`'s). */
function startChunkDeadline(call: HttpCall, format: PcmStreamFormat): ChunkDeadline {
  const deadline = startDeadline(call.backend, format.idleTimeoutMs, `${describeCall(call)} stalled`);
  const stalled = rejectOnAbort(deadline.signal);
  stalled.catch(() => undefined); // a deadline cleared unfired, or passed after its read, leaves no unhandled rejection
  return { ...deadline, stalled };
}

/**
 * How much slower than real time an answer's audio may arrive, averaged over the answer after its
 * first bytes (the network's waits only, not the consumer's): 4, a quarter of real time, is far
 * below any service streaming speech (they send faster than it plays).
 */
const MIN_THROUGHPUT_FACTOR = 4;

/** The retryable BACKEND_TIMEOUT of an answer whose audio comes slower than MIN_THROUGHPUT_FACTOR allows. */
function tooSlowError(call: HttpCall, format: PcmStreamFormat, waitedMs: number, sentMs: number): BackendError {
  return new BackendError(
    call.backend,
    'BACKEND_TIMEOUT',
    `${describeCall(call)} stalled: ${Math.round(sentMs)} ms of audio in ${Math.round(waitedMs)} ms of waiting, slower than a quarter of real time (after idleTimeoutMs ${format.idleTimeoutMs} ms of grace)`,
    { retryable: true },
  );
}

/** The retryable BACKEND_TIMEOUT of a chunk deadline: "no data" (nothing read since it started), or a drip of `bytesRead` bytes, short of a chunk. */
function stalledError(call: HttpCall, format: PcmStreamFormat, bytesRead: number): BackendError {
  const what = bytesRead === 0 ? 'no data' : `only ${bytesRead} bytes, less than one chunk (${format.chunkMs} ms of audio),`;
  return new BackendError(call.backend, 'BACKEND_TIMEOUT', `${describeCall(call)} stalled: ${what} within ${format.idleTimeoutMs} ms`, { retryable: true });
}

/** Rejects with the signal's reason when it aborts; never resolves. */
function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

function toOutput(bytes: Uint8Array, format: PcmStreamFormat): EngineOutput {
  const pcm = s16leToFloat32(bytes);
  if (format.gain !== 1) applyGainInPlace(pcm, format.gain, format.sampleRateHz);
  return { pcm, sampleRateHz: format.sampleRateHz, channels: 1, metadata: {} };
}

/** A 200 whose body is JSON or text is an error page from a proxy or the service, not audio. */
function rejectNonAudio(call: HttpCall, response: Response): void {
  const type = response.headers.get('content-type') ?? '';
  if (/^(application\/json|text\/)/i.test(type)) {
    throw new BackendError(call.backend, 'BACKEND_BAD_RESPONSE', `${describeCall(call)} returned ${type.split(';')[0]} instead of PCM audio`);
  }
}

function emptyAudioError(call: HttpCall): BackendError {
  return new BackendError(call.backend, 'BACKEND_BAD_RESPONSE', `${describeCall(call)} returned no audio`);
}

function networkError(call: HttpCall, error: unknown): BackendError {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? String(cause.code) : undefined;
  const reason = code ?? (cause instanceof Error ? cause.message : String(cause));
  return new BackendError(call.backend, 'BACKEND_NETWORK', redact(`${describeCall(call)} failed: ${reason}`, call.secrets), {
    retryable: true,
    cause: causeWithoutSecrets(error, call.secrets),
  });
}

/**
 * `error` as an error's cause, unless it or a cause of it shows a secret (fetch refusing a key that
 * is not a valid header value quotes it): then a plain Error of its redacted message, so
 * `util.inspect` of the error a caller logs cannot show the key.
 */
function causeWithoutSecrets(error: unknown, secrets: readonly string[]): unknown {
  const shown = inspect(error, { depth: 20 });
  if (!secrets.some((secret) => secret.length > 0 && shown.includes(secret))) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new Error(redact(message, secrets));
}

async function statusError(call: HttpCall, response: Response): Promise<BackendError> {
  const status = response.status;
  const serviceText = await readErrorText(response, call.secrets);
  // The reason phrase is the server's text too: it may echo the key.
  const statusText = redact(response.statusText, call.secrets);
  const head = `${describeCall(call)} answered ${status}${statusText ? ` ${statusText}` : ''}`;
  const quoted = serviceText ? `: ${serviceText}` : '';
  if (status >= 300 && status < 400) {
    // Only the target's origin is named: its path or query may carry what the call sent.
    const location = redirectOrigin(response.headers.get('location'), call.url);
    return new BackendError(
      call.backend,
      'BACKEND_REQUEST_REJECTED',
      `${head}: a redirect${location ? ` to ${redact(location, call.secrets)}` : ''}, not followed (the API key and the text go to the configured baseUrl only; point baseUrl at the service itself)`,
    );
  }
  const retryable = status === 408 || status === 429 || status >= 500;
  if (!retryable) {
    const code = status === 401 || status === 403 ? 'BACKEND_AUTH_FAILED' : status === 404 ? 'BACKEND_NOT_FOUND' : 'BACKEND_REQUEST_REJECTED';
    const hint = code === 'BACKEND_AUTH_FAILED' ? ` (check ${call.credentialHint})` : '';
    return new BackendError(call.backend, code, `${head}${quoted}${hint}`);
  }
  const code = status === 429 ? 'BACKEND_RATE_LIMITED' : status === 408 ? 'BACKEND_TIMEOUT' : 'BACKEND_UNAVAILABLE';
  const retryAfterMs = parseRetryAfterMs(response.headers);
  if (retryAfterMs !== undefined && retryAfterMs > call.maxRetryAfterMs) {
    return new BackendError(
      call.backend,
      code,
      `${head}${quoted} (asks to retry after ${Math.ceil(retryAfterMs / 1000)} s, more than maxRetryAfterMs ${call.maxRetryAfterMs})`,
    );
  }
  // The base class waits max(Retry-After, its own backoff) before the next attempt.
  return new BackendError(call.backend, code, `${head}${quoted}`, { retryable: true, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
}

/** The origin a redirect's Location points to (resolved against `base`), or undefined when absent or unreadable. */
function redirectOrigin(location: string | null, base: URL): string | undefined {
  if (location === null) return undefined;
  try {
    return new URL(location, base).origin;
  } catch {
    return undefined;
  }
}

/** Retry-After (seconds or an HTTP date) or OpenAI's retry-after-ms, in ms; undefined when absent or unreadable. */
function parseRetryAfterMs(headers: Headers): number | undefined {
  const milliseconds = headers.get('retry-after-ms');
  if (milliseconds !== null && /^\d+(\.\d+)?$/.test(milliseconds.trim())) return Math.ceil(Number(milliseconds));
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * The service's own error text: a known JSON message field, else the raw body, shortened. Secrets
 * are redacted from the raw body before anything else, so neither the cut at the read limit nor
 * the shortening can leave part of a key behind.
 */
async function readErrorText(response: Response, secrets: readonly string[]): Promise<string> {
  let raw = '';
  try {
    raw = await readLimitedText(response, MAX_ERROR_BODY_BYTES);
  } catch {
    return '';
  }
  const cut = new TextEncoder().encode(raw).byteLength >= MAX_ERROR_BODY_BYTES;
  raw = redact(raw, secrets, cut);
  let text = raw;
  try {
    text = pickMessage(JSON.parse(raw) as unknown) ?? raw;
  } catch {
    // Not JSON: quote the text as it is.
  }
  // JSON decoding can turn an escaped key (\u0041...) back into the key: redact again.
  const flat = redact(text, secrets).replace(/\s+/g, ' ').trim();
  return flat.length > MAX_QUOTED_ERROR_CHARS ? `${flat.slice(0, MAX_QUOTED_ERROR_CHARS)}…` : flat;
}

/** Finds the message in the error shapes the services use: {error:{message}}, {detail:{message}}, {detail:[{msg}]}, {detail}, {message}, {error}. */
function pickMessage(data: unknown): string | undefined {
  if (typeof data === 'string') return data;
  if (Array.isArray(data)) {
    const messages = data.map(pickMessage).filter((message): message is string => message !== undefined);
    return messages.length > 0 ? messages.join('; ') : undefined;
  }
  if (typeof data !== 'object' || data === null) return undefined;
  const record = data as Record<string, unknown>;
  for (const key of ['error', 'detail']) {
    const nested = record[key];
    if (typeof nested === 'string') return nested;
    const message = pickMessage(nested);
    if (message !== undefined) return message;
  }
  if (typeof record.message === 'string') return record.message;
  return typeof record.msg === 'string' ? record.msg : undefined;
}

async function readLimitedText(response: Response, maxBytes: number): Promise<string> {
  return new TextDecoder().decode((await readAtMost(response, maxBytes)).bytes);
}

function describeCall(call: HttpCall): string {
  return `${call.method} ${call.url.origin}${call.url.pathname}`;
}

/** `text` with every secret replaced; with `truncated`, also a trailing start of a secret cut off at the end. */
function redact(text: string, secrets: readonly string[], truncated = false): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    out = out.split(secret).join('[redacted]');
    if (!truncated) continue;
    for (let length = secret.length - 1; length > 0; length--) {
      if (out.endsWith(secret.slice(0, length))) {
        out = `${out.slice(0, -length)}[redacted]`;
        break;
      }
    }
  }
  return out;
}

