/**
 * AudioRegistrar: the single authority over audio stream state (spec/registrar.md). It validates
 * requests with zod, interns ids, asks the decision core, attests every request exactly once
 * (denials and malformed requests included), and hands out single-use permits (`require`) without
 * which the runtime may not act on a stream.
 *
 * One registrar, one log, any number of threads: the registrar made with `new AudioRegistrar()`
 * owns its store and is the log writer of its core; `share()` hands out what another thread needs
 * to decide on the same registrar, and `AudioRegistrar.attach(share)` there gives a registrar that
 * decides on the shared core and writes no log: it posts each attestation body for the writer,
 * which drains them in seq order, seals the one hash chain and appends (log-writer.ts,
 * attached-link.ts, native/core/registrar_core.h "One log writer, many deciders").
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson, frozenJsonCopy, sha256Hex, type JsonObject } from '../attestation/canonical-json.js';
import type { AttestationError } from '../attestation/errors.js';
import { sealRecord, type Attestation, type AttestationBody } from '../attestation/record.js';
import type { DurableLogOptions } from '../attestation/durable-log.js';
import { AttestationStore, type OpenReport } from '../attestation/store.js';
import { parseInput } from '../validation.js';
import {
  ACTOR_KINDS,
  FULL_ID,
  HALT_CAUSES,
  isOverrideAction,
  NO_ID,
  OVERRIDE_SCOPES,
  RESERVE_BACKPRESSURE,
  RESERVE_WRITER_GONE,
  TRANSITION_ACTIONS,
  type CoreDecision,
  type CoreRefusal,
  type CoreRequest,
  type DecisionCore,
  type JournalEntry,
} from './core.js';
import { appliedInvariantsOf, attestationBody, messageOf, ownerKey, reasonOf, violationsOf, type DecisionContext } from './decision-record.js';
import { facadeHaltedBody, foreignReservedBody, haltBody, invalidRequestBody } from './facade-bodies.js';
import { drainJournal, foreignDecision, haltCauseOf, type DrainResult } from './journal-sync.js';
import { createDefaultCore } from './default-core.js';
import { CompactionStamp } from './compaction-record.js';
import { EffectGate } from './effect-gate.js';
import { describeInvariants } from './invariant-descriptions.js';
import { PREEMPTION_RULE_ID } from './invariants.js';
import { actorKey, actorRefSchema, jsonProblem, metadataSizeProblem, PRIORITY_VALUES, registrarConfigSchema, requestSchema, toActor, type Actor, type ActorRef, type RegistrarConfig, type ValidRequest } from './request-schema.js';
import { FacadeBook } from './facade-state.js';
import { parseCommonRequest } from './request-fast-path.js';
import { assertSameDecision, checkTransition, type FacadeState, type ReplayHooks } from './registrar-support.js';
import { replayLog, restoreFromSnapshot, type ReplayOptions, type RestoreOptions } from './replay.js';
import { setReplayHooks } from './replay-hooks.js';
import { callSafely, PhasedListeners, type ListenerOptions } from './listeners.js';
import { sealSnapshot, type RegistrarSnapshot } from './snapshot.js';
import type { HaltCause, HaltInfo, InvariantDescription, MembershipView, OverrideView, Permit, PermitExpectation, RegistrarResult, StreamView, TransitionEvent, OverrideEvent } from './types.js';
import { declareSessions, membershipStatement, membershipViews, provenMemberships, registerActorOptionsSchema, type RegisterActorOptions } from './membership.js';
import { InputError } from '../errors.js';
import { signedByStore } from './snapshot-signature.js';
import { isRuntimeErrorFail } from './runtime-error.js';
import type { SigningOptions } from '../attestation/signing-options.js';
import { ActorHandle, issueActorHandle } from './actor-handle.js';
import type { StreamState } from './core.js';
import type { NativeStreamWatch } from '../native/registrar-binding.js';
import { overrideKey, overrideView, streamView, type OverrideValues } from './views.js';
import { IdRun, RecordIds } from './record-ids.js';
import { isSharedLogCore, type SharedLogCore } from './shared-core.js';
import { Doorbell } from './doorbell.js';
import { LogWriter } from './log-writer.js';
import { AttachedLink } from './attached-link.js';
import { JournalEvents, haltCauseName } from './journal-events.js';
import { postedBody } from './posted-body.js';
import { parseShareInfo, registrarShareSchema, type RegistrarShare, type ShareInfo } from './registrar-share.js';
import { RegistrarRequiredError, RegistrarShareError } from './errors.js';
import { NativeCore } from './native-core.js';

/** Options of a registrar. */
export interface AudioRegistrarOptions {
  /** Where attestations go (default: a new in-memory store). */
  store?: AttestationStore;
  /** Tunables. */
  config?: RegistrarConfig;
  /** The decision core (default: `createDefaultCore()`: native when available, else reference).
   *  The registrar becomes the core's one log writer: a core another registrar writes for is
   *  refused (REGISTRAR_WRITER_EXISTS; attach to that one with `AudioRegistrar.attach`). */
  core?: DecisionCore;
}

/** Options of `AudioRegistrar.attach`. */
export interface AttachOptions {
  /** Tunables of the attached registrar. */
  config?: RegistrarConfig;
}

const optionsSchema = z.strictObject({
  store: z.instanceof(AttestationStore).optional(),
  config: z.unknown().optional(),
  core: z.custom<DecisionCore>((value) => typeof value === 'object' && value !== null && typeof (value as DecisionCore).decide === 'function', 'expected a DecisionCore').optional(),
});
const attachOptionsSchema = z.strictObject({ config: z.unknown().optional() });

const SETTLED: Promise<void> = Promise.resolve();
const NO_METADATA: NonNullable<ValidRequest['metadata']> = Object.freeze({});

/**
 * The override whose values shape a stream of `sessionId` and `userId` on `registrar` (its user's
 * override, else its session's), or null: what `overrideFor` answers for a stream, asked before
 * the stream exists (a guest engine estimating a call as it would be spoken).
 */
export function overrideCovering(registrar: Pick<AudioRegistrar, 'listOverrides'>, sessionId: string, userId: string | null): OverrideView | null {
  const covering = registrar.listOverrides();
  const byUser = userId === null ? undefined : covering.find((o) => o.scope === 'user' && o.scopeId === userId);
  return byUser ?? covering.find((o) => o.scope === 'session' && o.scopeId === sessionId) ?? null;
}

/** A request refused for an actor field (`#nameActors`): what to attest, the issue, and whether its `actor` is who asked. */
class RefusedActor {
  constructor(
    readonly input: unknown,
    readonly path: string,
    readonly message: string,
    readonly actorProven: boolean,
  ) {}
}

/** What a request that is no handle gave as its actor, for the denial's issue (never read as who asked). */
function claimedActor(actor: unknown): string {
  if (typeof actor === 'string') return `the name ${JSON.stringify(actor.slice(0, 140))}`;
  const parsed = actorRefSchema.safeParse(actor);
  if (parsed.success) return `a copy naming ${actorKey(toActor(parsed.data))}`;
  return actor === undefined ? 'none' : `${actor === null ? 'null' : typeof actor} that is not a handle`;
}

/** Cores a registrar of this realm writes the log of (a ReferenceCore has no writer role of its own). */
const writtenCores = new WeakSet<DecisionCore>();

/** What `attach` hands the constructor it calls (JS is single-threaded per realm). */
interface Attachment {
  core: SharedLogCore;
  bell: Doorbell;
  info: ShareInfo;
  share: RegistrarShare;
}
let pendingAttachment: Attachment | null = null;

/** The override values a request gives (only those it names). */
function valuesIn(metadata: NonNullable<ValidRequest['metadata']>): OverrideValues {
  return {
    ...(metadata.speechRate !== undefined ? { speechRate: metadata.speechRate } : {}),
    ...(metadata.pauseAmplification !== undefined ? { pauseAmplification: metadata.pauseAmplification } : {}),
    ...(metadata.forcedCaptions !== undefined ? { forcedCaptions: metadata.forcedCaptions } : {}),
  };
}

