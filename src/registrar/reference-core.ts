/**
 * The pure-TypeScript reference model of the decision core: small, single-threaded and written to
 * read like spec/registrar.md §2–§4. It is the oracle the native lock-free core is fuzzed against
 * and the baseline of the registrar benchmark. The exact rules it applies where the spec leaves a
 * choice are listed in docs/STATE_MODEL.md ("Decisions the spec leaves open").
 */
import { z } from 'zod';
import { parseInput } from '../validation.js';
import { compactionOptionSchema, isCompactionPoint, policyOf, type CompactionOption, type CompactionPolicy } from './compaction.js';
import {
  ACTOR_KINDS,
  DOMAIN_INVARIANTS,
  FULL_ID,
  MEMBERSHIP_BASIS,
  HALT_CAUSES,
  NO_ID,
  REASON_CODES,
  STREAM_STATES,
  TRANSITION_ACTIONS,
  type CoreDecision,
  type CoreImage,
  type CoreMembership,
  type CoreOverride,
  type CoreRequest,
  type CoreStream,
  type DecisionCore,
  type JournalEntry,
  type StreamState,
  type TransitionAction,
} from './core.js';

const state = (name: StreamState): number => STREAM_STATES.indexOf(name);
const action = (name: TransitionAction): number => TRANSITION_ACTIONS.indexOf(name);
const bit = (id: (typeof DOMAIN_INVARIANTS)[number]['id']): number => 1 << DOMAIN_INVARIANTS.findIndex((entry) => entry.id === id);

const IDLE = state('idle');
const COMPILING = state('compiling');
const SYNTHESIZING = state('synthesizing');
const PLAYING = state('playing');
const INTERRUPTING = state('interrupting');
const STOPPED = state('stopped');
const FAILED = state('failed');

const USER = ACTOR_KINDS.indexOf('user');
const AGENT = ACTOR_KINDS.indexOf('agent');
const PLUGIN = ACTOR_KINDS.indexOf('plugin');
const SYSTEM = ACTOR_KINDS.indexOf('system');

const A = Object.fromEntries(TRANSITION_ACTIONS.map((name) => [name, action(name)])) as Record<TransitionAction, number>;
const OVERRIDE_ACTIONS = new Set([A.enable_override, A.update_override, A.disable_override]);
/** Actions a system actor may request on a stream it does not own (§3.2). */
const SYSTEM_ACTIONS = new Set([A.synthesize, A.play, A.stop, A.fail]);
/** Actions an accessibility override takes away from agents and plugins, and gives to the owner
 *  of every override covering the stream (§3.1). */
const GUARDED_BY_OVERRIDE = new Set([A.interrupt, A.stop, A.fail, A.mutate_graph, A.transfer]);
/** A user's membership of a session counts when the host declared it or a stream implies it. */
const MEMBER = MEMBERSHIP_BASIS.declared | MEMBERSHIP_BASIS.stream;
/** Membership map key of (user, session): both ids are below 2^24. */
const memberKey = (user: number, session: number): number => user * 2 ** 24 + session;
/** Actions that change lifecycle state: never allowed to a plugin (audio.plugin.immutability). */
const LIFECYCLE_ACTIONS = new Set([A.start, A.synthesize, A.play, A.interrupt, A.stop, A.fail, A.restart]);
const GRAPH_ACTIONS = new Set([A.compile, A.mutate_graph, A.commit, A.rollback]);

