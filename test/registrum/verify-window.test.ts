// verify's bounded memory of attestation ids (VERIFY_RECENT_RECORDS recent records, plus each live
// stream's latest transition, kept in one map): what it still sees of a record further back than the
// window, and what it documents it does not. Corruptions are re-sealed so the hash chain alone does
// not mask the check.
import { describe, expect, it } from 'vitest';
import type { Attestation } from '../../src/attestation/record.js';
import { VERIFY_RECENT_RECORDS, verify } from '../../src/registrar/verify.js';
import { coresUnderTest, mutableCopy, registrarWith, reseal, streamIn } from './cores.js';

const reference = coresUnderTest()[0]!;

/**
 * A log where one stream plays through more than the window of other records (short streams,
 * each started and stopped), then is stopped, then one denied request: the long stream's `play`
 * is further back than the window when its `stop` names it as parent.
 */
function longLog(): { log: Attestation[]; play: Attestation; stop: Attestation; denied: Attestation } {
  const r = registrarWith(reference);
  const long = streamIn(r, 'playing');
  while (r.attestationStore.lastSeq < VERIFY_RECENT_RECORDS + 64) streamIn(r, 'stopped', 'agent:other');
  r.requestAsHost({ action: 'stop', actor: 'agent:claude-1', target: long });
  r.requestAsHost({ action: 'interrupt', actor: 'agent:other', target: long }); // denied: not the owner
  const log = mutableCopy(r.attestationStore.all());
  const ofLong = log.filter((record) => record.target === long);
  return { log, play: ofLong.find((record) => record.action === 'play')!, stop: ofLong.find((record) => record.action === 'stop')!, denied: log.at(-1)! };
}

describe('verify: ids further back than the recent window', () => {
  const { log, play, stop, denied } = longLog();

  it('a live stream\'s latest transition stays a parent past the window', () => {
    expect(log.at(-1)!.seq - play.seq).toBeGreaterThan(VERIFY_RECENT_RECORDS);
    expect(stop.parent).toBe(play.id);
    expect(verify(log)).toMatchObject({ ok: true, errors: [] });
  });

  it('an id reused from a live stream\'s latest transition past the window is state.identity.unique', () => {
    const copy = mutableCopy(log);
    const reuser = copy.at(-3)!; // the last short stream's stop, just before the long stream's stop
    expect(reuser.seq - play.seq).toBeGreaterThan(VERIFY_RECENT_RECORDS);
    Object.assign(reuser, { id: play.id });
    const report = verify(reseal(copy));
    expect(report.errors[0]).toMatchObject({ seq: reuser.seq, invariant: 'state.identity.unique' });
  });

  it('a parent past the window that is no stream\'s latest is state.lineage.parent_exists', () => {
    const copy = mutableCopy(log);
    const old = copy[5]!; // a transition of a short stream, long stopped
    expect(old.decision).toBe('allowed');
    Object.assign(copy.find((record) => record.id === stop.id)!, { parent: old.id });
    const report = verify(reseal(copy));
    expect(report.errors).toEqual([expect.objectContaining({ seq: stop.seq, invariant: 'state.lineage.parent_exists' })]);
  });

  it('documented limit: an id reused from past the window that is no stream\'s latest is not seen', () => {
    const copy = mutableCopy(log);
    Object.assign(copy.at(-1)!, { id: copy[5]!.id });
    expect(verify(reseal(copy))).toMatchObject({ ok: true });
    // Within the window the same reuse is seen.
    const near = mutableCopy(log);
    Object.assign(near.at(-1)!, { id: near.at(-3)!.id });
    expect(verify(reseal(near)).errors).toEqual([expect.objectContaining({ seq: denied.seq, invariant: 'state.identity.unique' })]);
  });
});
