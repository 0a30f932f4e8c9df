// Actors are capabilities (issue 7.4): request()/observe() take only this registrar's ActorHandle;
// names are for the explicit trusted entry point requestAsHost(); the core is unreachable.
import { describe, expect, it } from 'vitest';
import { ActorHandle } from '../../src/registrar/actor-handle.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { coresUnderTest, expectAllowed, registrarWith, streamIn } from './cores.js';

describe.each(coresUnderTest())('actor handles ($name core)', (core) => {
  it('registerActor returns one frozen handle per actor; request() with it is allowed', () => {
    const r = new AudioRegistrar({ core: core.create() });
    const agent = r.registerActor('agent:claude-1');
    expect(agent).toBeInstanceOf(ActorHandle);
    expect(r.registerActor('agent:claude-1')).toBe(agent);
    expect(Object.isFrozen(agent)).toBe(true);
    expect(String(agent)).toBe('agent:claude-1');
    expect(JSON.stringify({ actor: agent })).toBe('{"actor":"agent:claude-1"}');
    const started = expectAllowed(r.request({ action: 'start', actor: agent }));
    expect(started.attestation.actor).toEqual({ id: 'claude-1', kind: 'agent' });
    expect(r.getState(started.streamId ?? '')?.owner).toBe('agent:claude-1');
  });

  it('an agent that holds only its handle cannot act as a user through request() or observe(): names, copies, look-alikes and other registrars\' handles are denied and attested', () => {
    const r = registrarWith(core);
    const agent = r.registerActor('agent:claude-1');
    const other = new AudioRegistrar({ core: core.create() });
    const foreignAlice = other.registerActor('user:alice');
    const target = streamIn(r, 'playing', 'agent:claude-1', { sessionId: 'kitchen' });
    expectAllowed(r.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'kitchen' } }));
    expect(r.request({ action: 'interrupt', actor: agent, target }).reason).toBe('accessibility_override');
    const forgeries: unknown[] = [
      'user:alice',
      { id: 'alice', kind: 'user' },
      { id: 'alice', kind: 'user', key: 'user:alice' },
      { ...r.registerActor('user:alice') },
      JSON.parse(JSON.stringify(r.registerActor('user:alice'))),
      Object.create(r.registerActor('user:alice')),
      foreignAlice,
      new Proxy(r.registerActor('user:alice'), {}),
    ];
    const before = r.attestationStore.lastSeq;
    for (const actor of forgeries) {
      for (const action of ['interrupt', 'stop', 'fail'] as const) {
        const denied = r.request({ action, actor, target });
        expect(denied.allowed, `${action} as ${String(actor)}`).toBe(false);
        expect(denied.reason).toBe('invalid_request');
        expect(denied.message).toMatch(/^invalid request: actor: /);
      }
      expect(r.request({ action: 'disable_override', actor, metadata: { scope: 'session', scopeId: 'kitchen' } }).reason).toBe('invalid_request');
      expect(r.observe({ action: 'interrupt', actor, target }).reason).toBe('invalid_request');
    }
    expect(r.attestationStore.lastSeq - before).toBe(forgeries.length * 5);
    expect(r.getState(target)?.state).toBe('playing');
    expect(r.listOverrides()).toHaveLength(1);
    // The user's own handle works, through the same entry point.
    expectAllowed(r.request({ action: 'interrupt', actor: r.registerActor('user:alice'), target }));
  });

  it("a forged actor's denial is not attributed to the actor it named: the record names no actor, and the log shows the user only her own requests", () => {
    const r = registrarWith(core);
    r.registerActor('agent:claude-1');
    const alice = r.registerActor('user:alice');
    const target = streamIn(r, 'playing', 'agent:claude-1', { sessionId: 'kitchen' });
    const own = expectAllowed(r.request({ action: 'enable_override', actor: alice, metadata: { scope: 'session', scopeId: 'kitchen' } }));
    // A getter that throws on the reads that decide and names her on the next one (what the record would read again).
    let reads = 0;
    const shifty = { action: 'disable_override', metadata: { scope: 'session', scopeId: 'kitchen' }, get actor() { reads += 1; if (reads <= 2) throw new Error('not now'); return 'user:alice'; } };
    const forged = [
      r.request({ action: 'disable_override', actor: 'user:alice', metadata: { scope: 'session', scopeId: 'kitchen' } }),
      r.request({ action: 'interrupt', actor: { id: 'alice', kind: 'user' }, target }),
      r.observe({ action: 'stop', actor: JSON.parse(JSON.stringify(alice)), target }),
      r.request(shifty),
    ];
    for (const denied of forged) {
      expect(denied).toMatchObject({ allowed: false, reason: 'invalid_request' });
      expect(denied.attestation.actor).toBeNull();
    }
    // What was asked stays in the record, and so does the name it gave (in the issue, not as the requester).
    expect(forged[0]?.attestation.action).toBe('disable_override');
    expect(forged[1]?.attestation.target).toBe(target);
    expect(r.attestationStore.query({ actor: 'user:alice' }).map((record) => record.id)).toEqual([own.attestation.id]);
    // The host's trusted entry point still names the actor of a malformed request.
    expect(r.requestAsHost({ action: 'interrupt', actor: 'user:alice', target: '' }).attestation.actor).toEqual({ id: 'alice', kind: 'user' });
  });

  it('a transfer may name its new owner by handle or name; another registrar\'s handle is refused', () => {
    const r = registrarWith(core);
    const agent = r.registerActor('agent:claude-1');
    const target = streamIn(r, 'playing');
    const foreign = new AudioRegistrar({ core: core.create() }).registerActor('agent:other');
    const refused = r.request({ action: 'transfer', actor: agent, target, metadata: { newOwner: foreign } });
    expect(refused.reason).toBe('invalid_request');
    // Who asked is proven (its own handle, or the host by name): the record names them, and the issue the field at fault.
    expect(refused.attestation.actor).toEqual({ id: 'claude-1', kind: 'agent' });
    expect(refused.attestation.metadata.issues).toEqual([{ path: 'metadata.newOwner', message: 'an ActorHandle of another registrar' }]);
    const byHost = r.requestAsHost({ action: 'transfer', actor: 'agent:claude-1', target, metadata: { newOwner: foreign } });
    expect(byHost.attestation.actor).toEqual({ id: 'claude-1', kind: 'agent' });
    expectAllowed(r.request({ action: 'transfer', actor: agent, target, metadata: { newOwner: r.registerActor('agent:other') } }));
    expect(r.getState(target)?.owner).toBe('agent:other');
  });

  it("the registrar's store takes records only from it: appending or adopting from outside, or sharing it with a second registrar, is refused", () => {
    const r = registrarWith(core);
    const target = streamIn(r, 'playing');
    const last = r.attestationStore.bySeq(r.attestationStore.lastSeq);
    expect(last).toBeDefined();
    const forged = { ...last!, seq: last!.seq + 1, action: 'stop' as const, stateBefore: 'playing' as const, stateAfter: 'stopped' as const };
    const { hash: _hash, prevHash: _prevHash, ...body } = forged;
    void [_hash, _prevHash];
    expect(() => r.attestationStore.append(body)).toThrow(expect.objectContaining({ code: 'ATTESTATION_STORE_SEALED' }));
    expect(() => r.attestationStore.append(body, {})).toThrow(expect.objectContaining({ code: 'ATTESTATION_STORE_SEALED' }));
    expect(() => r.attestationStore.adopt([forged])).toThrow(expect.objectContaining({ code: 'ATTESTATION_STORE_SEALED' }));
    expect(() => new AudioRegistrar({ core: core.create(), store: r.attestationStore })).toThrow(expect.objectContaining({ code: 'ATTESTATION_STORE_IN_USE' }));
    expect(r.getState(target)?.state).toBe('playing');
    expect(r.attestationStore.lastSeq).toBe(last!.seq);
  });

  it('handles cannot be constructed, and the registrar hands out neither its core nor a symbol-keyed door to it', () => {
    const r = registrarWith(core);
    const Construct = ActorHandle as unknown as new (...args: unknown[]) => ActorHandle;
    expect(() => new Construct(Symbol('x'), {}, 'user', 'alice')).toThrow(TypeError);
    expect('core' in r).toBe(false);
    expect(Object.getOwnPropertySymbols(AudioRegistrar.prototype)).toEqual([]);
    expect(Object.getOwnPropertySymbols(r)).toEqual([]);
    const reachable = [...Object.getOwnPropertyNames(r), ...Object.getOwnPropertyNames(AudioRegistrar.prototype)];
    for (const name of reachable) {
      const value = (r as unknown as Record<string, unknown>)[name];
      expect(typeof value === 'object' && value !== null && typeof (value as { decide?: unknown }).decide === 'function', name).toBe(false);
    }
  });

  it('no internal member is reachable at run time: the core, the effect gate, the config and the attesting methods are #private', () => {
    const r = registrarWith(core);
    const agent = r.registerActor('agent:claude-1');
    const target = r.request({ action: 'start', actor: agent }).streamId ?? '';
    r.request({ action: 'synthesize', actor: agent, target });
    // TypeScript `private` is a compile-time word: these were plain properties, and through them a
    // caller reached the core (`book.core`) or forged an allowed play (`gate.issue(...)`) whose
    // permit require() and spend() accepted with no play decision in the log.
    const loose = r as unknown as Record<string, unknown>;
    for (const name of ['book', 'gate', 'config', 'facadeHalt', 'coreHalted', 'replaying', 'base', 'handle', 'finish', 'attestDecision', 'attestInvalid', 'attestForeign', 'haltFromFacade', 'replayRecord', 'registerForReplay', 'toCoreRequest', 'lookupStream', 'stateImage']) {
      expect(loose[name], name).toBeUndefined();
    }
    expect(Object.getOwnPropertyNames(r)).toEqual(['attestationStore']);
    expect(Object.getOwnPropertyNames(AudioRegistrar.prototype).sort()).toEqual(
      [
        'constructor', 'share', 'role', 'registerActor', 'issued', 'snapshot', 'baseSnapshot', 'recover', 'request', 'observe', 'requestAsHost', 'observeAsHost',
        'getState', 'listStates', 'listOverrides', 'overrideFor', 'listMemberships', 'listInvariants', 'halted', 'haltCause', 'onHalt', 'onOverride',
        'onTransition', 'spend', 'streamWatch', 'require', 'requireDurable', 'effectsAwaitDurability', 'runEffect', 'syncJournal', 'stateHash', 'flush', 'close',
      ].sort(),
    );
    expect(r.getState(target)?.state).toBe('synthesizing');
  });
});

