// The registrar's public edges: options, actor registration, the invariant catalogue, snapshots.
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { AttestationStore } from '../../src/attestation/store.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';
import { createDefaultCore } from '../../src/registrar/default-core.js';
import { coresUnderTest, expectAllowed, registrarWith, streamIn } from './cores.js';

describe('registrar options and registration', () => {
  it('rejects bad options with an InputError naming the field', () => {
    expect(() => new AudioRegistrar({ store: {} as AttestationStore })).toThrow(InputError);
    expect(() => new AudioRegistrar({ store: {} as AttestationStore })).toThrowError(/^AudioRegistrarOptions\.store: /);
    expect(() => new AudioRegistrar({ config: { journalBatchEntries: 0 } })).toThrowError(/^AudioRegistrarOptions\.config\.journalBatchEntries: .*\(received 0\)/);
    expect(() => new AudioRegistrar({ bogus: true } as never)).toThrow(InputError);
    expect(() => new AudioRegistrar({ core: { decide: 1 } as never })).toThrowError(/expected a DecisionCore/);
  });

  it('registerActor accepts "kind:id" and { id, kind } and rejects anything else', () => {
    const r = new AudioRegistrar({ core: new ReferenceCore() });
    expect(r.registerActor('agent:claude-1')).toMatchObject({ id: 'claude-1', kind: 'agent', key: 'agent:claude-1' });
    expect(r.registerActor({ id: 'alice', kind: 'user' })).toMatchObject({ id: 'alice', kind: 'user', key: 'user:alice' });
    expect(r.registerActor('plugin:ns:reverb')).toMatchObject({ id: 'ns:reverb', kind: 'plugin' });
    expect(() => r.registerActor('robot:x')).toThrowError(/^actor: /);
    expect(() => r.registerActor({ id: 'has space', kind: 'agent' })).toThrow(InputError);
  });

  it('VOICE_SOUNDBOARD_REGISTRAR_CORE picks the default core', () => {
    const saved = process.env.VOICE_SOUNDBOARD_REGISTRAR_CORE;
    try {
      process.env.VOICE_SOUNDBOARD_REGISTRAR_CORE = 'reference';
      expect(createDefaultCore()).toBeInstanceOf(ReferenceCore);
      delete process.env.VOICE_SOUNDBOARD_REGISTRAR_CORE;
      const fallback = createDefaultCore();
      // The addon is built by npm install (cores.ts fails loudly when it does not load): the default is native.
      expect(fallback.constructor.name).toBe('NativeCore');
      fallback.close();
    } finally {
      if (saved === undefined) delete process.env.VOICE_SOUNDBOARD_REGISTRAR_CORE;
      else process.env.VOICE_SOUNDBOARD_REGISTRAR_CORE = saved;
    }
  });

  it('the default core is a working DecisionCore', () => {
    const core = createDefaultCore();
    const r = new AudioRegistrar({ core });
    r.registerActor('agent:a');
    expectAllowed(r.requestAsHost({ action: 'start', actor: 'agent:a' }));
    core.close();
  });
});

describe.each(coresUnderTest())('catalogue and snapshots ($name core)', (core) => {
  it('listInvariants describes every invariant with its level and reason', () => {
    const r = registrarWith(core);
    const catalogue = r.listInvariants();
    expect(catalogue).toHaveLength(20);
    expect(catalogue[2]).toMatchObject({ id: 'audio.ownership.required_for_control', kind: 'domain', level: 'REJECT', reason: 'not_owner' });
    expect(catalogue.at(-1)).toMatchObject({ id: 'ordering.deterministic', kind: 'structural', reason: null });
    expect(catalogue.every((entry) => entry.rule.length > 10)).toBe(true);
  });

  it('a snapshot is versioned, hashed, frozen and JSON-serialisable', () => {
    const r = registrarWith(core);
    const target = streamIn(r, 'compiling', 'agent:claude-1', { allowPlugins: ['plugin:reverb'], userId: 'alice' });
    expectAllowed(r.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'user', scopeId: 'alice', forcedCaptions: true } }));
    // bob's override of a session he was declared in: the attestation states the declaration.
    expect(expectAllowed(r.requestAsHost({ action: 'enable_override', actor: 'user:bob', metadata: { scope: 'session', scopeId: 'den' } })).attestation.metadata.membership).toBe('declared');
    const snapshot = r.snapshot();
    expect(snapshot).toMatchObject({ kind: 'voice-soundboard.registrar-snapshot', v: '2.9.0', lastSeq: 3, lastHash: r.attestationStore.lastHash, halted: false, stateHash: r.stateHash() });
    expect(snapshot.streams[0]).toMatchObject({ streamId: target, plugins: ['plugin:reverb'], lastSeq: 1, userId: 'alice' });
    expect(snapshot.overrides).toEqual([
      { owner: 'user:bob', scope: 'session', scopeId: 'den' },
      { owner: 'user:alice', scope: 'user', scopeId: 'alice', forcedCaptions: true },
    ]);
    // Memberships the log proves: alice by her stream in "default", bob by the stated declaration.
    // The declarations no attestation stated (alice and bob in the other usual sessions) are host configuration, not snapshot state.
    expect(snapshot.memberships).toEqual([
      { userId: 'alice', sessionId: 'default', declared: false, stream: true },
      { userId: 'bob', sessionId: 'den', declared: true, stream: false },
    ]);
    expect(Object.isFrozen(snapshot.streams[0])).toBe(true);
    const restored = AudioRegistrar.restore(JSON.parse(JSON.stringify(snapshot)), [], { core: core.create() });
    expect(restored.stateHash()).toBe(r.stateHash());
    expect(restored.listMemberships()).toEqual(snapshot.memberships?.map((m) => ({ ...m, recorded: m.declared })));
    // Restored state works: alice's override still covers her stream; once she ends it the granted plugin may mutate again.
    expect(restored.requestAsHost({ action: 'mutate_graph', actor: 'plugin:reverb', target }).reason).toBe('accessibility_override');
    expectAllowed(restored.requestAsHost({ action: 'disable_override', actor: 'user:alice', metadata: { scope: 'user', scopeId: 'alice' } }));
    expectAllowed(restored.requestAsHost({ action: 'mutate_graph', actor: 'plugin:reverb', target }));
  });

  it('restore refuses a tail that does not continue the snapshot', () => {
    const r = registrarWith(core);
    streamIn(r, 'playing');
    const snapshot = r.snapshot();
    const other = registrarWith(core);
    streamIn(other, 'playing');
    other.requestAsHost({ action: 'start', actor: 'agent:claude-1' });
    expect(() => AudioRegistrar.restore(snapshot, other.attestationStore.all(), { core: core.create() })).toThrow(expect.objectContaining({ code: 'REGISTRAR_REPLAY_CHAIN', seq: 4 }));
  });
});
