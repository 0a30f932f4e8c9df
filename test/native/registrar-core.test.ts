import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { InputError, NativeError } from '../../src/errors.js';
import {
  ACTOR_KINDS,
  DOMAIN_INVARIANTS,
  MEMBERSHIP_BASIS,
  NO_ID,
  REASON_CODES,
  STREAM_STATES,
  TRANSITION_ACTIONS,
  type CoreRequest,
  type DecisionCore,
  type JournalEntry,
  type ReasonCode,
  type StreamState,
  type TransitionAction,
} from '../../src/registrar/core.js';
import { NativeCore } from '../../src/registrar/native-core.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';

const kind = (name: (typeof ACTOR_KINDS)[number]): number => ACTOR_KINDS.indexOf(name);
const action = (name: TransitionAction): number => TRANSITION_ACTIONS.indexOf(name);
const state = (name: StreamState): number => STREAM_STATES.indexOf(name);
const reason = (name: ReasonCode): number => REASON_CODES.indexOf(name);
const bit = (id: (typeof DOMAIN_INVARIANTS)[number]['id']): number =>
  1 << DOMAIN_INVARIANTS.findIndex((invariant) => invariant.id === id);

const open: NativeCore[] = [];
afterEach(() => {
  for (const core of open.splice(0)) core.close();
});

function setup() {
  const core = NativeCore.create({ journalCapacity: 4096 });
  open.push(core);
  const ids = {
    alice: core.registerActor('user:alice', kind('user')),
    bob: core.registerActor('user:bob', kind('user')),
    agent: core.registerActor('agent:claude-1', kind('agent')),
    other: core.registerActor('agent:other', kind('agent')),
    plugin: core.registerActor('plugin:fx', kind('plugin')),
    system: core.registerActor('system:runtime', kind('system')),
    session: core.internScope(0, 'default'),
    aliceUser: core.internScope(1, 'alice'),
    bobUser: core.internScope(1, 'bob'),
  };
  const request = (fields: Partial<CoreRequest> & { action: number }): CoreRequest => ({
    actor: ids.agent,
    actorKind: kind('agent'),
    stream: NO_ID,
    newOwner: NO_ID,
    preemptFor: NO_ID,
    priority: 5,
    session: ids.session,
    user: NO_ID,
    overrideScope: 0,
    overrideScopeId: NO_ID,
    pluginAllowed: false,
    actorUser: NO_ID,
    ...fields,
  });
  return { core, ids, request };
}

