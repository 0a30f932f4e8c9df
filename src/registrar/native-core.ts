/**
 * The native decision core: `DecisionCore` over the lock-free C++ core
 * (native/core/registrar_core.*). One core can be shared by several threads: create it in one,
 * pass its `shareToken` to a worker (postMessage / workerData) and `NativeCore.attach(shareToken)`
 * there. The token is the capability: `"<handle>.<32 hex digits>"`, the core's process-wide handle
 * and a 128-bit secret drawn from the OS random source when the core was made, readable only from
 * an object that already holds the core. A guessed handle, a wrong, truncated or another core's
 * secret all get REGISTRAR_CORE_NOT_FOUND, the same as a closed core. The core lives while any
 * NativeCore object in any thread holds it (close(), GC, or the end of a worker releases that
 * object's reference).
 *
 * Compaction (compaction.ts) frees stream ids inside the core; this object caches key -> id, so
 * every call that takes or returns stream ids carries or reports the core's free epoch: a request
 * made with ids from an older epoch is answered "stale" (nothing decided) and is retried here
 * after looking its keys up again. Ids handed in from elsewhere (another thread's internStream)
 * are used unchecked and are valid until compacted.
 *
 * It is also a SharedLogCore (shared-core.ts): the object of the registrar that writes the log
 * claims the core's writer role, deciders on other threads post their attestation bodies, and
 * the core refuses (before deciding) what would outrun or outlive the writer.
 */
import { z } from 'zod';
import { InputError, NativeError, VoiceSoundboardError } from '../errors.js';
import { nativeBinding } from '../native/loader.js';
import {
  REGISTRAR_ACTOR_USER_INDEX,
  REGISTRAR_DECISION_FIELDS,
  REGISTRAR_EPOCH_INDEX,
  REGISTRAR_FLAG_CHECK_GRANTS,
  REGISTRAR_FLAG_CHECK_VALUES,
  REGISTRAR_FLAG_POSTS_BODY,
  REGISTRAR_FLAGS_INDEX,
  REGISTRAR_IO_BYTES,
  REGISTRAR_STALE_INDEX,
  REGISTRAR_JOURNAL_FIELDS,
  REGISTRAR_MEMBERSHIP_FIELDS,
  REGISTRAR_OUTPUT_OFFSET_BYTES,
  REGISTRAR_OVERRIDE_FIELDS,
  REGISTRAR_REQUEST_INTS,
  REGISTRAR_STREAM_FIELDS,
  REGISTRAR_WRITTEN_OFFSET_BYTES,
  type NativeRegistrarCore,
  type NativeStreamWatch,
} from '../native/registrar-binding.js';
import { parseInput } from '../validation.js';
import { compactionOptionSchema, policyOf, type CompactionOption, type CompactionPolicy } from './compaction.js';
import {
  ACTOR_KINDS,
  FULL_ID,
  NO_ID,
  type CoreDecision,
  type CoreImage,
  type CoreMembership,
  type CoreOverride,
  type CoreRequest,
  type CoreStream,
  type CoreRefusal,
  type JournalEntry,
} from './core.js';
import type { SharedLogCore, WriterInfo } from './shared-core.js';

/** Options of `NativeCore.create`. */
export interface NativeCoreOptions {
  /** Journal entries kept for readers (rounded up to a power of two; default 65536). Entries
   *  older than this many seqs are overwritten; a read from an overwritten seq starts at the
   *  oldest one still held (the registrar facade halts rather than attest a gap). */
  journalCapacity?: number;
  /** When terminal streams are compacted and their ids freed (compaction.ts); default
   *  DEFAULT_COMPACTION, false never (ids then run out after `streamCapacity` streams). */
  compaction?: CompactionOption;
  /** Most stream ids at once, live, unused and freed-in-quarantine (default and maximum 2^24 - 4096);
   *  a request that needs another is denied `capacity_exhausted`. */
  streamCapacity?: number;
  /** Most session ids, and most user ids (default and maximum 2^24 - 4096). */
  scopeCapacity?: number;
}

