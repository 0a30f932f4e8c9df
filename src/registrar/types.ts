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

/** What `request()` and `observe()` return (frozen). */
export interface RegistrarResult {
  readonly allowed: boolean;
  readonly decision: 'allowed' | 'denied';
  /** Reason code of the first violation (§4 order), `invalid_request`, `registrar_halted`, or null. */
  readonly reason: string | null;
  readonly message: string;
  /** The stream concerned (the created one for creating requests), or null. */
  readonly streamId: string | null;
  readonly violations: readonly Violation[];
  readonly appliedInvariants: readonly string[];
  /** An accessibility override covered the stream, or this was an override action. */
  readonly accessibilityDriven: boolean;
  /** The decision's attestation record. */
  readonly attestation: Attestation;
  /** Settles when the attestation is durable (immediately without a durable log). */
  readonly durable: Promise<void>;
  /** True for `observe()` (shadow mode): nothing changed. */
  readonly observed: boolean;
}

/** Proof, issued once per allowed result by `require()`, that an effect may run. */
export interface Permit {
  readonly action: TransitionAction;
  readonly streamId: string | null;
  readonly seq: number;
  readonly attestationId: string;
}

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
