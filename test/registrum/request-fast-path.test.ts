// The request fast path may only accept what zod accepts, giving exactly zod's parsed value; it
// declines everything else, so the composite (fast path, else zod) accepts and rejects exactly
// the inputs zod does. Checked over generated valid, invalid and odd inputs (fast-check).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TRANSITION_ACTIONS } from '../../src/registrar/core.js';
import { parseCommonRequest } from '../../src/registrar/request-fast-path.js';
import { requestSchema } from '../../src/registrar/request-schema.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';

const MISSING = Symbol('missing');

const oddValue = fc.oneof(
  fc.constant(undefined), fc.constant(null), fc.integer(), fc.boolean(), fc.constant(''), fc.string({ maxLength: 6 }),
  fc.constant({}), fc.constant([]), fc.constant(['agent:a']),
);
const action = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...TRANSITION_ACTIONS) }, fc.constantFrom('Start', 'bogus', ' start', 'start ', 'constructor', 'toString'), oddValue);
const actor = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom('user', 'agent', 'plugin', 'system'), fc.string({ unit: 'binary', minLength: 0, maxLength: 130 })).map(([kind, id]) => `${kind}:${id}`) },
  fc.constantFrom('agent:a', 'agent:a b', 'agent:', 'bot:x', 'agent:a\n', `agent:${'x'.repeat(128)}`, `agent:${'x'.repeat(129)}`, 'agent:\u00a0', 'agent:é'),
  fc.record({ id: fc.constantFrom('a', 'a b', ''), kind: fc.constantFrom('agent', 'bot') }),
  oddValue,
);
const target = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 0, maxLength: 202 }) },
  fc.constantFrom('s1', 'a b', '', 'x'.repeat(200), 'x'.repeat(201), '\u2028', 'tab\there'),
  oddValue,
);
const reason = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('x'.repeat(1000), 'x'.repeat(1001), '😀'.repeat(500), '😀'.repeat(501)), oddValue);
const metadata = fc.oneof(fc.constant({}), fc.constant({ sessionId: 'x' }), fc.constant({ newOwner: 'agent:b' }), fc.constant({ scope: 'session', scopeId: 'x' }), oddValue);

/** A request-like value: each known key missing or set, maybe extra keys, in several object forms. */
const input = fc
  .record({
    action: fc.option(action, { nil: MISSING, freq: 8 }),
    actor: fc.option(actor, { nil: MISSING, freq: 8 }),
    target: fc.option(target, { nil: MISSING, freq: 2 }),
    reason: fc.option(reason, { nil: MISSING, freq: 2 }),
    metadata: fc.option(metadata, { nil: MISSING, freq: 1 }),
    extra: fc.option(fc.constantFrom('foo', '__proto__', 'Action', '0'), { nil: MISSING, freq: 1 }),
    form: fc.constantFrom('plain', 'plain', 'plain', 'plain', 'null-proto', 'inherited', 'class', 'non-enumerable', 'getter', 'array'),
  })
  .map(({ extra, form, ...fields }) => {
    const entries = Object.entries(fields).filter(([, value]) => value !== MISSING);
    if (typeof extra === 'string') entries.push([extra, 1]);
    const plain: Record<string, unknown> = {};
    for (const [key, value] of entries) Object.defineProperty(plain, key, { value, enumerable: true, writable: true, configurable: true });
    switch (form) {
      case 'null-proto':
        return Object.assign(Object.create(null) as object, plain);
      case 'inherited':
        return Object.create(plain) as object;
      case 'class':
        return Object.assign(new (class Request {})(), plain);
      case 'non-enumerable': {
        const hidden: Record<string, unknown> = { ...plain };
        const first = entries[0];
        if (first) Object.defineProperty(hidden, first[0], { value: first[1], enumerable: false });
        return hidden;
      }
      case 'getter': {
        const viaGetters: Record<string, unknown> = {};
        for (const [key, value] of entries) Object.defineProperty(viaGetters, key, { get: () => value, enumerable: true, configurable: true });
        return viaGetters;
      }
      case 'array':
        return Object.assign([], plain);
      default:
        return plain;
    }
  });

