/**
 * AudioRegistrar: the single authority over audio stream state (spec/registrar.md). It validates
 * requests with zod, interns ids, asks the decision core, attests every request exactly once
 * (denials and malformed requests included), and hands out single-use permits (`require`) without
 * which the runtime may not act on a stream.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson, frozenJsonCopy, sha256Hex, type JsonObject } from '../attestation/canonical-json.js';
import type { AttestationError } from '../attestation/errors.js';
import { sealRecord, type Attestation, type AttestationBody } from '../attestation/record.js';
import type { DurableLogOptions } from '../attestation/durable-log.js';
import { AttestationStore, type OpenReport } from '../attestation/store.js';
import { parseInput } from '../validation.js';
import { ACTOR_KINDS, NO_ID, OVERRIDE_SCOPES, TRANSITION_ACTIONS, type CoreDecision, type CoreRequest, type DecisionCore, type JournalEntry } from './core.js';
import { appliedInvariantsOf, attestationBody, messageOf, ownerKey, reasonOf, violationsOf, type DecisionContext } from './decision-record.js';
import { facadeHaltedBody, foreignReservedBody, invalidRequestBody } from './facade-bodies.js';
import { foreignDecision, readJournalGapFree } from './journal-sync.js';
import { createDefaultCore } from './default-core.js';
import { CompactionStamp } from './compaction-record.js';
import { EffectGate } from './effect-gate.js';
import { describeInvariants } from './invariant-descriptions.js';
import { PREEMPTION_RULE_ID } from './invariants.js';
import { actorKey, actorRefSchema, jsonProblem, PRIORITY_VALUES, registrarConfigSchema, requestSchema, toActor, type Actor, type ActorRef, type RegistrarConfig, type ValidRequest } from './request-schema.js';
import { FacadeBook } from './facade-state.js';
import { parseCommonRequest } from './request-fast-path.js';
import { assertSameDecision, checkTransition, type FacadeState, type ReplayHooks } from './registrar-support.js';
import { replayLog, restoreFromSnapshot, type ReplayOptions, type RestoreOptions } from './replay.js';
import { setReplayHooks } from './replay-hooks.js';
import { callSafely, PhasedListeners, type ListenerOptions } from './listeners.js';
import { sealSnapshot, type RegistrarSnapshot } from './snapshot.js';
import type { HaltCause, HaltInfo, InvariantDescription, MembershipView, OverrideView, Permit, PermitExpectation, RegistrarResult, StreamView, TransitionEvent } from './types.js';
import { declareSessions, membershipStatement, membershipViews, provenMemberships, registerActorOptionsSchema, type RegisterActorOptions } from './membership.js';
import { InputError } from '../errors.js';
import { signedByStore } from './snapshot-signature.js';
import { isRuntimeErrorFail } from './runtime-error.js';
import type { SigningOptions } from '../attestation/signing-options.js';
import { ActorHandle, issueActorHandle } from './actor-handle.js';
import type { StreamState } from './core.js';
import { overrideKey, overrideView, streamView } from './views.js';

/** Options of a registrar. */
export interface AudioRegistrarOptions {
  /** Where attestations go (default: a new in-memory store). */
  store?: AttestationStore;
  /** Tunables. */
  config?: RegistrarConfig;
  /** The decision core (default: `createDefaultCore()`: native when available, else reference). */
  core?: DecisionCore;
}

const optionsSchema = z.strictObject({
  store: z.instanceof(AttestationStore).optional(),
  config: z.unknown().optional(),
  core: z.custom<DecisionCore>((value) => typeof value === 'object' && value !== null && typeof (value as DecisionCore).decide === 'function', 'expected a DecisionCore').optional(),
});


const SETTLED: Promise<void> = Promise.resolve();
const NO_METADATA: NonNullable<ValidRequest['metadata']> = Object.freeze({});



