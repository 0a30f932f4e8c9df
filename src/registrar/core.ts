/**
 * The decision-core contract shared by the native lock-free core (`native-core.ts`, backed by
 * `native/core/registrar_core.*`) and the pure-TypeScript reference model (`reference-core.ts`).
 * Both decide exactly the same way (spec/registrar.md §2–§4); a fast-check test holds them to it.
 *
 * The facade (`registrar.ts`) validates requests with zod, interns string ids to integers, calls
 * `decide()`, and turns the integer decision into text and an attestation. The core never formats
 * text: states, actions, kinds, invariants and reasons cross this boundary as indices into the
 * tables below, whose order is frozen (the native enums mirror it; a test pins both).
 */

import type { CompactionPolicy } from './compaction.js';
import type { NativeStreamWatch } from '../native/registrar-binding.js';

/** Actor kinds, in their frozen order. */
export const ACTOR_KINDS = ['user', 'agent', 'plugin', 'system'] as const;
/** An actor kind. */
export type ActorKind = (typeof ACTOR_KINDS)[number];

/** The 7 stream states, in their frozen order. */
export const STREAM_STATES = [
  'idle',
  'compiling',
  'synthesizing',
  'playing',
  'interrupting',
  'stopped',
  'failed',
] as const;
/** A stream state. */
export type StreamState = (typeof STREAM_STATES)[number];

/** The 17 actions, in the spec's order. */
export const TRANSITION_ACTIONS = [
  'start',
  'compile',
  'synthesize',
  'play',
  'interrupt',
  'stop',
  'fail',
  'restart',
  'claim',
  'release',
  'transfer',
  'enable_override',
  'update_override',
  'disable_override',
  'mutate_graph',
  'commit',
  'rollback',
] as const;
/** A registrar action. */
export type TransitionAction = (typeof TRANSITION_ACTIONS)[number];

/** Whether `action` is one of the three override actions (`enable_override`, `update_override`, `disable_override`). */
export function isOverrideAction(action: string | null | undefined): boolean {
  return action === 'enable_override' || action === 'update_override' || action === 'disable_override';
}

/** The domain invariants in evaluation order (spec §4); bit i of `violations` is entry i. */
export const DOMAIN_INVARIANTS = [
  { id: 'audio.actor.registered', level: 'REJECT', reason: 'unknown_actor' },
  { id: 'audio.ownership.single_owner', level: 'REJECT', reason: 'already_owned' },
  { id: 'audio.ownership.required_for_control', level: 'REJECT', reason: 'not_owner' },
  { id: 'audio.accessibility.supremacy', level: 'REJECT', reason: 'accessibility_override' },
  { id: 'audio.accessibility.auditable', level: 'WARN', reason: null },
  { id: 'audio.lifecycle.no_dead_interrupt', level: 'REJECT', reason: 'terminal_state' },
  { id: 'audio.lifecycle.commit_boundary', level: 'REJECT', reason: 'commit_boundary' },
  { id: 'audio.lifecycle.valid_transition', level: 'REJECT', reason: 'invalid_transition' },
  { id: 'audio.plugin.immutability', level: 'REJECT', reason: 'plugin_immutable' },
] as const;

/** Every reason code a decision can carry. */
export const REASON_CODES = [
  'unknown_actor',
  'already_owned',
  'not_owner',
  'accessibility_override',
  'terminal_state',
  'commit_boundary',
  'invalid_transition',
  'plugin_immutable',
  'invalid_request',
  'registrar_halted',
  'capacity_exhausted',
] as const;
/** A reason code. */
export type ReasonCode = (typeof REASON_CODES)[number];

/** "No such id" for every interned-id field. */
export const NO_ID = -1;

/**
 * What `internStream`/`internScope` return when the core cannot intern another id of that kind
 * (its table is full even after compaction freed what it could). A request carrying it is denied
 * `capacity_exhausted` by the core (attested like every decision); nothing throws.
 */
export const FULL_ID = -2;