/** The native id space (ChunkedTable::kCapacity). */
const MAX_IDS = 4096 * 4095;
const optionsSchema = z.strictObject({
  journalCapacity: z.number().int().min(1024).max(2 ** 30).optional(),
  compaction: compactionOptionSchema,
  streamCapacity: z.number().int().min(1).max(MAX_IDS).optional(),
  scopeCapacity: z.number().int().min(1).max(MAX_IDS).optional(),
});
/** Cached stream names kept before the cache starts over (it refills from the core). */
const STREAM_CACHE_MAX = 16_384;
/** A share token's shape; whether it opens a core is the addon's answer (REGISTRAR_CORE_NOT_FOUND). */
const shareTokenSchema = z
  .string()
  .max(64)
  .regex(/^[0-9]{1,10}\.[0-9a-f]+$/, 'expected a share token "<handle>.<32 lowercase hex digits>" (a NativeCore\'s shareToken)');

/** The token, or InputError naming `shareToken`; the message never echoes the value (it may be
 *  most of a live core's secret). */
function parseShareToken(value: unknown): string {
  const parsed = shareTokenSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const received = typeof value === 'string' ? `a string of ${value.length} characters` : value === null ? 'null' : typeof value;
  throw new InputError(`shareToken: ${parsed.error.issues[0]?.message ?? 'invalid value'} (received ${received})`, { field: 'shareToken' });
}
const kindSchema = z.number().int().min(0).max(ACTOR_KINDS.length - 1);
const DEFAULT_JOURNAL_CAPACITY = 65_536;
/** Set by `attach` for the constructor it calls (JS is single-threaded per realm). */
let pendingAttach: string | null = null;

/** Turns an addon error carrying a `code` into a NativeError with that code. */
function rethrow(cause: unknown): never {
  if (cause instanceof VoiceSoundboardError) throw cause;
  const code = (cause as { code?: unknown } | null)?.code;
  const message = cause instanceof Error ? cause.message : String(cause);
  throw new NativeError(typeof code === 'string' ? code : 'NATIVE_CALL_FAILED', message, { cause });
}

function streamAt(values: Float64Array, base: number): CoreStream {
  return {
    stream: values[base]!,
    state: values[base + 1]!,
    owner: values[base + 2]!,
    session: values[base + 3]!,
    user: values[base + 4]!,
    priority: values[base + 5]!,
    version: values[base + 6]!,
    graphRevision: values[base + 7]!,
    committed: values[base + 8] !== 0,
    lastSeq: values[base + 9]!,
    grants: values[base + 10]!,
  };
}

/** The refusal of an answer's status code (REGISTRAR_STALE_INDEX), for codes 2-4. */
const REFUSALS: readonly (CoreRefusal | undefined)[] = [undefined, undefined, 'retry', 'backpressure', 'writer_gone'];
const WRITER_STATES: readonly WriterInfo['state'][] = ['none', 'live', 'closed'];

function decisionAt(values: Float64Array, base: number): CoreDecision {
  return {
    allowed: values[base] !== 0,
    violations: values[base + 1]!,
    reason: values[base + 2]!,
    halted: values[base + 3] !== 0,
    seq: values[base + 4]!,
    stream: values[base + 5]!,
    stateBefore: values[base + 6]!,
    stateAfter: values[base + 7]!,
    version: values[base + 8]!,
    parentSeq: values[base + 9]!,
    ownerBefore: values[base + 10]!,
    ownerAfter: values[base + 11]!,
    accessibility: values[base + 12] !== 0,
    preemption: values[base + 13] !== 0,
  };
}

