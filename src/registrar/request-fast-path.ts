/**
 * A precompiled check for the most common request shape, run before the zod schema: a plain
 * object with a string `action` that needs no metadata, a `"kind:id"` string `actor`, and
 * optionally a `target` (stream id or null) and a `reason` — and nothing else (no `metadata`).
 *
 * It only ever ACCEPTS: it returns exactly the value `requestSchema.safeParse(input).data` would
 * be (same keys, same order, same values), or undefined to mean "ask zod". Anything else —
 * metadata, an object actor, a transfer or override action, an unknown key, an inherited or
 * non-plain shape, any invalid value — goes to zod, so every rejection (and its issue text) is
 * still zod's. A fast-check test holds the two to that over valid, invalid and odd inputs.
 *
 * It reads each field once, in the schema's order (action, actor, target, reason, metadata),
 * before zod would; for inputs whose reads have side effects (getters, proxies) those reads may
 * therefore happen twice when it declines.
 */
import { TRANSITION_ACTIONS } from './core.js';
import { ACTOR_KEY, REASON_MAX_CHARS, STREAM_ID, type ValidRequest } from './request-schema.js';

/** Actions the schema accepts without metadata (transfer and override actions need metadata). */
const PLAIN_ACTIONS: ReadonlySet<string> = new Set(TRANSITION_ACTIONS.filter((action) => action !== 'transfer' && !action.endsWith('_override')));

/** The keys a fast-path request may enumerate (the schema's keys but metadata). */
const FAST_KEYS: ReadonlySet<string> = new Set(['action', 'actor', 'target', 'reason']);

/**
 * The parsed request when `input` is a common, valid request (see the file comment), else
 * undefined. `handleKey`: the caller found this registrar's ActorHandle in `input.actor` and
 * passes its key (`"kind:id"`, valid since registerActor checked it): the result then names that
 * actor, as zod's value of the request with the handle replaced by its key would.
 */
export function parseCommonRequest(input: unknown, handleKey?: string): ValidRequest | undefined {
  if (typeof input !== 'object' || input === null || Object.getPrototypeOf(input) !== Object.prototype) return undefined;
  const fields = input as Record<string, unknown>;
  const action = fields.action;
  const actor = fields.actor;
  const target = fields.target;
  const reason = fields.reason;
  if (fields.metadata !== undefined || 'metadata' in fields) return undefined;
  // The schema is strict: every enumerable key (own or inherited, as `for...in` sees them) must be known.
  for (const key in fields) if (!FAST_KEYS.has(key)) return undefined;
  if (typeof action !== 'string' || !PLAIN_ACTIONS.has(action)) return undefined;
  if (handleKey === undefined && (typeof actor !== 'string' || !ACTOR_KEY.test(actor))) return undefined;
  // A key present with the value undefined is kept by zod (as undefined): leave that rarity to zod.
  if (target === undefined ? 'target' in fields : target !== null && (typeof target !== 'string' || !STREAM_ID.test(target))) return undefined;
  if (reason === undefined ? 'reason' in fields : typeof reason !== 'string' || reason.length > REASON_MAX_CHARS) return undefined;
  const request: { action: ValidRequest['action']; actor: string; target?: string | null; reason?: string } = {
    action: action as ValidRequest['action'],
    actor: handleKey ?? (actor as string),
  };
  if (target !== undefined) request.target = target as string | null;
  if (reason !== undefined) request.reason = reason as string;
  return request;
}
