// request() never throws on capacity: when a core cannot intern another stream, session or user
// id, the request is denied `capacity_exhausted` and attested like any decision; replay adopts
// such a record (it is about the writer's tables, not the log). Cores here have tiny capacities.
import { describe, expect, it } from 'vitest';
import { FULL_ID, type DecisionCore } from '../../src/registrar/core.js';
import { NativeCore } from '../../src/registrar/native-core.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { verify } from '../../src/registrar/verify.js';
import { expectAllowed } from './cores.js';

interface CoreOptions {
  streamCapacity?: number;
  scopeCapacity?: number;
  compaction?: false | { periodSeqs: number; retainSeqs: number };
}
const CORES: { name: string; create(options: CoreOptions): DecisionCore }[] = [
  { name: 'reference', create: (options) => new ReferenceCore({ journalCapacity: 1024, ...options }) },
  { name: 'native', create: (options) => new NativeCore({ journalCapacity: 1024, ...options }) },
];

function registrarOn(core: DecisionCore): AudioRegistrar {
  const registrar = new AudioRegistrar({ core });
  registrar.registerActor('agent:claude-1');
  registrar.registerActor('user:alice');
  return registrar;
}

describe.each(CORES)('capacity ($name core)', (factory) => {
  it('a full stream table denies capacity_exhausted (attested, nothing thrown) and replay adopts the denial', () => {
    const registrar = registrarOn(factory.create({ streamCapacity: 3, compaction: false }));
    for (let index = 0; index < 3; index += 1) expectAllowed(registrar.requestAsHost({ action: 'start', actor: 'agent:claude-1' }));
    const results = [
      registrar.requestAsHost({ action: 'start', actor: 'agent:claude-1' }),
      registrar.requestAsHost({ action: 'claim', actor: 'agent:claude-1', target: 'one-more' }),
      registrar.requestAsHost({ action: 'interrupt', actor: 'agent:claude-1', target: 'unknown-target' }),
    ];
    for (const result of results) {
      expect(result).toMatchObject({ allowed: false, reason: 'capacity_exhausted', appliedInvariants: [] });
      expect(result.message).toMatch(/capacity exhausted/);
      expect(result.attestation).toMatchObject({ decision: 'denied', reason: 'capacity_exhausted', stateBefore: null, stateAfter: null });
    }
    expect(registrar.listStates()).toHaveLength(3);
    // Existing streams still work.
    const first = registrar.listStates()[0]?.streamId ?? '';
    expectAllowed(registrar.requestAsHost({ action: 'synthesize', actor: 'agent:claude-1', target: first }));
    const log = registrar.attestationStore.all();
    expect(verify(log, { replay: true })).toMatchObject({ ok: true, errors: [] });
    // A replay core with room does not re-decide the denial: the record is adopted as written.
    const replayed = AudioRegistrar.replay(log, { core: factory.create({ compaction: false }) }); // the log's policy: none
    expect(replayed.stateHash()).toBe(registrar.stateHash());
    expect(replayed.attestationStore.all()).toEqual(log);
  });

  it('a full session or user table denies capacity_exhausted too', () => {
    const registrar = registrarOn(factory.create({ scopeCapacity: 2 }));
    expectAllowed(registrar.requestAsHost({ action: 'start', actor: 'agent:claude-1' }));
    expectAllowed(registrar.requestAsHost({ action: 'start', actor: 'agent:claude-1', metadata: { sessionId: 'kitchen' } }));
    // "default" and "kitchen" fill the session table.
    expect(registrar.requestAsHost({ action: 'start', actor: 'agent:claude-1', metadata: { sessionId: 'den' } }).reason).toBe('capacity_exhausted');
    expectAllowed(registrar.requestAsHost({ action: 'start', actor: 'agent:claude-1', metadata: { userId: 'alice' } }));
    expectAllowed(registrar.requestAsHost({ action: 'start', actor: 'agent:claude-1', metadata: { userId: 'bob' } }));
    expect(registrar.requestAsHost({ action: 'start', actor: 'agent:claude-1', metadata: { userId: 'carol' } }).reason).toBe('capacity_exhausted');
    expect(
      registrar.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'user', scopeId: 'dave' } }),
    ).toMatchObject({ allowed: false, reason: 'capacity_exhausted', accessibilityDriven: true });
    expect(verify(registrar.attestationStore.all(), { replay: true }).ok).toBe(true);
  });

  it('the core answers FULL_ID when interning fails, and decides a request carrying it as capacity_exhausted', () => {
    const core = factory.create({ streamCapacity: 1, compaction: false });
    expect(core.internStream('a')).toBeGreaterThanOrEqual(0);
    expect(core.internStream('b')).toBe(FULL_ID);
    expect(core.internStream('a')).toBeGreaterThanOrEqual(0); // a known key still resolves
    core.close();
  });

  it('with compaction, ended streams free their ids: a long run on a small table is never denied', () => {
    // Room for what is live, what is retained and one journal length (1024 seqs) of freed ids.
    const registrar = registrarOn(factory.create({ streamCapacity: 400, compaction: { periodSeqs: 32, retainSeqs: 16 } }));
    for (let index = 0; index < 2000; index += 1) {
      const started = expectAllowed(registrar.requestAsHost({ action: 'start', actor: 'agent:claude-1' }));
      for (const action of ['synthesize', 'play', 'stop']) expectAllowed(registrar.requestAsHost({ action, actor: 'agent:claude-1', target: started.streamId }));
    }
  });

  it('negative: the same run without compaction runs out of ids (denied, not thrown)', () => {
    const registrar = registrarOn(factory.create({ streamCapacity: 400, compaction: false }));
    const reasons = new Set<string | null>();
    for (let index = 0; index < 500; index += 1) reasons.add(registrar.requestAsHost({ action: 'start', actor: 'agent:claude-1' }).reason);
    expect([...reasons]).toEqual([null, 'capacity_exhausted']);
  });

  it('capacity denials decided through an attached registrar are logged by the writer, nothing thrown', () => {
    const writer = registrarOn(factory.create({ streamCapacity: 1, scopeCapacity: 1, compaction: false }));
    if (factory.name === 'reference') {
      expect(() => writer.share()).toThrow(expect.objectContaining({ code: 'REGISTRAR_NOT_SHAREABLE' }));
      return;
    }
    const deciding = AudioRegistrar.attach(writer.share());
    expectAllowed(deciding.requestAsHost({ action: 'start', actor: 'agent:claude-1' }));
    expect(deciding.requestAsHost({ action: 'start', actor: 'agent:claude-1' }).reason).toBe('capacity_exhausted');
    expect(deciding.requestAsHost({ action: 'start', actor: 'agent:claude-1', target: 'x', metadata: { sessionId: 'other' } }).reason).toBe('capacity_exhausted');
    expect(writer.syncJournal()).toBe(3);
    const attested = writer.attestationStore.all().filter((record) => record.reason === 'capacity_exhausted');
    expect(attested).toHaveLength(2);
    expect(verify(writer.attestationStore.all(), { replay: true }).ok).toBe(true);
  });

  it('rejects a bad capacity naming the field', () => {
    expect(() => factory.create({ streamCapacity: 0 })).toThrow(/streamCapacity/);
  });
});