/** Override scopes, in their frozen order. */
export const OVERRIDE_SCOPES = ['session', 'user'] as const;

/**
 * Why a user belongs to a session (spec §1 "Session membership"), as bits of a membership's
 * `basis`. Bits are only ever added (a user never stops being a member), so the check is
 * monotonic in seq order whichever thread declared.
 */
export const MEMBERSHIP_BASIS = {
  /** The host declared it (`registerActor(user, { sessions })`): host configuration, not a request. */
  declared: 1,
  /** A stream of the session was created with that `userId` (an effect of the creating decision). */
  stream: 2,
  /** An attestation stated the declaration (`metadata.membership: 'declared'`), so the log proves it:
   *  from then on it is part of the state hash and of snapshots. */
  recorded: 4,
} as const;
/** Name spaces of `internScope`: sessions, users, plugin grant sets and override values (texts). */
export const SCOPE_SPACES = { session: 0, user: 1, grants: 2, values: 3 } as const;

/** Halt causes, in their frozen order (the native HaltCause enum mirrors it). */
export const HALT_CAUSES = ['accessibility_bypass', 'attestation_io', 'structural', 'journal_overrun'] as const;

/** `reserveSeq()` answers: the log writer is too far behind (wait for it and ask again). */
export const RESERVE_BACKPRESSURE = -3;
/** `reserveSeq()` answers: the log writer closed (nothing can be recorded any more). */
export const RESERVE_WRITER_GONE = -4;

/** Why a core refused a request before deciding it (no seq consumed; see `CoreDecision.refused`). */
export type CoreRefusal = 'retry' | 'backpressure' | 'writer_gone';

/** A request reduced to integers. Ids are interned by the core's `intern*` methods. */
export interface CoreRequest {
  /** Interned actor id, or NO_ID when the actor is not registered. */
  actor: number;
  /** Index into ACTOR_KINDS (meaningful even for an unregistered actor). */
  actorKind: number;
  /** Index into TRANSITION_ACTIONS. */
  action: number;
  /** Interned stream id of the target; NO_ID when the request has none. An interned id that has
   *  no stream yet is an "unknown target" (start/claim create it). */
  stream: number;
  /** transfer: interned id of metadata.newOwner (must be registered), else NO_ID. */
  newOwner: number;
  /** interrupt by system: interned stream id named by metadata.preemptFor, else NO_ID. */
  preemptFor: number;
  /** Priority 1..10 of a stream created by this request (system=10, assistant=5, background=1). */
  priority: number;
  /** Interned session id of a created stream. */
  session: number;
  /** Interned user id of a created stream, or NO_ID. */
  user: number;
  /** Override actions: index into OVERRIDE_SCOPES. */
  overrideScope: number;
  /** Override actions: interned session or user id the override covers. */
  overrideScopeId: number;
  /** mutate_graph by a plugin: the owner allowed this plugin (resolved by the facade). */
  pluginAllowed: boolean;
  /** enable_override by a user: the interned user id (scope space 1) of the requester's own id
   *  (`alice` for `user:alice`), checked against the scope (§3.1); absent or NO_ID otherwise. */
  actorUser?: number;
  /** start/claim/compile: the plugin grant set (`internScope(SCOPE_SPACES.grants, ...)`) an
   *  allowed decision gives the stream; NO_ID or absent leaves its grants as they are. */
  grants?: number;
  /** enable/update_override: the override's values (`internScope(SCOPE_SPACES.values, ...)`),
   *  for an update already merged with the current ones; NO_ID or absent for none. */
  values?: number;
  /** When given: the grant set of the target `pluginAllowed` was computed from. A core refuses
   *  the request (`refused: 'retry'`) when the stream's grants are no longer these. */
  expectedGrants?: number;
  /** When given: the override's values `values` was merged from (refused `'retry'` otherwise). */
  expectedValues?: number;
}

