/**
 * Errors of the attestation layer. Every failure to read a log is one of these, with `code` and,
 * where a record is concerned, `seq` (the record that could not be read: the last good seq + 1).
 * Codes: ATTESTATION_TORN_TAIL (a log ends in a partial record), ATTESTATION_LOG_CORRUPT (a
 * complete line is not a valid record), ATTESTATION_CHAIN_BROKEN (a record's hash or prevHash does
 * not match: tampering or reordering), ATTESTATION_SEGMENT_MISSING / ATTESTATION_SEGMENT_EXTRA /
 * ATTESTATION_SEGMENT_MISMATCH (a segmented log's files are not the ones its manifest lists, or
 * not in its order), ATTESTATION_MANIFEST_INVALID (a segmented log's manifest cannot be read or is
 * inconsistent), ATTESTATION_LOG_TOO_LARGE (readAttestationLog on a log larger than it loads),
 * ATTESTATION_IO (the log could not be read, written or synced), ATTESTATION_NOT_A_FILE (the
 * log path is a device, FIFO or socket: nothing appended there could be read back), ATTESTATION_LOG_CLOSED (append
 * after close), ATTESTATION_STORE_SEALED (a write into a store that belongs to a registrar, from
 * outside it), ATTESTATION_STORE_IN_USE (a second registrar given a store another one owns). Signing
 * (checkpoint-writer.ts): ATTESTATION_KEY_PERMISSIONS (a private key file its group or others may
 * read), ATTESTATION_CHECKPOINT_MISMATCH (the log does not hold what a checkpoint signed),
 * ATTESTATION_CHECKPOINT_INVALID (the last checkpoint names another key, or its signature fails),
 * ATTESTATION_CHECKPOINT_CORRUPT (a sidecar line that is not a checkpoint, or longer than any is),
 * ATTESTATION_CHECKPOINT_MISSING (records, no checkpoint),
 * ATTESTATION_CHECKPOINT_IO (the sidecar cannot be written).
 */
import { VoiceSoundboardError, type ErrorOptions } from '../errors.js';

/** A problem with an attestation log or store. */
export class AttestationError extends VoiceSoundboardError {
  /** The seq the problem concerns (for an unreadable line: the seq its record would have had), when known. */
  readonly seq: number | undefined;
  /** The log file, when the problem concerns one. */
  readonly path: string | undefined;

  constructor(code: string, message: string, options: ErrorOptions & { seq?: number; path?: string } = {}) {
    super(code, message, options);
    this.seq = options.seq;
    this.path = options.path;
  }
}
