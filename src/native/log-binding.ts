/**
 * The attestation log's part of the addon (native/binding/log_append_wrap.cc): one call that
 * hashes a record's canonical text, writes its log line and fdatasyncs it. Only
 * src/attestation/durable-log.ts uses this.
 */

/** Float64 slots of the `out` array of appendSealedLine. */
export const SEALED_APPEND_OUT_SLOTS = 3;
/** out[1] after appendSealedLine: every byte written and synced. */
export const SEALED_APPEND_OK = 0;
/** out[1]: `write` failed (out[2] its errno, out[0] the bytes written before). */
export const SEALED_APPEND_WRITE_FAILED = 1;
/** out[1]: written, `fdatasync` failed (out[2] its errno). */
export const SEALED_APPEND_SYNC_FAILED = 2;

/** The log's exports. */
export interface LogBinding {
  /**
   * Hashes `head + tail` (SHA-256 of the UTF-8), writes `head,"hash":"<hex>"tail\n` to `fd` and
   * fdatasyncs it; returns the hex hash (undefined when it cannot run here: the caller uses its JS
   * path). out[0] bytes written, out[1] status (SEALED_APPEND_*), out[2] errno.
   */
  appendSealedLine(fd: number, head: string, tail: string, out: Float64Array): string | undefined;
}
