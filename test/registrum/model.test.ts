// Model test (fast-check): random request sequences over several actors and streams. Every core
// under test gives the same decisions as the reference core; every stream is always in a defined
// state; a denial changes nothing; replay of the produced log equals the live state.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STREAM_STATES, TRANSITION_ACTIONS } from '../../src/registrar/core.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import type { RegistrarResult } from '../../src/registrar/types.js';
import { verify } from '../../src/registrar/verify.js';
import { coresUnderTest, type CoreUnderTest } from './cores.js';

const ACTORS = ['agent:a', 'agent:b', 'user:u', 'user:v', 'plugin:p', 'system:s', 'agent:ghost'] as const;
const REGISTERED = ACTORS.filter((actor) => actor !== 'agent:ghost');
const STREAMS = ['s1', 's2', 's3'] as const;

const metadataArbitrary = fc.record(
  {
    sessionId: fc.constantFrom('x', 'y'),
    userId: fc.constantFrom('u', 'v'),
    priority: fc.constantFrom('system', 'assistant', 'background', 3, 8),
    newOwner: fc.constantFrom(...ACTORS),
    preemptFor: fc.constantFrom(...STREAMS),
    scope: fc.constantFrom('session', 'user'),
    scopeId: fc.constantFrom('x', 'y', 'u', 'v'),
    speechRate: fc.constantFrom(0.5, 1.5),
    allowPlugins: fc.constant(['plugin:p']),
  },
  { requiredKeys: [] },
);

const requestArbitrary = fc.oneof(
  { weight: 20, arbitrary: fc.record({ action: fc.constantFrom(...TRANSITION_ACTIONS), actor: fc.constantFrom(...ACTORS), target: fc.constantFrom(...STREAMS), metadata: metadataArbitrary }) },
  { weight: 1, arbitrary: fc.record({ action: fc.constantFrom('start', 'claim'), actor: fc.constantFrom(...ACTORS) }) },
  { weight: 1, arbitrary: fc.anything() },
);

/** What must be equal between two cores for one request. */
function decisionOf(result: RegistrarResult): unknown {
  const record = result.attestation;
  return {
    allowed: result.allowed, reason: result.reason, violations: result.violations.map((v) => [v.invariant, v.level]),
    invariants: record.invariants, accessibility: record.accessibility, stateBefore: record.stateBefore, stateAfter: record.stateAfter,
    version: record.version, seq: record.seq, metadata: record.metadata, target: STREAMS.includes(record.target as 's1') ? record.target : typeof record.target,
  };
}

function fresh(core: CoreUnderTest): AudioRegistrar {
  const registrar = new AudioRegistrar({ core: core.create() });
  for (const actor of REGISTERED) registrar.registerActor(actor);
  return registrar;
}

describe('registrar model (fast-check)', () => {
  const cores = coresUnderTest();

  it(`all cores (${cores.map((core) => core.name).join(', ')}) decide alike, states stay defined, denials change nothing, replay equals live`, () => {
    fc.assert(
      fc.property(fc.array(requestArbitrary, { minLength: 1, maxLength: 80 }), (requests) => {
        const registrars = cores.map(fresh);
        const [oracle, ...others] = registrars as [AudioRegistrar, ...AudioRegistrar[]];
        for (const request of requests) {
          const target = typeof request === 'object' && request !== null && 'target' in request ? String(request.target) : null;
          const before = target ? oracle.getState(target) : null;
          const expected = oracle.requestAsHost(request);
          for (const other of others) expect(decisionOf(other.requestAsHost(request))).toEqual(decisionOf(expected));
          if (!expected.allowed && target) expect(oracle.getState(target)).toEqual(before);
          if (expected.allowed && before && expected.attestation.stateAfter !== null) expect(oracle.getState(target ?? '')?.version).toBe(before.version + 1);
          for (const stream of oracle.listStates()) expect(STREAM_STATES).toContain(stream.state);
        }
        const log = oracle.attestationStore.all();
        expect(log).toHaveLength(requests.length);
        const replayed = AudioRegistrar.replay(log, { core: cores[0]!.create() });
        expect(replayed.stateHash()).toBe(oracle.stateHash());
        for (const other of others) expect(other.listStates().filter((s) => STREAMS.includes(s.streamId as 's1'))).toEqual(oracle.listStates().filter((s) => STREAMS.includes(s.streamId as 's1')).map((s) => ({ ...s, lastAttestation: expect.any(String) })));
        expect(verify(log).ok).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