describe('NativeCore decisions', () => {
  it('runs a stream through its lifecycle with versions, parents and gap-free seqs', () => {
    const { core, request } = setup();
    const created = core.decide(request({ action: action('start') }));
    expect(created).toMatchObject({ allowed: true, seq: 1, reason: -1, stateBefore: -1, version: 1, parentSeq: 0 });
    expect(created.stateAfter).toBe(state('compiling'));
    expect(core.streamKey(created.stream)).toBe('stream-1');
    let last = created.seq;
    for (const next of ['synthesize', 'play', 'interrupt', 'stop', 'restart'] as const) {
      const decision = core.decide(request({ action: action(next), stream: created.stream }));
      expect(decision.allowed).toBe(true);
      expect(decision.seq).toBe(last + 1);
      expect(decision.parentSeq).toBe(last);
      last = decision.seq;
    }
    expect(core.stream(created.stream)).toMatchObject({ state: state('idle'), version: 6, lastSeq: 6, committed: true });
    expect(core.stream(core.internStream('never-created'))).toBeNull();
  });

  it('reports every violated invariant in the bitmask and the first one as the reason', () => {
    const { core, ids, request } = setup();
    const id = core.internStream('s');
    core.decide(request({ action: action('claim'), stream: id }));
    const denied = core.decide(request({ action: action('play'), stream: id, actor: NO_ID }));
    expect(denied.allowed).toBe(false);
    expect(REASON_CODES[denied.reason]).toBe('unknown_actor');
    expect(denied.violations).toBe(
      bit('audio.actor.registered') | bit('audio.ownership.required_for_control') | bit('audio.lifecycle.valid_transition'),
    );
    expect(core.decide(request({ action: action('claim'), stream: id, actor: ids.other })).reason).toBe(
      reason('already_owned'),
    );
    expect(core.decide(request({ action: action('interrupt'), stream: id })).reason).toBe(reason('invalid_transition'));
    const ghost = core.decide(request({ action: action('interrupt'), stream: core.internStream('ghost') }));
    expect(REASON_CODES[ghost.reason]).toBe('terminal_state');
    expect(ghost.violations).toBe(bit('audio.lifecycle.no_dead_interrupt') | bit('audio.lifecycle.valid_transition'));
    const pluginStart = core.decide(
      request({ action: action('start'), stream: id, actor: ids.plugin, actorKind: kind('plugin') }),
    );
    expect(pluginStart.violations).toBe(
      bit('audio.ownership.required_for_control') | bit('audio.plugin.immutability'),
    );
    expect(REASON_CODES[pluginStart.reason]).toBe('not_owner');
    const bad = core.decide(request({ action: TRANSITION_ACTIONS.length }));
    expect(REASON_CODES[bad.reason]).toBe('invalid_request');
  });

  it('gives accessibility overrides supremacy and HALTs only when a registered member would replace one without disable', () => {
    const { core, ids, request } = setup();
    const id = core.internStream('s');
    for (const step of ['start', 'synthesize', 'play'] as const) core.decide(request({ action: action(step), stream: id }));
    const enable = request({
      action: action('enable_override'),
      actor: ids.alice,
      actorKind: kind('user'),
      overrideScope: 0,
      overrideScopeId: ids.session,
      actorUser: ids.aliceUser,
    });
    // Not a member of "default" yet: not_owner.
    expect(REASON_CODES[core.decide(enable).reason]).toBe('not_owner');
    core.declareMember(ids.aliceUser, ids.session, MEMBERSHIP_BASIS.declared);
    expect(core.membership(ids.aliceUser, ids.session)).toBe(MEMBERSHIP_BASIS.declared);
    expect(core.decide(enable)).toMatchObject({ allowed: true, accessibility: true });
    expect(core.overrides()).toEqual([{ owner: ids.alice, scope: 0, scopeId: ids.session, values: NO_ID }]);
    const blocked = core.decide(request({ action: action('interrupt'), stream: id }));
    expect(REASON_CODES[blocked.reason]).toBe('accessibility_override');
    expect(blocked.accessibility).toBe(true);
    expect(core.decide({ ...enable, action: action('disable_override'), actor: ids.bob }).reason).toBe(
      reason('accessibility_override'),
    );
    // Replacing it: an unregistered actor, an agent and bob outside the session are refused, never halted.
    expect(core.decide({ ...enable, actor: NO_ID })).toMatchObject({ halted: false, reason: reason('unknown_actor') });
    expect(core.decide({ ...enable, actor: ids.other, actorKind: kind('agent'), actorUser: NO_ID })).toMatchObject({ halted: false, reason: reason('accessibility_override') });
    expect(core.decide({ ...enable, actor: ids.bob, actorUser: ids.bobUser })).toMatchObject({ halted: false, reason: reason('not_owner') });
    expect(core.image().halted).toBe(false);
    core.declareMember(ids.bobUser, ids.session, MEMBERSHIP_BASIS.declared);
    const halt = core.decide({ ...enable, actor: ids.bob, actorUser: ids.bobUser });
    expect(halt).toMatchObject({ allowed: false, halted: true, reason: reason('accessibility_override') });
    const after = core.decide({ ...enable, action: action('disable_override') });
    expect(REASON_CODES[after.reason]).toBe('registrar_halted');
    expect(core.image().halted).toBe(true);
  });

  it('lets system preempt a lower-priority stream and attests it', () => {
    const { core, ids, request } = setup();
    const low = core.internStream('low');
    const high = core.internStream('high');
    for (const step of ['start', 'synthesize', 'play'] as const) core.decide(request({ action: action(step), stream: low, priority: 1 }));
    core.decide(request({ action: action('start'), stream: high, actor: ids.other, priority: 10 }));
    const preempt = core.decide(
      request({ action: action('interrupt'), stream: low, actor: ids.system, actorKind: kind('system'), preemptFor: high }),
    );
    expect(preempt).toMatchObject({ allowed: true, preemption: true, stateAfter: state('interrupting') });
    expect(core.stream(low)?.owner).toBe(ids.agent);
  });
});

