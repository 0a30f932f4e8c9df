// HALT only where the spec says (§4, issue 8): only a registered user who may enable an override
// there, replacing another user's override without disable_override, halts the registrar. Unknown
// actors, agents, plugins and the system get at most a REJECT: one string from an MCP client must
// not silence a deployment. A fast-check property drives every action from such actors against
// both cores; a planted core that puts the old rule back shows the property catches it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NO_ID, REASON_CODES, TRANSITION_ACTIONS, type CoreDecision, type CoreRequest, type DecisionCore } from '../../src/registrar/core.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import type { HaltInfo, RegistrarResult } from '../../src/registrar/types.js';
import { coresUnderTest, expectAllowed, registrarWith, streamIn, type CoreUnderTest } from './cores.js';

describe.each(coresUnderTest())('no denial-of-service halt ($name core)', (core) => {
  const kitchen = { scope: 'session', scopeId: 'kitchen' } as const;

  /** A registrar where alice's override covers the kitchen and a stream plays there. */
  function covered(): { r: AudioRegistrar; playing: string; halts: HaltInfo[] } {
    const r = registrarWith(core);
    const playing = streamIn(r, 'playing', 'agent:claude-1', { sessionId: 'kitchen' });
    expectAllowed(r.requestAsHost({ action: 'enable_override', actor: 'user:alice', metadata: kitchen }));
    const halts: HaltInfo[] = [];
    r.onHalt((halt) => halts.push(halt));
    return { r, playing, halts };
  }

  it('an unregistered agent:ghost enabling an override over a covered session gets unknown_actor and no HALT (requestAsHost and observeAsHost)', () => {
    const { r, playing, halts } = covered();
    const ghost = r.requestAsHost({ action: 'enable_override', actor: 'agent:ghost', metadata: kitchen });
    expect(ghost.allowed).toBe(false);
    expect(ghost.reason).toBe('unknown_actor');
    expect(ghost.violations.map((v) => [v.invariant, v.level])).toEqual([
      ['audio.actor.registered', 'REJECT'],
      ['audio.accessibility.supremacy', 'REJECT'],
    ]);
    expect(ghost.attestation.metadata).not.toHaveProperty('halt');
    expect(r.observeAsHost({ action: 'enable_override', actor: 'agent:ghost', metadata: kitchen }).violations.every((v) => v.level === 'REJECT')).toBe(true);
    // An unregistered *user* is no better: unknown actors are refused, whatever their kind.
    const userGhost = r.requestAsHost({ action: 'enable_override', actor: 'user:ghost', metadata: kitchen });
    expect(userGhost.reason).toBe('unknown_actor');
    expect(userGhost.violations.every((v) => v.level === 'REJECT')).toBe(true);
    expect(halts).toEqual([]);
    expect(r.halted).toBe(false);
    // The registrar still serves: alice's override stands and the agent still may not interrupt.
    expect(r.listOverrides()).toEqual([{ owner: 'user:alice', scope: 'session', scopeId: 'kitchen' }]);
    expect(r.requestAsHost({ action: 'interrupt', actor: 'agent:claude-1', target: playing }).reason).toBe('accessibility_override');
    expectAllowed(r.requestAsHost({ action: 'start', actor: 'agent:claude-1' }));
  });

  it('through its handle, an agent, a plugin or the system enabling over the covered session is refused accessibility_override, never halted', () => {
    const { r, halts } = covered();
    for (const name of ['agent:claude-1', 'plugin:reverb', 'system:runtime'] as const) {
      const handle = r.registerActor(name);
      for (const scope of [kitchen, { scope: 'user', scopeId: 'alice' }] as const) {
        const results: RegistrarResult[] = [
          r.request({ action: 'enable_override', actor: handle, metadata: scope }),
          r.observe({ action: 'enable_override', actor: handle, metadata: scope }),
          r.request({ action: 'update_override', actor: handle, metadata: { ...kitchen, speechRate: 3 } }),
          r.request({ action: 'disable_override', actor: handle, metadata: kitchen }),
        ];
        for (const result of results) {
          expect(result.reason).toBe('accessibility_override');
          expect(result.violations.every((v) => v.level === 'REJECT')).toBe(true);
        }
      }
    }
    expect(halts).toEqual([]);
    expect(r.halted).toBe(false);
  });

  it('a registered user outside the session is refused not_owner and does not halt; declared a member, the same request halts', () => {
    const { r, halts } = covered();
    const carol = r.registerActor('user:carol');
    const outsider = r.request({ action: 'enable_override', actor: carol, metadata: kitchen });
    expect(outsider.reason).toBe('not_owner');
    expect(outsider.message).toContain('user:carol is not a member of session kitchen');
    expect(outsider.violations.every((v) => v.level === 'REJECT')).toBe(true);
    expect(r.halted).toBe(false);
    r.registerActor(carol, { sessions: ['kitchen'] });
    const replacing = r.request({ action: 'enable_override', actor: carol, metadata: kitchen });
    expect(replacing.violations).toEqual([expect.objectContaining({ invariant: 'audio.accessibility.supremacy', level: 'HALT' })]);
    expect(replacing.attestation.metadata).toMatchObject({ halt: true, haltCause: 'accessibility_bypass', membership: 'declared' });
    expect(replacing.message).toBe(
      "user:carol may not enable_override override session:kitchen: another user's override holds it, and replacing it without disable_override is an accessibility bypass (HALT)",
    );
    expect(halts).toEqual([expect.objectContaining({ cause: 'accessibility_bypass', seq: replacing.attestation.seq })]);
  });
});

