/**
 * The registrar core's part of the addon (native/binding/registrar_wrap.cc). Hot calls exchange
 * integers through one ArrayBuffer per object (layout below) instead of JS objects, so a decision
 * is a single N-API call with no property access. Only src/registrar/native-core.ts uses this.
 */

/** Bytes of the per-object I/O buffer. */
export const REGISTRAR_IO_BYTES = 320;
/** Int32 slots of a request at the start of the I/O buffer: the CoreRequest fields in order, then
 *  the free epoch the stream ids are valid for and 1 to have it checked (stale ids are refused),
 *  then grants, values, expected grants, expected values, flags (REGISTRAR_FLAG_*), actorUser. */
export const REGISTRAR_REQUEST_INTS = 20;
/** Int32 index of the request flags. */
export const REGISTRAR_FLAGS_INDEX = 18;
/** Request flag: check the expected grants. */
export const REGISTRAR_FLAG_CHECK_GRANTS = 1;
/** Request flag: check the expected override values. */
export const REGISTRAR_FLAG_CHECK_VALUES = 2;
/** Request flag: the decider posts its attestation body. */
export const REGISTRAR_FLAG_POSTS_BODY = 4;
/** Byte offset of the Float64 the log writer's object sets to the last seq it wrote (0: none);
 *  read by every decide of that object (the core's backpressure rule). */
export const REGISTRAR_WRITTEN_OFFSET_BYTES = 80;
/** Int32 index of CoreRequest.actorUser in the request area. */
export const REGISTRAR_ACTOR_USER_INDEX = 19;
/** Byte offset of the Float64 result area in the I/O buffer. */
export const REGISTRAR_OUTPUT_OFFSET_BYTES = 128;
/** Float64 fields of a decision: allowed, violations, reason, halted, seq, stream, stateBefore,
 *  stateAfter, version, parentSeq, ownerBefore, ownerAfter, accessibility, preemption. */
export const REGISTRAR_DECISION_FIELDS = 14;
/** Float64 output index after a decision: 0 decided, 1 its ids were stale, 2 retry (facade state
 *  changed), 3 backpressure, 4 writer gone (2-4: nothing decided). */
export const REGISTRAR_STALE_INDEX = REGISTRAR_DECISION_FIELDS;
/** Float64 output index of the core's free epoch, written by decide, stream, image, readJournal. */
export const REGISTRAR_EPOCH_INDEX = 20;
/** Float64 fields of a stream: stream, state, owner, session, user, priority, version,
 *  graphRevision, committed, lastSeq, grants. */
export const REGISTRAR_STREAM_FIELDS = 11;
/** Float64 fields of a journal entry: the decision's, then actor, actorKind, action, target,
 *  monotonicNs high 32 bits, low 32 bits, kind, then the rest of the request: newOwner,
 *  preemptFor, priority, session, user, overrideScope, overrideScopeId, pluginAllowed, grants,
 *  values, then decider, postsBody, haltCause, actorUser. */
export const REGISTRAR_JOURNAL_FIELDS = REGISTRAR_DECISION_FIELDS + 21;
/** Int32 fields of an override: owner, scope, scopeId, values. */
export const REGISTRAR_OVERRIDE_FIELDS = 4;
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

/** An opaque watch of one stream of a native core (native/core/stream_watch.h): made by
 *  `watchStream`, handed to `AudioDevice#voiceWatch`. A frozen empty object that no JS code can
 *  forge or read; it holds its core only weakly. */
export interface NativeStreamWatch {
  readonly __nativeStreamWatch: never;
}

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
  /** The id (space 0 session, 1 user, 2 plugin grant set, 3 override values), or -2 when no id
   *  is left in that space. */
  internScope(space: number, key: string): number;
  actorKey(id: number): string | undefined;
  streamKey(id: number): string | undefined;
  scopeKey(space: number, id: number): string | undefined;
  /** Reads the request from the I/O buffer and writes the decision into it. */
  decide(evaluate: boolean): void;
  /** The seq, or minus a refusal code (-3 backpressure, -4 writer gone). */
  reserveSeq(postsBody?: boolean): number;
  /** Writes the stream into the I/O buffer and answers 1; 0 when it does not exist; 2 when the
   *  epoch in the request area is checked and stale. */
  stream(id: number): 0 | 1 | 2;
  /** A watch of the play decided at `playSeq` on stream `id` for a device voice; null when the id
   *  has no slot, false when the stream's last decision is no longer `playSeq` (superseded). */
  watchStream(id: number, playSeq: number): NativeStreamWatch | null | false;
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
  /** This object's process-unique decider id (stamped on its requests by the addon). */
  readonly decider: number;
  /** Makes this object the core's one log writer, having written up to `writtenSeq`; false when
   *  the core has (or had) one. */
  claimWriter(writtenSeq: number): boolean;
  /** The writer drained every seq up to `seq` (ignored unless this object is the writer). */
  noteWritten(seq: number): void;
  /** [writer state (0 none, 1 live, 2 closed), written seq, 1 when this object is the writer]. */
  writerInfo(): Float64Array;
  /** The writer's close fence: its seq, or 0 (no live writer, or this object is not it). */
  closeWriter(): number;
  /** Halts the core (cause: index into HALT_CAUSES, not 0): the seq, 0 when already halted, or
   *  minus a refusal code. */
  halt(cause: number, postsBody?: boolean): number;
  /** [halted 0/1, cause (-1: none or unknown), seq]. */
  haltInfo(): Float64Array;
  /** Posts the attestation body of a seq this object decided with the posts-body flag. */
  postBody(seq: number, text: string): boolean;
  /** The writer takes posted bodies from `fromSeq` on (null: given up), stopping at the first not
   *  yet posted; bodies of seqs up to `abandonUpTo` not yet posted are given up. */
  takeBodies(fromSeq: number, count: number, abandonUpTo: number): (string | null)[];
  /** Stores the writer's share info once (false when already set). */
  setShareInfo(text: string): boolean;
  /** The share info, or undefined. */
  shareInfo(): string | undefined;
  /** Drops this object's reference; the core is freed when no object in any thread holds it. The
   *  writer's object closes the writer first. */
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