/** What the core decided, all integers and flags. */
export interface CoreDecision {
  allowed: boolean;
  /** Bitmask over DOMAIN_INVARIANTS. */
  violations: number;
  /** Index into REASON_CODES, or -1 when allowed. */
  reason: number;
  /** This request tripped a HALT; the registrar is now halted. */
  halted: boolean;
  /** Global, gap-free sequence number of this decision (starts at 1). */
  seq: number;
  /** Stream the decision concerns (the created one, for creating requests), or NO_ID. */
  stream: number;
  /** Index into STREAM_STATES before/after, or -1 when there was/is no stream. */
  stateBefore: number;
  stateAfter: number;
  /** Stream version after the decision (+1 per accepted transition). */
  version: number;
  /** seq of the stream's previous accepted transition, 0 when none. */
  parentSeq: number;
  /** Owner before/after (interned actor id) or NO_ID when unowned. */
  ownerBefore: number;
  ownerAfter: number;
  /** An override covered the target, or the action is an override action. */
  accessibility: boolean;
  /** An allowed system interrupt that preempted a lower-priority stream. */
  preemption: boolean;
  /** Set when nothing was decided and no seq consumed: `'retry'` (the grants or values the
   *  request was computed from changed: compute it again), `'backpressure'` (the log writer is
   *  too far behind: wait for it), `'writer_gone'` (the log writer closed). */
  refused?: CoreRefusal;
}

/**
 * A journaled decision: the core appends one per consumed seq, in seq order, so a thread that did
 * not make a decision (the store's thread) can still attest it gap-free.
 */
export interface JournalEntry extends CoreDecision {
  actor: number;
  actorKind: number;
  action: number;
  /** The request's target as given (NO_ID when none). */
  target: number;
  /** Monotonic clock of the decision, in ns. */
  monotonicNs: bigint;
  /** 0 decide, 1 evaluate (observe), 2 reserved seq (facade-level denial), 3 halt (`halt()`),
   *  4 the log writer's close fence. */
  kind: number;
  /** Who decided (an id of the deciding core object; 0 when unknown). */
  decider?: number;
  /** The decider posts this seq's attestation body for the log writer. */
  postsBody?: boolean;
  /** A halt entry's cause: index into HALT_CAUSES, -1 otherwise. */
  haltCause?: number;
  /** Optional: the full integer request (kind 0/1), so a registrar on another thread can attest
   *  the decision with its parameters and a later replay can re-decide it (registrar.syncJournal). */
  request?: CoreRequest;
}

/** A stream as the core holds it (ids interned). */
export interface CoreStream {
  stream: number;
  state: number;
  owner: number;
  session: number;
  user: number;
  priority: number;
  version: number;
  /** Graph revision (count of accepted compile/mutate_graph since the last commit/rollback base). */
  graphRevision: number;
  committed: boolean;
  /** seq of the last accepted transition. */
  lastSeq: number;
  /** The plugin grant set (an id in SCOPE_SPACES.grants), or NO_ID. */
  grants: number;
}

/** An active accessibility override as the core holds it. */
export interface CoreOverride {
  owner: number;
  scope: number;
  scopeId: number;
  /** Its values (an id in SCOPE_SPACES.values), or NO_ID. */
  values: number;
}

/** A user's membership of a session as the core holds it. */
export interface CoreMembership {
  /** Interned user id (scope space 1). */
  user: number;
  /** Interned session id (scope space 0). */
  session: number;
  /** Bits of MEMBERSHIP_BASIS (never 0). */
  basis: number;
}

/** A full image of the core's state, for snapshot()/restore() and state hashing. */
export interface CoreImage {
  lastSeq: number;
  halted: boolean;
  streams: CoreStream[];
  overrides: CoreOverride[];
  /** Every membership, sorted by user then session. */
  memberships: CoreMembership[];
}

/**
 * The decision core. `decide` is the hot path: lock-free in the native core and safe from several
 * threads; racing requests on one stream have exactly one winner.
 */
