// 4.8.1 Mediation: nothing changes stream state without an allowed decision of the registrar.
import { describe, expect, it } from 'vitest';
import { RegistrarDeniedError, RegistrarRequiredError } from '../../src/registrar/errors.js';
import { coresUnderTest, expectAllowed, registrarWith, streamIn } from './cores.js';

describe.each(coresUnderTest())('mediation ($name core)', (core) => {
  it('the runtime cannot act without a decision: require(undefined) throws RegistrarRequiredError', () => {
    const r = registrarWith(core);
    expect(() => r.require(undefined, { action: 'play' })).toThrow(RegistrarRequiredError);
    expect(() => r.require(null)).toThrowError(/no decision of this registrar authorises any action on any stream/);
    expect(() => r.require(undefined, { action: 'interrupt', streamId: 's1' })).toThrow(
      expect.objectContaining({ name: 'RegistrarRequiredError', code: 'REGISTRAR_REQUIRED' }),
    );
  });

  it('a forged or copied result is not a decision (plugin or runtime fabricating "allowed")', () => {
    const r = registrarWith(core);
    const target = streamIn(r, 'synthesizing');
    const denied = r.requestAsHost({ action: 'play', actor: 'plugin:rogue', target });
    expect(denied.allowed).toBe(false);
    const forged = { ...denied, allowed: true, decision: 'allowed' as const };
    expect(() => r.require(forged, { action: 'play', streamId: target })).toThrow(RegistrarRequiredError);
    expect(() => {
      (denied as { allowed: boolean }).allowed = true;
    }).toThrow(TypeError);
    expect(() => r.require(denied, { action: 'play' })).toThrow(RegistrarDeniedError);
  });

  it('a result of another registrar authorises nothing here', () => {
    const a = registrarWith(core);
    const b = registrarWith(core);
    const result = expectAllowed(a.requestAsHost({ action: 'start', actor: 'agent:claude-1' }));
    expect(() => b.require(result)).toThrow(RegistrarRequiredError);
  });

  it('stream views are frozen copies: mutating one throws and changes nothing', () => {
    const r = registrarWith(core);
    const target = streamIn(r, 'playing');
    const view = r.getState(target);
    expect(() => {
      (view as { state: string }).state = 'stopped';
    }).toThrow(TypeError);
    expect(r.getState(target)?.state).toBe('playing');
    expect(Object.isFrozen(r.listStates())).toBe(true);
  });

  it('an allowed result yields exactly one permit, for its own action and stream, while it is current', () => {
    const r = registrarWith(core);
    const target = streamIn(r, 'synthesizing');
    const play = expectAllowed(r.requestAsHost({ action: 'play', actor: 'agent:claude-1', target }));
    expect(() => r.require(play, { action: 'interrupt' })).toThrowError(/allowed play, not interrupt/);
    expect(() => r.require(play, { streamId: 'other' })).toThrowError(/concerns .* not other/);
    const permit = r.require(play, { action: ['play', 'synthesize'], streamId: target });
    expect(permit).toMatchObject({ action: 'play', streamId: target, seq: play.attestation.seq, attestationId: play.attestation.id });
    expect(Object.isFrozen(permit)).toBe(true);
    expect(() => r.require(play)).toThrowError(/already used/);
  });

  it('a superseded decision cannot be acted on (play permit after an interrupt)', () => {
    const r = registrarWith(core);
    const target = streamIn(r, 'synthesizing');
    const play = expectAllowed(r.requestAsHost({ action: 'play', actor: 'agent:claude-1', target }));
    expectAllowed(r.requestAsHost({ action: 'interrupt', actor: 'agent:claude-1', target }));
    expect(() => r.require(play, { action: 'play' })).toThrowError(/superseded by seq/);
  });

  it('an observed (shadow) decision authorises nothing', () => {
    const r = registrarWith(core);
    const target = streamIn(r, 'synthesizing');
    const observed = r.observeAsHost({ action: 'play', actor: 'agent:claude-1', target });
    expect(observed.allowed).toBe(true);
    expect(() => r.require(observed)).toThrowError(/observed \(shadow\) decision authorises nothing/);
  });

  it('runEffect runs the effect only with a permit', () => {
    const r = registrarWith(core);
    const target = streamIn(r, 'playing');
    let effects = 0;
    expect(() => r.runEffect(undefined, { action: 'interrupt', streamId: target }, () => (effects += 1))).toThrow(RegistrarRequiredError);
    const denied = r.requestAsHost({ action: 'interrupt', actor: 'agent:other', target });
    expect(() => r.runEffect(denied, { action: 'interrupt' }, () => (effects += 1))).toThrow(RegistrarDeniedError);
    expect(effects).toBe(0);
    const allowed = expectAllowed(r.requestAsHost({ action: 'interrupt', actor: 'agent:claude-1', target }));
    expect(r.runEffect(allowed, { action: 'interrupt', streamId: target }, (permit) => permit.seq)).toBe(allowed.attestation.seq);
  });
});
