/**
 * The effect gate: the only way from a registrar result to an action on a stream. It issues the
 * result objects of its registrar (branded by a private field, so copies and forgeries are
 * worthless) and turns an allowed, current, unused one into a single-use permit.
 */
import { AccessibilityBypassError, RegistrarDeniedError, RegistrarHaltedError, RegistrarRequiredError } from './errors.js';
import type { Attestation } from '../attestation/record.js';
import type { TransitionAction } from './core.js';
import type { PermitExpectation, RegistrarResult } from './types.js';

/**
 * Proof, issued once per allowed result by `registrar.require()`, that an effect may run. A class
 * with a private brand: a copy, a spread or a look-alike object is no permit. An effect that
 * outlives the call that took the permit (a stream's device sink) spends it once with
 * `registrar.spend()`, which also checks that the decision is still the stream's latest.
 */
export class Permit {
  /** The allowed action. */
  readonly action: TransitionAction;
  /** The stream it concerns, or null. */
  readonly streamId: string | null;
  /** The decision's seq. */
  readonly seq: number;
  /** The decision's attestation id. */
  readonly attestationId: string;
  readonly #gate: EffectGate;
  #spent = false;

  private constructor(gate: EffectGate, action: TransitionAction, streamId: string | null, seq: number, attestationId: string) {
    this.action = action;
    this.streamId = streamId;
    this.seq = seq;
    this.attestationId = attestationId;
    this.#gate = gate;
    Object.freeze(this);
  }

  /** @internal Issued by EffectGate only. */
  static issue(gate: EffectGate, action: TransitionAction, streamId: string | null, seq: number, attestationId: string): Permit {
    return new Permit(gate, action, streamId, seq, attestationId);
  }

  /** Whether `value` is a permit `gate` issued. */
  static issuedBy(value: unknown, gate: EffectGate): value is Permit {
    return typeof value === 'object' && value !== null && #gate in value && (value as Permit).#gate === gate;
  }

  /** Whether the permit was spent. */
  static spent(permit: Permit): boolean {
    return permit.#spent;
  }

  /** Marks the permit spent. */
  static spend(permit: Permit): void {
    permit.#spent = true;
  }
}

/**
 * A result as a gate issues it: the public RegistrarResult fields (frozen), plus private state
 * that no copy, spread or forgery can carry: the issuing gate and whether a permit was taken.
 * (Private fields are not properties: freezing does not touch them, and `#gate in value` is an
 * unforgeable brand check.) Cheaper than remembering results in a WeakMap.
 */
class IssuedResult implements RegistrarResult {
  readonly allowed: boolean;
  readonly decision: 'allowed' | 'denied';
  readonly reason: string | null;
  readonly message: string;
  readonly streamId: string | null;
  readonly violations: RegistrarResult['violations'];
  readonly appliedInvariants: readonly string[];
  readonly accessibilityDriven: boolean;
  readonly attestation: Attestation;
  readonly durable: Promise<void>;
  readonly observed: boolean;
  readonly #gate: EffectGate;
  #consumed = false;

  constructor(gate: EffectGate, record: Attestation, allowed: boolean, durable: Promise<void>, observed: boolean) {
    this.allowed = allowed;
    this.decision = record.decision;
    this.reason = record.reason;
    this.message = record.message;
    this.streamId = record.target;
    this.violations = record.violations;
    this.appliedInvariants = record.invariants;
    this.accessibilityDriven = record.accessibility;
    this.attestation = record;
    this.durable = durable;
    this.observed = observed;
    this.#gate = gate;
    Object.freeze(this);
  }

  /** Whether `value` is a result `gate` issued (not a copy, not another registrar's). */
  static issuedBy(value: unknown, gate: EffectGate): value is IssuedResult {
    return typeof value === 'object' && value !== null && #gate in value && (value as IssuedResult).#gate === gate;
  }

  /** Whether a permit was already taken for this result. */
  static consumed(result: IssuedResult): boolean {
    return result.#consumed;
  }

  /** Marks this result's permit taken. */
  static consume(result: IssuedResult): void {
    result.#consumed = true;
  }
}