/** One journal entry (a plain literal of fixed shape: spreads here cost ~50x). */
function journalEntryAt(flat: Float64Array, base: number): JournalEntry {
  const tail = base + REGISTRAR_DECISION_FIELDS;
  const kind = flat[tail + 6]!;
  const entry: JournalEntry = {
    allowed: flat[base] !== 0,
    violations: flat[base + 1]!,
    reason: flat[base + 2]!,
    halted: flat[base + 3] !== 0,
    seq: flat[base + 4]!,
    stream: flat[base + 5]!,
    stateBefore: flat[base + 6]!,
    stateAfter: flat[base + 7]!,
    version: flat[base + 8]!,
    parentSeq: flat[base + 9]!,
    ownerBefore: flat[base + 10]!,
    ownerAfter: flat[base + 11]!,
    accessibility: flat[base + 12] !== 0,
    preemption: flat[base + 13] !== 0,
    actor: flat[tail]!,
    actorKind: flat[tail + 1]!,
    action: flat[tail + 2]!,
    target: flat[tail + 3]!,
    monotonicNs: (BigInt(flat[tail + 4]!) << 32n) | BigInt(flat[tail + 5]!),
    kind,
    decider: flat[tail + 17]!,
    postsBody: flat[tail + 18] !== 0,
    haltCause: flat[tail + 19]!,
  };
  if (kind !== 2) {
    entry.request = {
      actor: flat[tail]!,
      actorKind: flat[tail + 1]!,
      action: flat[tail + 2]!,
      stream: flat[tail + 3]!,
      newOwner: flat[tail + 7]!,
      preemptFor: flat[tail + 8]!,
      priority: flat[tail + 9]!,
      session: flat[tail + 10]!,
      user: flat[tail + 11]!,
      overrideScope: flat[tail + 12]!,
      overrideScopeId: flat[tail + 13]!,
      pluginAllowed: flat[tail + 14] !== 0,
      grants: flat[tail + 15]!,
      values: flat[tail + 16]!,
      actorUser: flat[tail + 20]!,
    };
  }
  return entry;
}

function membershipsFrom(flat: Int32Array): CoreMembership[] {
  const result: CoreMembership[] = [];
  for (let base = 0; base + REGISTRAR_MEMBERSHIP_FIELDS <= flat.length; base += REGISTRAR_MEMBERSHIP_FIELDS) {
    result.push({ user: flat[base]!, session: flat[base + 1]!, basis: flat[base + 2]! });
  }
  return result;
}

function overridesFrom(flat: Int32Array): CoreOverride[] {
  const result: CoreOverride[] = [];
  for (let base = 0; base + REGISTRAR_OVERRIDE_FIELDS <= flat.length; base += REGISTRAR_OVERRIDE_FIELDS) {
    result.push({ owner: flat[base]!, scope: flat[base + 1]!, scopeId: flat[base + 2]!, values: flat[base + 3]! });
  }
  return result;
}

/** The lock-free native decision core. Thread safety: share the core, not the object (each
 *  thread makes its own NativeCore with `attach`). */