/** §2: the states each action may start from (stream actions on an existing stream). */
const FROM: ReadonlyMap<number, ReadonlySet<number>> = new Map([
  [A.start, new Set([IDLE])],
  [A.compile, new Set([COMPILING])],
  [A.synthesize, new Set([COMPILING])],
  [A.play, new Set([SYNTHESIZING])],
  [A.interrupt, new Set([PLAYING])],
  [A.stop, new Set([PLAYING, INTERRUPTING])],
  [A.fail, new Set([IDLE, COMPILING, SYNTHESIZING, PLAYING, INTERRUPTING])],
  [A.restart, new Set([STOPPED, FAILED])],
  [A.claim, new Set([IDLE, COMPILING, SYNTHESIZING, PLAYING, INTERRUPTING, STOPPED, FAILED])],
  [A.release, new Set([IDLE, STOPPED, FAILED])],
  [A.transfer, new Set([IDLE, COMPILING, SYNTHESIZING, PLAYING, INTERRUPTING, STOPPED])],
  [A.mutate_graph, new Set([COMPILING])],
  [A.commit, new Set([COMPILING])],
  [A.rollback, new Set([COMPILING])],
]);
/** §2: the state each action leads to; absent means "unchanged". */
const TO: ReadonlyMap<number, number> = new Map([
  [A.start, COMPILING],
  [A.synthesize, SYNTHESIZING],
  [A.play, PLAYING],
  [A.interrupt, INTERRUPTING],
  [A.stop, STOPPED],
  [A.fail, FAILED],
  [A.restart, IDLE],
]);

const REASON_HALTED = REASON_CODES.indexOf('registrar_halted');
const REASON_INVALID_REQUEST = REASON_CODES.indexOf('invalid_request');
const REASON_CAPACITY = REASON_CODES.indexOf('capacity_exhausted');

/** Options of the reference core. */
export interface ReferenceCoreOptions {
  /** How many journal entries are kept for readJournal (oldest dropped first); default 8192. */
  journalCapacity?: number;
  /** When terminal streams are compacted (compaction.ts); default DEFAULT_COMPACTION, false never. */
  compaction?: CompactionOption;
  /** Most stream ids interned at once (live, unused and quarantined); default 2^24 - 4096, as the native core. */
  streamCapacity?: number;
  /** Most session ids, and most user ids, interned; default 2^24 - 4096. */
  scopeCapacity?: number;
}

/** The native core's id space (ChunkedTable::kCapacity), the reference core's default capacity. */
const DEFAULT_ID_CAPACITY = 4096 * 4095;

const optionsSchema = z.strictObject({
  journalCapacity: z.number().int().min(1).max(2 ** 30).optional(),
  compaction: compactionOptionSchema,
  streamCapacity: z.number().int().min(1).max(DEFAULT_ID_CAPACITY).optional(),
  scopeCapacity: z.number().int().min(1).max(DEFAULT_ID_CAPACITY).optional(),
});

/** A freed stream id and the seq it was freed at (reused one journal length later). */
interface FreedId {
  id: number;
  freedSeq: number;
}

/** A small, obviously-correct DecisionCore (single-threaded; see the file comment). */
export class ReferenceCore implements DecisionCore {
  private readonly actorKeys: string[] = [];
  private readonly actorIds = new Map<string, number>();
  private readonly registered = new Set<number>();
  /** Key of every interned stream id, quarantined ones included (their old key, until reused). */
  private readonly streamKeys = new Map<number, string>();
  private readonly streamIds = new Map<string, number>();
  /** Last seq at which an interned id was interned or named by a request. */
  private readonly streamTouch = new Map<number, number>();
  /** Freed ids in the order they were freed (oldest first, from `freeHead`). */
  private freed: FreedId[] = [];
  private freeHead = 0;
  private nextStreamId = 0;
  /** Sessions, users, plugin grant sets, override values (SCOPE_SPACES). */
  private readonly scopeKeys: [string[], string[], string[], string[]] = [[], [], [], []];
  private readonly scopeIds: [Map<string, number>, Map<string, number>, Map<string, number>, Map<string, number>] = [new Map(), new Map(), new Map(), new Map()];
  private streams = new Map<number, CoreStream>();
  private overrideList: CoreOverride[] = [];
  /** Memberships by memberKey(user, session): MEMBERSHIP_BASIS bits. */
  private members = new Map<number, number>();
  private seqCounter = 0;
  private halted = false;
  /** Why and where the core halted (index into HALT_CAUSES, -1 unknown; seq 0 unknown). */
  private haltCause = -1;
  private haltSeq = 0;
  /** Ring of the last `journalCapacity` entries, slot = seq % capacity. */
  private readonly journal: (JournalEntry | undefined)[];
  private readonly journalCapacity: number;
  private readonly policy: CompactionPolicy | null;
  /** Streams removed by recent sweeps, by point seq (the last two journal lengths of points). */
  private readonly sweeps = new Map<number, number>();
  private readonly sweepsKept: number;
  private readonly streamCapacity: number;
  private readonly scopeCapacity: number;

