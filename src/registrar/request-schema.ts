/**
 * zod schemas of the registrar's public edge: actors, requests (with per-action metadata rules)
 * and registrar options. A request that fails them is denied `invalid_request` and attested.
 */
import { z } from 'zod';
import { ACTOR_KINDS, OVERRIDE_SCOPES, TRANSITION_ACTIONS, type ActorKind } from './core.js';

/** `"kind:id"`: the actor reference string form. */
export const ACTOR_KEY = /^(user|agent|plugin|system):(\S{1,128})$/;
/** A stream id: 1-200 non-space characters. */
export const STREAM_ID = /^\S{1,200}$/;
/** Longest `reason` a request may carry (UTF-16 code units, as zod's max counts). */
export const REASON_MAX_CHARS = 1000;

/**
 * Most characters of JSON a request's `metadata` may take (1 MiB; shared sub-objects count each
 * time they are reached, as JSON writes them). A larger request is denied `invalid_request` before
 * anything else reads it: unbounded, one request held request() for seconds, and one of more than
 * 64 MiB was logged as a line the log reader refuses, so that log could not be reopened or verified.
 */
export const METADATA_MAX_CHARS = 1 << 20;

/** An actor id: 1–128 non-space characters. */
export const actorIdSchema = z.string().regex(/^\S{1,128}$/, 'expected 1-128 non-space characters');
/** An actor: `"kind:id"` or `{ id, kind }`. */
export const actorRefSchema = z.union([
  z.string().regex(ACTOR_KEY, 'expected "kind:id" with kind user|agent|plugin|system'),
  z.strictObject({ id: actorIdSchema, kind: z.enum(ACTOR_KINDS) }),
]);
/** A stream id: 1–200 non-space characters. */
export const streamIdSchema = z.string().regex(STREAM_ID, 'expected 1-200 non-space characters');

/** An actor as the registrar holds it. */
export interface Actor {
  readonly id: string;
  readonly kind: ActorKind;
}

/** `"kind:id"` or `{ id, kind }` as given to the registrar. */
export type ActorRef = z.input<typeof actorRefSchema>;

/** Normalises a validated actor reference. */
export function toActor(ref: z.output<typeof actorRefSchema>): Actor {
  if (typeof ref !== 'string') return { id: ref.id, kind: ref.kind };
  const match = ACTOR_KEY.exec(ref);
  return { id: match?.[2] ?? '', kind: (match?.[1] ?? 'agent') as ActorKind };
}

/** The interned key of an actor, `"kind:id"`. */
export function actorKey(actor: Actor): string {
  return `${actor.kind}:${actor.id}`;
}

const jsonValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]),
);

/** Priority names and their 1–10 value (system > assistant > background). */
export const PRIORITY_VALUES = { system: 10, assistant: 5, background: 1 } as const;

/** Request metadata: the fields the registrar reads, plus any JSON extension fields. */
export const requestMetadataSchema = z
  .object({
    /** Session of a created stream (default "default"). */
    sessionId: z.string().min(1).max(200).optional(),
    /** User of a created stream (default none). */
    userId: z.string().min(1).max(200).nullable().optional(),
    /** Priority of a created stream: a name or 1–10 (default assistant = 5). */
    priority: z.union([z.enum(['system', 'assistant', 'background']), z.number().int().min(1).max(10)]).optional(),
    /** transfer: the new owner (a registered actor). */
    newOwner: actorRefSchema.optional(),
    /** system interrupt: the higher-priority stream this one yields to. */
    preemptFor: streamIdSchema.optional(),
    /** Override actions: what the override covers. */
    scope: z.enum(OVERRIDE_SCOPES).optional(),
    scopeId: z.string().min(1).max(200).optional(),
    /** Override values. */
    speechRate: z.number().min(0.25).max(4).optional(),
    pauseAmplification: z.number().min(0.5).max(5).optional(),
    forcedCaptions: z.boolean().optional(),
    /** compile: the compiled graph's hash. */
    graphHash: z.string().min(1).max(200).optional(),
    /** start/claim/compile by the owner: plugins allowed to mutate this stream's graph. */
    allowPlugins: z.array(z.string().regex(/^plugin:\S{1,128}$/, 'expected "plugin:id"')).max(64).optional(),
  })
  .catchall(jsonValue);