/** Throws RegistrarRequiredError when a decision's action or stream is not what the effect expects. */
function checkExpected(what: string, verb: string, action: TransitionAction, streamId: string | null, expect: PermitExpectation): void {
  const actions = expect.action === undefined ? undefined : typeof expect.action === 'string' ? [expect.action] : expect.action;
  if (actions && !actions.includes(action)) throw new RegistrarRequiredError(`${what} ${verb} ${action}, not ${actions.join('|')}`);
  if (expect.streamId !== undefined && expect.streamId !== streamId) {
    throw new RegistrarRequiredError(`${what} concerns ${streamId ?? 'no stream'}, not ${expect.streamId}`);
  }
}

/** Issues permits for one registrar's results. */
export class EffectGate {
  /**
   * @param lastSeqOf seq of a stream's last accepted transition (null when there is no stream)
   * @param isHalted whether the registrar is halted
   */
  constructor(
    private readonly lastSeqOf: (streamId: string) => number | null,
    private readonly isHalted: () => boolean,
  ) {}

  /** The frozen result of an attested decision, issued by (and only usable with) this gate. */
  issue(record: Attestation, allowed: boolean, durable: Promise<void>, observed: boolean): RegistrarResult {
    return new IssuedResult(this, record, allowed, durable, observed);
  }

  /** See AudioRegistrar.require. */
  require(result: RegistrarResult | null | undefined, expect: PermitExpectation): Permit {
    const issued = IssuedResult.issuedBy(result, this) ? result : undefined;
    if (issued && issued.attestation.metadata.halt === true && issued.attestation.metadata.haltCause === 'accessibility_bypass') {
      throw new AccessibilityBypassError(`request would end an accessibility override without disable_override; registrar halted (seq ${issued.attestation.seq})`, issued.attestation.seq);
    }
    if (this.isHalted()) throw new RegistrarHaltedError('registrar is halted (fail-closed): no effect may run; recover() rebuilds it from the log');
    const wanted = `${typeof expect.action === 'string' ? expect.action : (expect.action ?? ['any action']).join('|')} on ${expect.streamId ?? 'any stream'}`;
    if (!issued) throw new RegistrarRequiredError(`no decision of this registrar authorises ${wanted}: request() it first`);
    const seq = issued.attestation.seq;
    if (issued.observed) throw new RegistrarRequiredError(`an observed (shadow) decision authorises nothing (seq ${seq})`);
    if (!issued.allowed) {
      throw new RegistrarDeniedError(`request was denied (${issued.reason ?? 'unknown'}): ${issued.message}`, { reason: issued.reason, seq });
    }
    const action = issued.attestation.action as TransitionAction;
    checkExpected(`decision seq ${seq}`, 'allowed', action, issued.streamId, expect);
    if (IssuedResult.consumed(issued)) throw new RegistrarRequiredError(`decision seq ${seq} was already used for an effect`);
    if (issued.streamId !== null && issued.attestation.stateAfter !== null) {
      const lastSeq = this.lastSeqOf(issued.streamId);
      if (lastSeq !== null && lastSeq !== seq) throw new RegistrarRequiredError(`decision seq ${seq} on ${issued.streamId} was superseded by seq ${lastSeq}`);
    }
    IssuedResult.consume(issued);
    return Permit.issue(this, action, issued.streamId, seq, issued.attestation.id);
  }

  /** See AudioRegistrar.spend. */
  spend(permit: unknown, expect: PermitExpectation): Permit {
    if (!Permit.issuedBy(permit, this)) throw new RegistrarRequiredError('not a permit of this registrar: take one with require() from an allowed result');
    if (this.isHalted()) throw new RegistrarHaltedError('registrar is halted (fail-closed): no effect may run; recover() rebuilds it from the log');
    checkExpected(`permit seq ${permit.seq}`, 'is for', permit.action, permit.streamId, expect);
    if (Permit.spent(permit)) throw new RegistrarRequiredError(`permit seq ${permit.seq} was already spent`);
    if (permit.streamId !== null) {
      const lastSeq = this.lastSeqOf(permit.streamId);
      if (lastSeq !== permit.seq) throw new RegistrarRequiredError(`permit seq ${permit.seq} on ${permit.streamId} was superseded by seq ${lastSeq ?? 'none'}`);
    }
    Permit.spend(permit);
    return permit;
  }
}

// Hardening: no caller can swap a method of this class for its own (a monkey-patched prototype would see every instance).
Object.freeze(Permit.prototype);
Object.freeze(Permit);
Object.freeze(EffectGate.prototype);
Object.freeze(EffectGate);