// ---------------------------------------------------------------------------------------------
// The property: random requests (all 17 actions, random targets and scopes) from unregistered,
// agent, plugin and system actors, interleaved with the members' own (non-halting) requests that
// set up streams and overrides to be attacked. None of the hostile requests may halt.

/** Actors that must never halt: unregistered ones of every kind, and registered non-users. */
const HOSTILE = ['agent:ghost', 'user:ghost', 'plugin:ghost', 'system:ghost', 'agent:a', 'plugin:p', 'system:s'] as const;
const REGISTERED_HOSTILE = new Set(['agent:a', 'plugin:p', 'system:s']);
const STREAMS = ['s1', 's2', 's3'] as const;
const SESSIONS = ['x', 'y'] as const;
/** Each member owns one session scope and their own user scope, so the setup steps never halt. */
const MEMBERS = { 'user:alice': { session: 'x', user: 'alice' }, 'user:bob': { session: 'y', user: 'bob' } } as const;

const metadataArbitrary = fc.record(
  {
    sessionId: fc.constantFrom(...SESSIONS),
    userId: fc.constantFrom('alice', 'bob', 'ghost'),
    priority: fc.constantFrom('system', 'assistant', 'background', 3, 8),
    newOwner: fc.constantFrom('agent:a', 'user:alice', 'agent:ghost'),
    preemptFor: fc.constantFrom(...STREAMS),
    scope: fc.constantFrom('session', 'user'),
    scopeId: fc.constantFrom('x', 'y', 'alice', 'bob', 'ghost'),
    speechRate: fc.constantFrom(0.5, 1.5),
    allowPlugins: fc.constant(['plugin:p']),
  },
  { requiredKeys: [] },
);

/** A hostile request: any of the 17 actions with random fields, or an override action aimed at a
 *  scope a member may hold (so replacing someone's override is tried often). */
const hostileRequestArbitrary = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ action: fc.constantFrom(...TRANSITION_ACTIONS), target: fc.constantFrom(...STREAMS), metadata: metadataArbitrary }, { requiredKeys: ['action', 'metadata'] }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      action: fc.constantFrom('enable_override', 'update_override', 'disable_override'),
      metadata: fc
        .tuple(metadataArbitrary, fc.constantFrom({ scope: 'session', scopeId: 'x' }, { scope: 'session', scopeId: 'y' }, { scope: 'user', scopeId: 'alice' }, { scope: 'user', scopeId: 'bob' }))
        .map(([metadata, scope]) => ({ ...metadata, ...scope })),
    }),
  },
);

type Step =
  | { kind: 'hostile'; actor: (typeof HOSTILE)[number]; viaHandle: boolean; observed: boolean; request: { action: string; target?: string; metadata: Record<string, unknown> } }
  | { kind: 'member'; actor: keyof typeof MEMBERS; action: 'enable_override' | 'update_override' | 'disable_override'; scope: 'session' | 'user' }
  | { kind: 'stream'; action: string; target: string; metadata: Record<string, unknown> };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('hostile' as const),
      actor: fc.constantFrom(...HOSTILE),
      viaHandle: fc.boolean(),
      observed: fc.boolean(),
      request: hostileRequestArbitrary,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('member' as const),
      actor: fc.constantFrom('user:alice' as const, 'user:bob' as const),
      action: fc.constantFrom('enable_override' as const, 'enable_override' as const, 'update_override' as const, 'disable_override' as const),
      scope: fc.constantFrom('session' as const, 'user' as const),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('stream' as const),
      action: fc.constantFrom('start', 'synthesize', 'play', 'stop', 'restart'),
      target: fc.constantFrom(...STREAMS),
      metadata: metadataArbitrary,
    }),
  },
);