export class NativeCore implements SharedLogCore {
  readonly #native: NativeRegistrarCore;
  readonly #requestInts: Int32Array;
  /** The writer's last written seq, read by the addon on every decide of this object. */
  readonly #written: Float64Array;
  /** Set by postBodies(): this object's requests post their attestation bodies. */
  #postsBody = false;
  readonly #output: Float64Array;
  /** The whole output area (decision, stale flag, epoch). */
  readonly #results: Float64Array;
  #closed = false;
  /** The core's free epoch this object's stream caches are valid for. */
  #epoch = 0;
  /** This thread's cache of interned names, so lookups after the first skip the native call (and
   *  the intern lock). Actor and scope ids never change once interned; stream ids are freed by
   *  compaction, so the stream caches are dropped whenever the free epoch moves, and the
   *  id -> key cache only holds ids learnt from a key (a freed id keeps its old key until reused). */
  readonly #names = {
    actorIds: new Map<string, number>(),
    streamIds: new Map<string, number>(),
    scopeIds: [new Map<string, number>(), new Map<string, number>(), new Map<string, number>(), new Map<string, number>()] as const,
    actorKeys: [] as string[],
    streamKeys: [] as string[],
    scopeKeys: [[], [], [], []] as [string[], string[], string[], string[]],
  };

  /** Creates a new core. Throws InputError for bad options, NativeError when the addon is missing. */
  constructor(options: NativeCoreOptions = {}) {
    const attachTo = pendingAttach;
    pendingAttach = null;
    const parsed = attachTo === null ? parseInput(optionsSchema, options, 'options') : undefined;
    const journalCapacity = parsed ? (parsed.journalCapacity ?? DEFAULT_JOURNAL_CAPACITY) : 0;
    const policy = parsed ? policyOf(parsed.compaction) : null;
    const io = new ArrayBuffer(REGISTRAR_IO_BYTES);
    const { RegistrarCore } = nativeBinding();
    try {
      this.#native = parsed
        ? new RegistrarCore(null, journalCapacity, io, policy?.periodSeqs ?? 0, policy?.retainSeqs ?? 0, parsed.streamCapacity ?? MAX_IDS, parsed.scopeCapacity ?? MAX_IDS)
        : new RegistrarCore(attachTo, journalCapacity, io);
    } catch (cause) {
      rethrow(cause);
    }
    this.#requestInts = new Int32Array(io, 0, REGISTRAR_REQUEST_INTS);
    this.#written = new Float64Array(io, REGISTRAR_WRITTEN_OFFSET_BYTES, 1);
    this.#output = new Float64Array(io, REGISTRAR_OUTPUT_OFFSET_BYTES, REGISTRAR_DECISION_FIELDS);
    this.#results = new Float64Array(io, REGISTRAR_OUTPUT_OFFSET_BYTES);
    this.#epoch = this.#native.freeEpoch();
  }

  /** Same as `new NativeCore(options)`. */
  static create(options: NativeCoreOptions = {}): NativeCore {
    return new NativeCore(options);
  }

  /** Attaches to the core whose `shareToken` this is (created in this or another thread of this
   *  process). Throws InputError (field `shareToken`) for a value not shaped like a token, and
   *  NativeError REGISTRAR_CORE_NOT_FOUND when the token opens no live core (closed everywhere,
   *  unknown handle, wrong secret: one answer for all). */
  static attach(shareToken: string): NativeCore {
    pendingAttach = parseShareToken(shareToken);
    try {
      return new NativeCore();
    } finally {
      pendingAttach = null;
    }
  }

  /** The capability to attach to this core from another thread (see the file comment): give it
   *  only to code that may decide as anyone on this core. Throws REGISTRAR_CORE_CLOSED after close(). */
  get shareToken(): string {
    return this.#call((core) => core.shareToken);
  }

  #core(): NativeRegistrarCore {
    if (this.#closed) throw new NativeError('REGISTRAR_CORE_CLOSED', 'This NativeCore was closed');
    return this.#native;
  }

  #call<T>(call: (core: NativeRegistrarCore) => T): T {
    const core = this.#core();
    try {
      return call(core);
    } catch (cause) {
      rethrow(cause);
    }
  }

  registerActor(key: string, kind: number): number {
    parseInput(kindSchema, kind, 'kind');
    const id = this.#call((core) => core.registerActor(key, kind));
    this.#names.actorIds.set(key, id);
    return id;
  }

  actorId(key: string): number {
    // Only registered ids are cached: registration is never undone, while an unknown key may be
    // registered by another thread at any time.
    const cached = this.#names.actorIds.get(key);
    if (cached !== undefined) return cached;
    const id = this.#core().actorId(key);
    if (id !== NO_ID) this.#names.actorIds.set(key, id);
    return id;
  }

  internStream(key: string): number {
    const cached = this.#names.streamIds.get(key);
    if (cached !== undefined) return cached;
    const id = this.#call((core) => core.internStream(key));
    if (id !== FULL_ID) this.#cacheStream(key, id);
    return id;
  }

  streamIdOf(key: string): number {
    const cached = this.#names.streamIds.get(key);
    if (cached !== undefined) return cached;
    const id = this.#core().streamIdOf(key);
    if (id >= 0) this.#cacheStream(key, id);
    return id;
  }

  #cacheStream(key: string, id: number): void {
    const names = this.#names;
    if (names.streamIds.size >= STREAM_CACHE_MAX) this.#forgetStreams();
    names.streamIds.set(key, id);
    names.streamKeys[id] = key;
  }

  #forgetStreams(): void {
    this.#names.streamIds.clear();
    this.#names.streamKeys.length = 0;
  }

  /** After a call that wrote the core's free epoch: drops the stream caches when it moved. */
  #syncEpoch(): void {
    const epoch = this.#results[REGISTRAR_EPOCH_INDEX]!;
    if (epoch !== this.#epoch) {
      this.#forgetStreams();
      this.#epoch = epoch;
    }
  }

  /** The key an id was learnt with here; null for an id from elsewhere; undefined for no id. */
  #learntKey(id: number): string | null | undefined {
    if (id < 0) return undefined;
    return this.#names.streamKeys[id] ?? null;
  }

  /** Called after a stale answer: drops the stream caches and takes the core's epoch. */
  #restartEpoch(): void {
    this.#forgetStreams();
    this.#epoch = this.#results[REGISTRAR_EPOCH_INDEX]!;
  }
  internScope(space: number, key: string): number {
    const ids = this.#names.scopeIds[space] as Map<string, number> | undefined;
    const cached = ids?.get(key);
    if (cached !== undefined) return cached;
    const id = this.#call((core) => core.internScope(space, key));
    if (id >= 0) ids?.set(key, id);
    return id;
  }

  actorKey(id: number): string {
    return (this.#names.actorKeys[id] ??= this.#keyOrThrow(this.#core().actorKey(id), 'actor', id));
  }

  streamKey(id: number): string {
    // Only keys learnt with their id are cached (see #names); a freed id still has its old key.
    return this.#names.streamKeys[id] ?? this.#keyOrThrow(this.#core().streamKey(id), 'stream', id);
  }

  scopeKey(space: number, id: number): string {
    const what = (['session', 'user', 'plugin grant set', 'override values'] as const)[space] ?? 'scope';
    const keys = this.#names.scopeKeys[space] as string[] | undefined;
    if (keys === undefined) return this.#keyOrThrow(undefined, what, id);
    return (keys[id] ??= this.#keyOrThrow(this.#core().scopeKey(space, id), what, id));
  }

  #keyOrThrow(key: string | undefined, what: string, id: number): string {
    if (key === undefined) throw new NativeError('REGISTRAR_UNKNOWN_ID', `No ${what} has the interned id ${id}`);
    return key;
  }

  decide(request: CoreRequest): CoreDecision {
    return this.#decide(request, false);
  }

  evaluate(request: CoreRequest): CoreDecision {
    return this.#decide(request, true);
  }

  #decide(request: CoreRequest, evaluate: boolean): CoreDecision {
    const core = this.#core();
    let asked = request;
    let checked = true;
    for (;;) {
      this.#fill(asked, checked);
      core.decide(evaluate);
      const status = this.#results[REGISTRAR_STALE_INDEX]!;
      if (status === 0) break;
      if (status !== 1) return this.#refused(REFUSALS[status] ?? 'retry');
      // Compaction freed ids since our caches were filled: intern the request's keys again.
      const streamKey = this.#learntKey(asked.stream);
      const preemptKey = this.#learntKey(asked.preemptFor);
      this.#restartEpoch();
      if (streamKey === null || preemptKey === null) {
        checked = false; // an id from elsewhere: used as it is (the core refuses a freed one)
        continue;
      }
      asked = {
        ...asked,
        stream: streamKey === undefined ? asked.stream : this.internStream(streamKey),
        preemptFor: preemptKey === undefined ? asked.preemptFor : this.internStream(preemptKey),
      };
    }
    this.#syncEpoch();
    return decisionAt(this.#output, 0);
  }

  /** Writes a request (and the epoch its ids are from, checked or not) into the I/O buffer. */
  #fill(request: CoreRequest, checked: boolean): void {
    const ints = this.#requestInts;
    ints[0] = request.actor;
    ints[1] = request.actorKind;
    ints[2] = request.action;
    ints[3] = request.stream;
    ints[4] = request.newOwner;
    ints[5] = request.preemptFor;
    ints[6] = request.priority;
    ints[7] = request.session;
    ints[8] = request.user;
    ints[9] = request.overrideScope;
    ints[10] = request.overrideScopeId;
    ints[11] = request.pluginAllowed ? 1 : 0;
    ints[12] = this.#epoch;
    ints[13] = checked ? 1 : 0;
    ints[REGISTRAR_ACTOR_USER_INDEX] = request.actorUser ?? NO_ID;
    ints[14] = request.grants ?? NO_ID;
    ints[15] = request.values ?? NO_ID;
    const expectedGrants = request.expectedGrants;
    const expectedValues = request.expectedValues;
    ints[16] = expectedGrants ?? NO_ID;
    ints[17] = expectedValues ?? NO_ID;
    ints[REGISTRAR_FLAGS_INDEX] =
      (expectedGrants !== undefined ? REGISTRAR_FLAG_CHECK_GRANTS : 0) |
      (expectedValues !== undefined ? REGISTRAR_FLAG_CHECK_VALUES : 0) |
      (this.#postsBody ? REGISTRAR_FLAG_POSTS_BODY : 0);
  }

  /** A decision that decided nothing: refused before deciding (no seq consumed). */
  #refused(refused: CoreRefusal): CoreDecision {
    return {
      allowed: false, violations: 0, reason: -1, halted: false, seq: 0, stream: NO_ID, stateBefore: -1, stateAfter: -1,
      version: 0, parentSeq: 0, ownerBefore: NO_ID, ownerAfter: NO_ID, accessibility: false, preemption: false, refused,
    };
  }

  reserveSeq(): number {
    return this.#core().reserveSeq(this.#postsBody);
  }

  halt(cause: number): number {
    const seq = this.#core().halt(cause, this.#postsBody);
    return seq < 0 ? 0 : seq;
  }

  haltInfo(): { halted: boolean; cause: number; seq: number } {
    const [halted = 0, cause = -1, seq = 0] = this.#core().haltInfo();
    return { halted: halted !== 0, cause, seq };
  }

  get decider(): number {
    return this.#core().decider;
  }

  postBodies(): void {
    this.#postsBody = true;
  }

  claimWriter(writtenSeq: number): boolean {
    const claimed = this.#core().claimWriter(writtenSeq);
    if (claimed) this.#written[0] = writtenSeq;
    return claimed;
  }

  setWritten(seq: number): void {
    this.#written[0] = seq;
  }

  noteWritten(seq: number): void {
    this.#written[0] = seq;
    this.#core().noteWritten(seq);
  }

  writerInfo(): WriterInfo {
    const [state = 0, writtenSeq = 0, isWriter = 0] = this.#core().writerInfo();
    return { state: WRITER_STATES[state] ?? 'none', writtenSeq, isWriter: isWriter !== 0 };
  }

  closeWriter(): number {
    return this.#core().closeWriter();
  }

  postBody(seq: number, text: string): boolean {
    return this.#core().postBody(seq, text);
  }

  takeBodies(fromSeq: number, count: number, abandonUpTo: number): (string | null)[] {
    return this.#core().takeBodies(fromSeq, count, abandonUpTo);
  }

  setShareInfo(text: string): boolean {
    return this.#call((core) => core.setShareInfo(text));
  }

  shareInfo(): string | undefined {
    return this.#core().shareInfo();
  }

  /** A watch of the play decided at `playSeq` on stream `id`, for a device voice
   *  (DecisionCore.watchStream): null when the id has no slot, false when that play is no longer
   *  the stream's last decision. Held weakly: the voice that arms it keeps the core alive. */
  watchStream(id: number, playSeq: number): NativeStreamWatch | null | false {
    return id < 0 ? null : this.#core().watchStream(id, playSeq);
  }

  stream(id: number): CoreStream | null {
    const core = this.#core();
    const ints = this.#requestInts;
    ints[12] = this.#epoch;
    ints[13] = 1;
    let found = core.stream(id);
    if (found === 2) {
      const key = this.#learntKey(id);
      this.#restartEpoch();
      if (key === null) {
        ints[13] = 0;
        found = core.stream(id);
      } else {
        const fresh = key === undefined ? NO_ID : this.streamIdOf(key);
        if (fresh < 0) return null;
        return this.stream(fresh);
      }
    }
    this.#syncEpoch();
    return found === 1 ? streamAt(this.#output, 0) : null;
  }

  overrides(): CoreOverride[] {
    return overridesFrom(this.#core().overrides());
  }

  declareMember(user: number, session: number, basis: number): void {
    this.#call((core) => core.declareMember(user, session, basis));
  }

  membership(user: number, session: number): number {
    return this.#core().membership(user, session);
  }

  memberships(): CoreMembership[] {
    return membershipsFrom(this.#core().memberships());
  }

  image(): CoreImage {
    const image = this.#core().image();
    this.#syncEpoch();
    const streams: CoreStream[] = [];
    for (let base = 0; base < image.streams.length; base += REGISTRAR_STREAM_FIELDS) {
      streams.push(streamAt(image.streams, base));
    }
    return { lastSeq: image.lastSeq, halted: image.halted, streams, overrides: overridesFrom(image.overrides), memberships: membershipsFrom(image.memberships) };
  }

  /** Replaces the state: restore into a fresh core only. Throws NativeError REGISTRAR_CORE_IN_USE
   *  when the core has decided, evaluated or reserved a seq since it was created or last loaded,
   *  or when another NativeCore (in any thread) is attached to it; REGISTRAR_IMAGE_INVALID when
   *  the image names ids this core has not interned (nothing changes then). */
  load(image: CoreImage): void {
    const streams = new Float64Array(image.streams.length * REGISTRAR_STREAM_FIELDS);
    image.streams.forEach((stream, index) => {
      streams.set(
        [
          stream.stream,
          stream.state,
          stream.owner,
          stream.session,
          stream.user,
          stream.priority,
          stream.version,
          stream.graphRevision,
          stream.committed ? 1 : 0,
          stream.lastSeq,
          stream.grants,
        ],
        index * REGISTRAR_STREAM_FIELDS,
      );
    });
    const overrides = new Int32Array(image.overrides.length * REGISTRAR_OVERRIDE_FIELDS);
    image.overrides.forEach((override, index) => {
      overrides.set([override.owner, override.scope, override.scopeId, override.values], index * REGISTRAR_OVERRIDE_FIELDS);
    });
    const memberships = new Int32Array(image.memberships.length * REGISTRAR_MEMBERSHIP_FIELDS);
    image.memberships.forEach((membership, index) => {
      memberships.set([membership.user, membership.session, membership.basis], index * REGISTRAR_MEMBERSHIP_FIELDS);
    });
    this.#call((core) => core.load(image.lastSeq, image.halted, streams, overrides, memberships));
  }

  readJournal(fromSeq: number, maxEntries: number): JournalEntry[] {
    const flat = this.#call((core) => core.readJournal(fromSeq, maxEntries));
    this.#syncEpoch();
    const entries: JournalEntry[] = [];
    for (let base = 0; base < flat.length; base += REGISTRAR_JOURNAL_FIELDS) entries.push(journalEntryAt(flat, base));
    return entries;
  }

  compactionPolicy(): CompactionPolicy | null {
    const [periodSeqs = 0, retainSeqs = 0] = this.#core().compaction();
    return periodSeqs === 0 ? null : Object.freeze({ periodSeqs, retainSeqs });
  }

  compactedAt(seq: number): number | null {
    if (!Number.isSafeInteger(seq) || seq < 1) return null;
    const removed = this.#core().sweptAt(seq);
    return removed < 0 ? null : removed;
  }

  /** Stream ids interned and not freed, and the stream table's size (ids ever made, freed ones
   *  included): both stay bounded in a long run when compaction is on. */
  stats(): { liveStreamIds: number; streamTableSize: number } {
    const [liveStreamIds = 0, streamTableSize = 0] = this.#core().stats();
    return { liveStreamIds, streamTableSize };
  }

  /** Last seq handed out by the core (by any thread). */
  lastSeq(): number {
    return this.#core().lastSeq();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#native.close();
  }
}

// Hardening: no caller can swap a method of this class for its own (a monkey-patched prototype would see every instance).
Object.freeze(NativeCore.prototype);
Object.freeze(NativeCore);
