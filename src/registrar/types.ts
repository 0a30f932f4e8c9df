/** Public shapes the registrar returns: decisions, stream and override views, permits. */
import type { Attestation, Violation } from '../attestation/record.js';
import type { StreamState, TransitionAction } from './core.js';

/** A stream as the registrar reports it (a frozen copy). */
export interface StreamView {
  readonly streamId: string;
  readonly state: StreamState;
  /** Owner as "kind:id", or null when unowned. */
  readonly owner: string | null;
  readonly sessionId: string;
  readonly userId: string | null;
  /** 1–10 (system 10, assistant 5, background 1). */
  readonly priority: number;
  /** +1 per accepted transition. */
  readonly version: number;
  readonly graphRevision: number;
  readonly committed: boolean;
  /** Id of the attestation of the last accepted transition. */
  readonly lastAttestation: string | null;
}

/** An active accessibility override (a frozen copy). */
export interface OverrideView {
  /** The user who enabled it, "user:id". */
  readonly owner: string;
  readonly scope: 'session' | 'user';
  readonly scopeId: string;
  readonly speechRate?: number;
  readonly pauseAmplification?: number;
  readonly forcedCaptions?: boolean;
}

/** A user's membership of a session (a frozen copy): why the user may enable a session override there. */
export interface MembershipView {
  /** The user's id (`alice` for `user:alice`). */
  readonly userId: string;
  readonly sessionId: string;
  /** The host declared it (`registerActor(user, { sessions })`). */
  readonly declared: boolean;
  /** A stream of the session was created with this userId. */
  readonly stream: boolean;
  /** An attestation stated the declaration (`metadata.membership: 'declared'`): the log proves it. */
  readonly recorded: boolean;
}

/** What `request()` and `observe()` return (frozen). */
export interface RegistrarResult {
  readonly allowed: boolean;
  readonly decision: 'allowed' | 'denied';
  /** Reason code of the first violation (§4 order), `invalid_request`, `registrar_halted`, `capacity_exhausted`, or null. */
  readonly reason: string | null;
  readonly message: string;
  /** The stream concerned (the created one for creating requests), or null. */
  readonly streamId: string | null;
  readonly violations: readonly Violation[];
  readonly appliedInvariants: readonly string[];
  /** An accessibility override covered the stream, or this was an override action. */
  readonly accessibilityDriven: boolean;
  /**
   * The decision's attestation record, exactly as the log holds it. On a registrar attached to
   * another thread's (`AudioRegistrar.attach`), `prevHash` and `hash` are empty strings: only the
   * registrar that writes the log links the chain; every other field is the logged record's.
   * With a memory store the record is sealed off the request path (`prevHash`/`hash` computed in
   * a batch when the synchronous run ends): reading this property seals it first if it is not
   * yet, so it always has its hash (docs/REGISTRAR_ARCHITECTURE.md, Request pipeline).
   */
  readonly attestation: Attestation;
  /**
   * Settles when the attestation is as durable as the store makes it: on disk for a durable log
   * (already settled on return in `fsync` mode; when its batch is written and synced in `group`
   * mode), at once for a memory store. Rejects with the log's AttestationError if the write fails. On an attached
   * registrar: when the writer has made this seq durable; it rejects if the writer halts or closes
   * first (RegistrarHaltedError, RegistrarShareError REGISTRAR_WRITER_GONE). A rejection is
   * handled: ignoring `durable` is safe.
   */
  readonly durable: Promise<void>;
  /** How the attestation is kept: `fsync` (on disk before `request()` returned), `group` (on disk with its batch), `memory` (never on disk). */
  readonly durability: ResultDurability;
  /** Whether the attestation is on disk now (read it any time: it turns true when the batch commits; never for `memory`). */
  readonly isDurable: boolean;
  /** True for `observe()` (shadow mode): nothing changed. */
  readonly observed: boolean;
}

/** How a result's attestation is kept (see RegistrarResult.durability). */
export type ResultDurability = 'fsync' | 'group' | 'memory';

export type { Permit } from './effect-gate.js';

/** What `require()` checks a result against. */
export interface PermitExpectation {
  /** The action (or one of the actions) the effect implements. */
  action?: TransitionAction | readonly TransitionAction[];
  /** The stream the effect touches. */
  streamId?: string;
}

/** An invariant as `listInvariants()` describes it. */
export interface InvariantDescription {
  readonly id: string;
  readonly kind: 'domain' | 'structural';
  readonly level: 'REJECT' | 'REJECT/HALT' | 'WARN' | 'STRUCTURAL';
  readonly reason: string | null;
  readonly rule: string;
}

/** Why a halted registrar is halted. */
export type HaltCause = 'accessibility_bypass' | 'attestation_io' | 'structural' | 'journal_overrun';

/** A halt: its cause, what happened, and the record that shows it (when one could be written). */
export interface HaltInfo {
  readonly cause: HaltCause;
  readonly message: string;
  /** Seq of the halting record, or null when none could be written (a failed log write). */
  readonly seq: number | null;
  /** Id of the halting record, or null. */
  readonly attestationId: string | null;
}

/**
 * An allowed accessibility-override decision (`enable_override`, `update_override`,
 * `disable_override`) taken on this thread, as override listeners see it.
 */
export interface OverrideEvent {
  readonly action: 'enable_override' | 'update_override' | 'disable_override';
  /** Who asked, `"kind:id"` (empty for a caught-up event). */
  readonly actor: string;
  readonly seq: number;
  readonly attestationId: string;
  /**
   * True when an attached registrar fell more than a journal length behind the other threads'
   * decisions: the overrides may have changed up to `seq` (read them with `listOverrides()`), but
   * which decisions changed them is not known here (`action` is `update_override`, `actor` empty).
   */
  readonly caughtUp?: boolean;
}

/**

 * An allowed decision on a stream, as transition listeners see it: one per allowed request that
 * touched a stream (this thread's, or another thread's read from the shared core's journal).
 */
export interface TransitionEvent {
  readonly streamId: string;
  readonly action: TransitionAction;
  /** Who asked, `"kind:id"`. */
  readonly actor: string;
  readonly stateBefore: StreamState | null;
  readonly stateAfter: StreamState;
  readonly seq: number;
  readonly attestationId: string;
  /** The request's `reason`, or null (null too for another thread's decision told to an attached registrar, which reads the journal, not the text). */
  readonly reason: string | null;
  /**
   * True when this thread fell more than a journal length behind the other threads' decisions
   * and reports the stream's current state instead of each transition it missed (`action` is the
   * one that leads into `stateAfter`, `stateBefore` null).
   */
  readonly caughtUp?: boolean;
}