describe('exported classes cannot be patched', () => {
  it('swapping a method of the registrar, engine, output or handle prototypes throws (strict mode) and changes nothing', async () => {
    const { VoiceEngine } = await import('../../src/engine/voice-engine.js');
    const { AudioOutput } = await import('../../src/audio/output.js');
    for (const [name, prototype, method] of [
      ['AudioRegistrar', AudioRegistrar.prototype, 'request'],
      ['VoiceEngine', VoiceEngine.prototype, 'interrupt'],
      ['AudioOutput', AudioOutput.prototype, 'interrupt'],
      ['ActorHandle', ActorHandle.prototype, 'toString'],
    ] as const) {
      const before = (prototype as unknown as Record<string, unknown>)[method];
      expect(() => {
        (prototype as unknown as Record<string, unknown>)[method] = () => undefined;
      }, name).toThrow(TypeError);
      expect((prototype as unknown as Record<string, unknown>)[method]).toBe(before);
    }
    expect(() => Object.defineProperty(AudioRegistrar, 'replay', { value: () => undefined })).toThrow(TypeError);
    // The native core's class is reachable through createDefaultCore().constructor: frozen too.
    const { NativeCore } = await import('../../src/registrar/native-core.js');
    expect(Object.isFrozen(NativeCore.prototype) && Object.isFrozen(NativeCore)).toBe(true);
  });
});
