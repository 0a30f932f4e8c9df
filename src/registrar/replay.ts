/**
 * Replay and restore (spec §6). Replay re-decides every recorded request in seq order on a fresh
 * core and checks each decision equals the recorded one; any gap, broken hash link, unknown field
 * or different decision is a RegistrarReplayError naming the first bad seq. The core follows the
 * compaction policy the log states at seq 1 (or the snapshot records), never a default
 * (compaction-record.ts).
 */
import { AttestationStore } from '../attestation/store.js';
import { parseRecord, recordHash, type Attestation } from '../attestation/record.js';
import { coreForPolicy, policyStatedBy } from './compaction-record.js';
import type { DecisionCore } from './core.js';
import { createDefaultCore } from './default-core.js';
import { RegistrarReplayError } from './errors.js';
import { AudioRegistrar } from './registrar.js';
import { replayHooksOf } from './replay-hooks.js';
import { loadSnapshot, parseSnapshot } from './snapshot.js';
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
}

/** Options of restore: replay's, and the public key the snapshot must be signed with. */
export interface RestoreOptions extends ReplayOptions {
  /** When given, the snapshot must carry a valid Ed25519 signature of this key (REGISTRAR_SNAPSHOT_UNSIGNED / _INVALID otherwise). */
  publicKey?: PublicKeyInput;
}

/** Rebuilds a registrar from a whole log (starting at seq 1); any iterable (e.g. a store's `records()`, read lazily). */
export function replayLog(records: Iterable<unknown>, options: ReplayOptions = {}): AudioRegistrar {
  const store = options.store ?? new AttestationStore();
  replayStore(store, 0);
  // The policy is read from seq 1 before anything is decided; the rest is read lazily after it.
  const iterator = records[Symbol.iterator]();
  const first = iterator.next();
  let core: DecisionCore;
  try {
    core = first.done === true ? (options.core ?? createDefaultCore()) : coreForPolicy(options.core, policyStatedBy(first.value), 'the log (seq 1)', 1);
  } catch (error) {
    iterator.return?.();
    throw error;
  }
  const registrar = new AudioRegistrar({ core, store });
  replayInto(registrar, first.done === true ? [] : prepended(first.value, iterator), 0, store);
  return registrar;
}

/** `first`, then the rest of `rest` (closed when the consumer stops early). */
function* prepended(first: unknown, rest: Iterator<unknown>): Generator<unknown, void, undefined> {
  try {
    yield first;
    for (let next = rest.next(); next.done !== true; next = rest.next()) yield next.value;
  } finally {
    rest.return?.();
  }
}

/** Restores a registrar from a snapshot and replays the log records after it. */
export function restoreFromSnapshot(snapshotValue: unknown, tail: Iterable<unknown> = [], options: RestoreOptions = {}): AudioRegistrar {
  const snapshot = parseSnapshot(snapshotValue);
  if (options.publicKey !== undefined) checkSnapshotSignature(snapshot, options.publicKey);
  const core = coreForPolicy(options.core, snapshot.compaction ?? null, 'the snapshot', 0);
  const facadeState = loadSnapshot(core, snapshot);
  const head = { seq: snapshot.lastSeq, hash: snapshot.lastHash };
  const store = options.store ?? new AttestationStore({ head });
  const registrar = new AudioRegistrar({ core, store: replayStore(store, snapshot.lastSeq) });
  replayHooksOf(registrar).loadFacadeState(facadeState, snapshot.actors);
  replayInto(registrar, after(tail, snapshot.lastSeq, snapshot.lastHash), snapshot.lastSeq, store);
  return registrar;
}

/** The records of `tail` after seq `lastSeq`; the first must link to `lastHash`. */
function* after(tail: Iterable<unknown>, lastSeq: number, lastHash: string): Generator<unknown, void, undefined> {
  let first = true;
  for (const value of tail) {
    const seq = typeof value === 'object' && value !== null && typeof (value as { seq?: unknown }).seq === 'number' ? (value as { seq: number }).seq : undefined;
    if (seq !== undefined && seq <= lastSeq) continue;
    if (first && (value as Attestation | null)?.prevHash !== lastHash && seq !== undefined) {
      throw new RegistrarReplayError('REGISTRAR_REPLAY_CHAIN', `seq ${seq}: prevHash does not link to the snapshot's last hash`, seq);
    }
    first = false;
    yield value;
  }
}

function replayStore(store: AttestationStore, startSeq: number): AttestationStore {
  if (store.chainStart.seq !== startSeq) {
    throw new RegistrarReplayError('REGISTRAR_REPLAY_CHAIN', `the given store's chain starts after seq ${store.chainStart.seq}, not ${startSeq}`, startSeq + 1);
  }
  return store;
}

function replayInto(registrar: AudioRegistrar, values: Iterable<unknown>, startSeq: number, store: AttestationStore): void {
  const hooks = replayHooksOf(registrar);
  let expectedSeq = startSeq + 1;
  let previousHash = store.chainStart.hash;
  for (const value of values) {
    const seqHint = typeof value === 'object' && value !== null && typeof (value as { seq?: unknown }).seq === 'number' ? (value as { seq: number }).seq : expectedSeq;
    const parsed = parseRecord(value);
    if ('problem' in parsed) throw new RegistrarReplayError('REGISTRAR_REPLAY_SCHEMA', `seq ${seqHint}: ${parsed.problem}`, seqHint);
    const record = parsed.record;
    const minor = record.v.split('.').slice(0, 2).join('.');
    if (!(SUPPORTED_SCHEMA_VERSIONS as readonly string[]).includes(minor)) {
      throw new RegistrarReplayError('REGISTRAR_REPLAY_SCHEMA', `seq ${record.seq}: unsupported schema version ${record.v}`, record.seq);
    }
    if (record.seq !== expectedSeq) {
      throw new RegistrarReplayError('REGISTRAR_REPLAY_GAP', `seq ${record.seq} where ${expectedSeq} was expected (gap or reordering)`, Math.min(record.seq, expectedSeq));
    }
    if (record.prevHash !== previousHash) throw new RegistrarReplayError('REGISTRAR_REPLAY_CHAIN', `seq ${record.seq}: prevHash does not link to seq ${record.seq - 1}`, record.seq);
    if (recordHash(record) !== record.hash) throw new RegistrarReplayError('REGISTRAR_REPLAY_CHAIN', `seq ${record.seq}: hash does not match the record (tampered)`, record.seq);
    try {
      hooks.replayRecord(record);
    } catch (error) {
      if (error instanceof RegistrarReplayError) throw error;
      throw new RegistrarReplayError('REGISTRAR_REPLAY_MISMATCH', (error as Error).message, record.seq, { cause: error });
    }
    expectedSeq += 1;
    previousHash = record.hash;
  }
}
