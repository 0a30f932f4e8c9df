/**
 * The effect gate: the only way from a registrar result to an action on a stream. It issues the
 * result objects of its registrar (branded by a private field, so copies and forgeries are
 * worthless) and turns an allowed, current, unused one into a single-use permit.
 *
 * Durability: each result says how its record is kept (`durability`: `fsync`, `group` or
 * `memory`) and whether it is on disk yet (`isDurable`). With the registrar option
 * `effectsAwaitDurability`, an audible effect (`play`) is authorised only once its record is on
 * disk: `require()` refuses a `play` result whose group commit has not happened yet, and
 * `requireDurable()` waits for it. Ending effects (interrupt, stop, fail) are never held back:
 * silencing sooner is the safe side, and their records follow in the next commit.
 *
 * Sealing: a memory store seals records off the request path (store.ts `stage`), so a result may
 * be issued for a record not sealed yet. Its `attestation` is an accessor that seals the store's
 * staged records first: whoever reads it gets the sealed, frozen record, as the log holds it.
 */
import { AccessibilityBypassError, RegistrarDeniedError, RegistrarHaltedError, RegistrarRequiredError } from './errors.js';
import type { Attestation } from '../attestation/record.js';
import type { TransitionAction } from './core.js';
import type { PermitExpectation, RegistrarResult, ResultDurability } from './types.js';

/** What the gate knows of its registrar's store, read when asked (the store is the registrar's). */
export interface GateDurability {
  /** How records are kept now. */
  mode(): ResultDurability;
  /** The last seq on disk (meaningless for `memory`). */
  durableSeq(): number;
  /** Whether audible effects wait for their record to be on disk (`effectsAwaitDurability`). */
  effectsAwait(): boolean;
  /** Seals the records the store staged (see the file comment). */
  seal(): void;
}