describe('NativeCore journal, shadow mode and images', () => {
  it('journals decide, evaluate and reserved seqs gap-free with monotonic time', () => {
    const { core, ids, request } = setup();
    const start = core.decide(request({ action: action('start') }));
    const observed = core.evaluate(request({ action: action('synthesize'), stream: start.stream }));
    expect(observed.allowed).toBe(true);
    expect(core.stream(start.stream)?.state).toBe(state('compiling'));
    expect(core.reserveSeq()).toBe(3);
    const journal = core.readJournal(1, 100);
    expect(journal.map((entry) => [entry.seq, entry.kind])).toEqual([
      [1, 0],
      [2, 1],
      [3, 2],
    ]);
    expect(journal[0]).toMatchObject({ actor: ids.agent, action: action('start'), target: NO_ID, stream: start.stream });
    expect(journal[0]!.request).toEqual({ ...request({ action: action('start') }), grants: NO_ID, values: NO_ID });
    expect(journal[2]).toMatchObject({ actor: NO_ID, actorKind: -1, action: -1, reason: reason('invalid_request') });
    expect(journal[2]!.request).toBeUndefined();
    expect(core.streamIdOf('stream-1')).toBe(start.stream);
    expect(core.streamIdOf('unknown')).toBe(NO_ID);
    expect(typeof journal[0]!.monotonicNs).toBe('bigint');
    expect(journal[2]!.monotonicNs >= journal[0]!.monotonicNs).toBe(true);
    expect(core.readJournal(4, 10)).toEqual([]);
    expect(core.readJournal(2, 1)).toHaveLength(1);
  });

  it('answers a read of overwritten seqs from the oldest seq the ring still holds', () => {
    const core = NativeCore.create({ journalCapacity: 1024 });
    open.push(core);
    for (let index = 0; index < 1500; index += 1) core.reserveSeq();
    const entries = core.readJournal(1, 10);
    expect(entries.map((entry) => entry.seq)).toEqual(Array.from({ length: 10 }, (_, index) => 1500 - 1023 + index));
    expect(core.readJournal(1500, 10)).toHaveLength(1);
  });

  it('round-trips image() through load() into a core with the same interning', () => {
    const first = setup();
    const id = first.core.internStream('s');
    first.core.decide(first.request({ action: action('start'), stream: id, priority: 7 }));
    first.core.decide(first.request({ action: action('compile'), stream: id }));
    first.core.declareMember(first.ids.aliceUser, first.ids.session, MEMBERSHIP_BASIS.declared | MEMBERSHIP_BASIS.recorded);
    first.core.decide(
      first.request({ action: action('enable_override'), actor: first.ids.alice, actorKind: kind('user'), overrideScopeId: first.ids.session, actorUser: first.ids.aliceUser }),
    );
    const image = first.core.image();
    expect(image.lastSeq).toBe(3);
    expect(image.overrides).toEqual([{ owner: first.ids.alice, scope: 0, scopeId: first.ids.session, values: NO_ID }]);
    expect(image.memberships).toEqual([{ user: first.ids.aliceUser, session: first.ids.session, basis: 5 }]);
    expect(image.streams).toEqual([
      { stream: id, state: state('compiling'), owner: first.ids.agent, session: first.ids.session, user: NO_ID, priority: 7, version: 2, graphRevision: 1, committed: false, lastSeq: 2, grants: NO_ID },
    ]);
    const second = setup();
    expect(second.core.internStream('s')).toBe(id);
    // An invalid image changes nothing (the core is still fresh and takes the valid one).
    expect(() => second.core.load({ ...image, streams: [{ ...image.streams[0]!, stream: 999 }] })).toThrow(
      expect.objectContaining({ code: 'REGISTRAR_IMAGE_INVALID' }),
    );
    second.core.load(image);
    expect(second.core.image()).toEqual(image);
    second.core.load(image); // nothing decided since: still a restore
    expect(second.core.decide(second.request({ action: action('synthesize'), stream: id })).seq).toBe(4);
    // Once it has decided, load() would rewrite live state with no attestation: refused.
    expect(() => second.core.load(image)).toThrow(expect.objectContaining({ code: 'REGISTRAR_CORE_IN_USE' }));
    expect(second.core.image().lastSeq).toBe(4);
  });
});

