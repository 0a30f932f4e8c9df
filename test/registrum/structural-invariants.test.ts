// Structural invariants: each one trips on a log corrupted to break it (verify), and a clean log
// passes. Corruptions are re-sealed so the hash chain alone does not mask the check.
import { describe, expect, it } from 'vitest';
import type { Attestation } from '../../src/attestation/record.js';
import { verify } from '../../src/registrar/verify.js';
import { coresUnderTest, mutableCopy, registrarWith, reseal, streamIn } from './cores.js';

function cleanLog(core: Parameters<typeof registrarWith>[0]): Attestation[] {
  const r = registrarWith(core);
  const a = streamIn(r, 'playing');
  streamIn(r, 'stopped', 'agent:other');
  r.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'default' } });
  r.requestAsHost({ action: 'interrupt', actor: 'agent:other', target: a });
  r.requestAsHost({ action: 'stop', actor: 'agent:claude-1', target: a });
  return mutableCopy(r.attestationStore.all());
}

/** seq numbers (1-based) of the accepted transitions of the first stream: start, synthesize, play, stop. */
function transitionsOf(log: Attestation[], target: string | null): Attestation[] {
  return log.filter((record) => record.target === target && record.decision === 'allowed');
}

function invariantsTripped(log: unknown[]): string[] {
  return [...new Set(verify(log).errors.map((problem) => problem.invariant))];
}

describe.each(coresUnderTest())('structural invariants ($name core)', (core) => {
  it('a clean log verifies', () => {
    const report = verify(cleanLog(core), { replay: true });
    expect(report).toMatchObject({ ok: true, errors: [], warnings: [] });
  });

  it('state.identity.immutable: a transition whose parent is another stream\'s', () => {
    const log = cleanLog(core);
    const first = transitionsOf(log, log[0]!.target);
    const other = transitionsOf(log, log[3]!.target);
    // The other stream's stop names the first stream's play (earlier, childless, same state and version) as parent.
    const victim = log.find((record) => record.id === other.at(-1)!.id)!;
    Object.assign(victim, { parent: first.at(-1)!.id });
    expect(invariantsTripped(reseal(log))).toEqual(['state.identity.immutable']);
  });

  it('state.identity.explicit: an accepted transition without a stream', () => {
    const log = cleanLog(core);
    Object.assign(log[1]!, { target: null });
    expect(invariantsTripped(reseal(log))).toContain('state.identity.explicit');
  });

  it('state.identity.unique: a duplicated attestation id, and a stream created twice', () => {
    const log = cleanLog(core);
    Object.assign(log[4]!, { id: log[2]!.id });
    expect(invariantsTripped(reseal(log))).toContain('state.identity.unique');
    const twice = cleanLog(core);
    Object.assign(twice[3]!, { target: twice[0]!.target });
    const report = verify(reseal(twice));
    expect(report.errors.find((problem) => problem.invariant === 'state.identity.unique')?.message).toMatch(/created a second time/);
  });

  it('state.lineage.explicit: an accepted transition that names no parent', () => {
    const log = cleanLog(core);
    Object.assign(log[2]!, { parent: null });
    expect(invariantsTripped(reseal(log))).toEqual(['state.lineage.explicit']);
  });

  it('state.lineage.parent_exists: a parent that is not an earlier accepted transition', () => {
    const log = cleanLog(core);
    Object.assign(log[2]!, { parent: 'no-such-attestation' });
    expect(invariantsTripped(reseal(log))).toEqual(['state.lineage.parent_exists']);
  });

  it('state.lineage.single_parent: two transitions claiming the same parent (a fork)', () => {
    const log = cleanLog(core);
    Object.assign(log[2]!, { parent: log[0]!.id, stateBefore: 'compiling', version: 2 });
    expect(invariantsTripped(reseal(log))).toContain('state.lineage.single_parent');
  });

  it('state.lineage.continuous: a version jump', () => {
    const log = cleanLog(core);
    Object.assign(log[2]!, { version: 7 });
    expect(invariantsTripped(reseal(log))).toContain('state.lineage.continuous');
  });

  it('ordering.total: a duplicated seq', () => {
    const log = cleanLog(core);
    Object.assign(log[5]!, { seq: 5 });
    expect(invariantsTripped(reseal(log))).toContain('ordering.total');
  });

  it('ordering.monotonic: seq going backwards', () => {
    const log = cleanLog(core);
    const swapped = [log[0]!, log[2]!, log[1]!, ...log.slice(3)];
    expect(invariantsTripped(reseal(swapped))).toContain('ordering.monotonic');
  });

  it('ordering.gap_free: a missing record', () => {
    const log = cleanLog(core);
    const report = verify(reseal([...log.slice(0, 4), ...log.slice(5)]));
    expect(report.errors[0]).toMatchObject({ seq: 6, invariant: 'ordering.gap_free' });
  });

  it('ordering.deterministic: a re-sealed log whose decision differs from what replay decides', () => {
    const log = cleanLog(core);
    const denied = log.findIndex((record) => record.reason === 'accessibility_override');
    Object.assign(log[denied]!, { reason: 'not_owner', violations: [{ invariant: 'audio.ownership.required_for_control', level: 'REJECT', message: 'forged' }] });
    const report = verify(reseal(log), { replay: true });
    expect(report.errors).toEqual([expect.objectContaining({ seq: denied + 1, invariant: 'ordering.deterministic' })]);
    // Without replay, verify alone cannot see it (the chain and lineage are intact).
    expect(verify(reseal(log)).errors.map((problem) => problem.invariant)).not.toContain('ordering.deterministic');
  });

  it('attestation hash and prevHash: tampering without re-sealing is caught at the first bad seq', () => {
    const log = cleanLog(core);
    Object.assign(log[3]!, { message: 'edited' });
    expect(verify(log).errors[0]).toMatchObject({ seq: 4, invariant: 'attestation.hash' });
  });

  it('audio.accessibility.auditable (WARN): an override change not marked accessibility', () => {
    const log = cleanLog(core);
    const enable = log.find((record) => record.action === 'enable_override')!;
    Object.assign(enable, { accessibility: false });
    const report = verify(reseal(log));
    expect(report.ok).toBe(true);
    expect(report.warnings).toEqual([expect.objectContaining({ seq: enable.seq, invariant: 'audio.accessibility.auditable' })]);
  });

  it('an unknown field is a schema error naming its seq', () => {
    const log = cleanLog(core) as unknown as Record<string, unknown>[];
    log[2]!.extra = true;
    expect(verify(log).errors[0]).toMatchObject({ seq: 3, invariant: 'attestation.schema' });
  });
});