/** A registrar request. */
export const requestSchema = z
  .strictObject({
    action: z.enum(TRANSITION_ACTIONS),
    actor: actorRefSchema,
    /** Stream id; start/claim without one create a stream with a fresh id. */
    target: streamIdSchema.nullable().optional(),
    /** Why the caller asks (free text, recorded in the attestation's parameters). */
    reason: z.string().max(REASON_MAX_CHARS).optional(),
    metadata: requestMetadataSchema.optional(),
  })
  .superRefine((request, context) => {
    const metadata = request.metadata ?? {};
    if (request.action === 'transfer' && metadata.newOwner === undefined) {
      context.addIssue({ code: 'custom', path: ['metadata', 'newOwner'], message: 'transfer needs metadata.newOwner' });
    }
    if (request.action.endsWith('_override') && (metadata.scope === undefined || metadata.scopeId === undefined)) {
      context.addIssue({ code: 'custom', path: ['metadata', metadata.scope === undefined ? 'scope' : 'scopeId'], message: `${request.action} needs metadata.scope and metadata.scopeId` });
    }
  });

/** A request as callers write it. */
export type RegistrarRequest = z.input<typeof requestSchema>;
/** A validated request. */
export type ValidRequest = z.output<typeof requestSchema>;

/**
 * `larger than METADATA_MAX_CHARS characters of JSON` when a request's metadata would take more,
 * else null. Walks without recursion and stops once past the bound, so its work is
 * bounded too; a cycle is not followed (jsonProblem names it). A throwing getter or proxy trap
 * throws here, as it would when zod reads it.
 */
export function metadataSizeProblem(metadata: unknown): string | null {
  // Most requests carry none, or a scalar zod refuses: nothing to walk, nothing to allocate.
  if (typeof metadata !== 'object' || metadata === null) return typeof metadata === 'string' && metadata.length + 2 > METADATA_MAX_CHARS ? `larger than ${METADATA_MAX_CHARS} characters of JSON` : null;
  let chars = 0;
  const ancestors = new Set<object>();
  const stack: { value: unknown; leaving?: object }[] = [{ value: metadata }];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { value, leaving } = next;
    if (leaving !== undefined) {
      ancestors.delete(leaving);
      continue;
    }
    if (typeof value === 'string') chars += value.length + 2;
    else if (typeof value === 'object' && value !== null) {
      if (ancestors.has(value)) continue;
      ancestors.add(value);
      stack.push({ value: undefined, leaving: value });
      chars += 2;
      const array = Array.isArray(value);
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        chars += array ? 1 : key.length + 4;
        if (chars > METADATA_MAX_CHARS) break;
        stack.push({ value: (value as Record<string, unknown>)[key] });
      }
    } else chars += 8;
    if (chars > METADATA_MAX_CHARS) return `larger than ${METADATA_MAX_CHARS} characters of JSON`;
  }
  return null;
}

/**
 * Why a value cannot be recorded as JSON (a cycle, too deep, a non-finite number), or null. zod's
 * recursive JSON schema accepts cycles, so requests are checked with this before being copied.
 */
export function jsonProblem(value: unknown, path = 'metadata', ancestors: object[] = []): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : `${path}: ${value} is not a finite number`;
  if (value === null || typeof value !== 'object') return null;
  if (ancestors.includes(value)) return `${path}: circular reference`;
  if (ancestors.length >= 32) return `${path}: nested deeper than 32 levels`;
  const next = [...ancestors, value];
  for (const [key, child] of Object.entries(value)) {
    const problem = jsonProblem(child, `${path}.${key}`, next);
    if (problem) return problem;
  }
  return null;
}

/** Tunables of a registrar. */
export const registrarConfigSchema = z.strictObject({
  /** Journal entries read per batch by syncJournal. */
  journalBatchEntries: z.number().int().min(1).max(1 << 20).default(1024),
  /** How long to wait (ms) for another thread to complete a seq or post its attestation body (the
   *  log writer then writes it from the journal), and, on an attached registrar, for a log writer
   *  a journal length behind (then REGISTRAR_WRITER_STALLED, before deciding). */
  journalStallMs: z.number().int().min(1).max(60_000).default(1000),
  /**
   * With a `group` log: an audible effect (`play`) gets its permit only once its attestation is on
   * disk (`require()` refuses it before, `requireDurable()` waits; the engine waits). Default false:
   * a permit is handed out on return, before the group commit. Ending effects never wait.
   */
  effectsAwaitDurability: z.boolean().default(false),
});

/** Registrar tunables as callers write them. */
export type RegistrarConfig = z.input<typeof registrarConfigSchema>;