describe('NativeCore lifetime and errors', () => {
  it('shares one core between objects through its share token until the last one closes', () => {
    const { core, request } = setup();
    const attached = NativeCore.attach(core.shareToken);
    expect(attached.shareToken).toBe(core.shareToken);
    expect(attached.actorId('agent:claude-1')).toBe(core.actorId('agent:claude-1'));
    // Names interned through one object are seen through the other (unknown names are not cached).
    expect(attached.streamIdOf('late')).toBe(NO_ID);
    expect(attached.actorId('agent:late')).toBe(NO_ID);
    const late = core.internStream('late');
    const lateActor = core.registerActor('agent:late', kind('agent'));
    expect(attached.streamIdOf('late')).toBe(late);
    expect(attached.streamKey(late)).toBe('late');
    expect(attached.actorId('agent:late')).toBe(lateActor);
    core.decide(request({ action: action('start') }));
    expect(attached.lastSeq()).toBe(1);
    core.close();
    core.close(); // idempotent
    expect(() => core.reserveSeq()).toThrow(expect.objectContaining({ code: 'REGISTRAR_CORE_CLOSED' }));
    expect(attached.reserveSeq()).toBe(2);
    const shareToken = attached.shareToken;
    attached.close();
    expect(() => attached.shareToken).toThrow(expect.objectContaining({ code: 'REGISTRAR_CORE_CLOSED' }));
    expect(() => NativeCore.attach(shareToken)).toThrow(NativeError);
    expect(() => NativeCore.attach(shareToken)).toThrow(expect.objectContaining({ code: 'REGISTRAR_CORE_NOT_FOUND' }));
  });

  it('rejects bad options and share tokens with InputError naming the field', () => {
    expect(() => NativeCore.create({ journalCapacity: 10 })).toThrow(InputError);
    expect(() => NativeCore.create({ journalCapacity: 10 })).toThrow(/options\.journalCapacity/);
    expect(() => NativeCore.attach(1 as unknown as string)).toThrow(InputError);
    expect(() => NativeCore.attach(1 as unknown as string)).toThrow(/shareToken/);
  });

  it('reports unknown ids and unregistered actors', () => {
    const { core } = setup();
    expect(core.actorId('agent:nobody')).toBe(NO_ID);
    expect(() => core.streamKey(12345)).toThrow(expect.objectContaining({ code: 'REGISTRAR_UNKNOWN_ID' }));
    expect(core.scopeKey(0, core.internScope(0, 'default'))).toBe('default');
    expect(core.actorKey(core.actorId('user:alice'))).toBe('user:alice');
    expect(() => core.registerActor('x', 9)).toThrow(/kind/);
    expect(() => core.registerActor('x', 9)).toThrow(InputError);
  });
});