  /** Throws InputError (naming the field) for bad options. */
  constructor(options: ReferenceCoreOptions = {}) {
    const parsed = parseInput(optionsSchema, options, 'ReferenceCoreOptions');
    this.journalCapacity = parsed.journalCapacity ?? 8192;
    this.journal = new Array<JournalEntry | undefined>(this.journalCapacity);
    this.policy = policyOf(parsed.compaction);
    this.sweepsKept = this.policy === null ? 0 : 2 * Math.floor(this.journalCapacity / this.policy.periodSeqs) + 2;
    this.streamCapacity = parsed.streamCapacity ?? DEFAULT_ID_CAPACITY;
    this.scopeCapacity = parsed.scopeCapacity ?? DEFAULT_ID_CAPACITY;
  }

  compactionPolicy(): CompactionPolicy | null {
    return this.policy;
  }

  compactedAt(seq: number): number | null {
    return this.sweeps.get(seq) ?? null;
  }

  /** Stream ids interned and not freed, and ids ever made that are not yet reused or dropped
   *  (live plus quarantined): both stay bounded in a long run when compaction is on. */
  stats(): { liveStreamIds: number; streamTableSize: number } {
    return { liveStreamIds: this.streamIds.size, streamTableSize: this.streamKeys.size };
  }

  registerActor(key: string, kind: number): number {
    let id = this.actorIds.get(key);
    if (id === undefined) {
      id = this.actorKeys.push(key) - 1;
      this.actorIds.set(key, id);
    }
    void kind; // the kind is part of the key ("kind:id") and travels with every request, so nothing to store
    this.registered.add(id);
    return id;
  }

  actorId(key: string): number {
    const id = this.actorIds.get(key);
    return id !== undefined && this.registered.has(id) ? id : NO_ID;
  }

  internStream(key: string): number {
    let id = this.streamIds.get(key);
    if (id === undefined) {
      const reusable = this.freed[this.freeHead];
      if (reusable !== undefined && reusable.freedSeq + this.journalCapacity <= this.seqCounter) {
        id = reusable.id;
        this.freeHead += 1;
        if (this.freeHead * 2 > this.freed.length) {
          this.freed = this.freed.slice(this.freeHead);
          this.freeHead = 0;
        }
      } else if (this.streamKeys.size >= this.streamCapacity) {
        return FULL_ID;
      } else {
        id = this.nextStreamId++;
      }
      this.streamKeys.set(id, key);
      this.streamIds.set(key, id);
    }
    this.streamTouch.set(id, this.seqCounter);
    return id;
  }

  streamIdOf(key: string): number {
    return this.streamIds.get(key) ?? NO_ID;
  }

  internScope(space: number, key: string): number {
    const index = space >= 0 && space <= 3 ? space : 0;
    const ids = this.scopeIds[index as 0];
    const keys = this.scopeKeys[index as 0];
    let id = ids.get(key);
    if (id === undefined) {
      if (keys.length >= this.scopeCapacity) return FULL_ID;
      id = keys.push(key) - 1;
      ids.set(key, id);
    }
    return id;
  }

  actorKey(id: number): string {
    return this.actorKeys[id] ?? '';
  }

  streamKey(id: number): string {
    return this.streamKeys.get(id) ?? '';
  }

  scopeKey(space: number, id: number): string {
    return this.scopeKeys[(space >= 0 && space <= 3 ? space : 0) as 0][id] ?? '';
  }

  decide(request: CoreRequest): CoreDecision {
    return this.run(request, true);
  }

  evaluate(request: CoreRequest): CoreDecision {
    return this.run(request, false);
  }

