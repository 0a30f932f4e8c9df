/**
 * Actor handles: the capability to act as one actor. `registerActor` issues them; `request()`
 * and `observe()` take only a handle of their own registrar, so code that holds one agent's (or
 * plugin's) handle can act as that actor and no other. A handle carries no secret: what makes it
 * unforgeable is object identity, checked through a private field no copy, spread, JSON round trip
 * or `Object.create` carries.
 */
import type { ActorKind } from './core.js';

/** Only this module can pass it, so only `issueActorHandle` constructs handles. */
const CONSTRUCTING: unique symbol = Symbol('ActorHandle.constructing');

/** The capability to make requests as one registered actor of one registrar. */
export class ActorHandle {
  /** The actor's id (`claude-1` in `agent:claude-1`). */
  readonly id: string;
  /** The actor's kind. */
  readonly kind: ActorKind;
  /** `"kind:id"`, as attestations name the actor. */
  readonly key: string;
  /** The registrar's private issuer token this handle belongs to. */
  readonly #issuer: object;

  /** Not for callers: handles come only from `AudioRegistrar.registerActor`. */
  constructor(token: typeof CONSTRUCTING, issuer: object, kind: ActorKind, id: string) {
    if (token !== CONSTRUCTING) throw new TypeError('ActorHandle: handles are issued by AudioRegistrar.registerActor(), not constructed');
    this.id = id;
    this.kind = kind;
    this.key = `${kind}:${id}`;
    this.#issuer = issuer;
    Object.freeze(this);
  }

  /** The actor's name, `"kind:id"` (a name is not a capability: requests need the handle). */
  toString(): string {
    return this.key;
  }

  /** Serialises as the actor's name; the capability never survives a copy. */
  toJSON(): string {
    return this.key;
  }

  /** Whether `value` is a genuine handle of any registrar (not a copy or a look-alike). */
  static isHandle(value: unknown): value is ActorHandle {
    return typeof value === 'object' && value !== null && #issuer in value;
  }

  /** Whether `value` is a genuine handle issued under `issuer` (not a copy, not another registrar's). */
  static issuedBy(value: unknown, issuer: object): value is ActorHandle {
    return ActorHandle.isHandle(value) && value.#issuer === issuer;
  }
}

/** Issues a handle for `kind:id` under the registrar's private `issuer` token. @internal */
export function issueActorHandle(issuer: object, kind: ActorKind, id: string): ActorHandle {
  return new ActorHandle(CONSTRUCTING, issuer, kind, id);
}

// Hardening: no caller can swap a method of this class for its own (a monkey-patched prototype would see every instance).
Object.freeze(ActorHandle.prototype);
Object.freeze(ActorHandle);
