/**
 * Errors of the registrar. Denials are results, not exceptions: these are thrown only where code
 * tries to act without an allowed decision (`require`), when the registrar is halted, and when a
 * log cannot be replayed.
 */
import { VoiceSoundboardError, type ErrorOptions } from '../errors.js';

/** A denied decision was presented where an allowed one is needed (code REGISTRAR_DENIED). */
export class RegistrarDeniedError extends VoiceSoundboardError {
  /** The denial's reason code, e.g. `not_owner`. */
  readonly reason: string | null;
  /** seq of the denying attestation. */
  readonly seq: number;

  constructor(message: string, details: { reason: string | null; seq: number }, options: ErrorOptions = {}) {
    super('REGISTRAR_DENIED', message, options);
    this.reason = details.reason;
    this.seq = details.seq;
  }
}

/**
 * Stream state was about to change without an allowed decision from this registrar: no result, a
 * forged or copied one, one for another action or stream, one already used, or a stale one
 * (code REGISTRAR_REQUIRED).
 */
export class RegistrarRequiredError extends VoiceSoundboardError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('REGISTRAR_REQUIRED', message, options);
  }
}

/** A request would have ended an accessibility override without `disable_override`: the registrar halted (code ACCESSIBILITY_BYPASS). */
export class AccessibilityBypassError extends VoiceSoundboardError {
  /** seq of the halting attestation. */
  readonly seq: number;

  constructor(message: string, seq: number, options: ErrorOptions = {}) {
    super('ACCESSIBILITY_BYPASS', message, options);
    this.seq = seq;
  }
}

/** The registrar is halted (fail-closed); only `recover()` brings it back (code REGISTRAR_HALTED). */
export class RegistrarHaltedError extends VoiceSoundboardError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('REGISTRAR_HALTED', message, options);
  }
}

/**
 * A log cannot be replayed or restored: a gap, a broken hash link, an unknown field, a decision
 * that differs from the recorded one, or a given core whose compaction policy is not the log's
 * (REGISTRAR_REPLAY_POLICY). `seq` names the first bad record (code REGISTRAR_REPLAY_*). A snapshot
 * that is malformed, tampered or wrongly signed is REGISTRAR_SNAPSHOT_INVALID, one without the
 * signature a public key asked for REGISTRAR_SNAPSHOT_UNSIGNED (seq 0).
 */
export class RegistrarReplayError extends VoiceSoundboardError {
  /** The first bad seq (0 when the problem is with a snapshot). */
  readonly seq: number;

  constructor(code: 'REGISTRAR_REPLAY_GAP' | 'REGISTRAR_REPLAY_CHAIN' | 'REGISTRAR_REPLAY_SCHEMA' | 'REGISTRAR_REPLAY_MISMATCH' | 'REGISTRAR_REPLAY_POLICY' | 'REGISTRAR_SNAPSHOT_INVALID' | 'REGISTRAR_SNAPSHOT_UNSIGNED', message: string, seq: number, options: ErrorOptions = {}) {
    super(code, message, options);
    this.seq = seq;
  }
}

/** Codes of RegistrarShareError. */
export type RegistrarShareErrorCode =
  | 'REGISTRAR_SHARE_INVALID'
  | 'REGISTRAR_NOT_SHAREABLE'
  | 'REGISTRAR_WRITER_EXISTS'
  | 'REGISTRAR_WRITER_STALLED'
  | 'REGISTRAR_WRITER_GONE'
  | 'REGISTRAR_ATTACHED';

/**
 * A registrar shared across threads could not do what was asked, always before anything was
 * decided: a share that opens nothing (REGISTRAR_SHARE_INVALID), a core that cannot be shared
 * (REGISTRAR_NOT_SHAREABLE: the reference core), a second log writer on one core
 * (REGISTRAR_WRITER_EXISTS), a log writer that stayed too far behind past the deadline
 * (REGISTRAR_WRITER_STALLED, retryable) or closed (REGISTRAR_WRITER_GONE), or what only the writer's
 * registrar does, asked of an attached one (REGISTRAR_ATTACHED).
 */
export class RegistrarShareError extends VoiceSoundboardError {
  constructor(code: RegistrarShareErrorCode, message: string, options: ErrorOptions = {}) {
    super(code, message, { retryable: code === 'REGISTRAR_WRITER_STALLED', ...options });
  }
}
