// Model test (fast-check): random request sequences over several actors and streams, with the host
// declaring session memberships in between. Every core under test gives the same decisions as the
// reference core; every stream is always in a defined state; a denial changes nothing; replay of
// the produced log equals the live state. The generators reach the issue-8 paths (two overrides
// covering one stream, fail under an override, declared and stream-implied membership, a member's
// HALT); a coverage count checks they were reached.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STREAM_STATES, TRANSITION_ACTIONS } from '../../src/registrar/core.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import type { RegistrarResult } from '../../src/registrar/types.js';
import { verify } from '../../src/registrar/verify.js';
import { coresUnderTest, type CoreUnderTest } from './cores.js';

const ACTORS = ['agent:a', 'agent:b', 'user:u', 'user:v', 'plugin:p', 'system:s', 'agent:ghost', 'user:ghost'] as const;
const REGISTERED = ACTORS.filter((actor) => !actor.endsWith(':ghost'));
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
  // Override actions by users, aimed at the scopes streams are created in (overrides that cover).
  {
    weight: 6,
    arbitrary: fc.record({
      action: fc.constantFrom('enable_override', 'enable_override', 'update_override', 'disable_override'),
      actor: fc.constantFrom('user:u', 'user:v', 'user:ghost'),
      metadata: fc.constantFrom({ scope: 'session', scopeId: 'x' }, { scope: 'session', scopeId: 'y' }, { scope: 'user', scopeId: 'u' }, { scope: 'user', scopeId: 'v' }),
    }),
  },
  // An agent's streams in the sessions and for the users the overrides name.
  {
    weight: 6,
    arbitrary: fc.record({
      action: fc.constantFrom('start', 'synthesize', 'play'),
      actor: fc.constant('agent:a'),
      target: fc.constantFrom(...STREAMS),
      metadata: fc.record({ sessionId: fc.constantFrom('x', 'y'), userId: fc.constantFrom('u', 'v') }),
    }),
  },
  // Anyone trying to end, take or change a stream (guarded by overrides).
  {
    weight: 6,
    arbitrary: fc.record({
      action: fc.constantFrom('interrupt', 'stop', 'fail', 'transfer', 'mutate_graph'),
      actor: fc.constantFrom(...ACTORS),
      target: fc.constantFrom(...STREAMS),
      metadata: fc.record({ newOwner: fc.constantFrom('agent:b', 'user:u') }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ action: fc.constantFrom('start', 'claim'), actor: fc.constantFrom(...ACTORS) }) },
  { weight: 1, arbitrary: fc.anything() },
);

/** The host declares a user a member of sessions (not a request: no attestation). */
const declareArbitrary = fc.record({ declare: fc.constantFrom('user:u', 'user:v'), sessions: fc.subarray(['x', 'y'], { minLength: 1 }) });

/** A host declaration step. */
type Declaration = { declare: string; sessions: string[] };

function isDeclaration(step: unknown): step is Declaration {
  return typeof step === 'object' && step !== null && 'declare' in step && 'sessions' in step;
}

/** Two members of one session: the second replaces the first's override there (a HALT). */
const takeover: readonly unknown[] = [
  { declare: 'user:u', sessions: ['y'] },
  { declare: 'user:v', sessions: ['y'] },
  { action: 'enable_override', actor: 'user:u', metadata: { scope: 'session', scopeId: 'y' } },
  { action: 'enable_override', actor: 'user:v', metadata: { scope: 'session', scopeId: 'y' } },
];

/** Steps: requests and host declarations; in about one run in four, a member's takeover somewhere. */
const stepsArbitrary = fc
  .tuple(
    fc.array(fc.oneof({ weight: 12, arbitrary: requestArbitrary }, { weight: 1, arbitrary: declareArbitrary }), { minLength: 1, maxLength: 80, size: 'medium' }),
    fc.nat({ max: 319 }),
  )
  .map(([steps, at]) => (at >= 80 ? steps : [...steps.slice(0, at), ...takeover, ...steps.slice(at)]));

/** How often each issue-8 path was reached over the whole run. */
const reached = { declared: 0, stream: 0, twoCovering: 0, failUnderOverride: 0, memberHalt: 0 };

/** Counts the issue-8 paths a decided request reached (read on the oracle after it). */
function countPaths(registrar: AudioRegistrar, request: unknown, result: RegistrarResult): void {
  const membership = result.attestation.metadata.membership;
  if (result.allowed && membership === 'declared') reached.declared += 1;
  if (result.allowed && membership === 'stream') reached.stream += 1;
  if (result.violations.some((v) => v.level === 'HALT')) reached.memberHalt += 1;
  if (typeof request !== 'object' || request === null) return;
  const fields = request as { action?: unknown; target?: unknown };
  const stream = typeof fields.target === 'string' ? registrar.getState(fields.target) : null;
  if (!stream) return;
  const covering = registrar.listOverrides().filter((o) => (o.scope === 'session' ? o.scopeId === stream.sessionId : o.scopeId === stream.userId));
  if (covering.length === 2) reached.twoCovering += 1;
  if (fields.action === 'fail' && result.violations.some((v) => v.invariant === 'audio.accessibility.supremacy')) reached.failUnderOverride += 1;
}

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
      fc.property(stepsArbitrary, (steps) => {
        const registrars = cores.map(fresh);
        const [oracle, ...others] = registrars as [AudioRegistrar, ...AudioRegistrar[]];
        let requests = 0;
        for (const request of steps) {
          if (isDeclaration(request)) {
            for (const registrar of registrars) registrar.registerActor(request.declare, { sessions: request.sessions });
            continue;
          }
          requests += 1;
          const target = typeof request === 'object' && request !== null && 'target' in request ? String(request.target) : null;
          const before = target ? oracle.getState(target) : null;
          const expected = oracle.requestAsHost(request);
          countPaths(oracle, request, expected);
          for (const other of others) expect(decisionOf(other.requestAsHost(request))).toEqual(decisionOf(expected));
          if (!expected.allowed && target) expect(oracle.getState(target)).toEqual(before);
          if (expected.allowed && before && expected.attestation.stateAfter !== null) expect(oracle.getState(target ?? '')?.version).toBe(before.version + 1);
          for (const stream of oracle.listStates()) expect(STREAM_STATES).toContain(stream.state);
        }
        const log = oracle.attestationStore.all();
        expect(log).toHaveLength(requests);
        const replayed = AudioRegistrar.replay(log, { core: cores[0]!.create() });
        expect(replayed.stateHash()).toBe(oracle.stateHash());
        for (const other of others) expect(other.listStates().filter((s) => STREAMS.includes(s.streamId as 's1'))).toEqual(oracle.listStates().filter((s) => STREAMS.includes(s.streamId as 's1')).map((s) => ({ ...s, lastAttestation: expect.any(String) })));
        expect(verify(log).ok).toBe(true);
      }),
      { numRuns: 200 },
    );
    for (const [path, count] of Object.entries(reached)) expect(count, `the generators reached ${path}`).toBeGreaterThan(0);
  });
});
