// Results are branded by the effect gate that issued them (a private field, not a WeakMap entry):
// the brand survives freezing, and no copy, prototype forgery or other registrar's result has it.
import { describe, expect, it } from 'vitest';
import { RegistrarRequiredError } from '../../src/registrar/errors.js';
import type { RegistrarResult } from '../../src/registrar/types.js';
import { coresUnderTest, expectAllowed, registrarWith, streamIn } from './cores.js';

const RESULT_KEYS = ['allowed', 'decision', 'reason', 'message', 'streamId', 'violations', 'appliedInvariants', 'accessibilityDriven', 'attestation', 'durable', 'durability', 'observed'];

describe.each(coresUnderTest())('effect gate brand ($name core)', (core) => {
  it('a result is a frozen object with exactly the public fields, consistent with its attestation', () => {
    const r = registrarWith(core);
    const result = expectAllowed(r.requestAsHost({ action: 'start', actor: 'agent:claude-1' }));
    expect(Object.isFrozen(result)).toBe(true);
    expect(Object.keys(result)).toEqual(RESULT_KEYS);
    expect(result).toMatchObject({
      decision: result.attestation.decision, reason: result.attestation.reason, message: result.attestation.message,
      streamId: result.attestation.target, violations: result.attestation.violations, appliedInvariants: result.attestation.invariants,
      accessibilityDriven: result.attestation.accessibility, observed: false,
    });
  });

  it('a forgery on the result prototype, with every field copied, authorises nothing; the real one once', () => {
    const r = registrarWith(core);
    const target = streamIn(r, 'synthesizing');
    const play = expectAllowed(r.requestAsHost({ action: 'play', actor: 'agent:claude-1', target }));
    const forged = Object.assign(Object.create(Object.getPrototypeOf(play) as object) as object, play) as RegistrarResult;
    expect(forged.allowed).toBe(true);
    expect(() => r.require(forged, { action: 'play', streamId: target })).toThrowError(RegistrarRequiredError);
    expect(() => r.require(forged, { action: 'play', streamId: target })).toThrowError(/no decision of this registrar authorises play on/);
    expect(r.require(play, { action: 'play', streamId: target })).toMatchObject({ action: 'play', streamId: target, seq: play.attestation.seq });
    expect(() => r.require(play)).toThrowError(/already used/);
  });

  it("a result consumed on its own registrar is still refused by another registrar's gate", () => {
    const a = registrarWith(core);
    const b = registrarWith(core);
    const target = streamIn(a, 'synthesizing');
    const play = expectAllowed(a.requestAsHost({ action: 'play', actor: 'agent:claude-1', target }));
    expect(() => b.require(play)).toThrowError(/no decision of this registrar/);
    expect(a.require(play).seq).toBe(play.attestation.seq);
  });
});
