/**
 * Replay and restore (spec §6). Replay re-decides every recorded request in seq order on a fresh
 * core and checks each decision equals the recorded one; any gap, broken hash link, unknown field
 * or different decision is a RegistrarReplayError naming the first bad seq. The core follows the
 * compaction policy the log states at seq 1 (or the snapshot records), never a default
 * (compaction-record.ts). Records are replayed as they are read (LogReplayer): replaying a log
 * never holds the log.
 *
 * Besides the decision, replay checks the statements a record makes about what the decision relied
 * on (`metadata.membership`, membership.ts; `metadata.runtimeError`, runtime-error.ts) before
 * re-deciding it. A restored snapshot must keep the rules (snapshot-rules.ts) and restore to the
 * state its `stateHash` names.
 */
import { z } from 'zod';
import { AttestationStore } from '../attestation/store.js';
import { recordHashHolds } from '../attestation/line-hash.js';
import { parseRecord, type Attestation } from '../attestation/record.js';
import { coreForPolicy, policyStatedBy } from './compaction-record.js';
import type { DecisionCore } from './core.js';
import { createDefaultCore } from './default-core.js';
import { RegistrarReplayError } from './errors.js';
import { AudioRegistrar } from './registrar.js';
import { replayMembership } from './membership.js';
import { replayHooksOf } from './replay-hooks.js';
import { replayRuntimeError } from './runtime-error.js';
import { parseInput } from '../validation.js';
import { loadSnapshot, parseSnapshot } from './snapshot.js';
import { checkRestoredState } from './snapshot-rules.js';
import { checkSnapshotSignature } from './snapshot-signature.js';
import type { PublicKeyInput } from '../attestation/signing.js';
import { SUPPORTED_SCHEMA_VERSIONS } from './version.js';

/** Options of replay and restore. */
export interface ReplayOptions {
  /** The core to rebuild into (default: a default core with the log's compaction policy). Its
   *  compaction policy must be the one the log (or snapshot) records: REGISTRAR_REPLAY_POLICY
   *  otherwise. An empty log takes the given core's policy (default: DEFAULT_COMPACTION). */
  core?: DecisionCore;
  /**
   * The store the rebuilt registrar appends to: empty (replayed records are adopted into it), or
   * already holding exactly these records (e.g. opened from the same durable log).
   */
  store?: AttestationStore;
  /**
   * The log was written before issue 8's rules (default false): an `enable_override` record with
   * no `metadata.membership` is read as stating a declared membership (the rule did not exist, so
   * its user was treated as a member), and an allowed system `fail` of a covered stream may lack
   * `metadata.runtimeError`. Without it both are a REGISTRAR_REPLAY_MISMATCH at that seq: a log
   * cannot show when it was written, so only the operator can say it predates the rules.
   */
  legacyRules?: boolean;
}

const legacyRulesSchema = z.boolean().optional();

/** Options of restore: replay's, and the public key the snapshot must be signed with. */
export interface RestoreOptions extends ReplayOptions {
  /** When given, the snapshot must carry a valid Ed25519 signature of this key (REGISTRAR_SNAPSHOT_UNSIGNED / _INVALID otherwise). */
  publicKey?: PublicKeyInput;
}

/**
 * Replays records one at a time, as they are read: memory is the rebuilt registrar's (its state and
 * its store), never the log's. `replayLog` and `restoreFromSnapshot` drive one over an iterable;
 * `verify` feeds one as it checks a log in a single pass. Each `push` throws a RegistrarReplayError
 * naming the first bad seq (or REGISTRAR_REPLAY_POLICY before anything is decided).
 */
export class LogReplayer {
  readonly #options: ReplayOptions;
  readonly #store: AttestationStore;
  #registrar: AudioRegistrar | null = null;
  #expectedSeq: number;
  #previousHash: string;
  /** From a snapshot: records up to its seq are skipped; the first after it must link to its hash. */
  readonly #after: { seq: number; hash: string } | null;
  #linked = false;

  readonly #legacyRules: boolean;

  private constructor(options: ReplayOptions, store: AttestationStore, registrar: AudioRegistrar | null, after: { seq: number; hash: string } | null) {
    this.#options = options;
    this.#legacyRules = parseInput(legacyRulesSchema, options.legacyRules, 'options.legacyRules') ?? false;
    this.#store = store;
    this.#registrar = registrar;
    this.#after = after;
    this.#expectedSeq = store.chainStart.seq + 1;
    this.#previousHash = store.chainStart.hash;
  }

  /** Replays a whole log from seq 1: the core follows the policy the first record states. */
  static ofLog(options: ReplayOptions = {}): LogReplayer {
    const store = replayStore(options.store ?? new AttestationStore(), 0);
    return new LogReplayer(options, store, null, null);
  }