describe('NativeCore agrees with the reference model (fast-check, raw core requests)', () => {
  it('makes the same decisions, journal and image as ReferenceCore for random request sequences', () => {
    const actors = [
      ['user:u', 'user'],
      ['user:v', 'user'],
      ['agent:a', 'agent'],
      ['agent:b', 'agent'],
      ['plugin:p', 'plugin'],
      ['system:s', 'system'],
    ] as const;
    const requestArbitrary = fc.record({
      who: fc.integer({ min: -1, max: actors.length - 1 }),
      ghostKind: fc.integer({ min: 0, max: 3 }),
      action: fc.integer({ min: 0, max: TRANSITION_ACTIONS.length - 1 }),
      stream: fc.integer({ min: -1, max: 3 }),
      newOwner: fc.integer({ min: -1, max: actors.length - 1 }),
      preemptFor: fc.integer({ min: -1, max: 3 }),
      priority: fc.integer({ min: 1, max: 10 }),
      session: fc.integer({ min: 0, max: 1 }),
      user: fc.integer({ min: -1, max: 1 }),
      overrideScope: fc.integer({ min: 0, max: 1 }),
      overrideScopeId: fc.integer({ min: 0, max: 1 }),
      pluginAllowed: fc.boolean(),
      actorUser: fc.integer({ min: -1, max: 1 }),
      shadow: fc.integer({ min: 0, max: 9 }),
      /** 0: declare a membership (user `user`, session `session`) before the request. */
      declare: fc.integer({ min: 0, max: 7 }),
      basis: fc.integer({ min: 1, max: 7 }),
      // Facade state in the core: the grant set / values a request sets, and the ones it expects (-2: none).
      grants: fc.integer({ min: -1, max: 1 }),
      values: fc.integer({ min: -1, max: 1 }),
      expectedGrants: fc.integer({ min: -2, max: 1 }),
      expectedValues: fc.integer({ min: -2, max: 1 }),
    });
    const setupCore = (core: DecisionCore) => {
      const actorIds = actors.map(([key, name]) => core.registerActor(key, kind(name)));
      const streams = ['s0', 's1', 's2', 's3'].map((key) => core.internStream(key));
      const scopes = [0, 1].map((space) => ['x', 'y'].map((key) => core.internScope(space, key)));
      const grantSets = ['["plugin:p"]', '[]'].map((text) => core.internScope(2, text));
      const valueSets = ['{"speechRate":0.7}', '{}'].map((text) => core.internScope(3, text));
      return { actorIds, streams, scopes, grantSets, valueSets };
    };
    fc.assert(
      fc.property(fc.array(requestArbitrary, { minLength: 20, maxLength: 120 }), (inputs) => {
        const native = NativeCore.create({ journalCapacity: 1024 });
        open.push(native);
        const reference = new ReferenceCore();
        const n = setupCore(native);
        const r = setupCore(reference);
        expect(n).toEqual(r);
        for (const input of inputs) {
          const pick = (index: number, ids: readonly number[]): number => (index < 0 ? NO_ID : ids[index]!);
          const request: CoreRequest = {
            actor: pick(input.who, n.actorIds),
            actorKind: input.who < 0 ? input.ghostKind : kind(actors[input.who]![1]),
            action: input.action,
            stream: pick(input.stream, n.streams),
            newOwner: pick(input.newOwner, n.actorIds),
            preemptFor: pick(input.preemptFor, n.streams),
            priority: input.priority,
            session: n.scopes[0]![input.session]!,
            user: input.user < 0 ? NO_ID : n.scopes[1]![input.user]!,
            overrideScope: input.overrideScope,
            overrideScopeId: n.scopes[input.overrideScope]![input.overrideScopeId]!,
            pluginAllowed: input.pluginAllowed,
            actorUser: input.actorUser < 0 ? NO_ID : n.scopes[1]![input.actorUser]!,
            grants: pick(input.grants, n.grantSets),
            values: pick(input.values, n.valueSets),
            ...(input.expectedGrants > -2 ? { expectedGrants: pick(input.expectedGrants, n.grantSets) } : {}),
            ...(input.expectedValues > -2 ? { expectedValues: pick(input.expectedValues, n.valueSets) } : {}),
          };
          if (input.declare === 0 && input.user >= 0) {
            native.declareMember(n.scopes[1]![input.user]!, n.scopes[0]![input.session]!, input.basis);
            reference.declareMember(r.scopes[1]![input.user]!, r.scopes[0]![input.session]!, input.basis);
          }
          if (input.shadow === 0) expect(native.evaluate(request)).toEqual(reference.evaluate(request));
          else if (input.shadow === 1) expect(native.reserveSeq()).toBe(reference.reserveSeq());
          else expect(native.decide(request)).toEqual(reference.decide(request));
        }
        // The decider is the id of the deciding native object (the reference core has none).
        const withoutClock = ({ monotonicNs: _clock, decider: _decider, ...rest }: JournalEntry) => rest;
        expect(native.readJournal(1, 200).map(withoutClock)).toEqual(reference.readJournal(1, 200).map(withoutClock));
        expect(native.image()).toEqual(reference.image());
        native.close();
      }),
      { numRuns: 300 },
    );
  });
});