/** The registrar facade (see the file comment). One per thread; every thread of one registrar shares its core. */
export class AudioRegistrar {
  /**
   * Every attestation this registrar wrote or adopted. On an attached registrar (`attach`) it is
   * an empty store nobody writes: the log is the writer's (read it there, or open the file).
   */
  readonly attestationStore: AttestationStore;
  readonly #core: DecisionCore;
  /** The core, when it can be shared across threads (native). */
  readonly #shared: SharedLogCore | null;
  /** States the core's compaction policy (seq 1) and each sweep (points) in the log. */
  readonly #compaction: CompactionStamp;
  readonly #config: z.output<typeof registrarConfigSchema>;
  /** Whether audible effects wait for their record to be on disk: this registrar's config, or on
   *  an attached one, the writer's too (it may ask for it, never for less). */
  readonly #effectsAwait: boolean;
  /** An attached registrar's writer's durability promise (ShareInfo.durability); null on the writer. */
  readonly #writerDurability: ShareInfo['durability'] | null;
  readonly #book: FacadeBook;
  readonly #gate = new EffectGate(
    (streamId) => this.#core.stream(this.#lookupStream(streamId))?.lastSeq ?? null,
    () => this.halted,
    {
      // An attached registrar's records are kept by the writer's log: its mode, and its durable seq as the doorbell says.
      mode: () => this.#writerDurability?.mode ?? this.attestationStore.durability ?? 'memory',
      durableSeq: () => (this.#link !== null && this.#bell !== null ? this.#bell.durableSeq : this.attestationStore.durableSeq),
      effectsAwait: () => this.#effectsAwait,
      seal: () => this.attestationStore.seal(),
    },
  );
  readonly #haltListeners = new PhasedListeners<HaltInfo>();
  readonly #transitionListeners = new PhasedListeners<TransitionEvent>();
  readonly #overrideListeners = new PhasedListeners<OverrideEvent>();
  /** The private token this registrar's actor handles are issued under. */
  readonly #issuer: object = Object.freeze({});
  readonly #handles = new Map<string, ActorHandle>();
  /** The private token that makes this registrar its store's only writer. */
  readonly #storeWriter: object = Object.freeze({});
  #haltInfo: HaltInfo | null = null;
  #facadeHalt: HaltCause | null = null;
  /** Mirrors the core's halted flag (from decisions and the journal) so `halted` costs nothing. */
  #coreHalted: boolean;
  #replaying: Attestation | null = null;
  #base: RegistrarSnapshot | null = null;
  /** The log's derived ids (record-ids.ts): known after construction or replay, on first use. */
  #ids: RecordIds | null = null;
  /** Where the ids of the records this registrar adopts (replay) run. */
  readonly #idRun: IdRun;
  /** The messages of halts this registrar made, by the halt's seq (written with its record). */
  readonly #haltMessages = new Map<number, string>();
  /** While draining the journal (no nested drain). */
  #draining = false;
  /**
   * Writer only: listener calls for records appended while a drain or a request is still
   * appending, told when the outermost one is done (`#hold` / `#unhold`). A listener may decide
   * (the scheduler re-checking on another thread's override): told in the middle of a drain, its
   * request would come before the drained records after the one it heard, and throw after its
   * decision was applied. Told after, it is a request like any other, and every event still goes
   * out in seq order.
   */
  readonly #heldNotices: (() => void)[] = [];
  #holding = 0;
  #releasing = false;
  #closed = false;
  #closing: Promise<void> | null = null;
  // Sharing (see the file comment): the doorbell and the share, once shared or attached.
  #bell: Doorbell | null = null;
  #share: RegistrarShare | null = null;
  /** The writer's side once shared. */
  #logWriter: LogWriter | null = null;
  /** An attached registrar's side. */
  readonly #link: AttachedLink | null = null;
  /** An attached registrar's reading of other threads' decisions for its listeners. */
  #events: JournalEvents | null = null;
  #listening = false;
  /** An attached registrar's last own seq (what flush() waits for). */
  #lastOwnSeq = 0;

