/**
 * The registrar core's part of the addon (native/binding/registrar_wrap.cc). Hot calls exchange
 * integers through one ArrayBuffer per object (layout below) instead of JS objects, so a decision
 * is a single N-API call with no property access. Only src/registrar/native-core.ts uses this.
 */

/** Bytes of the per-object I/O buffer. */
export const REGISTRAR_IO_BYTES = 256;
/** Int32 slots of a request at the start of the I/O buffer: the CoreRequest fields in order up to
 *  pluginAllowed, then the free epoch the stream ids are valid for and 1 to have it checked (stale
 *  ids are refused), then actorUser. */
export const REGISTRAR_REQUEST_INTS = 15;
/** Int32 index of CoreRequest.actorUser in the request area. */
export const REGISTRAR_ACTOR_USER_INDEX = 14;
/** Byte offset of the Float64 result area in the I/O buffer. */
export const REGISTRAR_OUTPUT_OFFSET_BYTES = 64;
/** Float64 fields of a decision: allowed, violations, reason, halted, seq, stream, stateBefore,
 *  stateAfter, version, parentSeq, ownerBefore, ownerAfter, accessibility, preemption. */
export const REGISTRAR_DECISION_FIELDS = 14;
/** Float64 output index after a decision: 1 when its ids were stale (nothing decided). */
export const REGISTRAR_STALE_INDEX = REGISTRAR_DECISION_FIELDS;
/** Float64 output index of the core's free epoch, written by decide, stream, image, readJournal. */
export const REGISTRAR_EPOCH_INDEX = 20;
/** Float64 fields of a stream: stream, state, owner, session, user, priority, version,
 *  graphRevision, committed, lastSeq. */
export const REGISTRAR_STREAM_FIELDS = 10;
/** Float64 fields of a journal entry: the decision's, then actor, actorKind, action, target,
 *  monotonicNs high 32 bits, low 32 bits, kind, then the rest of the request: newOwner,
 *  preemptFor, priority, session, user, overrideScope, overrideScopeId, pluginAllowed, actorUser. */
export const REGISTRAR_JOURNAL_FIELDS = REGISTRAR_DECISION_FIELDS + 16;
/** Int32 fields of an override: owner, scope, scopeId. */
export const REGISTRAR_OVERRIDE_FIELDS = 3;
/** Int32 fields of a membership: user, session, basis. */
export const REGISTRAR_MEMBERSHIP_FIELDS = 3;

/** A flat image as the addon returns it. */
export interface NativeRegistrarImage {
  lastSeq: number;
  halted: boolean;
  /** REGISTRAR_STREAM_FIELDS per stream. */
  streams: Float64Array;
  /** REGISTRAR_OVERRIDE_FIELDS per override. */
  overrides: Int32Array;
  /** REGISTRAR_MEMBERSHIP_FIELDS per membership, sorted by user then session. */
  memberships: Int32Array;
}

/** Options of a new native core, after the journal capacity (only when creating one). */
export type NativeRegistrarCoreOptions = [compactionPeriodSeqs: number, compactionRetainSeqs: number, streamCapacity: number, scopeCapacity: number];

/** One object on a native registrar core. Several objects (in several threads) may share a core. */
export interface NativeRegistrarCore {
  /** The capability to attach to this core: `"<handle>.<32 hex digits>"`, the handle and the core's
   *  128-bit random secret; `new RegistrarCore(shareToken, …)` in a worker attaches with it. Throws
   *  REGISTRAR_CORE_CLOSED after close(). */
  readonly shareToken: string;
  registerActor(key: string, kind: number): number;
  actorId(key: string): number;
  /** The id, or -2 when no stream id is left. */
  internStream(key: string): number;
  /** Interned id of a stream key, or -1; interns nothing. */
  streamIdOf(key: string): number;
  /** The id, or -2 when no id is left in that space. */
  internScope(space: number, key: string): number;
  actorKey(id: number): string | undefined;
  streamKey(id: number): string | undefined;
  scopeKey(space: number, id: number): string | undefined;
  /** Reads the request from the I/O buffer and writes the decision into it. */
  decide(evaluate: boolean): void;
  reserveSeq(): number;
  /** Writes the stream into the I/O buffer and answers 1; 0 when it does not exist; 2 when the
   *  epoch in the request area is checked and stale. */
  stream(id: number): 0 | 1 | 2;
  overrides(): Int32Array;
  /** Adds basis bits to a membership; throws REGISTRAR_UNKNOWN_ID for ids not interned. */
  declareMember(user: number, session: number, basis: number): void;
  /** The basis bits of a membership, 0 when none. */
  membership(user: number, session: number): number;
  /** REGISTRAR_MEMBERSHIP_FIELDS per membership, sorted by user then session. */
  memberships(): Int32Array;
  image(): NativeRegistrarImage;
  /** Throws REGISTRAR_CORE_IN_USE unless this is the only object on the core and nothing was
   *  decided, evaluated or reserved since it was created or last loaded; REGISTRAR_IMAGE_INVALID. */
  load(lastSeq: number, halted: boolean, streams: Float64Array, overrides: Int32Array, memberships?: Int32Array): void;
  readJournal(fromSeq: number, maxEntries: number): Float64Array;
  lastSeq(): number;
  /** How many compaction sweeps freed ids. */
  freeEpoch(): number;
  /** [periodSeqs, retainSeqs]; period 0: never compacts. */
  compaction(): Float64Array;
  /** Streams the sweep of compaction point `seq` removed, or -1 when not known (not a point, not
   *  decided yet, or no longer remembered); waits until `seq` is applied. */
  sweptAt(seq: number): number;
  /** [live stream ids, stream table size]. */
  stats(): Float64Array;
  /** Drops this object's reference; the core is freed when no object in any thread holds it. */
  close(): void;
}

/** Constructor: null creates a core (with a fresh random secret); a share token attaches to its core.
 *  Any string that is not a live core's token (unknown handle, wrong or malformed secret) throws
 *  the same REGISTRAR_CORE_NOT_FOUND. */
export type NativeRegistrarCoreConstructor = new (
  shareToken: string | null,
  journalCapacity: number,
  io: ArrayBuffer,
  ...options: NativeRegistrarCoreOptions | []
) => NativeRegistrarCore;

/** The registrar core's part of the addon. */
export interface RegistrarBinding {
  RegistrarCore: NativeRegistrarCoreConstructor;
}
