/**
 * The one error module. Every error the package throws is a `VoiceSoundboardError` with a
 * stable string `code`, a `retryable` flag and an optional `cause`; each family has a subclass.
 */

/** Options shared by every error of the package. */
export interface ErrorOptions {
  /** Whether trying the same call again may succeed. */
  retryable?: boolean;
  /** The underlying error, when there is one. */
  cause?: unknown;
}

/** Base class of every error thrown by voice-soundboard. */
export class VoiceSoundboardError extends Error {
  /** Stable machine-readable code, e.g. `INPUT_INVALID`. */
  readonly code: string;
  /** Whether trying the same call again may succeed. */
  readonly retryable: boolean;

  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** Bad input from a caller: names the field, what was expected and what came. */
export class InputError extends VoiceSoundboardError {
  /** Dotted path of the offending field, or the position in a text input. */
  readonly field: string | undefined;

  constructor(message: string, options: ErrorOptions & { code?: string; field?: string } = {}) {
    super(options.code ?? 'INPUT_INVALID', message, options);
    this.field = options.field;
  }
}

/** The native addon could not be loaded or reported a failure. */
export class NativeError extends VoiceSoundboardError {}

/** The audio device or output pipeline failed. */
export class AudioError extends VoiceSoundboardError {}

/** A speech backend failed (network, model, process). */
export class BackendError extends VoiceSoundboardError {
  /** The backend that failed, e.g. `espeak`, `openai`. */
  readonly backend: string;
  /** How long the service asked to wait before a retry (HTTP Retry-After), when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(backend: string, code: string, message: string, options: ErrorOptions & { retryAfterMs?: number } = {}) {
    super(code, `${backend}: ${message}`, options);
    this.backend = backend;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** An operation was cancelled through its AbortSignal. */
export class AbortError extends VoiceSoundboardError {
  constructor(message = 'The operation was aborted', options: ErrorOptions = {}) {
    super('ABORTED', message, options);
  }
}