  reserveSeq(): number {
    const seq = ++this.seqCounter;
    const decision: CoreDecision = {
      allowed: false, violations: 0, reason: REASON_INVALID_REQUEST, halted: false, seq, stream: NO_ID,
      stateBefore: -1, stateAfter: -1, version: 0, parentSeq: 0, ownerBefore: NO_ID, ownerAfter: NO_ID,
      accessibility: false, preemption: false,
    };
    this.record(decision, null, 2);
    this.compactAt(seq);
    return seq;
  }

  halt(cause: number): number {
    if (this.halted || !Number.isInteger(cause) || cause < 1 || cause >= HALT_CAUSES.length) return 0;
    const seq = ++this.seqCounter;
    this.halted = true;
    this.haltCause = cause;
    this.haltSeq = seq;
    const decision: CoreDecision = {
      allowed: false, violations: 0, reason: REASON_HALTED, halted: false, seq, stream: NO_ID,
      stateBefore: -1, stateAfter: -1, version: 0, parentSeq: 0, ownerBefore: NO_ID, ownerAfter: NO_ID,
      accessibility: false, preemption: false,
    };
    this.record(decision, null, 3, cause);
    this.compactAt(seq);
    return seq;
  }

  lastSeq(): number {
    return this.seqCounter;
  }

  haltInfo(): { halted: boolean; cause: number; seq: number } {
    return { halted: this.halted, cause: this.haltCause, seq: this.haltSeq };
  }

  stream(id: number): CoreStream | null {
    const found = this.streams.get(id);
    return found ? { ...found } : null;
  }

  overrides(): CoreOverride[] {
    return this.overrideList.map((entry) => ({ ...entry }));
  }

  declareMember(user: number, session: number, basis: number): void {
    if (user < 0 || session < 0 || (basis & 7) === 0) return;
    const key = memberKey(user, session);
    this.members.set(key, (this.members.get(key) ?? 0) | (basis & 7));
  }

  membership(user: number, session: number): number {
    return user < 0 || session < 0 ? 0 : (this.members.get(memberKey(user, session)) ?? 0);
  }

  memberships(): CoreMembership[] {
    return [...this.members]
      .map(([key, basis]) => ({ user: Math.floor(key / 2 ** 24), session: key % 2 ** 24, basis }))
      .sort((a, b) => a.user - b.user || a.session - b.session);
  }

  image(): CoreImage {
    return {
      lastSeq: this.seqCounter,
      halted: this.halted,
      streams: [...this.streams.values()].map((entry) => ({ ...entry })).sort((a, b) => a.stream - b.stream),
      overrides: this.overrides(),
      memberships: this.memberships(),
    };
  }

  load(image: CoreImage): void {
    this.seqCounter = image.lastSeq;
    this.halted = image.halted;
    this.haltCause = -1;
    this.haltSeq = 0;
    this.streams = new Map(image.streams.map((entry) => [entry.stream, { ...entry }]));
    this.overrideList = image.overrides.map((entry) => ({ ...entry }));
    this.members = new Map(image.memberships.map((entry) => [memberKey(entry.user, entry.session), entry.basis]));
    this.journal.fill(undefined);
    this.sweeps.clear();
  }

  readJournal(fromSeq: number, maxEntries: number): JournalEntry[] {
    const entries: JournalEntry[] = [];
    const oldest = Math.max(1, this.seqCounter - this.journalCapacity + 1);
    for (let seq = Math.max(fromSeq, oldest); seq <= this.seqCounter && entries.length < maxEntries; seq += 1) {
      const entry = this.journal[seq % this.journalCapacity];
      if (!entry || entry.seq !== seq) break;
      entries.push({ ...entry, ...(entry.request ? { request: journaledRequest(entry.request) } : {}) });
    }
    return entries;
  }

  close(): void {
    // Nothing native to release.
  }

  /** The whole of §2–§4 for one request; `apply` is false in shadow mode. */
  private run(request: CoreRequest, apply: boolean): CoreDecision {
    // Facade state the request was computed from changed: nothing decided (never, single-threaded,
    // unless the caller passes stale expectations).
    if (request.expectedGrants !== undefined && (this.streams.get(request.stream)?.grants ?? NO_ID) !== request.expectedGrants) return refusedDecision();
    if (request.expectedValues !== undefined && (this.findOverride(request.overrideScope, request.overrideScopeId)?.values ?? NO_ID) !== request.expectedValues) {
      return refusedDecision();
    }
    const decision = this.decideOne(request, apply);
    this.compactAt(decision.seq);
    return decision;
  }