/** The registrar facade (see the file comment). One per thread; several may share a native core. */
export class AudioRegistrar {
  /** Every attestation this registrar wrote or adopted. */
  readonly attestationStore: AttestationStore;
  readonly #core: DecisionCore;
  /** States the core's compaction policy (seq 1) and each sweep (points) in the log. */
  readonly #compaction: CompactionStamp;
  private readonly config: z.output<typeof registrarConfigSchema>;
  private readonly book = new FacadeBook((stream) => this.#core.stream(this.lookupStream(stream)) !== null);
  private readonly gate = new EffectGate(
    (streamId) => this.#core.stream(this.lookupStream(streamId))?.lastSeq ?? null,
    () => this.halted,
    {
      mode: () => this.attestationStore.durability ?? 'memory',
      durableSeq: () => this.attestationStore.durableSeq,
      effectsAwait: () => this.config.effectsAwaitDurability,
    },
  );
  readonly #haltListeners = new PhasedListeners<HaltInfo>();
  readonly #transitionListeners = new PhasedListeners<TransitionEvent>();
  /** The private token this registrar's actor handles are issued under. */
  readonly #issuer: object = Object.freeze({});
  readonly #handles = new Map<string, ActorHandle>();
  /** The private token that makes this registrar its store's only writer. */
  readonly #storeWriter: object = Object.freeze({});
  #haltInfo: HaltInfo | null = null;
  private facadeHalt: HaltCause | null = null;
  /** Mirrors the core's halted flag (from decisions and the journal) so `halted` costs nothing. */
  private coreHalted: boolean;
  private replaying: Attestation | null = null;
  private base: RegistrarSnapshot | null = null;

  constructor(options: AudioRegistrarOptions = {}) {
    const parsed = parseInput(optionsSchema, options, 'AudioRegistrarOptions');
    this.config = parseInput(registrarConfigSchema, parsed.config ?? {}, 'AudioRegistrarOptions.config');
    this.attestationStore = parsed.store ?? new AttestationStore();
    this.attestationStore.claimWriter(this.#storeWriter);
    this.#core = parsed.core ?? createDefaultCore();
    this.#compaction = new CompactionStamp(this.#core);
    this.coreHalted = this.#core.image().halted;
    this.attestationStore.onFailure((error) => this.haltFromFacade('attestation_io', error));
    const hooks: ReplayHooks = {
      core: this.#core,
      replayRecord: (record) => this.replayRecord(record),
      stateImage: () => this.stateImage(),
      loadFacadeState: (state: FacadeState, actors: readonly string[]) => this.book.load(state, actors),
    };
    setReplayHooks(this, hooks);
  }

  /**
   * Registers an actor (`"kind:id"` or `{ id, kind }`) and returns its handle: the capability to
   * request as that actor (the same handle each time). Host code only: hand each untrusted face
   * (an agent's engine, an MCP session, a plugin) the handle of its own actor and nothing else.
   * `options.sessions` declares the sessions a user belongs to (spec §1; users only, adds to earlier
   * declarations): the sessions whose override that user may enable. Throws InputError naming the field.
   */
  registerActor(actor: ActorRef | ActorHandle, options: RegisterActorOptions = {}): ActorHandle {
    const { sessions = [] } = parseInput(registerActorOptionsSchema, options, 'options');
    const normalised: Actor = ActorHandle.isHandle(actor) ? { id: actor.id, kind: actor.kind } : toActor(parseInput(actorRefSchema, actor, 'actor'));
    if (sessions.length > 0 && normalised.kind !== 'user') {
      throw new InputError(`options.sessions: only a user belongs to sessions (received sessions for ${normalised.kind}:${normalised.id})`, { field: 'options.sessions' });
    }
    if (ActorHandle.issuedBy(actor, this.#issuer)) {
      declareSessions(this.#core, normalised.id, sessions);
      return actor;
    }
    const key = actorKey(normalised);
    this.#core.registerActor(key, ACTOR_KINDS.indexOf(normalised.kind));
    this.book.addActor(key);
    declareSessions(this.#core, normalised.id, sessions);
    let handle = this.#handles.get(key);
    if (!handle) {
      handle = issueActorHandle(this.#issuer, normalised.kind, normalised.id);
      this.#handles.set(key, handle);
    }
    return handle;
  }

  /** Rebuilds a registrar by re-deciding a whole log (seq 1 on) and checking every decision; any iterable, read as it goes (e.g. `iterateAttestationLog(path)`). */
  static replay(attestations: Iterable<unknown>, options: ReplayOptions = {}): AudioRegistrar {
    return replayLog(attestations, options);
  }

  /**
   * Restores a registrar from a snapshot plus the log records after it (equal to a full replay); any
   * iterable, read as it goes. With `publicKey`, the snapshot must carry a valid signature of that key
   * (a forger who edits a snapshot and recomputes its hash is refused: REGISTRAR_SNAPSHOT_UNSIGNED / _INVALID).
   */
  static restore(snapshot: unknown, tail: Iterable<unknown> = [], options: RestoreOptions = {}): AudioRegistrar {
    return restoreFromSnapshot(snapshot, tail, options);
  }

  /**
   * Opens (or creates) a durable attestation log and rebuilds the registrar it records by replay;
   * the registrar keeps appending to that log. Throws ATTESTATION_TORN_TAIL (unless
   * `repairTornTail`), ATTESTATION_LOG_CORRUPT, ATTESTATION_CHAIN_BROKEN or a RegistrarReplayError.
   * With `signing`, the store signs checkpoints and the registrar's snapshots (AttestationStore.open).
   * `legacyRules`: the log was written before issue 8's rules (see ReplayOptions.legacyRules).
   */
  static openLog(path: string, options: DurableLogOptions & { core?: DecisionCore; memoryRecords?: number; signing?: SigningOptions; legacyRules?: boolean } = {}): { registrar: AudioRegistrar; report: OpenReport } {
    const { core, legacyRules, ...logOptions } = options;
    const { store, report } = AttestationStore.open(path, logOptions);
    try {
      return { registrar: replayLog(store.records(), { store, ...(core ? { core } : {}), ...(legacyRules !== undefined ? { legacyRules } : {}) }), report };
    } catch (error) {
      void store.close();
      throw error;
    }
  }

  /** A versioned, hashed image of every stream, override, grant and actor, plus the chain head; signed when the store signs. */
  snapshot(): RegistrarSnapshot {
    this.syncJournal();
    const streams = this.#core.image().streams.map((stream) => {
      const view = streamView(this.#core, stream, this.book.lastAttestationOf(this.#core.streamKey(stream.stream)));
      return { ...view, lastSeq: stream.lastSeq, plugins: this.book.pluginsOf(view.streamId) };
    });
    const sealed = sealSnapshot({
      lastSeq: this.attestationStore.lastSeq,
      lastHash: this.attestationStore.lastHash,
      halted: this.halted,
      compaction: this.#compaction.policy,
      actors: this.book.actors(),
      streams: streams.sort((a, b) => (a.streamId < b.streamId ? -1 : 1)),
      overrides: this.listOverrides().map((o) => ({ ...o })).sort((a, b) => (overrideKey(a.scope, a.scopeId) < overrideKey(b.scope, b.scopeId) ? -1 : 1)),
      memberships: provenMemberships(this.#core),
      stateHash: this.stateHash(),
    });
    return signedByStore(sealed, this.attestationStore, this.#storeWriter);
  }

  /** The snapshot this registrar was restored or recovered from, or null (its log starts at seq 1). */
  get baseSnapshot(): RegistrarSnapshot | null {
    return this.base;
  }

  /**
   * After a HALT: rebuilds a fresh, un-halted registrar from this registrar's log. The new one
   * starts from a recovery snapshot (`baseSnapshot`) and appends to `options.store` (default a new
   * memory store) continuing the chain; replay its log with `restore(baseSnapshot, log)`.
   */
  recover(options: ReplayOptions = {}): AudioRegistrar {
    const records = this.attestationStore.records();
    // Rebuilt under this registrar's policy (the one its log states; an empty log states none),
    // only for its snapshot: its store keeps a window, not a second copy of the log.
    const head = this.base ? { head: { seq: this.base.lastSeq, hash: this.base.lastHash } } : {};
    const own = { core: createDefaultCore({ compaction: this.#compaction.policy ?? false }), store: new AttestationStore({ retain: 'window', ...head }), ...(options.legacyRules === true ? { legacyRules: true } : {}) };
    const rebuilt = this.base ? restoreFromSnapshot(this.base, records, own) : replayLog(records, own);
    const { hash: _hash, kind: _kind, v: _v, ...content } = rebuilt.snapshot();
    void [_hash, _kind, _v];
    // Un-halted: its stateHash is the rebuilt state's with halted false (restore compares them).
    const recovered = sealSnapshot({ ...content, halted: false, stateHash: sha256Hex(canonicalJson({ ...rebuilt.stateImage(), halted: false })) });
    const registrar = restoreFromSnapshot(recovered, [], options);
    registrar.base = recovered;
    return registrar;
  }

  /**
   * Decides a request, applies it when allowed and attests it. `actor` must be an ActorHandle this
   * registrar issued (a name, a copy or another registrar's handle is denied `invalid_request`; host
   * code that names actors uses `requestAsHost`). Never throws on bad input: it is denied and attested.
   */
  request(input: unknown): RegistrarResult {
    return this.handle(input, false, false);
  }

  /** Shadow mode: the decision the registrar would make, attested as observed, changing nothing (actor as a handle). */
  observe(input: unknown): RegistrarResult {
    return this.handle(input, true, false);
  }

  /**
   * The trusted entry point for host code: like `request()`, but the actor may be named
   * (`"kind:id"` or `{ id, kind }`) instead of given as a handle. Whoever holds the registrar is
   * the host; never hand it to untrusted code (agents, plugins, MCP sessions get handles).
   */
  requestAsHost(input: unknown): RegistrarResult {
    return this.handle(input, false, true);
  }

  /** `observe()` for host code, with the actor named (see `requestAsHost`). */
  observeAsHost(input: unknown): RegistrarResult {
    return this.handle(input, true, true);
  }

  /** A stream's state (frozen), or null. */
  getState(streamId: string): StreamView | null {
    const stream = this.#core.stream(this.lookupStream(streamId));
    return stream ? streamView(this.#core, stream, this.book.lastAttestationOf(streamId)) : null;
  }

  /** Every stream (frozen views), by stream id. */
  listStates(): readonly StreamView[] {
    const views = this.#core.image().streams.map((stream) => streamView(this.#core, stream, this.book.lastAttestationOf(this.#core.streamKey(stream.stream))));
    return Object.freeze(views.sort((a, b) => (a.streamId < b.streamId ? -1 : a.streamId > b.streamId ? 1 : 0)));
  }

  /** Active accessibility overrides with their values. */
  listOverrides(): readonly OverrideView[] {
    return Object.freeze(this.#core.overrides().map((override) => this.viewOf(override)));
  }

  /**
   * The override whose values the runtime applies to a stream, or null. Several may cover one
   * stream (its session's and its user's; each owner has the override owner's power, §3.1); the
   * user's own (user-scoped) override applies its values when both do, else the session's: a user's
   * own needs are the more specific.
   */
  overrideFor(streamId: string): OverrideView | null {
    const stream = this.getState(streamId);
    if (!stream) return null;
    const covering = this.listOverrides();
    const byUser = stream.userId === null ? undefined : covering.find((o) => o.scope === 'user' && o.scopeId === stream.userId);
    return byUser ?? covering.find((o) => o.scope === 'session' && o.scopeId === stream.sessionId) ?? null;
  }

  /** Every session membership this registrar holds (declared by the host, or implied by a stream), by user then session. */
  listMemberships(): readonly MembershipView[] {
    return membershipViews(this.#core);
  }

  /** The invariant catalogue (domain and structural). */
  listInvariants(): readonly InvariantDescription[] {
    return describeInvariants();
  }

  /** True once a HALT (or an attestation write failure) put the registrar in fail-closed mode. */
  get halted(): boolean {
    return this.facadeHalt !== null || this.coreHalted;
  }

  /** Why the registrar halted (every cause), or null while it runs. */
  get haltCause(): HaltInfo | null {
    return this.#haltInfo;
  }

  /**
   * Calls `listener` once when the registrar halts, whatever the cause (an accessibility bypass, a
   * failed log write, a structural violation, a journal overrun); the runtime stops every stream.
   * A listener added after the halt is called at once. Returns the function that removes it.
   */
  onHalt(listener: (halt: HaltInfo) => void, options: ListenerOptions = {}): () => void {
    const remove = this.#haltListeners.add(listener, options);
    if (this.#haltInfo) callSafely(listener, this.#haltInfo);
    return remove;
  }

  /**
   * Calls `listener` synchronously after every allowed decision on a stream, whoever asked and on
   * whichever thread it was decided (another thread's decisions arrive when this registrar reads the
   * shared core's journal: on its next request or `syncJournal()`). The runtime obeys these: an
   * interrupt, stop or fail closes the stream's sink. `phase: 'effect'` listeners (the runtime's
   * sinks: they silence the device) are told before every `'observe'` listener (the default), so
   * no observer can delay or prevent an effect; a throwing listener is reported as a process
   * warning and the others are still told. A decision made from inside a listener is told after
   * the current one, in order. Returns the function that removes it.
   */
  onTransition(listener: (event: TransitionEvent) => void, options: ListenerOptions = {}): () => void {
    return this.#transitionListeners.add(listener, options);
  }

  /**
   * Spends a permit for an effect that outlives the call that took it (a stream's device sink):
   * checks it is this registrar's, for the expected action and stream, unspent, and still the
   * stream's latest decision. Throws RegistrarRequiredError otherwise, RegistrarHaltedError while halted.
   */
  spend(permit: unknown, expect: PermitExpectation = {}): Permit {
    return this.gate.spend(permit, expect);
  }

  /**
   * The effect gate: turns an allowed result of this registrar into a single-use permit. Throws
   * RegistrarRequiredError for anything else (no result, a copy, an observed result, another
   * action or stream, a used or superseded result), RegistrarDeniedError for a denial,
   * AccessibilityBypassError for the halting result and RegistrarHaltedError while halted.
   */
  require(result: RegistrarResult | null | undefined, expect: PermitExpectation = {}): Permit {
    return this.gate.require(result, expect);
  }

  /**
   * `require()` that waits until the result's attestation is on disk: checks the result now (the
   * same errors as `require`), waits for `result.durable` (at once in `fsync` mode or with a memory
   * store; until its batch commits in `group` mode), then takes the permit, checking again that the
   * decision is still current and the registrar not halted. Rejects with the log's
   * AttestationError if the write fails (the registrar then halts).
   */
  requireDurable(result: RegistrarResult | null | undefined, expect: PermitExpectation = {}): Promise<Permit> {
    return this.gate.requireDurable(result, expect);
  }

  /** Whether audible effects wait for their attestation to be on disk (config `effectsAwaitDurability`; the engine follows it). */
  get effectsAwaitDurability(): boolean {
    return this.config.effectsAwaitDurability;
  }

  /** Runs `effect` only with a permit for `result` (see `require`); returns what it returns. */
  runEffect<T>(result: RegistrarResult | null | undefined, expect: PermitExpectation, effect: (permit: Permit) => T): T {
    return effect(this.require(result, expect));
  }

  /**
   * Attests decisions other threads made on a shared core (seqs not yet in this store), in seq
   * order, from the core's journal; returns how many it wrote. Called by every request first.
   */
  syncJournal(upToSeq: number = Number.MAX_SAFE_INTEGER): number {
    // The hot path: this thread made every decision up to upToSeq, nothing to read.
    if (upToSeq <= this.attestationStore.lastSeq) return 0;
    // Fell behind the journal for good: the halt is recorded; nothing more can be attested gap-free.
    if (this.facadeHalt === 'journal_overrun') return 0;
    try {
      return readJournalGapFree(this.#core, {
        nextSeq: () => this.attestationStore.lastSeq + 1,
        upToSeq,
        batchEntries: this.config.journalBatchEntries,
        stallMs: this.config.journalStallMs,
        onEntry: (entry) => this.attestForeign(entry),
        onOverrun: () => this.haltFromFacade('journal_overrun', new Error('journal overrun')),
      });
    } catch (error) {
      // The overrun halted the registrar (listeners told, cause kept); the caller gets denials, not a throw.
      if ((this.facadeHalt as HaltCause | null) === 'journal_overrun') return 0;
      throw error;
    }
  }

  /** SHA-256 of the canonical registrar state (streams, overrides, grants, halted, last seq). */
  stateHash(): string {
    return sha256Hex(canonicalJson(this.stateImage()));
  }

  /** Resolves when every attestation so far is durable. */
  flush(): Promise<void> {
    return this.attestationStore.flush();
  }

  /** Flushes and closes the store and releases the core; idempotent. */
  async close(): Promise<void> {
    await this.attestationStore.close();
    this.#core.close();
  }

  private handle(given: unknown, observed: boolean, trusted: boolean): RegistrarResult {
    let parsed: ReturnType<typeof requestSchema.safeParse> | undefined;
    let common: ValidRequest | undefined;
    let input: unknown = given;
    try {
      const named = this.#nameActors(given, trusted);
      if (typeof named === 'string') return this.attestInvalid(given, [{ path: 'actor', message: named }]);
      input = named;
      // The common shape is accepted by a precompiled check that agrees with zod; all else is zod's.
      common = parseCommonRequest(input);
      if (common === undefined) parsed = requestSchema.safeParse(input);
    } catch (error) {
      // A throwing getter or proxy: still one denial, still attested.
      return this.attestInvalid(input, [{ path: '(request)', message: `unreadable: ${(error as Error).message}` }]);
    }
    if (parsed !== undefined && !parsed.success) {
      return this.attestInvalid(input, parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(request)', message: issue.message })));
    }
    const request: ValidRequest = common ?? (parsed as { data: ValidRequest }).data; // one of the two succeeded
    const notJson = jsonProblem(request.metadata);
    if (notJson) return this.attestInvalid(input, [{ path: notJson.slice(0, notJson.indexOf(':')), message: notJson.slice(notJson.indexOf(':') + 2) }]);
    const actor = toActor(request.actor);
    const key = actorKey(actor);
    const overrideAction = request.action.endsWith('_override');
    let target = overrideAction ? null : (request.target ?? null);
    if (target === null && (request.action === 'start' || request.action === 'claim')) target = `stream-${randomUUID()}`;
    if (this.facadeHalt) return this.attestFacadeHalted(actor, request.action, target, observed);
    if (this.replaying) this.registerForReplay(this.replaying, key, actor, request);
    const coreRequest = this.toCoreRequest(request, actor, key, target);
    const decision = observed ? this.#core.evaluate(coreRequest) : this.#core.decide(coreRequest);
    this.syncJournal(decision.seq - 1);
    // Fell behind the shared journal: this registrar can attest nothing gap-free any more.
    if (this.facadeHalt === 'journal_overrun') return this.attestFacadeHalted(actor, request.action, target, observed);
    const streamKey = decision.stream === NO_ID ? target : this.#core.streamKey(decision.stream);
    const metadata: Record<string, unknown> = {};
    if (observed) metadata.observed = true;
    if (decision.allowed && decision.stateBefore === -1 && decision.stream !== NO_ID) metadata.created = true;
    if (decision.allowed && request.action === 'transfer') metadata.transferredFrom = ownerKey(this.#core, decision.ownerBefore);
    if (decision.preemption) Object.assign(metadata, { preemption: PREEMPTION_RULE_ID, preemptFor: request.metadata?.preemptFor ?? null });
    if (decision.halted && !observed) Object.assign(metadata, { halt: true, haltCause: 'accessibility_bypass' });
    const parameters: Record<string, unknown> = {};
    if (request.reason !== undefined) parameters.reason = request.reason;
    if (request.metadata !== undefined) parameters.metadata = request.metadata;
    const context: DecisionContext = overrideAction
      ? { actor, action: request.action, target: streamKey, subject: `override ${request.metadata?.scope ?? '?'}:${request.metadata?.scopeId ?? '?'}` }
      : { actor, action: request.action, target: streamKey };
    const result = this.attestDecision(decision, context, parameters, metadata, observed);
    if (decision.allowed && !observed) this.book.apply(request, streamKey, result.attestation);
    if (decision.allowed && !observed && !this.replaying) this.#notifyTransition(result.attestation);
    if (decision.halted && !observed) this.#enterHalt({ cause: 'accessibility_bypass', message: result.message, seq: result.attestation.seq, attestationId: result.attestation.id });
    return result;
  }

  private toCoreRequest(request: ValidRequest, actor: Actor, key: string, target: string | null): CoreRequest {
    const metadata = request.metadata ?? NO_METADATA;
    const scopeSpace = metadata.scope === 'user' ? 1 : 0;
    const pluginAllowed =
      actor.kind === 'plugin' && request.action === 'mutate_graph' && target !== null && this.book.pluginAllowed(target, key);
    const replayed = this.replaying?.metadata.origin === 'journal' ? this.replaying.metadata.pluginAllowed === true : undefined;
    return {
      actor: this.#core.actorId(key),
      actorKind: ACTOR_KINDS.indexOf(actor.kind),
      action: TRANSITION_ACTIONS.indexOf(request.action),
      stream: target === null ? NO_ID : this.#core.internStream(target),
      newOwner: metadata.newOwner === undefined ? NO_ID : this.#core.actorId(actorKey(toActor(metadata.newOwner))),
      preemptFor: metadata.preemptFor === undefined ? NO_ID : this.#core.internStream(metadata.preemptFor),
      priority: typeof metadata.priority === 'number' ? metadata.priority : PRIORITY_VALUES[metadata.priority ?? 'assistant'],
      session: this.#core.internScope(0, metadata.sessionId ?? 'default'),
      user: metadata.userId ? this.#core.internScope(1, metadata.userId) : NO_ID,
      overrideScope: OVERRIDE_SCOPES.indexOf(metadata.scope ?? 'session'),
      overrideScopeId: metadata.scopeId === undefined ? NO_ID : this.#core.internScope(scopeSpace, metadata.scopeId),
      pluginAllowed: replayed ?? pluginAllowed,
      actorUser: request.action === 'enable_override' && actor.kind === 'user' ? this.#core.internScope(1, actor.id) : NO_ID,
    };
  }

  /** Writes the attestation of a core decision and returns the frozen result. */
  private attestDecision(decision: CoreDecision, context: DecisionContext, parameters: Record<string, unknown>, metadata: Record<string, unknown>, observed: boolean): RegistrarResult {
    const owner = ownerKey(this.#core, decision.ownerBefore);
    const reason = reasonOf(decision);
    if (!observed && (decision.halted || reason === 'registrar_halted')) this.coreHalted = true;
    const membership = membershipStatement(this.#core, decision, context.actor, context.action, parameters.metadata, observed);
    if (membership !== undefined) metadata.membership = membership;
    if (isRuntimeErrorFail(decision, context.actor, context.action)) metadata.runtimeError = true;
    const violations = violationsOf(decision, context, owner);
    const attestedBefore = this.replaying ? this.replaying.seq - 1 : this.attestationStore.lastSeq;
    const parentRecord = decision.parentSeq > 0 ? this.attestationStore.bySeq(decision.parentSeq) : undefined;
    const structural = !observed && decision.allowed ? checkTransition(decision, attestedBefore, parentRecord ? { version: parentRecord.version, stateAfter: parentRecord.stateAfter } : null) : [];
    if (structural.length > 0) {
      violations.push(...structural);
      metadata.halt = true;
      metadata.haltCause = 'structural';
    }
    const parent = decision.parentSeq > 0 ? (parentRecord?.id ?? (context.target ? this.book.lastAttestationOf(context.target) : null)) : null;
    const body = attestationBody({
      seq: decision.seq,
      actor: context.actor,
      action: context.action,
      target: context.target,
      decision,
      reason,
      message: messageOf(decision, context, violations, reason),
      invariants: appliedInvariantsOf(decision, reason),
      violations,
      accessibility: decision.accessibility,
      parent,
      parameters: parameters as JsonObject,
      metadata: metadata as JsonObject,
    });
    const result = this.finish(body, decision.allowed, observed);
    if (structural.length > 0) this.haltFromFacade('structural', new Error(structural.map((v) => v.message).join('; ')), result.attestation);
    return result;
  }

  /** Appends (or, in replay, compares and adopts) a body; builds and registers the result. */
  private finish(given: AttestationBody, allowed: boolean, observed: boolean): RegistrarResult {
    const body = this.#compaction.apply(given);
    let record: Attestation;
    let durable: Promise<void>;
    if (this.replaying) {
      record = this.replaying;
      const held = this.attestationStore.bySeq(record.seq);
      if (!held) this.attestationStore.adopt([record], this.#storeWriter);
      else if (held.hash !== record.hash) throw new Error(`seq ${record.seq}: the store holds a different record`);
      durable = SETTLED;
      assertSameDecision(body, record);
    } else {
      // A rejection of `durable` is already handled by the store; failures halt the registrar through onFailure.
      ({ record, durable } = this.attestationStore.append(body, this.#storeWriter));
    }
    return this.gate.issue(record, allowed, durable, observed);
  }

  private attestInvalid(input: unknown, allIssues: { path: string; message: string }[]): RegistrarResult {
    const seq = this.#core.reserveSeq();
    this.syncJournal(seq - 1);
    return this.finish(invalidRequestBody(seq, input, allIssues), false, false);
  }

  private attestFacadeHalted(actor: Actor, action: string, target: string | null, observed: boolean): RegistrarResult {
    const seq = this.#core.reserveSeq();
    this.syncJournal(seq - 1);
    const body = facadeHaltedBody(seq, { actor, action, target }, this.facadeHalt ?? 'halt', observed);
    if (this.facadeHalt === 'journal_overrun' && seq !== this.attestationStore.lastSeq + 1) {
      // This registrar can no longer attest gap-free: the denial is answered (sealed, unchained) but not logged.
      const record = sealRecord({ ...body, metadata: { ...body.metadata, unrecorded: true } }, '');
      return this.gate.issue(record, false, SETTLED, observed, true);
    }
    return this.finish(body, false, observed);
  }

  private attestForeign(entry: JournalEntry): void {
    if (entry.kind === 2 || entry.action < 0) {
      this.finish(foreignReservedBody(entry), false, false);
      return;
    }
    const foreign = foreignDecision(this.#core, entry);
    this.attestDecision(entry, foreign.context, foreign.parameters, foreign.metadata, foreign.observed);
    const target = foreign.context.target;
    const record = this.attestationStore.bySeq(entry.seq);
    if (entry.allowed && entry.kind === 0 && target !== null && entry.stateAfter >= 0) {
      if (record) this.book.setLastAttestation(target, record.id);
    }
    if (record && !this.replaying && entry.allowed && !foreign.observed) this.#notifyTransition(record);
    if (record && !this.replaying && entry.halted && !foreign.observed) {
      this.#enterHalt({ cause: 'accessibility_bypass', message: record.message, seq: record.seq, attestationId: record.id });
    }
  }

  /**
   * Halts the facade (fail-closed) for a cause the core does not see, then notifies. `record` is the
   * attestation that shows the halt (a structural violation), when there is one.
   */
  private haltFromFacade(cause: HaltCause, error: AttestationError | Error, record?: Attestation): void {
    if (this.facadeHalt) return;
    this.facadeHalt = cause;
    // A structural halt's own record shows it; a failed log or an overrun can record nothing more.
    const shown = record;
    this.#enterHalt({ cause, message: error.message, seq: shown?.seq ?? null, attestationId: shown?.id ?? null });
  }

  /** Records the first halt and tells every halt listener. */
  #enterHalt(info: HaltInfo): void {
    if (this.#haltInfo) return;
    this.#haltInfo = Object.freeze(info);
    this.coreHalted ||= info.cause === 'accessibility_bypass';
    this.#haltListeners.tell(this.#haltInfo);
  }

  /** Tells transition listeners about an allowed decision on a stream. */
  #notifyTransition(record: Attestation): void {
    if (this.#transitionListeners.empty || record.target === null || record.stateAfter === null || record.action === null) return;
    const reason = (record.parameters as { reason?: unknown }).reason;
    const event: TransitionEvent = Object.freeze({
      streamId: record.target,
      action: record.action as TransitionEvent['action'],
      actor: record.actor ? `${record.actor.kind}:${record.actor.id}` : '',
      stateBefore: (record.stateBefore ?? null) as StreamState | null,
      stateAfter: record.stateAfter as StreamState,
      seq: record.seq,
      attestationId: record.id,
      reason: typeof reason === 'string' ? reason : null,
    });
    this.#transitionListeners.tell(event);
  }

  /**
   * The request with its actor (and a transfer's new owner) given as names, or why it cannot be:
   * `request()` takes only this registrar's handles; `requestAsHost()` also takes names.
   */
  #nameActors(input: unknown, trusted: boolean): unknown {
    if (typeof input !== 'object' || input === null) return input;
    const fields = input as { actor?: unknown; metadata?: unknown };
    const actor = fields.actor;
    const metadata = fields.metadata;
    const newOwner = typeof metadata === 'object' && metadata !== null ? (metadata as { newOwner?: unknown }).newOwner : undefined;
    let named: unknown = input;
    if (ActorHandle.isHandle(actor)) {
      if (!ActorHandle.issuedBy(actor, this.#issuer)) return 'an ActorHandle of another registrar';
      named = { ...(input as object), actor: actor.key };
    } else if (!trusted) {
      return 'expected an ActorHandle from registerActor() (names are accepted only by requestAsHost())';
    }
    if (ActorHandle.isHandle(newOwner)) {
      if (!ActorHandle.issuedBy(newOwner, this.#issuer)) return 'metadata.newOwner: an ActorHandle of another registrar';
      named = { ...(named as object), metadata: { ...(metadata as object), newOwner: newOwner.key } };
    }
    return named;
  }

  /**
   * `registerActor` is not a request, so replay registers what each record proves was registered:
   * its actor unless it was denied unknown_actor, a transfer's new owner unless invalid_transition.
   */
  private registerForReplay(record: Attestation, key: string, actor: Actor, request: ValidRequest): void {
    const violated = (id: string) => record.violations.some((v) => v.invariant === id);
    if (!violated('audio.actor.registered')) {
      this.#core.registerActor(key, ACTOR_KINDS.indexOf(actor.kind));
      this.book.addActor(key);
    }
    const newOwner = request.metadata?.newOwner;
    if (request.action === 'transfer' && newOwner !== undefined && !violated('audio.lifecycle.valid_transition')) {
      const owner = toActor(newOwner);
      this.#core.registerActor(actorKey(owner), ACTOR_KINDS.indexOf(owner.kind));
      this.book.addActor(actorKey(owner));
    }
  }

  private replayRecord(record: Attestation): void {
    this.replaying = record;
    try {
      if (record.reason === 'registrar_halted' && typeof record.metadata.haltCause === 'string' && record.metadata.haltCause !== 'accessibility_bypass') {
        this.facadeHalt ??= record.metadata.haltCause as HaltCause;
      }
      // capacity_exhausted is about the writer's tables, not the log: adopted, not re-decided.
      if (record.reason === 'invalid_request' || record.reason === 'capacity_exhausted' || (record.action === null && (record.metadata.origin === 'journal' || record.metadata.halt === true))) {
        const seq = this.#core.reserveSeq();
        const body = { ...record, seq, decision: 'denied' as const, reason: record.metadata.origin === 'journal' || record.reason === 'capacity_exhausted' ? record.reason : 'invalid_request' };
        this.finish(body, false, false);
        return;
      }
      const parameters = record.parameters as { reason?: string; metadata?: JsonObject };
      const request = {
        action: record.action,
        actor: record.actor ? `${record.actor.kind}:${record.actor.id}` : undefined,
        target: record.target,
        ...(parameters.reason !== undefined ? { reason: parameters.reason } : {}),
        ...(parameters.metadata !== undefined ? { metadata: parameters.metadata } : {}),
      };
      this.handle(request, record.metadata.observed === true, true);
    } finally {
      this.replaying = null;
    }
  }

  /** A stream's interned id without growing the intern table when the core can look it up. */
  private lookupStream(streamId: string): number {
    return this.#core.streamIdOf ? this.#core.streamIdOf(streamId) : this.#core.internStream(streamId);
  }

  private viewOf(override: ReturnType<DecisionCore['overrides']>[number]): OverrideView {
    const scope = OVERRIDE_SCOPES[override.scope] ?? 'session';
    const scopeId = this.#core.scopeKey(scope === 'user' ? 1 : 0, override.scopeId);
    return overrideView(this.#core, override, this.book.valuesOf(scope, scopeId));
  }

  private stateImage(): JsonObject {
    const image = this.#core.image();
    return frozenJsonCopy({
      lastSeq: image.lastSeq,
      halted: image.halted || this.facadeHalt !== null,
      streams: this.listStates() as unknown as JsonObject[],
      overrides: this.listOverrides().map((o) => ({ ...o })).sort((a, b) => (overrideKey(a.scope, a.scopeId) < overrideKey(b.scope, b.scopeId) ? -1 : 1)) as unknown as JsonObject[],
      grants: this.book.grantsImage() as unknown as JsonObject[],
      memberships: provenMemberships(this.#core) as unknown as JsonObject[],
    });
  }
}

export type { RegistrarRequest } from './request-schema.js';


// Hardening: no caller can swap a method of this class for its own (a monkey-patched prototype would see every instance).
Object.freeze(AudioRegistrar.prototype);
Object.freeze(AudioRegistrar);

export type { ListenerOptions } from './listeners.js';
