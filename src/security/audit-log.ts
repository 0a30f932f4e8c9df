/**
 * AuditLogger: security events as structured JSON lines (pino) to a destination (a file path,
 * written synchronously so an event is on disk before the call returns, or any writable stream).
 * Events: registrar denials (`registrarDecision`, for hosts that make requests) and halts, failed
 * streams and accessibility-override changes (`watchRegistrar`), rate-limit refusals, auth
 * failures, plugin violations, secret access, content-filter blocks. Every line has `time` (ISO),
 * `event`, `client`, `actor` and `reason` (a denial's or halt's own text in `detail`: `message`
 * is pino's); free text is written with invisible characters as
 * `\uXXXX`. The text a user asked to speak is never logged unless `logSpokenText` is set.
 * Logging never throws into its caller (a registrar listener, a plugin hook, an MCP tool): a line
 * that cannot be written (full disk, broken stream) is dropped, counted in `droppedEvents` and
 * reported to `onError`; a path that cannot be opened is an `InputError` at construction.
 */
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import pino, { type DestinationStream, type Logger } from 'pino';
import { z } from 'zod';
import type { AudioRegistrar } from '../registrar/registrar.js';
import type { Attestation } from '../attestation/record.js';
import type { RegistrarResult } from '../registrar/types.js';
import { InputError, VoiceSoundboardError } from '../errors.js';
import { parseInput } from '../validation.js';
import type { SecretSource } from './secrets.js';
import { visibleText } from './visible-text.js';

/** The kinds of event an AuditLogger writes (the `event` field). */
export const AUDIT_EVENTS = [
  'registrar_denied',
  'registrar_halted',
  'stream_failed',
  'override_changed',
  'rate_limited',
  'auth_failed',
  'plugin_violation',
  'secret_access',
  'content_filtered',
] as const;

/** One kind of audit event. */
export type AuditEvent = (typeof AUDIT_EVENTS)[number];

/** Who and what an event concerns; every field optional (absent ones are written as null). */
export interface AuditContext {
  /** The client (MCP session, API key id, remote address...) the event concerns. */
  client?: string;
  /** The registrar actor, `"kind:id"`. */
  actor?: string;
  streamId?: string;
}

const destinationSchema = z.union([
  z.string().min(1),
  z.custom<DestinationStream>((value) => typeof value === 'object' && value !== null && typeof (value as DestinationStream).write === 'function', 'expected a file path or a writable stream'),
]);

/** Schema of `new AuditLogger(options)`. */
export const auditLoggerOptionsSchema = z.strictObject({
  /** Where the JSON lines go: a file path (appended, written synchronously) or a writable stream. */
  destination: destinationSchema,
  /** Also log the text a user asked to speak where an event concerns it (default false). */
  logSpokenText: z.boolean().default(false),
  /** Told about each event that could not be written (`AUDIT_LOG_WRITE_FAILED`); the event is dropped, never thrown. */
  onError: z.custom<(error: VoiceSoundboardError) => void>((value) => typeof value === 'function', 'expected a function').optional(),
});

/** What callers pass to `new AuditLogger(...)`. */
export type AuditLoggerOptions = z.input<typeof auditLoggerOptionsSchema>;

function text(value: string | null | undefined): string | null {
  return value === undefined || value === null ? null : visibleText(value);
}

/**
 * Opens `path` for appending (synchronous writes); an `InputError` naming the field when it cannot
 * be opened. Opened without blocking: a FIFO no one reads is refused at once (ENXIO) instead of
 * holding the process in open(2), where no signal handler runs; a FIFO with a reader (a log
 * shipper) is written to. A block device is refused: a log line never lands on a disk's raw sectors.
 */
function openFile(path: string): DestinationStream {
  const refused = (why: string, cause?: unknown): InputError =>
    new InputError(`auditLog.destination: cannot open ${JSON.stringify(visibleText(path))} for appending (${why})`, { code: 'AUDIT_LOG_UNWRITABLE', field: 'auditLog.destination', ...(cause !== undefined ? { cause } : {}) });
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK, 0o666);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw refused(code === 'ENXIO' ? 'ENXIO: a FIFO no process reads' : code, error);
  }
  if (fstatSync(fd).isBlockDevice()) {
    closeSync(fd);
    throw refused('a block device');
  }
  return pino.destination({ fd, sync: true });
}

/** Writes security events as JSON lines (see the module comment). */
export class AuditLogger {
  readonly #logger: Logger;
  readonly #logSpokenText: boolean;
  readonly #onError: ((error: VoiceSoundboardError) => void) | undefined;
  #dropped = 0;
  #lastError: unknown;