  /** The whole of §2–§4 for one request (see run). */
  private decideOne(request: CoreRequest, apply: boolean): CoreDecision {
    const seq = ++this.seqCounter;
    // Freed ids (a stale id from a caller) have no touch entry and get none.
    if (this.streamTouch.has(request.stream)) this.streamTouch.set(request.stream, seq);
    if (this.streamTouch.has(request.preemptFor)) this.streamTouch.set(request.preemptFor, seq);
    const target = request.stream === NO_ID ? undefined : this.streams.get(request.stream);
    const creating = !target && (request.action === A.start || request.action === A.claim);
    const streamId = creating && request.stream === NO_ID ? this.mintStream(seq) : request.stream;
    const covering = target ? this.coveringOverrides(target) : NONE;
    const isOverrideAction = OVERRIDE_ACTIONS.has(request.action);
    const decision: CoreDecision = {
      allowed: false, violations: 0, reason: -1, halted: false, seq, stream: isOverrideAction || streamId === FULL_ID ? NO_ID : streamId,
      stateBefore: target ? target.state : -1, stateAfter: target ? target.state : -1,
      version: target ? target.version : 0, parentSeq: target ? target.lastSeq : 0,
      ownerBefore: target ? target.owner : NO_ID, ownerAfter: target ? target.owner : NO_ID,
      accessibility: isOverrideAction || covering.length > 0, preemption: false,
    };
    if (request.stream >= 0 && !this.streamTouch.has(request.stream)) {
      // Never interned, or freed by compaction (a stale id): as the native core, invalid.
      Object.assign(decision, { reason: this.halted ? REASON_HALTED : REASON_INVALID_REQUEST, accessibility: false });
      this.record(decision, request, apply ? 0 : 1);
      return decision;
    }
    if (this.halted) {
      decision.reason = REASON_HALTED;
      this.record(decision, request, apply ? 0 : 1);
      return decision;
    }
    if (streamId === FULL_ID || lacksRoom(request)) {
      // An id the core could not intern: the table is full. Denied, never thrown.
      decision.reason = REASON_CAPACITY;
      this.record(decision, request, apply ? 0 : 1);
      return decision;
    }

    const overrideTarget = isOverrideAction ? this.findOverride(request.overrideScope, request.overrideScopeId) : undefined;
    const preempting = this.isPreemption(request, target);
    let violations = 0;
    let halt = false;

    // audio.actor.registered (the requester; a transfer's new owner is part of the §2 table row).
    if (request.actor === NO_ID) violations |= bit('audio.actor.registered');

    // audio.ownership.single_owner: claim never takes an owned stream.
    if (request.action === A.claim && target && target.owner !== NO_ID) violations |= bit('audio.ownership.single_owner');

    // audio.ownership.required_for_control (§3.2–3.4).
    if (target && !isOverrideAction && request.action !== A.claim) {
      const owner = request.actor !== NO_ID && target.owner === request.actor;
      const systemRuntime = request.actorKind === SYSTEM && SYSTEM_ACTIONS.has(request.action);
      const delegatedPlugin = request.actorKind === PLUGIN && request.action === A.mutate_graph && request.pluginAllowed;
      const overrideOwner = GUARDED_BY_OVERRIDE.has(request.action) && ownsOneOf(covering, request.actor);
      if (!owner && !systemRuntime && !delegatedPlugin && !overrideOwner && !preempting) violations |= bit('audio.ownership.required_for_control');
    }

    // audio.accessibility.supremacy (§3.1): guarded actions, override ownership, and HALT when a
    // registered user's request would end someone else's override without disable_override.
    if (covering.length > 0 && GUARDED_BY_OVERRIDE.has(request.action) && !ownsOneOf(covering, request.actor)) {
      const agentOrPlugin = request.actorKind === AGENT || request.actorKind === PLUGIN;
      if (agentOrPlugin || (request.actorKind === SYSTEM && preempting)) violations |= bit('audio.accessibility.supremacy');
    }
    if (request.action === A.enable_override) {
      // Only a user enables, only for their own user scope or a session they belong to
      // (required_for_control: not_owner); enabling over an active override is refused.
      const isUser = request.actorKind === USER;
      const entitled = isUser && this.mayEnable(request);
      if (isUser && !entitled) violations |= bit('audio.ownership.required_for_control');
      if (!isUser || overrideTarget) violations |= bit('audio.accessibility.supremacy');
      // It would replace (end) another user's override without disable_override: HALT, but only
      // for a registered user who may enable there. Unknown actors, agents, plugins, the system
      // and users outside the scope are refused, never halt.
      if (overrideTarget && overrideTarget.owner !== request.actor && request.actor !== NO_ID && entitled) halt = true;
    }
    if ((request.action === A.update_override || request.action === A.disable_override) && overrideTarget && overrideTarget.owner !== request.actor) {
      violations |= bit('audio.accessibility.supremacy');
    }

    // audio.lifecycle.no_dead_interrupt
    if (request.action === A.interrupt && (!target || target.state === STOPPED || target.state === FAILED)) violations |= bit('audio.lifecycle.no_dead_interrupt');

    // audio.lifecycle.commit_boundary
    if (target && target.committed && (request.action === A.compile || request.action === A.mutate_graph || request.action === A.rollback)) {
      violations |= bit('audio.lifecycle.commit_boundary');
    }

    // audio.lifecycle.valid_transition (§2 table).
    if (!this.validTransition(request, target, creating, overrideTarget)) violations |= bit('audio.lifecycle.valid_transition');

    // audio.plugin.immutability
    if (request.actorKind === PLUGIN) {
      const lifecycle = LIFECYCLE_ACTIONS.has(request.action) || creating;
      const graphAfterCommit = GRAPH_ACTIONS.has(request.action) && target !== undefined && target.committed;
      if (lifecycle || graphAfterCommit) violations |= bit('audio.plugin.immutability');
    }

    decision.violations = violations;
    const rejecting = violations & ~bit('audio.accessibility.auditable');
    if (rejecting !== 0) {
      decision.reason = firstReason(rejecting);
      decision.halted = halt;
      if (halt && apply) {
        this.halted = true;
        this.haltCause = 0; // accessibility_bypass
        this.haltSeq = seq;
      }
      this.record(decision, request, apply ? 0 : 1);
      return decision;
    }

    decision.allowed = true;
    decision.preemption = preempting && !(target && target.owner === request.actor);
    if (isOverrideAction) {
      if (apply) this.applyOverride(request, overrideTarget);
    } else {
      const before = target ?? this.newStream(streamId, request);
      const after = this.transitioned(before, request, creating, seq);
      decision.stateAfter = after.state;
      decision.version = after.version;
      decision.ownerAfter = after.owner;
      if (creating) decision.ownerBefore = NO_ID;
      if (apply) this.streams.set(after.stream, after);
      // A stream created with a userId makes that user a member of its session (§1).
      if (apply && creating && request.user !== NO_ID) this.declareMember(request.user, request.session, MEMBERSHIP_BASIS.stream);
    }
    this.record(decision, request, apply ? 0 : 1);
    return decision;
  }