/** How often a hostile enable_override met another user's override (the old rule's HALT). */
interface Coverage {
  replacing: number;
}

/** Runs `steps` on a fresh registrar over `core`; throws at the first hostile request that halts. */
function runSteps(core: DecisionCore, steps: readonly Step[], coverage: Coverage): void {
  const r = new AudioRegistrar({ core });
  const handles = new Map([...REGISTERED_HOSTILE].map((name) => [name, r.registerActor(name)]));
  r.registerActor('agent:owner');
  for (const [name, scope] of Object.entries(MEMBERS)) r.registerActor(name, { sessions: [scope.session] });
  for (const step of steps) {
    if (step.kind === 'member') {
      const own = MEMBERS[step.actor];
      r.requestAsHost({ action: step.action, actor: step.actor, metadata: { scope: step.scope, scopeId: step.scope === 'session' ? own.session : own.user } });
      expect(r.halted, `${step.actor}'s own ${step.action} halted`).toBe(false);
      continue;
    }
    if (step.kind === 'stream') {
      r.requestAsHost({ action: step.action, actor: 'agent:owner', target: step.target, metadata: step.metadata });
      continue;
    }
    const { action, metadata } = step.request;
    if (action === 'enable_override') {
      const scopeId = String(metadata.scopeId);
      const held = r.listOverrides().find((o) => o.scope === metadata.scope && o.scopeId === scopeId);
      if (held && held.owner !== step.actor) coverage.replacing += 1;
    }
    const handle = handles.get(step.actor);
    const actor = step.viaHandle && handle ? handle : step.actor;
    const input = { ...step.request, actor };
    const result = handle && step.viaHandle ? (step.observed ? r.observe(input) : r.request(input)) : step.observed ? r.observeAsHost(input) : r.requestAsHost(input);
    const halting = result.violations.filter((v) => v.level === 'HALT');
    if (halting.length > 0 || r.halted || result.attestation.metadata.halt === true) {
      throw new Error(`seq ${result.attestation.seq}: ${step.actor} ${action} ${JSON.stringify(metadata)} halted the registrar: ${result.message}`);
    }
  }
}

describe('property: unregistered, agent, plugin and system actors never halt the registrar', () => {
  const cores: CoreUnderTest[] = coresUnderTest();

  it(`holds on every core (${cores.map((core) => core.name).join(', ')})`, () => {
    const coverage: Coverage = { replacing: 0 };
    fc.assert(
      fc.property(fc.array(stepArbitrary, { minLength: 10, maxLength: 80, size: 'medium' }), (steps) => {
        for (const core of cores) runSteps(core.create(), steps, coverage);
      }),
      { numRuns: 200 },
    );
    // Not vacuous: hostile actors did try to replace members' overrides, many times.
    expect(coverage.replacing).toBeGreaterThan(100);
  });

  it('fails when the old rule is put back (anyone replacing another user\'s override halts): planted', () => {
    const coverage: Coverage = { replacing: 0 };
    const outcome = fc.check(
      fc.property(fc.array(stepArbitrary, { minLength: 10, maxLength: 80, size: 'medium' }), (steps) => runSteps(oldRuleCore(), steps, coverage)),
      { numRuns: 200, seed: 8 },
    );
    expect(outcome.failed).toBe(true);
    expect(String(outcome.errorInstance)).toMatch(/halted the registrar/);
  });
});

const ENABLE = TRANSITION_ACTIONS.indexOf('enable_override');
const HALTED = REASON_CODES.indexOf('registrar_halted');

/**
 * A reference core with the rule issue 8 removed put back: an enable_override on a scope another
 * user's override holds halts, whoever asks (reference-core.ts before the fix:
 * `if (overrideTarget && overrideTarget.owner !== request.actor) halt = true`).
 */
function oldRuleCore(): DecisionCore {
  const inner = new ReferenceCore();
  const decide = (request: CoreRequest): CoreDecision => {
    const replaced =
      request.action === ENABLE && inner.overrides().some((o) => o.scope === request.overrideScope && o.scopeId === request.overrideScopeId && o.owner !== request.actor && o.owner !== NO_ID);
    const decision = inner.decide(request);
    if (!replaced || decision.halted || decision.reason === HALTED) return decision;
    inner.load({ ...inner.image(), halted: true });
    return { ...decision, halted: true };
  };
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'decide') return decide;
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