export interface DecisionCore {
  /** Interns an actor id ("kind:id") and records it as registered; returns its integer id. */
  registerActor(key: string, kind: number): number;
  /** Interned id of a registered actor, or NO_ID. */
  actorId(key: string): number;
  /** Interns a stream id (creating no stream). */
  internStream(key: string): number;
  /** Optional: the interned id of a stream key without interning it (NO_ID when unknown), so
   *  reads like getState() of arbitrary ids do not grow the intern table. */
  streamIdOf?(key: string): number;
  /** Interns a session or user id, a plugin grant set or a set of override values, as text
   *  (separate name spaces: SCOPE_SPACES). */
  internScope(space: number, key: string): number;
  /** The string behind an interned id. */
  actorKey(id: number): string;
  streamKey(id: number): string;
  scopeKey(space: number, id: number): string;
  /** Decides a request, applies it when allowed, and consumes one seq either way. */
  decide(request: CoreRequest): CoreDecision;
  /** Decides without changing anything (shadow mode); still consumes one seq for its attestation. */
  evaluate(request: CoreRequest): CoreDecision;
  /** Consumes one seq for a request the facade denies itself (invalid_request). A core with a log
   *  writer (shared-core.ts) refuses with a negative answer: RESERVE_BACKPRESSURE or
   *  RESERVE_WRITER_GONE (nothing consumed). */
  reserveSeq(): number;
  /** Optional (native cores only): a watch of the play decided at `playSeq` on stream `id`, for a
   *  device voice (the audio callback fades the voice the first period the stream no longer
   *  plays); null when the id has no slot, false when that play is no longer the stream's last
   *  decision (a later play of the stream must never be followed instead). A core without native
   *  words (the reference core) has none. */
  watchStream?(id: number, playSeq: number): NativeStreamWatch | null | false;
  /** Halts the core for a cause other than accessibility_bypass (index into HALT_CAUSES): one
   *  seq, journaled as kind 3, after which every request is denied registrar_halted. Returns the
   *  seq; 0 when the core is already halted. */
  halt(cause: number): number;
  /** The last seq the core handed out (by any thread). */
  lastSeq(): number;
  /** Whether the core is halted, why (index into HALT_CAUSES, -1 when unknown: restored from a
   *  halted snapshot) and at which seq (0 when unknown). */
  haltInfo(): { halted: boolean; cause: number; seq: number };
  /** A stream, or null. */
  stream(id: number): CoreStream | null;
  /** Active overrides. */
  overrides(): CoreOverride[];
  /** Adds `basis` bits (MEMBERSHIP_BASIS) to the membership of interned user `user` in interned
   *  session `session`, creating it. Not a request: consumes no seq; visible to every decision
   *  made after it returns (any thread, on a shared core). */
  declareMember(user: number, session: number, basis: number): void;
  /** The MEMBERSHIP_BASIS bits of `user` in `session`; 0 when not a member. */
  membership(user: number, session: number): number;
  /** Every membership, sorted by user then session. */
  memberships(): CoreMembership[];
  /** Everything, for snapshots and state hashes. */
  image(): CoreImage;
  /** Replaces the state with an image (restore). */
  load(image: CoreImage): void;
  /** Journaled decisions with seq >= fromSeq, in seq order, stopping at the first seq not yet
   *  complete (so the result is always gap-free); at most maxEntries. */
  readJournal(fromSeq: number, maxEntries: number): JournalEntry[];
  /** The compaction policy this core applies (null: never compacts). Replay and restore of a
   *  log need a core with the policy the log states (compaction-record.ts). */
  compactionPolicy?(): CompactionPolicy | null;
  /** How many streams the compaction sweep of point `seq` removed, or null when not known (not a
   *  point of this core's policy, not decided yet, or older than the core remembers: two journal
   *  lengths of points). The registrar states it in the attestation of that seq
   *  (compaction-record.ts). A core with a policy implements both methods. */
  compactedAt?(seq: number): number | null;
  /** Releases native resources; idempotent. */
  close(): void;
}