  private validTransition(request: CoreRequest, target: CoreStream | undefined, creating: boolean, override: CoreOverride | undefined): boolean {
    // Enabling over an existing override is audio.accessibility.supremacy's business.
    if (request.action === A.enable_override) return true;
    if (request.action === A.update_override || request.action === A.disable_override) return override !== undefined;
    if (creating) return true;
    if (!target) return false;
    if (request.action === A.transfer && request.newOwner === NO_ID) return false; // "a registered actor"
    return FROM.get(request.action)?.has(target.state) ?? false;
  }

  private transitioned(before: CoreStream, request: CoreRequest, creating: boolean, seq: number): CoreStream {
    const after: CoreStream = { ...before, version: before.version + 1, lastSeq: seq };
    // Plugin grants: none when created, set by a start/claim/compile carrying a grant set,
    // dropped by transfer and release.
    if (creating) after.grants = NO_ID;
    const grants = request.grants ?? NO_ID;
    if ((request.action === A.start || request.action === A.claim || request.action === A.compile) && grants !== NO_ID) after.grants = grants;
    if (request.action === A.transfer || request.action === A.release) after.grants = NO_ID;
    const to = TO.get(request.action);
    if (creating) {
      after.owner = request.actor;
      after.state = request.action === A.start ? COMPILING : IDLE;
      return after;
    }
    if (to !== undefined) after.state = to;
    switch (request.action) {
      case A.start:
        after.graphRevision = 0;
        after.committed = false;
        break;
      case A.compile:
      case A.mutate_graph:
        after.graphRevision += 1;
        break;
      case A.synthesize:
      case A.commit:
        // Sealing makes the current graph the base: the revision counts changes since the base.
        after.committed = true;
        after.graphRevision = 0;
        break;
      case A.rollback:
        after.graphRevision = 0;
        break;
      case A.claim:
        after.owner = request.actor;
        break;
      case A.release:
        after.owner = NO_ID;
        break;
      case A.transfer:
        after.owner = request.newOwner;
        break;
      default:
        break;
    }
    return after;
  }