  /**
   * Restores a snapshot, then replays the records after it. Throws REGISTRAR_SNAPSHOT_INVALID (malformed,
   * tampered, breaking a rule, or restoring to a state whose hash is not its `stateHash`) / REGISTRAR_REPLAY_POLICY.
   */
  static ofSnapshot(snapshotValue: unknown, options: RestoreOptions = {}): LogReplayer {
    parseInput(legacyRulesSchema, options.legacyRules, 'options.legacyRules');
    const snapshot = parseSnapshot(snapshotValue);
    if (options.publicKey !== undefined) checkSnapshotSignature(snapshot, options.publicKey);
    const core = coreForPolicy(options.core, snapshot.compaction ?? null, 'the snapshot', 0);
    const facadeState = loadSnapshot(core, snapshot);
    const head = { seq: snapshot.lastSeq, hash: snapshot.lastHash };
    const store = replayStore(options.store ?? new AttestationStore({ head }), snapshot.lastSeq);
    const registrar = new AudioRegistrar({ core, store });
    replayHooksOf(registrar).loadFacadeState(facadeState, snapshot.actors);
    checkRestoredState(snapshot, registrar.stateHash());
    return new LogReplayer(options, store, registrar, head);
  }

  /** Replays the next record (any value: it is validated here). */
  push(value: unknown): void {
    const seq = seqOf(value);
    if (this.#after) {
      if (seq !== undefined && seq <= this.#after.seq) return;
      if (!this.#linked && seq !== undefined && (value as Attestation | null)?.prevHash !== this.#after.hash) {
        throw new RegistrarReplayError('REGISTRAR_REPLAY_CHAIN', `seq ${seq}: prevHash does not link to the snapshot's last hash`, seq);
      }
      this.#linked = true;
    }
    // The policy is read from seq 1 before anything is decided.
    this.#registrar ??= new AudioRegistrar({ core: coreForPolicy(this.#options.core, policyStatedBy(value), 'the log (seq 1)', 1), store: this.#store });
    this.#replay(this.#registrar, value, seq ?? this.#expectedSeq);
  }

  /** The rebuilt registrar (for an empty log, one on the given core or a default one). */
  finish(): AudioRegistrar {
    this.#registrar ??= new AudioRegistrar({ core: this.#options.core ?? createDefaultCore(), store: this.#store });
    return this.#registrar;
  }

  #replay(registrar: AudioRegistrar, value: unknown, seqHint: number): void {
    const parsed = parseRecord(value);
    if ('problem' in parsed) throw new RegistrarReplayError('REGISTRAR_REPLAY_SCHEMA', `seq ${seqHint}: ${parsed.problem}`, seqHint);
    const record = parsed.record;
    const minor = record.v.split('.').slice(0, 2).join('.');
    if (!(SUPPORTED_SCHEMA_VERSIONS as readonly string[]).includes(minor)) {
      throw new RegistrarReplayError('REGISTRAR_REPLAY_SCHEMA', `seq ${record.seq}: unsupported schema version ${record.v}`, record.seq);
    }
    const expectedSeq = this.#expectedSeq;
    if (record.seq !== expectedSeq) {
      throw new RegistrarReplayError('REGISTRAR_REPLAY_GAP', `seq ${record.seq} where ${expectedSeq} was expected (gap or reordering)`, Math.min(record.seq, expectedSeq));
    }
    if (record.prevHash !== this.#previousHash) throw new RegistrarReplayError('REGISTRAR_REPLAY_CHAIN', `seq ${record.seq}: prevHash does not link to seq ${record.seq - 1}`, record.seq);
    // (A record the log reader or the store already found its hash to hold is not hashed again.)
    if (!recordHashHolds(record)) throw new RegistrarReplayError('REGISTRAR_REPLAY_CHAIN', `seq ${record.seq}: hash does not match the record (tampered)`, record.seq);
    const hooks = replayHooksOf(registrar);
    const statement = replayRuntimeError(record, this.#legacyRules) ?? replayMembership(hooks.core, record, this.#legacyRules);
    if (statement !== null) throw new RegistrarReplayError('REGISTRAR_REPLAY_MISMATCH', statement, record.seq);
    try {
      hooks.replayRecord(record);
    } catch (error) {
      if (error instanceof RegistrarReplayError) throw error;
      throw new RegistrarReplayError('REGISTRAR_REPLAY_MISMATCH', (error as Error).message, record.seq, { cause: error });
    }
    this.#expectedSeq += 1;
    this.#previousHash = record.hash;
  }
}

/** A value's `seq` when it has a numeric one. */
function seqOf(value: unknown): number | undefined {
  return typeof value === 'object' && value !== null && typeof (value as { seq?: unknown }).seq === 'number' ? (value as { seq: number }).seq : undefined;
}

/** Rebuilds a registrar from a whole log (starting at seq 1); any iterable, read lazily (a store's `records()`, `iterateAttestationLog`). */
export function replayLog(records: Iterable<unknown>, options: ReplayOptions = {}): AudioRegistrar {
  const replayer = LogReplayer.ofLog(options);
  for (const value of records) replayer.push(value);
  return replayer.finish();
}

/** Restores a registrar from a snapshot and replays the log records after it (any iterable, read lazily). */
export function restoreFromSnapshot(snapshotValue: unknown, tail: Iterable<unknown> = [], options: RestoreOptions = {}): AudioRegistrar {
  const replayer = LogReplayer.ofSnapshot(snapshotValue, options);
  for (const value of tail) replayer.push(value);
  return replayer.finish();
}

function replayStore(store: AttestationStore, startSeq: number): AttestationStore {
  if (store.chainStart.seq !== startSeq) {
    throw new RegistrarReplayError('REGISTRAR_REPLAY_CHAIN', `the given store's chain starts after seq ${store.chainStart.seq}, not ${startSeq}`, startSeq + 1);
  }
  return store;
}