  constructor(options: AudioRegistrarOptions = {}) {
    const attaching = pendingAttachment;
    pendingAttachment = null;
    const parsed = parseInput(optionsSchema, options, 'AudioRegistrarOptions');
    this.#config = parseInput(registrarConfigSchema, parsed.config ?? {}, 'AudioRegistrarOptions.config');
    this.attestationStore = parsed.store ?? new AttestationStore();
    this.attestationStore.claimWriter(this.#storeWriter);
    this.#core = attaching?.core ?? parsed.core ?? createDefaultCore();
    this.#shared = isSharedLogCore(this.#core) ? this.#core : null;
    this.#book = new FacadeBook(this.#core, (stream) => this.#core.stream(this.#lookupStream(stream)) !== null);
    this.#compaction = new CompactionStamp(this.#core);
    this.#coreHalted = this.#core.haltInfo().halted;
    this.#idRun = new IdRun(this.attestationStore.lastSeq);
    this.#writerDurability = attaching?.info.durability ?? null;
    this.#effectsAwait = this.#config.effectsAwaitDurability || this.#writerDurability?.effectsAwait === true;
    const last = this.attestationStore.bySeq(this.attestationStore.lastSeq);
    if (last) this.#idRun.note(last.seq, last.id);
    if (attaching) {
      this.#ids = new RecordIds(attaching.info.ids.prefix, attaching.info.ids.baseSeq);
      this.#book.ids = this.#ids;
      this.#book.load({ lastAttestation: attaching.info.legacy.map(([stream, id]) => [stream, { seq: 0, id, version: null, stateAfter: null }]) }, []);
      this.#bell = attaching.bell;
      this.#share = attaching.share;
      this.#link = new AttachedLink(attaching.core, attaching.bell, this.#config.journalStallMs);
      this.#events = new JournalEvents(attaching.core, this.#ids, attaching.core.decider, this.#config.journalBatchEntries);
      return; // an attached registrar writes no log: no replay hooks, no store failures
    }
    this.#claimWriter();
    this.attestationStore.onFailure((error) => this.#haltFromFacade('attestation_io', error));
    const hooks: ReplayHooks = {
      core: this.#core,
      replayRecord: (record) => this.#replayRecord(record),
      stateImage: () => this.#stateImage(),
      loadFacadeState: (state: FacadeState, actors: readonly string[]) => this.#book.load(state, actors),
    };
    setReplayHooks(this, hooks);
  }

  /** Makes this registrar its core's one log writer (REGISTRAR_WRITER_EXISTS when it has one). */
  #claimWriter(): void {
    const taken = writtenCores.has(this.#core) || (this.#shared !== null && !this.#shared.claimWriter(this.attestationStore.lastSeq));
    if (taken) {
      throw new RegistrarShareError(
        'REGISTRAR_WRITER_EXISTS',
        'this decision core already has a registrar that writes its log: decide on it from another thread with AudioRegistrar.attach(registrar.share())',
      );
    }
    writtenCores.add(this.#core);
  }

  /**
   * A registrar deciding on the registrar that `share` came from (`registrar.share()`, passed
   * through `workerData` or `postMessage`): one sequence, one log, one state for every thread.
   * It writes no log: each result's attestation is the record the writer logs, but its `prevHash`
   * and `hash` are empty (only the writer links the chain), and its `durable` settles when the
   * writer has made it durable. Throws InputError for a malformed share, NativeError
   * REGISTRAR_CORE_NOT_FOUND for a forged or closed token, RegistrarShareError
   * REGISTRAR_SHARE_INVALID (a doorbell of another registrar, a token of a core no registrar
   * writes for) and REGISTRAR_WRITER_GONE (the writer closed).
   */
  static attach(share: RegistrarShare, options: AttachOptions = {}): AudioRegistrar {
    const parsed = parseInput(registrarShareSchema, share, 'share');
    const config = parseInput(attachOptionsSchema, options, 'AttachOptions').config;
    const core = NativeCore.attach(parsed.token);
    try {
      const info = parseShareInfo(core.shareInfo());
      const bell = Doorbell.of(parsed.doorbell);
      if (bell.key !== info.bell) {
        throw new RegistrarShareError('REGISTRAR_SHARE_INVALID', 'share.doorbell: not the doorbell of the registrar this token belongs to');
      }
      if (core.writerInfo().state !== 'live' || bell.writerClosed) {
        throw new RegistrarShareError('REGISTRAR_WRITER_GONE', 'the registrar that shared this closed: there is no log writer to attach to');
      }
      core.postBodies();
      pendingAttachment = { core, bell, info, share: Object.freeze({ token: parsed.token, doorbell: parsed.doorbell }) };
      return new AudioRegistrar({ core, ...(config !== undefined ? { config: config as RegistrarConfig } : {}) });
    } catch (error) {
      core.close();
      throw error;
    } finally {
      pendingAttachment = null;
    }
  }

  /**
   * What another thread needs to decide on this registrar: `{ token, doorbell }`, structured-
   * cloneable (pass it by `workerData` or `postMessage`; `AudioRegistrar.attach(share)` there).
   * The token is a capability: whoever holds it decides as anyone, so give it only to code
   * trusted as the host. The same object each time; an attached registrar hands on its own.
   * Throws RegistrarShareError REGISTRAR_NOT_SHAREABLE on a core that cannot be shared (the
   * reference core), REGISTRAR_WRITER_GONE once closed.
   */
  share(): RegistrarShare {
    if (this.#share) return this.#share;
    const core = this.#shared;
    if (core === null) {
      throw new RegistrarShareError('REGISTRAR_NOT_SHAREABLE', 'this registrar\'s decision core cannot be shared across threads (the reference core): use the native core (createDefaultCore() with the addon built)');
    }
    if (this.#closed) throw new RegistrarShareError('REGISTRAR_WRITER_GONE', 'this registrar is closed');
    const ids = this.#idsNow();
    const bell = Doorbell.create();
    const info: ShareInfo = {
      ids: { prefix: ids.prefix, baseSeq: ids.baseSeq },
      legacy: this.#legacyIds(ids),
      bell: bell.key,
      durability: { mode: this.attestationStore.durability ?? 'memory', effectsAwait: this.#effectsAwait },
    };
    if (!core.setShareInfo(JSON.stringify(info))) throw new RegistrarShareError('REGISTRAR_WRITER_EXISTS', 'this core was already shared by another registrar');
    bell.publishWritten(this.attestationStore.lastSeq);
    if (this.halted) bell.raiseHalt();
    this.#bell = bell;
    this.#logWriter = new LogWriter(bell, (slice, abandonUpTo) => this.#drainSlice(slice, abandonUpTo), this.#config.journalStallMs);
    this.#logWriter.start();
    this.#share = Object.freeze({ token: core.shareToken, doorbell: bell.buffer });
    return this.#share;
  }

  /** `'writer'`: this registrar writes the log (and may share it); `'attached'`: made by `attach`. */
  get role(): 'writer' | 'attached' {
    return this.#link ? 'attached' : 'writer';
  }

  /** Last attestation ids of live streams older than the log's derived ids (for attaching threads). */
  #legacyIds(ids: RecordIds): [string, string][] {
    const legacy: [string, string][] = [];
    for (const stream of this.#core.image().streams) {
      if (ids.derives(stream.lastSeq)) continue;
      const key = this.#core.streamKey(stream.stream);
      const id = this.#book.lastAttestationOf(key, stream.lastSeq);
      if (id !== null) legacy.push([key, id]);
    }
    return legacy;
  }

  /** The log's ids, settled on first use after construction or replay. */
  #idsNow(): RecordIds {
    if (this.#ids === null) {
      this.#ids = this.#idRun.ids();
      this.#book.ids = this.#ids;
    }
    return this.#ids;
  }

  /**
   * Registers an actor (`"kind:id"` or `{ id, kind }`) and returns its handle: the capability to
   * request as that actor (the same handle each time). Host code only: hand each untrusted face
   * (an agent's engine, an MCP session, a plugin) the handle of its own actor and nothing else.
   * `options.sessions` declares the sessions a user belongs to (spec §1; users only, adds to earlier
   * declarations): the sessions whose override that user may enable. Throws InputError naming the field.
   * Registration is state of the shared core: an actor registered on any thread is known on all.
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
    this.#book.addActor(key);
    declareSessions(this.#core, normalised.id, sessions);
    let handle = this.#handles.get(key);
    if (!handle) {
      handle = issueActorHandle(this.#issuer, normalised.kind, normalised.id);
      this.#handles.set(key, handle);
    }
    return handle;
  }

  /** Whether `handle` is a handle this registrar issued (not a copy, a look-alike or another registrar's); checks without registering anything. */
  issued(handle: unknown): handle is ActorHandle {
    return ActorHandle.issuedBy(handle, this.#issuer);
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

  /** A versioned, hashed image of every stream, override, grant and actor, plus the chain head (the writer's registrar only); signed when the store signs. */
  snapshot(): RegistrarSnapshot {
    this.#writerOnly('snapshot()');
    this.syncJournal();
    const streams = this.#core.image().streams.map((stream) => {
      const view = streamView(this.#core, stream, this.#book.lastAttestationOf(this.#core.streamKey(stream.stream), stream.lastSeq));
      return { ...view, lastSeq: stream.lastSeq, plugins: [...this.#book.plugins(stream.grants)] };
    });
    const sealed = sealSnapshot({
      lastSeq: this.attestationStore.lastSeq,
      lastHash: this.attestationStore.lastHash,
      halted: this.halted,
      compaction: this.#compaction.policy,
      actors: this.#book.actors(),
      streams: streams.sort((a, b) => (a.streamId < b.streamId ? -1 : 1)),
      overrides: this.listOverrides().map((o) => ({ ...o })).sort((a, b) => (overrideKey(a.scope, a.scopeId) < overrideKey(b.scope, b.scopeId) ? -1 : 1)),
      memberships: provenMemberships(this.#core),
      stateHash: this.stateHash(),
    });
    return signedByStore(sealed, this.attestationStore, this.#storeWriter);
  }

  /** The snapshot this registrar was restored or recovered from, or null (its log starts at seq 1). */
  get baseSnapshot(): RegistrarSnapshot | null {
    return this.#base;
  }

  /**
   * After a HALT: rebuilds a fresh, un-halted registrar from this registrar's log. The new one
   * starts from a recovery snapshot (`baseSnapshot`) and appends to `options.store` (default a new
   * memory store) continuing the chain; replay its log with `restore(baseSnapshot, log)`.
   * The writer's registrar only.
   */
  recover(options: ReplayOptions = {}): AudioRegistrar {
    this.#writerOnly('recover()');
    const records = this.attestationStore.records();
    // Rebuilt under this registrar's policy (the one its log states; an empty log states none),
    // only for its snapshot: its store keeps a window, not a second copy of the log.
    const head = this.#base ? { head: { seq: this.#base.lastSeq, hash: this.#base.lastHash } } : {};
    const own = { core: createDefaultCore({ compaction: this.#compaction.policy ?? false }), store: new AttestationStore({ retain: 'window', ...head }), ...(options.legacyRules === true ? { legacyRules: true } : {}) };
    const rebuilt = this.#base ? restoreFromSnapshot(this.#base, records, own) : replayLog(records, own);
    const { hash: _hash, kind: _kind, v: _v, ...content } = rebuilt.snapshot();
    void [_hash, _kind, _v];
    // Un-halted: its stateHash is the rebuilt state's with halted false (restore compares them).
    const recovered = sealSnapshot({ ...content, halted: false, stateHash: sha256Hex(canonicalJson({ ...rebuilt.#stateImage(), halted: false })) });
    const registrar = restoreFromSnapshot(recovered, [], options);
    registrar.#base = recovered;
    return registrar;
  }

  /**
   * Decides a request, applies it when allowed and attests it. `actor` must be an ActorHandle this
   * registrar issued (a name, a copy or another registrar's handle is denied `invalid_request`; host
   * code that names actors uses `requestAsHost`). Never throws on bad input: it is denied and attested.
   * On an attached registrar it throws RegistrarShareError, before deciding anything, when the log
   * writer closed (REGISTRAR_WRITER_GONE) or stayed too far behind past `journalStallMs`
   * (REGISTRAR_WRITER_STALLED).
   */
  request(input: unknown): RegistrarResult {
    return this.#handle(input, false, false);
  }

  /** Shadow mode: the decision the registrar would make, attested as observed, changing nothing (actor as a handle). */
  observe(input: unknown): RegistrarResult {
    return this.#handle(input, true, false);
  }

  /**
   * The trusted entry point for host code: like `request()`, but the actor may be named
   * (`"kind:id"` or `{ id, kind }`) instead of given as a handle. Whoever holds the registrar is
   * the host; never hand it to untrusted code (agents, plugins, MCP sessions get handles).
   */
  requestAsHost(input: unknown): RegistrarResult {
    return this.#handle(input, false, true);
  }

  /** `observe()` for host code, with the actor named (see `requestAsHost`). */
  observeAsHost(input: unknown): RegistrarResult {
    return this.#handle(input, true, true);
  }

  /** A stream's state (frozen), or null. */
  getState(streamId: string): StreamView | null {
    const stream = this.#core.stream(this.#lookupStream(streamId));
    return stream ? streamView(this.#core, stream, this.#book.lastAttestationOf(streamId, stream.lastSeq)) : null;
  }

  /** Every stream (frozen views), by stream id. */
  listStates(): readonly StreamView[] {
    const views = this.#core.image().streams.map((stream) => streamView(this.#core, stream, this.#book.lastAttestationOf(this.#core.streamKey(stream.stream), stream.lastSeq)));
    return Object.freeze(views.sort((a, b) => (a.streamId < b.streamId ? -1 : a.streamId > b.streamId ? 1 : 0)));
  }

  /** Active accessibility overrides with their values (state of the shared core: the same on every thread). */
  listOverrides(): readonly OverrideView[] {
    return Object.freeze(this.#core.overrides().map((override) => overrideView(this.#core, override, this.#book.values(override.values))));
  }

  /**
   * The override whose values the runtime applies to a stream, or null. Several may cover one
   * stream (its session's and its user's; each owner has the override owner's power, §3.1); the
   * user's own (user-scoped) override applies its values when both do, else the session's: a user's
   * own needs are the more specific.
   */
  overrideFor(streamId: string): OverrideView | null {
    const stream = this.getState(streamId);
    return stream ? overrideCovering(this, stream.sessionId, stream.userId) : null;
  }

  /** Every session membership this registrar holds (declared by the host, or implied by a stream), by user then session. */
  listMemberships(): readonly MembershipView[] {
    return membershipViews(this.#core);
  }

  /** The invariant catalogue (domain and structural). */
  listInvariants(): readonly InvariantDescription[] {
    return describeInvariants();
  }

  /** True once a HALT (on any thread of this registrar, or an attestation write failure) put it in fail-closed mode. */
  get halted(): boolean {
    return this.#facadeHalt !== null || this.#coreHalted || (this.#bell?.halted ?? false);
  }

  /** Why the registrar halted (every cause), or null while it runs. */
  get haltCause(): HaltInfo | null {
    if (this.#haltInfo === null && this.#link !== null && this.halted) this.#noticeCoreHalt();
    return this.#haltInfo;
  }

  /**
   * Calls `listener` once when the registrar halts, whatever the cause (an accessibility bypass, a
   * failed log write, a structural violation, a journal overrun) and on whichever thread of this
   * registrar it happened (another thread's halt arrives when this thread wakes on the doorbell);
   * the runtime stops every stream. A listener added after the halt is called at once. Returns
   * the function that removes it.
   */
  onHalt(listener: (halt: HaltInfo) => void, options: ListenerOptions = {}): () => void {
    const remove = this.#haltListeners.add(listener, options);
    this.#listen();
    if (this.haltCause) callSafely(listener, this.haltCause);
    return remove;
  }

  /**
   * Calls `listener` after every allowed override decision (`enable_override`, `update_override`,
   * `disable_override`): synchronously for one asked on this thread; for one decided on another
   * thread of this registrar, when this thread hears of it (the writer as it writes the record, an
   * attached registrar within an event-loop turn of the doorbell), as for transitions. The
   * runtime's scheduler re-checks its gains then (an override lifts a duck at once, whichever
   * thread enabled it). Returns the function that removes it.
   */
  onOverride(listener: (event: OverrideEvent) => void, options: ListenerOptions = {}): () => void {
    const remove = this.#overrideListeners.add(listener, options);
    this.#listen();
    return remove;
  }

  /**
   * Calls `listener` synchronously after every allowed decision on a stream, whoever asked and on
   * whichever thread of this registrar it was decided (another thread's decisions arrive within an
   * event-loop turn of the doorbell that thread rings, and before this thread's next decision).
   * The runtime obeys these: an interrupt, stop or fail closes the stream's sink. `phase:
   * 'effect'` listeners (the runtime's sinks: they silence the device) are told before every
   * `'observe'` listener (the default), so no observer can delay or prevent an effect; a throwing
   * listener is reported as a process warning and the others are still told. A decision made from
   * inside a listener is told after the current one, in order. Returns the function that removes it.
   */
  onTransition(listener: (event: TransitionEvent) => void, options: ListenerOptions = {}): () => void {
    const remove = this.#transitionListeners.add(listener, options);
    this.#listen();
    return remove;
  }

  /**
   * Spends a permit for an effect that outlives the call that took it (a stream's device sink):
   * checks it is this registrar's, for the expected action and stream, unspent, and still the
   * stream's latest decision. Throws RegistrarRequiredError otherwise, RegistrarHaltedError while halted.
   */
  spend(permit: unknown, expect: PermitExpectation = {}): Permit {
    return this.#gate.spend(permit, expect);
  }

  /**
   * The native watch of the stream a spent `play` permit opened, for that stream's device voice
   * (AudioVoice.watch; StreamSink.open arms it): the audio callback then fades the voice out in the
   * first period in which the stream no longer plays or the core halted, whoever decided it on
   * whichever thread, without waiting for this thread's event loop. Null on a core without native
   * words (the reference core). Throws RegistrarRequiredError for anything but a spent play permit,
   * and when that play is no longer the stream's last decision (another thread decided on the
   * stream since it was spent: the watch would follow a later play, not the permit's).
   */
  streamWatch(permit: Permit): NativeStreamWatch | null {
    const streamId = this.#gate.playedStream(permit);
    const watch = this.#core.watchStream?.(this.#lookupStream(streamId), permit.seq) ?? null;
    if (watch === false) {
      const lastSeq = this.#core.stream(this.#lookupStream(streamId))?.lastSeq ?? null;
      throw new RegistrarRequiredError(`permit seq ${permit.seq} on ${streamId} was superseded by seq ${lastSeq ?? 'none'}: its play has nothing left to watch`);
    }
    return watch;
  }

  /**
   * The effect gate: turns an allowed result of this registrar into a single-use permit. Throws
   * RegistrarRequiredError for anything else (no result, a copy, an observed result, another
   * action or stream, a used or superseded result), RegistrarDeniedError for a denial,
   * AccessibilityBypassError for the halting result and RegistrarHaltedError while halted.
   */
  require(result: RegistrarResult | null | undefined, expect: PermitExpectation = {}): Permit {
    return this.#gate.require(result, expect);
  }

  /**
   * `require()` that waits until the result's attestation is on disk: checks the result now (the
   * same errors as `require`), waits for `result.durable` (at once in `fsync` mode or with a memory
   * store; until its batch commits in `group` mode), then takes the permit, checking again that the
   * decision is still current and the registrar not halted. Rejects with the log's
   * AttestationError if the write fails (the registrar then halts).
   */
  requireDurable(result: RegistrarResult | null | undefined, expect: PermitExpectation = {}): Promise<Permit> {
    return this.#gate.requireDurable(result, expect);
  }

  /** Whether audible effects wait for their attestation to be on disk (config `effectsAwaitDurability`, on an attached
   *  registrar also the writer's; the engine follows it). */
  get effectsAwaitDurability(): boolean {
    return this.#effectsAwait;
  }

  /** Runs `effect` only with a permit for `result` (see `require`); returns what it returns. */
  runEffect<T>(result: RegistrarResult | null | undefined, expect: PermitExpectation, effect: (permit: Permit) => T): T {
    return effect(this.require(result, expect));
  }

  /**
   * Catches up with decisions other threads made on the shared core, in seq order. The writer's
   * registrar writes them into its log (waiting, bounded by `journalStallMs`, for bodies still
   * being posted) and returns how many it wrote; an attached registrar tells its listeners and
   * returns how many journal entries it read. Called by every request first; the writer also
   * drains on the doorbell, `flush()` and `close()`.
   */
  syncJournal(upToSeq: number = Number.MAX_SAFE_INTEGER): number {
    if (this.#link !== null) return this.#tellForeign(upToSeq);
    // The hot path: this thread made every decision up to upToSeq, nothing to read.
    if (upToSeq <= this.attestationStore.lastSeq) return 0;
    // Fell behind the journal for good: the halt is recorded; nothing more can be attested gap-free.
    if (this.#facadeHalt === 'journal_overrun' || this.#draining) return 0;
    try {
      return this.#drain({ upToSeq, block: true }).written;
    } catch (error) {
      // The overrun halted the registrar (listeners told, cause kept); the caller gets denials, not a throw.
      if ((this.#facadeHalt as HaltCause | null) === 'journal_overrun') return 0;
      throw error;
    }
  }

  /** SHA-256 of the canonical registrar state (streams, overrides, grants, halted, last seq). */
  stateHash(): string {
    return sha256Hex(canonicalJson(this.#stateImage()));
  }

  /**
   * Resolves when every attestation so far is durable: on the writer's registrar after draining
   * what other threads decided; on an attached one when the writer has made this thread's last
   * decision durable. Rejects with the log's AttestationError when its write failed (the registrar
   * halted on it).
   */
  flush(): Promise<void> {
    if (this.#link !== null) return this.#link.durableAfter(this.#lastOwnSeq);
    if (!this.#closed) {
      try {
        this.syncJournal(this.#core.lastSeq());
        this.#shared?.noteWritten(this.attestationStore.lastSeq);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.attestationStore.flush().then(() => this.#bell?.publishDurable(this.#durableHead()));
  }

  /**
   * Closes; idempotent. The writer's registrar first closes the core's log writer (later requests
   * on any thread are refused REGISTRAR_WRITER_GONE before deciding), writes what other threads
   * decided before that, then flushes and closes the store and releases the core. An attached
   * registrar waits (at most `journalStallMs`) for its decisions to be durable and releases its
   * core object.
   */
  close(): Promise<void> {
    this.#closing ??= this.#link !== null ? this.#closeAttached() : this.#closeWriter();
    return this.#closing;
  }

  async #closeWriter(): Promise<void> {
    this.#closed = true;
    let fence = 0;
    try {
      fence = this.#shared?.writerInfo().isWriter === true ? this.#shared.closeWriter() : 0;
      this.syncJournal(fence > 0 ? fence - 1 : this.#core.lastSeq());
    } catch {
      // A seq another thread never completed: the log ends before it (the halt says so).
    }
    try {
      await this.attestationStore.close();
      this.#bell?.publishDurable(this.#durableHead());
    } finally {
      this.#logWriter?.stop();
      this.#core.close();
    }
  }

  async #closeAttached(): Promise<void> {
    this.#closed = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#config.journalStallMs);
      timer.unref();
    });
    try {
      await Promise.race([this.flush().catch(() => undefined), deadline]);
    } finally {
      clearTimeout(timer);
      this.#link?.close();
      this.#bell?.ring(); // ends this thread's own pending wait
      this.#core.close();
    }
  }

  /**
   * The last seq attached threads may be told is durable: the log's durable seq (records appended
   * while a flush synced are not on disk yet; a failed log's are never), a memory store's head.
   */
  #durableHead(): number {
    const store = this.attestationStore;
    return store.durability === null ? store.lastSeq : store.durableSeq;
  }

  /** Throws REGISTRAR_ATTACHED on an attached registrar: what needs the log is the writer's. */
  #writerOnly(what: string): void {
    if (this.#link !== null) {
      throw new RegistrarShareError('REGISTRAR_ATTACHED', `${what} needs the log, which the registrar that shared this one writes: call it there`);
    }
  }

  #handle(given: unknown, observed: boolean, trusted: boolean): RegistrarResult {
    let parsed: ReturnType<typeof requestSchema.safeParse> | undefined;
    let common: ValidRequest | undefined;
    let input: unknown = given;
    // The commonest request (no metadata, so no size bound to apply): this registrar's handle as the actor, a plain object of the common
    // shape. Its actor is the handle's (no name to parse); anything else takes the path below.
    let handle: unknown;
    try {
      handle = typeof given === 'object' && given !== null ? (given as { actor?: unknown }).actor : undefined;
      if (ActorHandle.issuedBy(handle, this.#issuer)) common = parseCommonRequest(given, handle.key);
    } catch {
      common = undefined; // a throwing getter or proxy: the path below reads it again and attests it
    }
    if (common !== undefined) {
      const actor = handle as ActorHandle;
      return this.#handleValid(common, { id: actor.id, kind: actor.kind }, actor.key, observed);
    }
    let oversized: string | null = null;
    try {
      const named = this.#nameActors(given, trusted);
      // Denied for an actor field: the record names its actor only when it is proven (a name or a
      // copy as the actor proves nothing about who asked).
      if (named instanceof RefusedActor) return this.#attestInvalid(named.input, [{ path: named.path, message: named.message }], named.actorProven);
      input = named;
      // Metadata is bounded before zod reads it (request-schema.ts, METADATA_MAX_CHARS); a record
      // replayed was decided under the rules of its day (a log from before the bound replays as written).
      if (this.#replaying === null) oversized = metadataSizeProblem(typeof input === 'object' && input !== null ? (input as { metadata?: unknown }).metadata : undefined);
      // The common shape is accepted by a precompiled check that agrees with zod; all else is zod's.
      if (oversized === null) common = parseCommonRequest(input);
      if (oversized === null && common === undefined) parsed = requestSchema.safeParse(input);
    } catch (error) {
      // A throwing getter or proxy: still one denial, still attested. Its actor is named only as
      // this registrar's handle resolved it (or by the host): read again, a getter could name anyone.
      return this.#attestInvalid(input, [{ path: '(request)', message: `unreadable: ${(error as Error).message}` }], trusted || input !== given);
    }
    if (oversized !== null) return this.#attestInvalid(input, [{ path: 'metadata', message: oversized }]);
    if (parsed !== undefined && !parsed.success) {
      return this.#attestInvalid(input, parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(request)', message: issue.message })));
    }
    const request: ValidRequest = common ?? (parsed as { data: ValidRequest }).data; // one of the two succeeded
    const notJson = jsonProblem(request.metadata);
    if (notJson) return this.#attestInvalid(input, [{ path: notJson.slice(0, notJson.indexOf(':')), message: notJson.slice(notJson.indexOf(':') + 2) }]);
    // A registered actor named by its key: the handle has it parsed already.
    const known = typeof request.actor === 'string' ? this.#handles.get(request.actor) : undefined;
    if (known !== undefined) return this.#handleValid(request, { id: known.id, kind: known.kind }, known.key, observed);
    const actor = toActor(request.actor);
    return this.#handleValid(request, actor, actorKey(actor), observed);
  }

  /** Decides, applies and attests a valid request of `actor` (its key `key`). */
  #handleValid(request: ValidRequest, actor: Actor, key: string, observed: boolean): RegistrarResult {
    const overrideAction = isOverrideAction(request.action);
    let target = overrideAction ? null : (request.target ?? null);
    if (target === null && (request.action === 'start' || request.action === 'claim')) target = `stream-${randomUUID()}`;
    if (this.#facadeHalt) return this.#attestFacadeHalted(actor, request.action, target, observed);
    if (this.#replaying) this.#registerForReplay(this.#replaying, key, actor, request);
    const decision = this.#decide(request, actor, key, target, observed);
    this.#hold();
    let result: RegistrarResult;
    let record: Attestation;
    let tellNow: boolean;
    try {
      this.syncJournal(decision.seq - 1);
      // Fell behind the shared journal: this registrar can attest nothing gap-free any more.
      if (this.#facadeHalt === 'journal_overrun') return this.#attestFacadeHalted(actor, request.action, target, observed);
      ({ result, record } = this.#attestValid(decision, request, actor, target, overrideAction, observed));
      // Other threads' records drained before this one wait to be told (#heldNotices): this one is told after them.
      tellNow = this.#holding === 1 && !this.#releasing && this.#heldNotices.length === 0;
      if (!tellNow) this.#heldNotices.push(() => this.#tellDecided(decision, result, record, overrideAction, observed));
    } finally {
      this.#unhold();
    }
    if (tellNow) this.#tellDecided(decision, result, record, overrideAction, observed);
    return result;
  }

  /** Tells listeners about this registrar's own decision (#handleValid). */
  #tellDecided(decision: CoreDecision, result: RegistrarResult, record: Attestation, overrideAction: boolean, observed: boolean): void {
    if (decision.allowed && !observed && !this.#replaying) this.#notifyTransition(record);
    if (decision.allowed && !observed && !this.#replaying && overrideAction) this.#notifyOverride(record);
    if (decision.halted && !observed) this.#enterHalt({ cause: 'accessibility_bypass', message: result.message, seq: record.seq, attestationId: record.id });
    if (!observed && reasonOf(decision) === 'registrar_halted' && this.#link !== null) this.#noticeCoreHalt();
  }

  /** Attests a decided valid request (#handleValid): its record, appended or posted, and the result. */
  #attestValid(
    decision: CoreDecision,
    request: ValidRequest,
    actor: Actor,
    target: string | null,
    overrideAction: boolean,
    observed: boolean,
  ): { result: RegistrarResult; record: Attestation } {
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
    const result = this.#attestDecision(decision, context, parameters, metadata, observed);
    // The record may still be staged (sealed off this path, store.ts): these read no hash.
    const record = this.#recordOf(result);
    if (decision.allowed && !observed && streamKey !== null && record.stateAfter !== null && this.#link === null) {
      this.#book.setLastAttestation(streamKey, record);
    }
    return { result, record };
  }

  /**
   * Decides on the core. A refusal decides nothing: 'retry' (grants or values changed since the
   * request was computed) computes it again; 'backpressure' drains the journal (writer) or waits
   * for the writer (attached, bounded); 'writer_gone' throws. So nothing here throws after a
   * decision was applied.
   */
  #decide(request: ValidRequest, actor: Actor, key: string, target: string | null, observed: boolean): CoreDecision {
    let since = 0;
    for (;;) {
      const coreRequest = this.#toCoreRequest(request, actor, key, target);
      const decision = observed ? this.#core.evaluate(coreRequest) : this.#core.decide(coreRequest);
      const refused = decision.refused;
      if (refused === undefined) return decision;
      since ||= Date.now();
      this.#refused(refused, since);
    }
  }

  /** Consumes a seq for a facade denial (see #decide for refusals). */
  #reserveSeq(): number {
    let since = 0;
    for (;;) {
      const seq = this.#core.reserveSeq();
      if (seq > 0) return seq;
      since ||= Date.now();
      this.#refused(seq === RESERVE_BACKPRESSURE ? 'backpressure' : seq === RESERVE_WRITER_GONE ? 'writer_gone' : 'retry', since);
    }
  }

  #refused(refused: CoreRefusal, since: number): void {
    if (refused === 'retry') return;
    if (this.#link !== null) {
      this.#link.waitForWriter(refused, since);
      return;
    }
    if (refused === 'writer_gone') throw new RegistrarShareError('REGISTRAR_WRITER_GONE', 'this registrar is closed: nothing more can be decided');
    // This registrar is the writer, behind on other threads' decisions: catch up, then ask again.
    this.syncJournal(this.#core.lastSeq());
    if (Date.now() - since > this.#config.journalStallMs) {
      throw new RegistrarShareError('REGISTRAR_WRITER_STALLED', `the log cannot catch up with the core for ${this.#config.journalStallMs} ms: nothing was decided`);
    }
  }

  #toCoreRequest(request: ValidRequest, actor: Actor, key: string, target: string | null): CoreRequest {
    const metadata = request.metadata ?? NO_METADATA;
    const action = request.action;
    const scopeSpace = metadata.scope === 'user' ? 1 : 0;
    const replayed = this.#replaying?.metadata.origin === 'journal' ? this.#replaying.metadata.pluginAllowed === true : undefined;
    const coreRequest: CoreRequest = {
      actor: this.#core.actorId(key),
      actorKind: ACTOR_KINDS.indexOf(actor.kind),
      action: TRANSITION_ACTIONS.indexOf(action),
      stream: target === null ? NO_ID : this.#core.internStream(target),
      newOwner: metadata.newOwner === undefined ? NO_ID : this.#core.actorId(actorKey(toActor(metadata.newOwner))),
      preemptFor: metadata.preemptFor === undefined ? NO_ID : this.#core.internStream(metadata.preemptFor),
      priority: typeof metadata.priority === 'number' ? metadata.priority : PRIORITY_VALUES[metadata.priority ?? 'assistant'],
      session: this.#core.internScope(0, metadata.sessionId ?? 'default'),
      user: metadata.userId ? this.#core.internScope(1, metadata.userId) : NO_ID,
      overrideScope: OVERRIDE_SCOPES.indexOf(metadata.scope ?? 'session'),
      overrideScopeId: metadata.scopeId === undefined ? NO_ID : this.#core.internScope(scopeSpace, metadata.scopeId),
      pluginAllowed: replayed ?? false,
      actorUser: request.action === 'enable_override' && actor.kind === 'user' ? this.#core.internScope(1, actor.id) : NO_ID,
    };
    // Grants and override values are state of the core (facade-state.ts): the request carries the
    // ids it sets, and names those it was computed from (the core refuses it if they changed).
    if (metadata.allowPlugins !== undefined && (action === 'start' || action === 'claim' || action === 'compile')) {
      coreRequest.grants = this.#book.grantsId(metadata.allowPlugins);
    } else if (action === 'enable_override') {
      coreRequest.values = this.#book.valuesId(valuesIn(metadata));
    } else if (action === 'update_override' && coreRequest.overrideScopeId >= 0) {
      const current = this.#core.overrides().find((o) => o.scope === coreRequest.overrideScope && o.scopeId === coreRequest.overrideScopeId)?.values ?? NO_ID;
      coreRequest.values = this.#book.valuesId({ ...this.#book.values(current), ...valuesIn(metadata) });
      coreRequest.expectedValues = current;
    } else if (actor.kind === 'plugin' && action === 'mutate_graph' && target !== null && replayed === undefined) {
      const stream = this.#core.stream(coreRequest.stream);
      coreRequest.pluginAllowed = this.#book.pluginAllowed(stream, key);
      coreRequest.expectedGrants = stream?.grants ?? NO_ID;
    }
    // No id left for a grant set or values: denied capacity_exhausted by the core, like any full table.
    if (coreRequest.grants === FULL_ID || coreRequest.values === FULL_ID) {
      coreRequest.session = FULL_ID;
      coreRequest.grants = NO_ID;
      coreRequest.values = NO_ID;
    }
    return coreRequest;
  }

  /** The id of a seq's record (derived; during replay the record's own id replaces it). */
  #idFor(seq: number): string {
    return this.#replaying ? '' : this.#idsNow().of(seq);
  }

  /** The id of the record of `parentSeq`, a transition of `stream`. */
  #parentId(parentSeq: number, stream: string | null): string | null {
    const remembered = this.#book.transitionAt(stream, parentSeq);
    if (remembered) return remembered.id;
    const ids = this.#replaying ? null : this.#idsNow();
    if (ids?.derives(parentSeq)) return ids.of(parentSeq);
    if (this.#link === null) {
      const held = this.attestationStore.bySeq(parentSeq);
      if (held) return held.id;
    }
    return stream === null ? null : this.#book.lastAttestationOf(stream, 0);
  }

  /** The record of `parentSeq` (a transition of `stream`) as far as it is known: remembered, or read from the log. */
  #parentRecord(parentSeq: number, stream: string | null): { id: string; version: number | null; stateAfter: string | null } | undefined {
    if (parentSeq <= 0) return undefined;
    return this.#book.transitionAt(stream, parentSeq) ?? (this.#link === null ? this.attestationStore.bySeq(parentSeq) : undefined);
  }

  /** Writes the attestation of a core decision and returns the frozen result. */
  #attestDecision(decision: CoreDecision, context: DecisionContext, parameters: Record<string, unknown>, metadata: Record<string, unknown>, observed: boolean): RegistrarResult {
    const owner = ownerKey(this.#core, decision.ownerBefore);
    const reason = reasonOf(decision);
    if (!observed && (decision.halted || reason === 'registrar_halted')) this.#coreHalted = true;
    const membership = membershipStatement(this.#core, decision, context.actor, context.action, parameters.metadata, observed);
    if (membership !== undefined) metadata.membership = membership;
    if (isRuntimeErrorFail(decision, context.actor, context.action)) metadata.runtimeError = true;
    if (reason === 'registrar_halted' && metadata.haltCause === undefined) {
      // Why the core is halted, when a halt entry said (a failed log write, a structural
      // violation, an overrun); a bypass halt's own record says it.
      const cause = HALT_CAUSES[this.#core.haltInfo().cause];
      if (cause !== undefined && cause !== 'accessibility_bypass') metadata.haltCause = cause;
    }
    const violations = violationsOf(decision, context, owner);
    // Structural checks need the log: the writer makes them (for other threads' decisions too, as it drains).
    const writer = this.#link === null;
    const attestedBefore = this.#replaying ? this.#replaying.seq - 1 : this.attestationStore.lastSeq;
    const parentRecord = writer ? this.#parentRecord(decision.parentSeq, context.target) : undefined;
    const structural = writer && !observed && decision.allowed ? checkTransition(decision, attestedBefore, parentRecord ? { version: parentRecord.version, stateAfter: parentRecord.stateAfter } : null) : [];
    if (structural.length > 0) {
      violations.push(...structural);
      metadata.halt = true;
      metadata.haltCause = 'structural';
    }
    const parent = decision.parentSeq > 0 ? (parentRecord?.id ?? this.#parentId(decision.parentSeq, context.target)) : null;
    const body = attestationBody({
      seq: decision.seq,
      id: this.#idFor(decision.seq),
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
    const result = this.#finish(body, decision.allowed, observed);
    if (structural.length > 0) this.#haltFromFacade('structural', new Error(structural.map((v) => v.message).join('; ')), result.attestation);
    return result;
  }

  /** Appends (or, in replay, compares and adopts; or, attached, posts) a body; builds and registers the result. */
  #finish(given: AttestationBody, allowed: boolean, observed: boolean): RegistrarResult {
    const body = this.#compaction.apply(given);
    let record: Attestation;
    let durable: Promise<void>;
    if (this.#link !== null) {
      ({ record, durable } = this.#link.post(body));
      this.#lastOwnSeq = record.seq;
      this.#events?.skipTo(record.seq);
    } else if (this.#replaying) {
      record = this.#replaying;
      const held = this.attestationStore.bySeq(record.seq);
      if (!held) this.attestationStore.adopt([record], this.#storeWriter);
      else if (held.hash !== record.hash) throw new Error(`seq ${record.seq}: the store holds a different record`);
      durable = SETTLED;
      assertSameDecision(body, record);
      this.#idRun.note(record.seq, record.id);
      this.#shared?.setWritten(record.seq);
    } else {
      ({ record, durable } = this.#append(body));
      this.#logWriter?.ring();
    }
    return this.#gate.issue(record, allowed, durable, observed);
  }

  /** The writer appends a record (a memory store stages it, sealed off this path: store.ts) and says so (to the core, and to attached threads). */
  #append(body: AttestationBody): { record: Attestation; durable: Promise<void> } {
    // A rejection of `durable` is already handled by the store; failures halt the registrar through onFailure.
    const appended = this.attestationStore.stage(body, this.#storeWriter);
    const seq = appended.record.seq;
    this.#shared?.setWritten(seq);
    this.#logWriter?.appended(seq, appended.durable, appended.durable === SETTLED || this.attestationStore.durability === null);
    return appended;
  }

  /** A result's record as this registrar issued it, possibly still staged (its hashes empty): for reads of other fields only. */
  #recordOf(result: RegistrarResult): Attestation {
    return this.#gate.recordOf(result) ?? result.attestation;
  }

  /** Attests a malformed request; `actorProven` false: its `actor` field is not who asked (the record names no actor). */
  #attestInvalid(input: unknown, allIssues: { path: string; message: string }[], actorProven = true): RegistrarResult {
    const seq = this.#reserveSeq();
    this.#hold();
    try {
      this.syncJournal(seq - 1);
      return this.#finish(invalidRequestBody(seq, this.#idFor(seq), input, allIssues, actorProven), false, false);
    } finally {
      this.#unhold();
    }
  }

  #attestFacadeHalted(actor: Actor, action: string, target: string | null, observed: boolean): RegistrarResult {
    const seq = this.#reserveSeq();
    this.#hold();
    try {
      return this.#attestFacadeHaltedAt(seq, actor, action, target, observed);
    } finally {
      this.#unhold();
    }
  }

  #attestFacadeHaltedAt(seq: number, actor: Actor, action: string, target: string | null, observed: boolean): RegistrarResult {
    this.syncJournal(seq - 1);
    const body = facadeHaltedBody(seq, this.#idFor(seq), { actor, action, target }, this.#facadeHalt ?? 'halt', observed);
    if (this.#facadeHalt === 'journal_overrun' && seq !== this.attestationStore.lastSeq + 1) {
      // This registrar can no longer attest gap-free: the denial is answered (sealed, unchained) but not logged.
      const record = sealRecord({ ...body, metadata: { ...body.metadata, unrecorded: true } }, '');
      return this.#gate.issue(record, false, SETTLED, observed, true);
    }
    return this.#finish(body, false, observed);
  }

  /** Drains the journal into the log (writer), with this registrar's callbacks. */
  #drain(options: { upToSeq: number; block: boolean; abandonUpTo?: number }): DrainResult {
    this.#draining = true;
    this.#hold();
    try {
      return drainJournal(this.#core, {
        nextSeq: () => this.attestationStore.lastSeq + 1,
        upToSeq: options.upToSeq,
        batchEntries: this.#config.journalBatchEntries,
        stallMs: this.#config.journalStallMs,
        bodies: this.#shared,
        block: options.block,
        ...(options.abandonUpTo !== undefined ? { abandonUpTo: options.abandonUpTo } : {}),
        pause: (timeoutMs) => (this.#bell ? this.#bell.waitRing(this.#bell.rings, timeoutMs) : Atomics.wait(PAUSE_CELL, 0, 0, timeoutMs)),
        onEntry: (entry, body) => this.#attestForeign(entry, body),
        afterBatch: () => this.#shared?.noteWritten(this.attestationStore.lastSeq),
        onOverrun: () => this.#haltFromFacade('journal_overrun', new Error('journal overrun')),
      });
    } finally {
      this.#draining = false;
      this.#unhold();
    }
  }

  /** The writer starts appending (a drain, or a request's catch-up and record): listener calls wait (see #heldNotices). */
  #hold(): void {
    this.#holding += 1;
  }

  /** The writer is done appending: once the outermost is, the held listener calls are made, in order. */
  #unhold(): void {
    this.#holding -= 1;
    if (this.#holding > 0 || this.#releasing || this.#heldNotices.length === 0) return;
    this.#releasing = true;
    try {
      // A listener's own request appends and notices after these (queued behind them: seq order).
      for (let tell = this.#heldNotices.shift(); tell !== undefined; tell = this.#heldNotices.shift()) tell();
    } finally {
      this.#releasing = false;
    }
  }

  /** Makes a listener call now, or after the append in progress (see #heldNotices). */
  #notice(tell: () => void): void {
    if (this.#holding > 0 || this.#releasing) this.#heldNotices.push(tell);
    else tell();
  }

  /** One slice of the writer's doorbell-driven drain (log-writer.ts): never blocks. */
  #drainSlice(sliceSeqs: number, abandonUpTo: number): DrainResult & { more: boolean } {
    if (this.#closed || this.#draining || this.#facadeHalt === 'journal_overrun') return { written: 0, waitingFor: null, more: false };
    const next = this.attestationStore.lastSeq + 1;
    const last = this.#core.lastSeq();
    if (last < next) return { written: 0, waitingFor: null, more: false };
    const result = this.#drain({ upToSeq: Math.min(last, next + sliceSeqs - 1), block: false, abandonUpTo });
    return { ...result, more: result.waitingFor === null && this.#core.lastSeq() > this.attestationStore.lastSeq };
  }

  /** The writer writes a seq another thread decided (or a halt), from its posted body or the journal. */
  #attestForeign(entry: JournalEntry, posted: string | null): void {
    if (entry.kind === 3) {
      this.#attestHalt(entry, posted);
      return;
    }
    const target = entry.stream !== NO_ID ? entry.stream : entry.target;
    const streamKey = target >= 0 && entry.kind !== 2 ? this.#core.streamKey(target) : null;
    const body =
      posted === null
        ? null
        : postedBody(this.#core, entry, posted, { id: this.#idFor(entry.seq), parent: entry.parentSeq > 0 && entry.kind !== 2 ? this.#parentId(entry.parentSeq, streamKey) : null });
    let record: Attestation;
    if (body !== null) {
      record = this.#appendForeign(entry, body);
    } else if (entry.kind === 2 || entry.action < 0) {
      record = this.#recordOf(this.#finish(foreignReservedBody(entry, this.#idFor(entry.seq)), false, false));
    } else {
      const foreign = foreignDecision(this.#core, entry);
      if (posted !== null) foreign.metadata.bodyRejected = true; // the posted text stated another decision
      record = this.#recordOf(this.#attestDecision(entry, foreign.context, foreign.parameters, foreign.metadata, foreign.observed));
    }
    const observed = entry.kind === 1;
    if (entry.allowed && entry.kind === 0 && streamKey !== null && entry.stateAfter >= 0) this.#book.setLastAttestation(streamKey, record);
    if (!this.#replaying && entry.allowed && !observed) this.#notice(() => this.#notifyTransition(record));
    // Another thread's override decision: this thread's runtime obeys it as it obeys its own (the scheduler re-checks).
    if (!this.#replaying && entry.allowed && entry.kind === 0 && isOverrideAction(record.action)) this.#notice(() => this.#notifyOverride(record));
    if (!this.#replaying && entry.halted && !observed) {
      this.#enterHalt({ cause: 'accessibility_bypass', message: record.message, seq: record.seq, attestationId: record.id });
    }
  }

  /** A posted body, checked: structural checks, sealed and appended. */
  #appendForeign(entry: JournalEntry, body: AttestationBody): Attestation {
    let checked = body;
    let structural: ReturnType<typeof checkTransition> = [];
    if (entry.kind === 0 && entry.allowed) {
      const parentRecord = this.#parentRecord(entry.parentSeq, body.target);
      structural = checkTransition(entry, this.attestationStore.lastSeq, parentRecord ? { version: parentRecord.version, stateAfter: parentRecord.stateAfter } : null);
      if (structural.length > 0) {
        checked = { ...body, violations: [...body.violations, ...structural], metadata: { ...body.metadata, halt: true, haltCause: 'structural' } };
      }
    }
    if (entry.halted || reasonOf(entry) === 'registrar_halted') this.#coreHalted = true;
    const { record } = this.#append(this.#compaction.apply(checked));
    if (structural.length > 0) this.#haltFromFacade('structural', new Error(structural.map((v) => v.message).join('; ')), record);
    return record;
  }

  /** The record of a core halt (journal kind 3), with the message of whoever halted it. */
  #attestHalt(entry: JournalEntry, posted: string | null): void {
    const cause = haltCauseOf(entry);
    let detail = this.#haltMessages.get(entry.seq);
    this.#haltMessages.delete(entry.seq);
    if (detail === undefined && posted !== null) {
      try {
        const message = (JSON.parse(posted) as { message?: unknown }).message;
        if (typeof message === 'string') detail = message;
      } catch {
        // not a body: the generic text below
      }
    }
    const record = this.#finish(haltBody(entry.seq, this.#idFor(entry.seq), cause, detail ?? 'halted on another thread', entry.monotonicNs), false, false).attestation;
    this.#coreHalted = true;
    this.#bell?.raiseHalt();
    const shown = cause === 'attestation_io' ? null : record;
    this.#enterHalt({ cause: cause as HaltCause, message: record.message, seq: shown?.seq ?? null, attestationId: shown?.id ?? null });
  }

  /**
   * Halts for a cause the core does not decide (a failed log write, a structural violation, a
   * journal overrun): a halt entry in the core (one seq, after which every thread's requests are
   * denied registrar_halted), its record in the log when the drain reaches it, and the listeners
   * told. `record` is the attestation that shows the cause (a structural violation), when there is one.
   */
  #haltFromFacade(cause: HaltCause, error: AttestationError | Error, record?: Attestation): void {
    if (cause === 'journal_overrun') {
      if (this.#facadeHalt) return;
      this.#facadeHalt = cause; // nothing more can be attested gap-free here
      try {
        // The lost seqs are given up, so the core's backpressure rule lets the halt (and the denials after it) through.
        this.#shared?.noteWritten(this.#core.lastSeq());
      } catch {
        // a closed core
      }
    }
    if (this.#haltInfo) return;
    this.#coreHalted = true;
    let seq = 0;
    if (!this.#replaying) {
      try {
        seq = this.#core.halt(HALT_CAUSES.indexOf(cause));
      } catch {
        // a closed core: nothing decides on it any more
      }
    }
    if (seq > 0) this.#haltMessages.set(seq, error.message);
    this.#bell?.raiseHalt();
    // A failed log or an overrun can record nothing more; a structural halt's violating record shows it.
    this.#enterHalt({ cause, message: error.message, seq: record?.seq ?? null, attestationId: record?.id ?? null });
    if (seq > 0 && !this.#draining && cause !== 'journal_overrun') {
      try {
        this.syncJournal(seq); // writes the halt's record
      } catch {
        // a seq another thread never completed: the halt stands, its record comes with the next drain
      }
    }
  }

  /** An attached registrar learns of a halt made elsewhere (the doorbell, the journal, a denial). */
  #noticeCoreHalt(): void {
    if (this.#haltInfo || this.#closed) return;
    const info = this.#core.haltInfo();
    if (!info.halted && !this.#bell?.halted) return;
    this.#coreHalted = true;
    this.#bell?.raiseHalt();
    const cause = haltCauseName(info.cause);
    if (cause === null) return; // not halted by a decision or a cause we know (restored halted)
    const ids = this.#ids;
    const recorded = cause !== 'attestation_io' && info.seq > 0;
    this.#enterHalt({
      cause,
      message: `the registrar halted (${cause}) at seq ${info.seq}, decided on another thread`,
      seq: recorded ? info.seq : null,
      attestationId: recorded && ids?.derives(info.seq) ? ids.of(info.seq) : null,
    });
  }

  /** Records the first halt and tells every halt listener. */
  #enterHalt(info: HaltInfo): void {
    if (this.#haltInfo) return;
    this.#haltInfo = Object.freeze(info);
    this.#coreHalted ||= info.cause === 'accessibility_bypass';
    this.#bell?.raiseHalt();
    const frozen = this.#haltInfo;
    this.#notice(() => this.#haltListeners.tell(frozen));
  }

  /** Tells override listeners about an allowed override decision (this thread's, or another thread's the writer writes). */
  #notifyOverride(record: Attestation): void {
    if (this.#overrideListeners.empty || record.action === null) return;
    const event: OverrideEvent = Object.freeze({
      action: record.action as OverrideEvent['action'],
      actor: record.actor ? `${record.actor.kind}:${record.actor.id}` : '',
      seq: record.seq,
      attestationId: record.id,
    });
    this.#overrideListeners.tell(event);
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

  /** An attached registrar tells its listeners other threads' decisions up to `upToSeq`. */
  #tellForeign(upToSeq: number): number {
    const events = this.#events;
    if (events === null || this.#closed) return 0;
    if (this.#transitionListeners.empty && this.#haltListeners.empty && this.#overrideListeners.empty) {
      events.skipTo(upToSeq === Number.MAX_SAFE_INTEGER ? this.#core.lastSeq() : upToSeq);
      return 0;
    }
    return events.readUpTo(upToSeq, {
      transition: (event) => this.#transitionListeners.tell(event),
      halt: () => this.#noticeCoreHalt(),
      override: (event) => this.#overrideListeners.tell(event),
    });
  }

  /**
   * Once something listens on a registrar others decide on, wake on the doorbell: the writer
   * drains (log-writer.ts, started by share()); an attached registrar reads what other threads
   * decided and tells its listeners within an event-loop turn of the ring.
   */
  #listen(): void {
    if (this.#link === null || this.#listening || this.#closed) return;
    this.#listening = true;
    void this.#listenLoop();
  }

  async #listenLoop(): Promise<void> {
    const bell = this.#bell as Doorbell;
    try {
      while (!this.#closed && !(this.#transitionListeners.empty && this.#haltListeners.empty && this.#overrideListeners.empty)) {
        const seen = bell.rings;
        try {
          this.#tellForeign(Number.MAX_SAFE_INTEGER);
          if (bell.halted) this.#noticeCoreHalt();
        } catch {
          // a closed core (this registrar closing): the loop ends below
        }
        await bell.nextRing(seen);
      }
    } finally {
      this.#listening = false;
    }
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
      if (!ActorHandle.issuedBy(actor, this.#issuer)) return new RefusedActor(input, 'actor', `an ActorHandle of another registrar (naming ${String(actor as ActorHandle)})`, false);
      named = { ...(input as object), actor: actor.key };
    } else if (!trusted) {
      return new RefusedActor(input, 'actor', `expected an ActorHandle from registerActor() (names are accepted only by requestAsHost(); received ${claimedActor(actor)})`, false);
    }
    if (ActorHandle.isHandle(newOwner)) {
      // Who asked is proven (this registrar's handle, or the host by name): the record names them.
      if (!ActorHandle.issuedBy(newOwner, this.#issuer)) return new RefusedActor(named, 'metadata.newOwner', 'an ActorHandle of another registrar', true);
      named = { ...(named as object), metadata: { ...(metadata as object), newOwner: newOwner.key } };
    }
    return named;
  }

  /**
   * `registerActor` is not a request, so replay registers what each record proves was registered:
   * its actor unless it was denied unknown_actor, a transfer's new owner unless invalid_transition.
   */
  #registerForReplay(record: Attestation, key: string, actor: Actor, request: ValidRequest): void {
    const violated = (id: string) => record.violations.some((v) => v.invariant === id);
    if (!violated('audio.actor.registered')) {
      this.#core.registerActor(key, ACTOR_KINDS.indexOf(actor.kind));
      this.#book.addActor(key);
    }
    const newOwner = request.metadata?.newOwner;
    if (request.action === 'transfer' && newOwner !== undefined && !violated('audio.lifecycle.valid_transition')) {
      const owner = toActor(newOwner);
      this.#core.registerActor(actorKey(owner), ACTOR_KINDS.indexOf(owner.kind));
      this.#book.addActor(actorKey(owner));
    }
  }

  #replayRecord(record: Attestation): void {
    this.#replaying = record;
    try {
      // A core halt's record (a failed log write, a structural violation, an overrun): halt the core there too.
      if (record.action === null && record.metadata.halt === true && typeof record.metadata.haltCause === 'string' && record.reason === 'registrar_halted') {
        const seq = this.#core.halt(Math.max(1, HALT_CAUSES.indexOf(record.metadata.haltCause as HaltCause)));
        this.#coreHalted = true;
        this.#finish({ ...record, seq: seq > 0 ? seq : record.seq }, false, false);
        return;
      }
      // A log written before halts were the core's: the facade's own halted denials.
      if (!this.#coreHalted && record.reason === 'registrar_halted' && typeof record.metadata.haltCause === 'string' && record.metadata.haltCause !== 'accessibility_bypass') {
        this.#facadeHalt ??= record.metadata.haltCause as HaltCause;
      }
      // capacity_exhausted is about the writer's tables, not the log: adopted, not re-decided.
      if (record.reason === 'invalid_request' || record.reason === 'capacity_exhausted' || (record.action === null && (record.metadata.origin === 'journal' || record.metadata.halt === true))) {
        const seq = this.#core.reserveSeq();
        const body = { ...record, seq, decision: 'denied' as const, reason: record.metadata.origin === 'journal' || record.reason === 'capacity_exhausted' ? record.reason : 'invalid_request' };
        this.#finish(body, false, false);
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
      this.#handle(request, record.metadata.observed === true, true);
    } finally {
      this.#replaying = null;
    }
  }

  /** A stream's interned id without growing the intern table when the core can look it up. */
  #lookupStream(streamId: string): number {
    return this.#core.streamIdOf ? this.#core.streamIdOf(streamId) : this.#core.internStream(streamId);
  }

  #stateImage(): JsonObject {
    const image = this.#core.image();
    return frozenJsonCopy({
      lastSeq: image.lastSeq,
      halted: image.halted || this.#facadeHalt !== null,
      streams: this.listStates() as unknown as JsonObject[],
      overrides: this.listOverrides().map((o) => ({ ...o })).sort((a, b) => (overrideKey(a.scope, a.scopeId) < overrideKey(b.scope, b.scopeId) ? -1 : 1)) as unknown as JsonObject[],
      grants: this.#book.grantsImage(image.streams) as unknown as JsonObject[],
      memberships: provenMemberships(this.#core) as unknown as JsonObject[],
    });
  }
}

/** What the writer's drain waits on when it has no doorbell (nothing shared: only a claim in flight). */
const PAUSE_CELL = new Int32Array(new SharedArrayBuffer(4));

export type { RegistrarRequest } from './request-schema.js';
export type { RegistrarShare } from './registrar-share.js';

// Hardening: no caller can swap a method of this class for its own (a monkey-patched prototype would see every instance).
Object.freeze(AudioRegistrar.prototype);
Object.freeze(AudioRegistrar);

export type { ListenerOptions } from './listeners.js';