describe('request fast path', () => {
  it('accepts only what zod accepts, with exactly zod\'s value (same keys, order and values)', () => {
    let accepted = 0;
    fc.assert(
      fc.property(input, (value) => {
        const fast = parseCommonRequest(value);
        if (fast === undefined) return;
        accepted += 1;
        const parsed = requestSchema.safeParse(value);
        expect(parsed.success).toBe(true);
        expect(Object.keys(fast)).toEqual(Object.keys(parsed.data ?? {}));
        expect(fast).toStrictEqual(parsed.data);
      }),
      { numRuns: 4000 },
    );
    expect(accepted).toBeGreaterThan(100); // the property is not vacuous
  });

  it('with a handle\'s key (request() by handle): accepts only what zod accepts of the request naming that actor, with exactly zod\'s value', () => {
    const registrar = new AudioRegistrar({ core: new ReferenceCore() });
    const handle = registrar.registerActor('plugin:p');
    let accepted = 0;
    fc.assert(
      fc.property(input, (value) => {
        // The same object (prototype, descriptors) with the handle as its actor, and with its key.
        const withActor = (actor: unknown): object => {
          const copy = Object.create(Object.getPrototypeOf(value) as object | null) as object;
          Object.defineProperties(copy, Object.getOwnPropertyDescriptors(value));
          return Object.defineProperty(copy, 'actor', { value: actor, enumerable: true, writable: true, configurable: true });
        };
        const fast = parseCommonRequest(withActor(handle), handle.key);
        if (fast === undefined) return;
        accepted += 1;
        const parsed = requestSchema.safeParse(withActor(handle.key));
        expect(parsed.success).toBe(true);
        expect(Object.keys(fast)).toEqual(Object.keys(parsed.data ?? {}));
        expect(fast).toStrictEqual(parsed.data);
      }),
      { numRuns: 4000 },
    );
    expect(accepted).toBeGreaterThan(100);
  });

  it('a request by handle attests what the same request naming the actor does; a look-alike or another registrar\'s handle is denied', () => {
    const registrar = new AudioRegistrar({ core: new ReferenceCore() });
    const handle = registrar.registerActor('agent:a');
    const other = new AudioRegistrar({ core: new ReferenceCore() }).registerActor('agent:a');
    const byHandle = registrar.request({ action: 'start', actor: handle, target: 's1', reason: 'why' }).attestation;
    const byName = registrar.requestAsHost({ action: 'compile', actor: 'agent:a', target: 's1', reason: 'why' }).attestation;
    expect(byHandle).toMatchObject({ decision: 'allowed', actor: { id: 'a', kind: 'agent' }, action: 'start', target: 's1', parameters: { reason: 'why' } });
    expect(byName).toMatchObject({ decision: 'allowed', actor: byHandle.actor, parameters: byHandle.parameters });
    expect(Object.isFrozen(byHandle.actor)).toBe(true);
    const lookAlike = { id: 'a', kind: 'agent', key: 'agent:a', toString: () => 'agent:a' };
    expect(registrar.request({ action: 'start', actor: lookAlike, target: 's2' })).toMatchObject({ allowed: false, reason: 'invalid_request' });
    expect(registrar.request({ action: 'start', actor: other, target: 's2' })).toMatchObject({ allowed: false, reason: 'invalid_request' });
    const throwing = registrar.request({
      actor: handle,
      get action(): string {
        throw new Error('no action for you');
      },
    });
    expect(throwing).toMatchObject({ allowed: false, reason: 'invalid_request', message: 'invalid request: (request): unreadable: no action for you' });
  });

  it('takes the common requests and leaves metadata, object actors, transfers and overrides to zod', () => {
    expect(parseCommonRequest({ action: 'compile', actor: 'agent:a', target: 's1' })).toEqual({ action: 'compile', actor: 'agent:a', target: 's1' });
    expect(parseCommonRequest({ action: 'start', actor: 'agent:a' })).toEqual({ action: 'start', actor: 'agent:a' });
    expect(parseCommonRequest({ action: 'stop', actor: 'user:u', target: null, reason: 'done' })).toEqual({ action: 'stop', actor: 'user:u', target: null, reason: 'done' });
    expect(parseCommonRequest({ action: 'start', actor: 'agent:a', metadata: {} })).toBeUndefined();
    expect(parseCommonRequest({ action: 'start', actor: { id: 'a', kind: 'agent' } })).toBeUndefined();
    expect(parseCommonRequest({ action: 'transfer', actor: 'agent:a', target: 's1' })).toBeUndefined();
    expect(parseCommonRequest({ action: 'enable_override', actor: 'user:u' })).toBeUndefined();
    expect(parseCommonRequest({ action: 'start', actor: 'agent:a', target: undefined })).toBeUndefined();
    expect(parseCommonRequest({ action: 'start', actor: 'agent:a', extra: 1 })).toBeUndefined();
  });

  it('the registrar still denies and attests what the fast path declines, with zod\'s issue text', () => {
    const registrar = new AudioRegistrar({ core: new ReferenceCore() });
    registrar.registerActor('agent:a');
    const denied = registrar.requestAsHost({ action: 'start', actor: 'agent:a', target: 'a b' });
    expect(denied).toMatchObject({ allowed: false, reason: 'invalid_request', message: 'invalid request: target: expected 1-200 non-space characters' });
    const unknownKey = registrar.requestAsHost({ action: 'start', actor: 'agent:a', colour: 'red' });
    expect(unknownKey).toMatchObject({ allowed: false, reason: 'invalid_request' });
    expect(unknownKey.message).toMatch(/colour/);
    const throwing = registrar.requestAsHost({
      action: 'start',
      get actor(): string {
        throw new Error('no actor for you');
      },
    });
    expect(throwing).toMatchObject({ allowed: false, reason: 'invalid_request', message: 'invalid request: (request): unreadable: no actor for you' });
    expect(registrar.requestAsHost({ action: 'start', actor: 'agent:a', target: 's1' }).allowed).toBe(true);
    expect(registrar.attestationStore.size).toBe(4);
  });
});
