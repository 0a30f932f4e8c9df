// Session membership (spec §1, §3.1): a user enables a user-scoped override only for themselves and
// a session-scoped one only for a session they belong to, declared by the host or implied by a
// stream created with their userId. The log records what a decision relied on, so replay, restore
// and the state hash re-derive it.
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import type { Attestation } from '../../src/attestation/record.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { coresUnderTest, expectAllowed, mutableCopy, registrarWith, reseal, streamIn } from './cores.js';

describe.each(coresUnderTest())('session membership ($name core)', (core) => {
  const attic = { scope: 'session', scopeId: 'attic' } as const;

  it('a user enables a user-scoped override only for themselves', () => {
    const r = registrarWith(core);
    const foreign = r.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'user', scopeId: 'bob' } });
    expect(foreign.reason).toBe('not_owner');
    expect(foreign.violations).toEqual([
      { invariant: 'audio.ownership.required_for_control', level: 'REJECT', message: 'user:alice may enable a user-scoped override only for themselves (scopeId alice), not for user bob' },
    ]);
    expect(foreign.attestation.metadata).not.toHaveProperty('membership');
    expect(r.listOverrides()).toEqual([]);
    const own = expectAllowed(r.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'user', scopeId: 'alice' } }));
    expect(own.attestation.metadata).not.toHaveProperty('membership'); // the user scope needs no membership
  });

  it('a session-scoped override needs a member: not_owner names the session', () => {
    const r = registrarWith(core);
    const carol = r.registerActor('user:carol');
    const outsider = r.request({ action: 'enable_override', actor: carol, metadata: attic });
    expect(outsider.reason).toBe('not_owner');
    expect(outsider.message).toBe(
      'user:carol is not a member of session attic: a user enables a session override only in a session the host declared them in or one of whose streams was created with their userId',
    );
    // alice and bob are declared in the usual sessions only.
    expect(r.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: attic }).reason).toBe('not_owner');
    expect(r.listOverrides()).toEqual([]);
    expect(r.halted).toBe(false);
  });

  it('the host declares membership by name, by { id, kind } or on a handle; the attestation states it', () => {
    const r = registrarWith(core);
    const carol = r.registerActor('user:carol', { sessions: ['attic'] });
    const byCarol = expectAllowed(r.request({ action: 'enable_override', actor: carol, metadata: attic }));
    expect(byCarol.attestation.metadata.membership).toBe('declared');
    const dave = r.registerActor({ id: 'dave', kind: 'user' }, { sessions: ['cellar'] });
    expect(dave).toBe(r.registerActor('user:dave'));
    expectAllowed(r.request({ action: 'enable_override', actor: dave, metadata: { scope: 'session', scopeId: 'cellar' } }));
    // On a handle: declarations add up.
    expect(r.registerActor(carol, { sessions: ['cellar', 'porch'] })).toBe(carol);
    expectAllowed(r.request({ action: 'enable_override', actor: carol, metadata: { scope: 'session', scopeId: 'porch' } }));
    expect(r.listMemberships().filter((m) => m.userId === 'carol' || m.userId === 'dave')).toEqual([
      { userId: 'carol', sessionId: 'attic', declared: true, stream: false, recorded: true },
      { userId: 'carol', sessionId: 'cellar', declared: true, stream: false, recorded: false },
      { userId: 'carol', sessionId: 'porch', declared: true, stream: false, recorded: true },
      { userId: 'dave', sessionId: 'cellar', declared: true, stream: false, recorded: true },
    ]);
  });

  it("a stream created with a user's id makes that user a member of its session", () => {
    const r = registrarWith(core);
    const erin = r.registerActor('user:erin');
    expect(r.request({ action: 'enable_override', actor: erin, metadata: { scope: 'session', scopeId: 'garage' } }).reason).toBe('not_owner');
    streamIn(r, 'stopped', 'agent:claude-1', { sessionId: 'garage', userId: 'erin' });
    const enabled = expectAllowed(r.request({ action: 'enable_override', actor: erin, metadata: { scope: 'session', scopeId: 'garage' } }));
    expect(enabled.attestation.metadata.membership).toBe('stream');
    expect(r.listMemberships().filter((m) => m.userId === 'erin')).toEqual([{ userId: 'erin', sessionId: 'garage', declared: false, stream: true, recorded: false }]);
    // A denied creation implies nothing.
    r.requestAsHost({ action: 'start', actor: 'agent:ghost', metadata: { sessionId: 'shed', userId: 'erin' } });
    expect(r.request({ action: 'enable_override', actor: erin, metadata: { scope: 'session', scopeId: 'shed' } }).reason).toBe('not_owner');
  });

  it('registerActor options are validated: InputError naming the field', () => {
    const r = registrarWith(core);
    const cases: [unknown, string][] = [
      [{ sessions: 'attic' }, 'options.sessions'],
      [{ sessions: [''] }, 'options.sessions.0'],
      [{ sessions: [7] }, 'options.sessions.0'],
      [{ sessions: ['x'.repeat(201)] }, 'options.sessions.0'],
      [{ session: ['attic'] }, 'options'],
      ['attic', 'options'],
    ];
    for (const [options, field] of cases) {
      expect(() => r.registerActor('user:carol', options as never)).toThrow(InputError);
      expect(() => r.registerActor('user:carol', options as never)).toThrow(expect.objectContaining({ code: 'INPUT_INVALID', field }));
    }
    expect(() => r.registerActor('agent:claude-1', { sessions: ['attic'] })).toThrow(expect.objectContaining({ name: 'InputError', field: 'options.sessions', message: expect.stringContaining('only a user belongs to sessions') }));
    // Nothing was registered or declared by the failed calls.
    expect(r.requestAsHost({ action: 'enable_override', actor: 'user:carol', metadata: attic }).reason).toBe('unknown_actor');
    expect(r.listMemberships().some((m) => m.userId === 'carol')).toBe(false);
  });

  it('replay re-derives every decision from the log alone; unused declarations are not state', () => {
    const live = registrarWith(core);
    const carol = live.registerActor('user:carol', { sessions: ['attic', 'unused'] });
    live.registerActor('user:fred', { sessions: ['never-mentioned'] });
    expectAllowed(live.request({ action: 'enable_override', actor: carol, metadata: attic }));
    streamIn(live, 'playing', 'agent:claude-1', { sessionId: 'garage', userId: 'erin' });
    live.registerActor('user:erin');
    expectAllowed(live.requestAsHost({ action: 'enable_override', actor: 'user:erin', metadata: { scope: 'session', scopeId: 'garage' } }));
    live.requestAsHost({ action: 'enable_override', actor: 'user:gus', metadata: attic }); // unknown_actor
    // bob, declared in the kitchen, replaces alice's override there: the HALT replays too.
    expectAllowed(live.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'kitchen' } }));
    const halting = live.requestAsHost({ action: 'enable_override', actor: 'user:bob', metadata: { scope: 'session', scopeId: 'kitchen' } });
    expect(halting.attestation.metadata).toMatchObject({ halt: true, membership: 'declared' });
    const log = live.attestationStore.all();
    const replayed = AudioRegistrar.replay(log, { core: core.create() });
    expect(replayed.stateHash()).toBe(live.stateHash());
    expect(replayed.halted).toBe(true);
    expect(replayed.listMemberships()).toEqual([
      { userId: 'alice', sessionId: 'kitchen', declared: true, stream: false, recorded: true },
      { userId: 'bob', sessionId: 'kitchen', declared: true, stream: false, recorded: true },
      { userId: 'carol', sessionId: 'attic', declared: true, stream: false, recorded: true },
      { userId: 'erin', sessionId: 'garage', declared: false, stream: true, recorded: false },
    ]);
    // The live registrar holds the host's other declarations too; they are not in its state hash.
    expect(live.listMemberships().some((m) => m.sessionId === 'never-mentioned')).toBe(true);
  });

  it('observing an enable_override states the membership but changes nothing, and replays', () => {
    const live = registrarWith(core);
    const carol = live.registerActor('user:carol', { sessions: ['attic'] });
    const before = live.stateHash();
    const observed = live.observe({ action: 'enable_override', actor: carol, metadata: attic });
    expect(observed).toMatchObject({ allowed: true, observed: true });
    expect(observed.attestation.metadata).toMatchObject({ observed: true, membership: 'declared' });
    expect(live.listMemberships().find((m) => m.userId === 'carol')).toMatchObject({ declared: true, recorded: false });
    const afterObserve = live.stateHash();
    expect(live.listOverrides()).toEqual([]);
    const replayed = AudioRegistrar.replay(live.attestationStore.all(), { core: core.create() });
    expect(replayed.stateHash()).toBe(afterObserve);
    // Only the seq moved: the same state hash as a registrar that consumed one seq without observing.
    const other = registrarWith(core);
    other.requestAsHost({ action: 'start', actor: 'agent:ghost' });
    expect(before).not.toBe(afterObserve);
    expect(other.stateHash()).toBe(afterObserve);
  });

  it("a forged membership statement does not replay: 'declared' rewritten to 'stream' and re-sealed is a mismatch at that seq", () => {
    const live = registrarWith(core);
    const carol = live.registerActor('user:carol', { sessions: ['attic'] });
    const enabled = expectAllowed(live.request({ action: 'enable_override', actor: carol, metadata: attic }));
    live.requestAsHost({ action: 'start', actor: 'agent:claude-1' });
    const forged = mutableCopy(live.attestationStore.all());
    const seq = enabled.attestation.seq;
    const record = forged[seq - 1] as Attestation;
    forged[seq - 1] = { ...record, metadata: { ...record.metadata, membership: 'stream' } };
    expect(() => AudioRegistrar.replay(reseal(forged), { core: core.create() })).toThrow(
      expect.objectContaining({ code: 'REGISTRAR_REPLAY_MISMATCH', seq, message: `seq ${seq}: metadata.membership states 'stream', but no stream of session attic was created with userId carol before this seq` }),
    );
    // A record without a statement is a mismatch, unless the operator says the log predates the rule
    // (legacyRules): then it replays as a declared one.
    const legacy = mutableCopy(live.attestationStore.all());
    const { membership: _dropped, ...rest } = (legacy[seq - 1] as Attestation).metadata;
    void _dropped;
    legacy[seq - 1] = { ...(legacy[seq - 1] as Attestation), metadata: rest };
    expect(() => AudioRegistrar.replay(reseal(legacy), { core: core.create() })).toThrow(expect.objectContaining({ code: 'REGISTRAR_REPLAY_MISMATCH', seq }));
    expect(AudioRegistrar.replay(reseal(legacy), { core: core.create(), legacyRules: true }).listOverrides()).toEqual(live.listOverrides());
  });

  it('snapshots carry the memberships the log proves; restore plus the tail equals a full replay', () => {
    const live = registrarWith(core);
    const carol = live.registerActor('user:carol', { sessions: ['attic', 'cellar'] });
    expectAllowed(live.request({ action: 'enable_override', actor: carol, metadata: attic }));
    streamIn(live, 'compiling', 'agent:claude-1', { sessionId: 'garage', userId: 'erin' });
    const snapshot = live.snapshot();
    expect(snapshot.memberships).toEqual([
      { userId: 'carol', sessionId: 'attic', declared: true, stream: false },
      { userId: 'erin', sessionId: 'garage', declared: false, stream: true },
    ]);
    // After the snapshot: carol relies on a declaration the snapshot does not hold, erin on her stream.
    expectAllowed(live.request({ action: 'enable_override', actor: carol, metadata: { scope: 'session', scopeId: 'cellar' } }));
    live.registerActor('user:erin');
    expectAllowed(live.requestAsHost({ action: 'enable_override', actor: 'user:erin', metadata: { scope: 'session', scopeId: 'garage' } }));
    const log = live.attestationStore.all();
    const restored = AudioRegistrar.restore(JSON.parse(JSON.stringify(snapshot)), log, { core: core.create() });
    const replayed = AudioRegistrar.replay(log, { core: core.create() });
    expect(restored.stateHash()).toBe(replayed.stateHash());
    expect(restored.stateHash()).toBe(live.stateHash());
    // A tampered snapshot is refused (its hash covers the memberships).
    const tampered = { ...JSON.parse(JSON.stringify(snapshot)), memberships: [{ userId: 'mallory', sessionId: 'attic', declared: true, stream: false }] };
    expect(() => AudioRegistrar.restore(tampered, [], { core: core.create() })).toThrow(expect.objectContaining({ code: 'REGISTRAR_SNAPSHOT_INVALID' }));
  });

  // Only a native core can be shared between registrars (a writer and attached ones).
  it.runIf(core.name === 'native')('on a shared core a declaration made through the writer holds for an attached registrar; the one log states it', async () => {
    const a = new AudioRegistrar({ core: core.create() });
    const b = AudioRegistrar.attach(a.share());
    a.registerActor('user:carol', { sessions: ['attic'] });
    const carolOnB = b.registerActor('user:carol');
    const enabled = expectAllowed(b.request({ action: 'enable_override', actor: carolOnB, metadata: attic }));
    expect(enabled.attestation.metadata.membership).toBe('declared');
    expect(a.syncJournal()).toBe(1);
    expect(a.attestationStore.bySeq(enabled.attestation.seq)).toMatchObject({
      id: enabled.attestation.id,
      decision: 'allowed',
      message: 'user:carol enable_override override session:attic',
      metadata: { membership: 'declared' },
    });
    const replayed = AudioRegistrar.replay(a.attestationStore.all(), { core: core.create() });
    expect(replayed.listOverrides()).toEqual([{ owner: 'user:carol', scope: 'session', scopeId: 'attic' }]);
    expect(replayed.stateHash()).toBe(a.stateHash());
    await b.close();
    await a.close();
  });
});