/** Effects that make sound: held back until their record is durable under `effectsAwaitDurability`. */
const AUDIBLE_ACTIONS: ReadonlySet<TransitionAction> = new Set<TransitionAction>(['play']);

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
  // `attestation` is an own enumerable accessor (ATTESTATION_PROPERTY): the record, sealed first
  // when it was staged. It and the fields after it are defined in the constructor (not as class
  // fields), so the keys keep their order and redefining a field costs nothing.
  declare readonly attestation: Attestation;
  declare readonly durable: Promise<void>;
  declare readonly durability: ResultDurability;
  declare readonly observed: boolean;
  readonly #gate: EffectGate;
  /** The record, possibly still staged (empty `hash`, not frozen): never handed out as it is. */
  readonly #record: Attestation;
  #consumed = false;

  constructor(gate: EffectGate, record: Attestation, allowed: boolean, durable: Promise<void>, observed: boolean, durability: ResultDurability) {
    this.allowed = allowed;
    this.decision = record.decision;
    this.reason = record.reason;
    this.message = record.message;
    this.streamId = record.target;
    this.violations = record.violations;
    this.appliedInvariants = record.invariants;
    this.accessibilityDriven = record.accessibility;
    Object.defineProperty(this, 'attestation', ATTESTATION_PROPERTY);
    this.durable = durable;
    this.durability = durability;
    this.observed = observed;
    this.#gate = gate;
    this.#record = record;
    Object.freeze(this);
  }

  /** The record as the log holds it: sealed first when the store staged it. */
  static sealedRecord(result: IssuedResult): Attestation {
    const record = result.#record;
    if (!Object.isFrozen(record)) result.#gate.sealStaged();
    return record;
  }

  /** The record, sealed or not, for the gate's and the registrar's own reads of fields other than the hashes. */
  static recordOf(result: IssuedResult): Attestation {
    return result.#record;
  }

  /** Whether the record is on disk now: at once with `fsync`, once its batch is with `group`, never with `memory`. */
  get isDurable(): boolean {
    return this.durability !== 'memory' && this.#gate.onDisk(this.#record.seq);
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

/** `attestation` of every result: one shared descriptor, so defining it allocates nothing per result. */
const ATTESTATION_PROPERTY: PropertyDescriptor = Object.freeze({
  enumerable: true,
  configurable: false,
  get(this: IssuedResult): Attestation {
    return IssuedResult.sealedRecord(this);
  },
});

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
    private readonly durability: GateDurability,
  ) {}

  /** The frozen result of an attested decision, issued by (and only usable with) this gate. `unrecorded`: never written to the log. */
  issue(record: Attestation, allowed: boolean, durable: Promise<void>, observed: boolean, unrecorded = false): RegistrarResult {
    return new IssuedResult(this, record, allowed, durable, observed, unrecorded ? 'memory' : this.durability.mode());
  }

  /** Seals the records the store staged. */
  sealStaged(): void {
    this.durability.seal();
  }

  /**
   * The record of a result this gate issued, sealed or not (its `hash` may still be empty): for the
   * registrar's own reads of its other fields. Undefined for anything else. @internal
   */
  recordOf(result: RegistrarResult): Attestation | undefined {
    return IssuedResult.issuedBy(result, this) ? IssuedResult.recordOf(result) : undefined;
  }

  /** Whether the record with this seq is on disk. */
  onDisk(seq: number): boolean {
    return this.durability.durableSeq() >= seq;
  }

  /** See AudioRegistrar.require. */
  require(result: RegistrarResult | null | undefined, expect: PermitExpectation): Permit {
    const issued = this.check(result, expect);
    if (this.durability.effectsAwait() && AUDIBLE_ACTIONS.has(IssuedResult.recordOf(issued).action as TransitionAction) && issued.durability !== 'memory' && !issued.isDurable) {
      throw new RegistrarRequiredError(
        `decision seq ${IssuedResult.recordOf(issued).seq} (${IssuedResult.recordOf(issued).action ?? '?'}) is not on disk yet and effectsAwaitDurability is set: take its permit with await registrar.requireDurable(result)`,
      );
    }
    IssuedResult.consume(issued);
    return Permit.issue(this, IssuedResult.recordOf(issued).action as TransitionAction, issued.streamId, IssuedResult.recordOf(issued).seq, IssuedResult.recordOf(issued).id);
  }

  /** See AudioRegistrar.requireDurable: checks now, waits until the record is on disk, then takes the permit (checking again). */
  async requireDurable(result: RegistrarResult | null | undefined, expect: PermitExpectation): Promise<Permit> {
    const issued = this.check(result, expect);
    await issued.durable; // rejects with the log's AttestationError (the registrar halts on it)
    return this.require(issued, expect);
  }

  /** Every check of `require` except durability, without taking the permit; returns the issued result. */
  private check(result: RegistrarResult | null | undefined, expect: PermitExpectation): IssuedResult {
    const issued = IssuedResult.issuedBy(result, this) ? result : undefined;
    if (issued && IssuedResult.recordOf(issued).metadata.halt === true && IssuedResult.recordOf(issued).metadata.haltCause === 'accessibility_bypass') {
      throw new AccessibilityBypassError(`request would end an accessibility override without disable_override; registrar halted (seq ${IssuedResult.recordOf(issued).seq})`, IssuedResult.recordOf(issued).seq);
    }
    if (this.isHalted()) throw new RegistrarHaltedError('registrar is halted (fail-closed): no effect may run; recover() rebuilds it from the log');
    const wanted = `${typeof expect.action === 'string' ? expect.action : (expect.action ?? ['any action']).join('|')} on ${expect.streamId ?? 'any stream'}`;
    if (!issued) throw new RegistrarRequiredError(`no decision of this registrar authorises ${wanted}: request() it first`);
    const seq = IssuedResult.recordOf(issued).seq;
    if (issued.observed) throw new RegistrarRequiredError(`an observed (shadow) decision authorises nothing (seq ${seq})`);
    if (!issued.allowed) {
      throw new RegistrarDeniedError(`request was denied (${issued.reason ?? 'unknown'}): ${issued.message}`, { reason: issued.reason, seq });
    }
    const action = IssuedResult.recordOf(issued).action as TransitionAction;
    checkExpected(`decision seq ${seq}`, 'allowed', action, issued.streamId, expect);
    if (IssuedResult.consumed(issued)) throw new RegistrarRequiredError(`decision seq ${seq} was already used for an effect`);
    if (issued.streamId !== null && IssuedResult.recordOf(issued).stateAfter !== null) {
      const lastSeq = this.lastSeqOf(issued.streamId);
      if (lastSeq !== null && lastSeq !== seq) throw new RegistrarRequiredError(`decision seq ${seq} on ${issued.streamId} was superseded by seq ${lastSeq}`);
    }
    return issued;
  }

  /** The stream of a spent `play` permit of this gate (AudioRegistrar.streamWatch); throws RegistrarRequiredError otherwise. */
  playedStream(permit: unknown): string {
    if (!Permit.issuedBy(permit, this) || !Permit.spent(permit) || permit.action !== 'play' || permit.streamId === null) {
      throw new RegistrarRequiredError('streamWatch needs a spent play permit of this registrar (StreamSink.open spends it)');
    }
    return permit.streamId;
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