  private newStream(stream: number, request: CoreRequest): CoreStream {
    return {
      stream, state: -1, owner: NO_ID, session: request.session, user: request.user, priority: request.priority,
      version: 0, graphRevision: 0, committed: false, lastSeq: 0, grants: NO_ID,
    };
  }

  private applyOverride(request: CoreRequest, existing: CoreOverride | undefined): void {
    const values = request.values ?? NO_ID;
    if (request.action === A.enable_override) {
      this.overrideList.push({ owner: request.actor, scope: request.overrideScope, scopeId: request.overrideScopeId, values });
    } else if (request.action === A.update_override && existing) {
      existing.values = values; // the caller merged them with the current ones
    } else if (request.action === A.disable_override && existing) {
      this.overrideList = this.overrideList.filter((entry) => entry !== existing);
    }
  }

  private findOverride(scope: number, scopeId: number): CoreOverride | undefined {
    return this.overrideList.find((entry) => entry.scope === scope && entry.scopeId === scopeId);
  }

  /** Every override covering a stream (its session's and its user's; at most one of each). */
  private coveringOverrides(target: CoreStream): readonly CoreOverride[] {
    if (this.overrideList.length === 0) return NONE;
    return this.overrideList.filter((entry) => (entry.scope === 0 ? entry.scopeId === target.session : target.user !== NO_ID && entry.scopeId === target.user));
  }

  /** §3.1: a user enables a user-scoped override only for themselves, a session-scoped one only
   *  for a session they belong to (declared, or implied by a stream). */
  private mayEnable(request: CoreRequest): boolean {
    const actorUser = request.actorUser ?? NO_ID;
    if (actorUser < 0) return false;
    if (request.overrideScope === 1) return request.overrideScopeId === actorUser;
    return (this.membership(actorUser, request.overrideScopeId) & MEMBER) !== 0;
  }

  /** A system interrupt naming, in preemptFor, an existing stream of strictly higher priority. */
  private isPreemption(request: CoreRequest, target: CoreStream | undefined): boolean {
    if (request.action !== A.interrupt || request.actorKind !== SYSTEM || request.preemptFor === NO_ID || !target) return false;
    const favoured = this.streams.get(request.preemptFor);
    return favoured !== undefined && favoured.stream !== target.stream && favoured.priority > target.priority;
  }

  private mintStream(seq: number): number {
    let key = `stream-${seq}`;
    while (this.streamIds.has(key)) key = `${key}'`;
    return this.internStream(key);
  }

