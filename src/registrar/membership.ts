/**
 * Session membership (spec §1, §3.1): a user may enable a session-scoped override only for a
 * session they belong to. A user belongs to a session when the host declares it
 * (`registerActor('user:alice', { sessions: ['kitchen'] })`) or when one of the session's streams
 * was created with that `userId`. The decision core holds memberships (MEMBERSHIP_BASIS bits, shared
 * by every thread on a shared core); this module is the facade's side of them:
 *
 * - the zod schema of `registerActor`'s options;
 * - the statement an `enable_override` attestation makes about the membership it relied on
 *   (`metadata.membership: 'declared' | 'stream'`). A declaration is not a request and writes no
 *   attestation, so this statement is how the log records it: replay checks what a record states
 *   (re-deriving a stream-implied basis, trusting only a stated declaration) and declares it before
 *   re-deciding the record; a stated declaration becomes part of the state (state hash, snapshots);
 * - the image of memberships the log proves (stream-implied, or declared and stated), for the state
 *   hash and snapshots. A declaration no attestation stated yet is host configuration, like a
 *   registered actor: the live registrar holds it, a replay of its log does not need it.
 */
import { z } from 'zod';
import { VoiceSoundboardError } from '../errors.js';
import type { Attestation } from '../attestation/record.js';
import { DOMAIN_INVARIANTS, MEMBERSHIP_BASIS, REASON_CODES, type CoreDecision, type CoreMembership, type DecisionCore } from './core.js';
import type { Actor } from './request-schema.js';
import type { MembershipView } from './types.js';

/** Most sessions one `registerActor` call may declare. */
export const MAX_DECLARED_SESSIONS = 1024;

/** zod schema of `registerActor`'s options. */
export const registerActorOptionsSchema = z.strictObject({
  /** Sessions this user belongs to (users only). */
  sessions: z.array(z.string().min(1).max(200)).max(MAX_DECLARED_SESSIONS).optional(),
});

/** Options of `AudioRegistrar.registerActor`. */
export type RegisterActorOptions = z.input<typeof registerActorOptionsSchema>;

/** What an `enable_override` attestation states about the membership it relied on. */
export type MembershipStatement = 'declared' | 'stream';

const NOT_OWNER_BIT = 1 << DOMAIN_INVARIANTS.findIndex((entry) => entry.id === 'audio.ownership.required_for_control');
/** Reasons of decisions that evaluated no rule (nothing to state). */
const UNEVALUATED = new Set(['registrar_halted', 'invalid_request', 'capacity_exhausted'].map((code) => REASON_CODES.indexOf(code as (typeof REASON_CODES)[number])));
const STATED = MEMBERSHIP_BASIS.declared | MEMBERSHIP_BASIS.recorded;

/** The interned (user, session) a session-scoped enable_override by a user names, or null. */
function pairOf(core: DecisionCore, actor: Actor | null, action: string | null, metadata: unknown): { user: number; session: number } | null {
  if (action !== 'enable_override' || actor?.kind !== 'user' || typeof metadata !== 'object' || metadata === null) return null;
  const { scope, scopeId } = metadata as { scope?: unknown; scopeId?: unknown };
  if (scope !== 'session' || typeof scopeId !== 'string') return null;
  const user = core.internScope(1, actor.id);
  const session = core.internScope(0, scopeId);
  return user >= 0 && session >= 0 ? { user, session } : null;
}

/**
 * The membership a decided session-scoped `enable_override` by a user relied on, for its
 * attestation's `metadata.membership`; undefined when there is nothing to state (another action
 * or scope, a requester outside the session, a decision that evaluated no rule). Stating a
 * declaration marks it recorded in the core (it is in the log from now on), except for an observed
 * decision, which changes nothing.
 */
export function membershipStatement(core: DecisionCore, decision: CoreDecision, actor: Actor | null, action: string | null, requestMetadata: unknown, observed: boolean): MembershipStatement | undefined {
  if (action !== 'enable_override' || (decision.violations & NOT_OWNER_BIT) !== 0 || UNEVALUATED.has(decision.reason)) return undefined;
  const pair = pairOf(core, actor, action, requestMetadata);
  if (pair === null) return undefined;
  const basis = core.membership(pair.user, pair.session);
  if ((basis & MEMBERSHIP_BASIS.declared) !== 0) {
    if (!observed) core.declareMember(pair.user, pair.session, STATED);
    return 'declared';
  }
  return (basis & MEMBERSHIP_BASIS.stream) !== 0 ? 'stream' : undefined;
}

/** zod schema of the statement an `enable_override` attestation makes (`metadata.membership`). */
export const membershipStatementSchema = z.enum(['declared', 'stream']);

const NOT_OWNER_INVARIANT = 'audio.ownership.required_for_control';
/** The schema's values, for the per-record check (no parse on replay's path). */
const STATEMENTS: readonly unknown[] = membershipStatementSchema.options;

/**
 * Replay (replay.ts calls it for every record, before the record is re-decided): checks the
 * membership statement a record makes against the one the live registrar would have made at this
 * point of the log, and declares what it states. Returns why the record does not replay (a
 * REGISTRAR_REPLAY_MISMATCH at its seq), or null.
 *
 * - The value is `'declared'` or `'stream'` (membershipStatementSchema), or absent.
 * - A statement stands only where the registrar makes one: an evaluated, session-scoped
 *   `enable_override` by a user that was not denied `not_owner` (a user-scoped one needs no membership).
 * - `'stream'` is re-derived: a stream of that session was created with the user's id earlier in
 *   the log, and no earlier record stated a declaration (the registrar states `'declared'` then).
 * - `'declared'` is the one claim replay trusts: a host declaration is not a request and writes no
 *   record, so nothing earlier in the log can confirm it. Replay declares it (recorded; only declared
 *   for an observed record, as live), and the re-decision then relies on it.
 * - No statement where the registrar would have made one is a mismatch, unless `legacyRules` says the
 *   log was written before memberships existed: then the record is read as stating a declaration
 *   (the rule did not exist, so its user was treated as a member).
 */
