/**
 * The effect gate: the only way from a registrar result to an action on a stream. It remembers
 * the result objects its registrar issued (by identity, so copies and forgeries are worthless)
 * and turns an allowed, current, unused one into a single-use permit.
 */
import { AccessibilityBypassError, RegistrarDeniedError, RegistrarHaltedError, RegistrarRequiredError } from './errors.js';
import type { TransitionAction } from './core.js';
import type { Permit, PermitExpectation, RegistrarResult } from './types.js';

interface Issued {
  consumed: boolean;
  seq: number;
}

/** Issues permits for one registrar's results. */
export class EffectGate {
  private readonly issued = new WeakMap<object, Issued>();

  /**
   * @param lastSeqOf seq of a stream's last accepted transition (null when there is no stream)
   * @param isHalted whether the registrar is halted
   */
  constructor(
    private readonly lastSeqOf: (streamId: string) => number | null,
    private readonly isHalted: () => boolean,
  ) {}

  /** Records a result object as issued by this registrar. */
  register(result: RegistrarResult): void {
    this.issued.set(result, { consumed: false, seq: result.attestation.seq });
  }

  /** See AudioRegistrar.require. */
  require(result: RegistrarResult | null | undefined, expect: PermitExpectation): Permit {
    const issued = result ? this.issued.get(result) : undefined;
    if (result && issued && result.attestation.metadata.halt === true) {
      throw new AccessibilityBypassError(`request would end an accessibility override without disable_override; registrar halted (seq ${issued.seq})`, issued.seq);
    }
    if (this.isHalted()) throw new RegistrarHaltedError('registrar is halted (fail-closed): no effect may run; recover() rebuilds it from the log');
    const wanted = `${typeof expect.action === 'string' ? expect.action : (expect.action ?? ['any action']).join('|')} on ${expect.streamId ?? 'any stream'}`;
    if (!result || !issued) throw new RegistrarRequiredError(`no decision of this registrar authorises ${wanted}: request() it first`);
    if (result.observed) throw new RegistrarRequiredError(`an observed (shadow) decision authorises nothing (seq ${issued.seq})`);
    if (!result.allowed) {
      throw new RegistrarDeniedError(`request was denied (${result.reason ?? 'unknown'}): ${result.message}`, { reason: result.reason, seq: issued.seq });
    }
    const action = result.attestation.action as TransitionAction;
    const actions = expect.action === undefined ? undefined : typeof expect.action === 'string' ? [expect.action] : expect.action;
    if (actions && !actions.includes(action)) throw new RegistrarRequiredError(`decision seq ${issued.seq} allowed ${action}, not ${actions.join('|')}`);
    if (expect.streamId !== undefined && expect.streamId !== result.streamId) {
      throw new RegistrarRequiredError(`decision seq ${issued.seq} concerns ${result.streamId ?? 'no stream'}, not ${expect.streamId}`);
    }
    if (issued.consumed) throw new RegistrarRequiredError(`decision seq ${issued.seq} was already used for an effect`);
    if (result.streamId !== null && result.attestation.stateAfter !== null) {
      const lastSeq = this.lastSeqOf(result.streamId);
      if (lastSeq !== null && lastSeq !== issued.seq) throw new RegistrarRequiredError(`decision seq ${issued.seq} on ${result.streamId} was superseded by seq ${lastSeq}`);
    }
    issued.consumed = true;
    return Object.freeze({ action, streamId: result.streamId, seq: issued.seq, attestationId: result.attestation.id });
  }
}