  constructor(options: AuditLoggerOptions) {
    const parsed = parseInput(auditLoggerOptionsSchema, options, 'auditLog');
    this.#onError = parsed.onError;
    const destination = typeof parsed.destination === 'string' ? openFile(parsed.destination) : parsed.destination;
    // A stream that reports a failed write as an event must not crash the process for want of a listener.
    (destination as Partial<NodeJS.EventEmitter>).on?.('error', (error: unknown) => this.#drop(error));
    this.#logger = pino({ base: null, timestamp: pino.stdTimeFunctions.isoTime, messageKey: 'message', formatters: { level: (label) => ({ level: label }) } }, destination);
    this.#logSpokenText = parsed.logSpokenText;
  }

  /** Writes one event; `details` fields are free text or numbers. */
  #write(event: AuditEvent, context: AuditContext, reason: string | null, details: Record<string, string | number | boolean | null> = {}, spokenText?: string): void {
    const line: Record<string, unknown> = {
      event,
      client: text(context.client),
      actor: text(context.actor),
      ...(context.streamId !== undefined ? { streamId: text(context.streamId) } : {}),
      reason: text(reason),
    };
    for (const [key, value] of Object.entries(details)) line[key] = typeof value === 'string' ? visibleText(value) : value;
    if (this.#logSpokenText && spokenText !== undefined) line.spokenText = visibleText(spokenText);
    try {
      this.#logger.warn(line, 'security event');
    } catch (error) {
      this.#drop(error);
    }
  }

  /** Events that could not be written (full disk, broken stream) and were dropped. */
  get droppedEvents(): number {
    return this.#dropped;
  }

  #drop(error: unknown): void {
    // A file stream both throws a failed write and emits it: one failure, one drop.
    if (error === this.#lastError) return;
    this.#lastError = error;
    this.#dropped += 1;
    const code = (error as NodeJS.ErrnoException | undefined)?.code ?? (error instanceof Error ? error.message : 'error');
    try {
      this.#onError?.(new VoiceSoundboardError('AUDIT_LOG_WRITE_FAILED', `audit log: an event could not be written (${visibleText(String(code)).slice(0, 100)}); it was dropped`, { cause: error }));
    } catch {
      // The host's handler failing is no reason to fail the caller either.
    }
  }

  /**
   * Logs every failed stream, halt and accessibility-override change of `registrar` until the
   * returned function is called. Denials are not announced by the registrar: pass each result of
   * a request to `registrarDecision`.
   */
  watchRegistrar(registrar: AudioRegistrar, context: Pick<AuditContext, 'client'> = {}): () => void {
    const stops = [
      registrar.onTransition((event) => {
        if (event.action !== 'fail') return;
        this.#write('stream_failed', { ...context, actor: event.actor, streamId: event.streamId }, event.reason, { attestationId: event.attestationId });
      }),
      registrar.onHalt((halt) => this.#write('registrar_halted', context, halt.cause, { detail: halt.message, attestationId: halt.attestationId })),
      // A caught-up event (an attached registrar that fell behind) names no decision: nothing to log.
      registrar.onOverride((event) => {
        if (event.caughtUp !== true) this.#write('override_changed', { ...context, actor: event.actor }, event.action, { attestationId: event.attestationId });
      }),
    ];
    return () => {
      for (const stop of stops) stop();
    };
  }

  /** Logs a registrar request's result when it was denied (allowed ones are the attestation log's business); returns the result. */
  registrarDecision(result: RegistrarResult, context: AuditContext = {}): RegistrarResult {
    if (!result.allowed) this.registrarDenial(result.attestation, { ...context, ...(result.streamId !== null && context.streamId === undefined ? { streamId: result.streamId } : {}) });
    return result;
  }

  /**
   * Logs a denial from its attestation record: for a denial the caller only saw as a thrown
   * `RegistrarDeniedError` (look the record up by its `seq`). Without the record, `context.reason`
   * and `context.message` say what is known.
   */
  registrarDenial(record: Attestation | null, context: AuditContext & { reason?: string; message?: string } = {}): void {
    const { reason, message, ...who } = context;
    const recorded = record?.actor;
    const actor = who.actor ?? (recorded ? `${recorded.kind}:${recorded.id}` : undefined);
    const streamId = who.streamId ?? record?.target ?? undefined;
    this.#write('registrar_denied', { ...who, ...(streamId !== undefined ? { streamId } : {}), ...(actor !== undefined ? { actor } : {}) }, record?.reason ?? reason ?? 'denied', {
      action: record?.action ?? null,
      detail: record?.message ?? message ?? null,
      attestationId: record?.id ?? null,
    });
  }

  /** A rate limiter refused a client (the MCP server and the CLI server mode call this). */
  rateLimited(context: AuditContext & { limit: string; retryAfterMs: number }): void {
    this.#write('rate_limited', context, `${context.limit} limit reached`, { limit: context.limit, retryAfterMs: context.retryAfterMs });
  }

  /** A client failed to authenticate. */
  authFailed(context: AuditContext & { reason: string }): void {
    this.#write('auth_failed', context, context.reason);
  }

  /** A plugin did something its sandbox or permissions forbid. */
  pluginViolation(context: AuditContext & { plugin: string; reason: string }): void {
    this.#write('plugin_violation', context, context.reason, { plugin: context.plugin });
  }

  /** A secret was read or refused (pass as SecretManager's `onAccess`; the key is never given to it). */
  readonly secretAccess = (event: { name: string; source: SecretSource; outcome: 'read' | 'refused'; reason?: string }): void => {
    this.#write('secret_access', {}, event.reason ?? null, { secret: event.name, source: event.source, outcome: event.outcome });
  };

  /** A content filter denied or replaced a text; `spokenText` is logged only with `logSpokenText`. */
  contentFiltered(context: AuditContext & { decision: 'deny' | 'replace'; reason: string; spokenText?: string }): void {
    this.#write('content_filtered', context, context.reason, { decision: context.decision }, context.spokenText);
  }

  /** Writes what is buffered (stream destinations); file destinations are already synchronous. */
  flush(): Promise<void> {
    return new Promise((resolve, reject) => this.#logger.flush((error) => (error ? reject(error) : resolve())));
  }
}