export function replayMembership(core: DecisionCore, record: Attestation, legacyRules: boolean): string | null {
  const stated: unknown = record.metadata.membership;
  // The common record (replay's hot path): another action, stating nothing.
  if (stated === undefined && record.action !== 'enable_override') return null;
  if (stated !== undefined && !STATEMENTS.includes(stated)) return `seq ${record.seq}: metadata.membership is ${JSON.stringify(stated)}; expected 'declared' or 'stream' (or none)`;
  const statement = stated as MembershipStatement | undefined;
  const evaluated = record.reason !== 'registrar_halted' && record.reason !== 'invalid_request' && record.reason !== 'capacity_exhausted';
  const passed = evaluated && !record.violations.some((v) => v.invariant === NOT_OWNER_INVARIANT);
  const actor = record.actor;
  const requestMetadata = (record.parameters as { metadata?: unknown }).metadata;
  const pair = passed && (actor?.kind === 'user') ? pairOf(core, { id: actor.id, kind: 'user' }, record.action, requestMetadata) : null;
  if (pair === null) {
    if (statement === undefined) return null;
    return `seq ${record.seq}: metadata.membership states '${statement}', but the registrar states a membership only on a session-scoped enable_override by a user that passed the membership check`;
  }
  const user = (): string => core.scopeKey(1, pair.user);
  const session = (): string => core.scopeKey(0, pair.session);
  const basis = core.membership(pair.user, pair.session);
  const declare = () => core.declareMember(pair.user, pair.session, record.metadata.observed === true ? MEMBERSHIP_BASIS.declared : STATED);
  if (statement === 'declared') {
    declare();
    return null;
  }
  if (statement === 'stream') {
    if ((basis & MEMBERSHIP_BASIS.declared) !== 0) return `seq ${record.seq}: metadata.membership states 'stream', but user ${user()}'s declaration in session ${session()} was stated earlier in the log, so the registrar states 'declared'`;
    if ((basis & MEMBERSHIP_BASIS.stream) === 0) return `seq ${record.seq}: metadata.membership states 'stream', but no stream of session ${session()} was created with userId ${user()} before this seq`;
    return null;
  }
  if (legacyRules) {
    declare();
    return null;
  }
  if ((basis & (MEMBERSHIP_BASIS.declared | MEMBERSHIP_BASIS.stream)) !== 0) {
    const expected = (basis & MEMBERSHIP_BASIS.declared) !== 0 ? 'declared' : 'stream';
    return `seq ${record.seq}: metadata.membership is missing, but user ${user()} is a member of session ${session()} here (the registrar states '${expected}')`;
  }
  return `seq ${record.seq}: metadata.membership is missing and user ${user()} is not a member of session ${session()} at this seq (a log written before session memberships replays with { legacyRules: true })`;
}

/** Declares a user a member of each session (host code: `registerActor(user, { sessions })`). */
export function declareSessions(core: DecisionCore, user: string, sessions: readonly string[]): void {
  if (sessions.length === 0) return;
  const userId = core.internScope(1, user);
  for (const session of sessions) {
    const sessionId = core.internScope(0, session);
    if (userId < 0 || sessionId < 0) {
      throw new VoiceSoundboardError('REGISTRAR_CAPACITY_EXHAUSTED', `registerActor: no id left for user ${user} or session ${session} (the registrar's scope tables are full)`);
    }
    core.declareMember(userId, sessionId, MEMBERSHIP_BASIS.declared);
  }
}

/** Every membership the core holds, as frozen public views sorted by user then session. */
export function membershipViews(core: DecisionCore): readonly MembershipView[] {
  return Object.freeze(
    core
      .memberships()
      .map((entry) =>
        Object.freeze({
          userId: core.scopeKey(1, entry.user),
          sessionId: core.scopeKey(0, entry.session),
          declared: (entry.basis & MEMBERSHIP_BASIS.declared) !== 0,
          stream: (entry.basis & MEMBERSHIP_BASIS.stream) !== 0,
          recorded: (entry.basis & MEMBERSHIP_BASIS.recorded) !== 0,
        }),
      )
      .sort(byUserThenSession),
  );
}

/** A membership as the state hash and snapshots hold it. */
export interface MembershipEntry {
  userId: string;
  sessionId: string;
  /** Declared by the host and stated by an attestation. */
  declared: boolean;
  /** Implied by a stream created with that userId. */
  stream: boolean;
}

/** The memberships the log proves (stream-implied, or declared and stated), sorted. */
export function provenMemberships(core: DecisionCore): MembershipEntry[] {
  return membershipViews(core)
    .filter((view) => view.stream || view.recorded)
    .map((view) => ({ userId: view.userId, sessionId: view.sessionId, declared: view.recorded, stream: view.stream }));
}

/** The core memberships of snapshot entries (ids interned on `core`). */
export function coreMemberships(core: DecisionCore, entries: readonly MembershipEntry[]): CoreMembership[] {
  return entries
    .map((entry) => ({
      user: core.internScope(1, entry.userId),
      session: core.internScope(0, entry.sessionId),
      basis: (entry.declared ? STATED : 0) | (entry.stream ? MEMBERSHIP_BASIS.stream : 0),
    }))
    .sort((a, b) => a.user - b.user || a.session - b.session);
}

function byUserThenSession(a: MembershipView, b: MembershipView): number {
  if (a.userId !== b.userId) return a.userId < b.userId ? -1 : 1;
  return a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0;
}
