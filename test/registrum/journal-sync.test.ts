// Several registrars on one shared core (as worker threads share the native core): each attests
// the decisions of the others from the core's journal, so every store stays gap-free and replayable.
import { describe, expect, it } from 'vitest';
import { ReferenceCore } from '../../src/registrar/reference-core.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { verify } from '../../src/registrar/verify.js';
import { coresUnderTest, expectAllowed } from './cores.js';

const withoutIds = (r: AudioRegistrar) => r.listStates().map(({ lastAttestation: _ignored, ...rest }) => rest);

describe.each(coresUnderTest())('journal sync on a shared core ($name core)', (coreUnderTest) => {
  it('attests foreign seqs in order before its own, and syncJournal() catches up on demand', () => {
    const core = coreUnderTest.create();
    const a = new AudioRegistrar({ core });
    const b = new AudioRegistrar({ core });
    a.registerActor('agent:one');
    b.registerActor('agent:two');
    b.registerActor('user:alice');
    const first = expectAllowed(a.requestAsHost({ action: 'start', actor: 'agent:one', target: 'a1', metadata: { sessionId: 'den', userId: 'alice', priority: 'background' } }));
    a.requestAsHost({ action: 'transfer', actor: 'agent:one', target: 'a1', metadata: { newOwner: 'agent:two' } });
    const own = expectAllowed(b.requestAsHost({ action: 'start', actor: 'agent:two', target: 'b1' }));
    expect(own.attestation.seq).toBe(3);
    expect(b.attestationStore.all().map((record) => [record.seq, record.metadata.origin ?? 'local'])).toEqual([[1, 'journal'], [2, 'journal'], [3, 'local']]);
    const foreign = b.attestationStore.bySeq(1);
    expect(foreign).toMatchObject({ actor: { id: 'one', kind: 'agent' }, action: 'start', target: 'a1', decision: 'allowed', stateAfter: 'compiling', version: 1 });
    expect(foreign?.parameters).toEqual({ metadata: { sessionId: 'den', userId: 'alice', priority: 1 } });
    expect(b.attestationStore.bySeq(2)?.metadata.transferredFrom).toBe('agent:one');
    expect(b.attestationStore.bySeq(2)?.parent).toBe(foreign?.id);
    expect(first.attestation.id).not.toBe(foreign?.id);

    b.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: { scope: 'user', scopeId: 'alice' } });
    b.requestAsHost({ action: 'interrupt', actor: 'agent:two', target: 'a1' });
    expect(a.syncJournal()).toBe(3);
    expect(a.attestationStore.lastSeq).toBe(5);
    expect(a.syncJournal()).toBe(0);
    for (const registrar of [a, b]) {
      const log = registrar.attestationStore.all();
      expect(verify(log).ok).toBe(true);
      expect(withoutIds(AudioRegistrar.replay(log, { core: coreUnderTest.create() }))).toEqual(withoutIds(registrar));
    }
  });

  it('a registrar that fell further behind than the journal holds halts instead of writing a gap', () => {
    const core = new ReferenceCore({ journalCapacity: 4 });
    const a = new AudioRegistrar({ core });
    const b = new AudioRegistrar({ core });
    a.registerActor('agent:one');
    for (let index = 0; index < 6; index += 1) a.requestAsHost({ action: 'start', actor: 'agent:one' });
    expect(b.requestAsHost({ action: 'start', actor: 'agent:one' }).reason).toBe('registrar_halted');
    expect(b.halted).toBe(true);
    expect(b.haltCause?.cause).toBe('journal_overrun');
  });
});
