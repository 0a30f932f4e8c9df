/**
 * Errors of the attestation layer. Codes: ATTESTATION_TORN_TAIL (a log ends in a partial record),
 * ATTESTATION_LOG_CORRUPT (a complete line is not a valid record), ATTESTATION_CHAIN_BROKEN (a
 * record's hash or prevHash does not match: tampering or reordering), ATTESTATION_IO (the log
 * could not be written or synced), ATTESTATION_LOG_CLOSED (append after close),
 * ATTESTATION_STORE_SEALED (a write into a store that belongs to a registrar, from outside it),
 * ATTESTATION_STORE_IN_USE (a second registrar given a store another one owns). Signing
 * (checkpoint-writer.ts): ATTESTATION_KEY_PERMISSIONS (a private key file its group or others may
 * read), ATTESTATION_CHECKPOINT_MISMATCH (the log does not hold what a checkpoint signed),
 * ATTESTATION_CHECKPOINT_INVALID (a checkpoint's signature fails), ATTESTATION_CHECKPOINT_CORRUPT
 * (a sidecar line that is not a checkpoint), ATTESTATION_CHECKPOINT_MISSING (records, no checkpoint),
 * ATTESTATION_CHECKPOINT_IO (the sidecar cannot be written).
 */
import { VoiceSoundboardError, type ErrorOptions } from '../errors.js';

/** A problem with an attestation log or store. */
export class AttestationError extends VoiceSoundboardError {
  /** The seq (or 1-based line for unreadable lines) the problem was found at, when known. */
  readonly seq: number | undefined;
  /** The log file, when the problem concerns one. */
  readonly path: string | undefined;

  constructor(code: string, message: string, options: ErrorOptions & { seq?: number; path?: string } = {}) {
    super(code, message, options);
    this.seq = options.seq;
    this.path = options.path;
  }
}