  /**
   * Compaction at a point (compaction.ts): drops terminal streams whose last transition is at
   * least `retainSeqs` old, and interned ids without a stream unused as long; frees their ids.
   */
  private compactAt(seq: number): void {
    const policy = this.policy;
    if (policy === null || !isCompactionPoint(seq, policy)) return;
    const horizon = seq - policy.retainSeqs;
    let removed = 0;
    for (const [id, stream] of this.streams) {
      if ((stream.state === STOPPED || stream.state === FAILED) && stream.lastSeq <= horizon) {
        this.streams.delete(id);
        removed += 1;
      }
    }
    this.sweeps.set(seq, removed);
    this.sweeps.delete(seq - this.sweepsKept * policy.periodSeqs);
    for (const [key, id] of this.streamIds) {
      if (!this.streams.has(id) && (this.streamTouch.get(id) ?? 0) <= horizon) {
        this.streamIds.delete(key);
        this.streamTouch.delete(id);
        this.freed.push({ id, freedSeq: seq });
      }
    }
  }

  private record(decision: CoreDecision, request: CoreRequest | null, kind: number, haltCause = -1): void {
    // One fixed-shape literal (object spreads here cost more than the whole decision).
    const entry: JournalEntry = {
      allowed: decision.allowed,
      violations: decision.violations,
      reason: decision.reason,
      halted: decision.halted,
      seq: decision.seq,
      stream: decision.stream,
      stateBefore: decision.stateBefore,
      stateAfter: decision.stateAfter,
      version: decision.version,
      parentSeq: decision.parentSeq,
      ownerBefore: decision.ownerBefore,
      ownerAfter: decision.ownerAfter,
      accessibility: decision.accessibility,
      preemption: decision.preemption,
      actor: request ? request.actor : NO_ID,
      actorKind: request ? request.actorKind : -1,
      action: request ? request.action : -1,
      target: request ? request.stream : NO_ID,
      monotonicNs: process.hrtime.bigint(),
      kind,
      decider: 0,
      postsBody: false,
      haltCause,
    };
    // The facade builds a fresh request per call and never changes it; readJournal copies.
    if (request) entry.request = request;
    this.journal[decision.seq % this.journalCapacity] = entry;
  }
}

const NONE: readonly CoreOverride[] = Object.freeze([]);

/** Whether `actor` owns one of `overrides`. */
function ownsOneOf(overrides: readonly CoreOverride[], actor: number): boolean {
  for (const entry of overrides) if (entry.owner === actor) return true;
  return false;
}

/** A copy of the request as a journal entry holds it (the native journal's fields, no expectations). */
function journaledRequest(request: CoreRequest): CoreRequest {
  return {
    actor: request.actor, actorKind: request.actorKind, action: request.action, stream: request.stream, newOwner: request.newOwner,
    preemptFor: request.preemptFor, priority: request.priority, session: request.session, user: request.user,
    overrideScope: request.overrideScope, overrideScopeId: request.overrideScopeId, pluginAllowed: request.pluginAllowed,
    grants: request.grants ?? NO_ID, values: request.values ?? NO_ID, actorUser: request.actorUser ?? NO_ID,
  };
}

/** A decision that decided nothing: the request was computed from facade state that changed. */
function refusedDecision(): CoreDecision {
  return {
    allowed: false, violations: 0, reason: -1, halted: false, seq: 0, stream: NO_ID, stateBefore: -1, stateAfter: -1,
    version: 0, parentSeq: 0, ownerBefore: NO_ID, ownerAfter: NO_ID, accessibility: false, preemption: false, refused: 'retry',
  };
}

/** Whether a request names a session, user or scope id the core could not intern. */
function lacksRoom(request: CoreRequest): boolean {
  return request.preemptFor === FULL_ID || request.session === FULL_ID || request.user === FULL_ID || request.overrideScopeId === FULL_ID || request.actorUser === FULL_ID;
}

/** Index into REASON_CODES of the first violated invariant (§4 order). */
function firstReason(violations: number): number {
  for (let index = 0; index < DOMAIN_INVARIANTS.length; index += 1) {
    const reason = DOMAIN_INVARIANTS[index]?.reason;
    if ((violations & (1 << index)) !== 0 && reason) return REASON_CODES.indexOf(reason);
  }
  return -1;
}

// Hardening: no caller can swap a method of this class for its own (a monkey-patched prototype would see every instance).
Object.freeze(ReferenceCore.prototype);
Object.freeze(ReferenceCore);
