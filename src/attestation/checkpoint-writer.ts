/**
 * The signer of a durable store (`AttestationStore.open(path, { signing })`): writes a signed
 * checkpoint (checkpoint.ts) to the sidecar `<log>.checkpoints` every `everyRecords` records
 * (default 1,000) or `everyMs` after the first record not yet covered (default 5,000 ms; 0: no
 * timer), and one at a clean `close()`. A checkpoint is written only once every record it covers
 * is durable in the log, and is itself fdatasync'ed before it goes to the anchors (`anchor`
 * callback, `anchorFile`). Signing and writing happen off the request path (after the record's
 * durability promise, on libuv's thread pool); a request only notes its record's hash digest.
 *
 * On open it checks the sidecar (and the anchor file, when there is one) against the log: a log
 * that ends before the last checkpoint, or whose record at that seq has another hash, is refused
 * (ATTESTATION_CHECKPOINT_MISMATCH), as is a last checkpoint whose signature fails or that names
 * another key (ATTESTATION_CHECKPOINT_INVALID) or a complete line that is not a checkpoint
 * (ATTESTATION_CHECKPOINT_CORRUPT); a torn last line (a crash while writing it) is cut off. Records
 * after the last checkpoint (written before a crash) are signed at once, `everyRecords` per
 * checkpoint. A log with records and no checkpoint at all is refused
 * (ATTESTATION_CHECKPOINT_MISSING) unless `adoptUnsigned` is set, the one-time step that turns
 * signing on for an existing log: a deleted sidecar is how a forger would get a rewritten log signed.
 *
 * Failures: a sidecar that cannot be written fails the log (the registrar halts `attestation_io`,
 * as for the log itself); once the log has failed nothing more is signed (the file may lack
 * records the store holds); when the sidecar falls behind the traffic by more than 16 checkpoints,
 * a queued checkpoint is skipped for the next one (which covers the same records); an anchor that
 * throws, rejects or cannot be written is reported as a process warning (code
 * VOICE_SOUNDBOARD_ANCHOR) and does not stop the log. The options are signing-options.ts's.
 */
import { closeSync, existsSync, fdatasyncSync, ftruncateSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { checkpointPath, checkpointSignatureValid, digestOf, DIGEST_BYTES, signCheckpoint, type Checkpoint } from './checkpoint.js';
import { isRegularFile, lastCheckpoint, openFile, syncDirectory, writeLine } from './checkpoint-file.js';
import { AttestationError } from './errors.js';
import type { SigningKey } from './signing.js';
import type { LoadedSigning } from './signing-options.js';

/** Queued checkpoints beyond which one is skipped for the next (it covers the same records): bounds the backlog of a slow disk. */
const MAX_QUEUED_CHECKPOINTS = 16;

/** What the writer needs of its store. */
export interface CheckpointedLog {
  /** The log file. */
  path: string;
  /** The seq the store's chain starts after (0 at genesis). */
  chainStartSeq: number;
  /** The store's head now. */
  headSeq: number;
  headHash: string;
  /** The hash of the record with this seq, read back from the log. */
  hashAt(seq: number): string | undefined;
  /** The records from `fromSeq` to the head (read back from the log). */
  records(fromSeq: number): Iterable<{ seq: number; hash: string }>;
  /** Resolves when every record appended so far is durable. */
  flush(): Promise<void>;
  /** Fails the log (the registrar halts). */
  fail(error: AttestationError): void;
  /** Calls `listener` once if the log fails (from then on nothing more is signed). */
  onFailure(listener: () => void): void;
}

/** Writes a store's signed checkpoints (see the file comment). Single-threaded. */
export class CheckpointWriter {
  readonly #signing: LoadedSigning;
  readonly #log: CheckpointedLog;
  readonly #path: string;
  #fd: number | null;
  #anchorFd: number | null = null;
  /** Digests of the records after the last checkpoint written (from `#writtenSeq + 1`). */
  #digests: number[] = [];
  /** The last seq a signed checkpoint covers (its digests are taken), the last one a checkpoint was
   *  asked for, and the last one whose checkpoint is durable in the sidecar. */
  #writtenSeq: number;
  #requestedSeq: number;
  #durableSeq: number;
  #headSeq: number;
  #headHash: string;
  #timer: NodeJS.Timeout | null = null;
  #chain: Promise<void> = Promise.resolve();
  /** Anchor-file appends, one after the other. */
  #anchorFileChain: Promise<void> = Promise.resolve();
  readonly #anchors = new Set<Promise<void>>();
  #closing: Promise<void> | null = null;
  /** The log failed: records after its last good write may be missing from the file, so nothing more is signed. */
  #logFailed = false;
  /** Checkpoints asked for and not yet started. */
  #queued = 0;

  private constructor(signing: LoadedSigning, log: CheckpointedLog, fd: number, lastSeq: number) {
    this.#signing = signing;
    this.#log = log;
    this.#path = checkpointPath(log.path);
    this.#fd = fd;
    this.#writtenSeq = this.#requestedSeq = this.#durableSeq = lastSeq;
    this.#headSeq = log.headSeq;
    this.#headHash = log.headHash;
    log.onFailure(() => {
      this.#logFailed = true;
      this.#clearTimer();
    });
  }

  /** Opens (or creates) the sidecar of a store just opened, checks it against the log and signs what it does not cover yet. */
  static open(signing: LoadedSigning, log: CheckpointedLog): CheckpointWriter {
    const path = checkpointPath(log.path);
    const last = withSeq(() => lastCheckpoint(path), log.chainStartSeq + 1);
    if (last.tornAtBytes !== null) {
      const fd = openFile(path, 'r+');
      try {
        ftruncateSync(fd, last.tornAtBytes);
        fdatasyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    const checkpoint = last.checkpoint;
    if (checkpoint) checkAgainstLog(checkpoint, signing, log, path);
    else if (log.headSeq > log.chainStartSeq && !signing.adoptUnsigned) {
      throw new AttestationError(
        'ATTESTATION_CHECKPOINT_MISSING',
        `attestation log ${log.path} holds records but ${path} holds no checkpoint: if this log was written before signing was on, open it once with signing.adoptUnsigned; otherwise the sidecar was removed, run \`voice-soundboard audit verify --public-key\``,
        { path: log.path, seq: log.chainStartSeq + 1 },
      );
    }
    // The anchor file may hold checkpoints a forger removed from the sidecar (it is written after it).
    if (signing.anchorFile !== undefined && isRegularFile(signing.anchorFile)) {
      const anchorFile = signing.anchorFile;
      const anchored = withSeq(() => lastCheckpoint(anchorFile), log.chainStartSeq + 1).checkpoint;
      if (anchored && anchored.keyId === signing.key.keyId) checkAgainstLog(anchored, signing, log, signing.anchorFile);
    }
    const created = !existsSync(path);
    const fd = openFile(path, 'a');
    if (created) syncDirectory(dirname(path));
    const writer = new CheckpointWriter(signing, log, fd, Math.max(checkpoint?.seq ?? log.chainStartSeq, log.chainStartSeq));
    try {
      if (signing.anchorFile !== undefined) writer.#anchorFd = openFile(signing.anchorFile, 'a');
      writer.#catchUp();
    } catch (error) {
      writer.#closeFiles();
      throw error;
    }
    return writer;
  }

  /** The public key auditors verify with (PEM, SPKI). */
  get publicKeyPem(): string {
    return this.#signing.key.publicKeyPem;
  }

  /** The signing key's id. */
  get keyId(): string {
    return this.#signing.key.keyId;
  }

  /** The key, for signing the store's own snapshots. @internal */
  get key(): SigningKey {
    return this.#signing.key;
  }

  /** The last seq a checkpoint durable in the sidecar covers (the chain start when none). */
  get signedSeq(): number {
    return this.#durableSeq;
  }

  /** Notes an appended record; `durable` settles when it is on disk. The hot path: no I/O here. */
  note(seq: number, hash: string, durable: Promise<void>): void {
    this.#digests.push(digestOf(hash));
    this.#headSeq = seq;
    this.#headHash = hash;
    if (seq - this.#requestedSeq >= this.#signing.everyRecords) {
      this.#request(seq, hash, durable);
    } else if (this.#timer === null && this.#signing.everyMs > 0 && this.#closing === null) {
      this.#timer = setTimeout(() => this.#onTimer(), this.#signing.everyMs);
      this.#timer.unref(); // an unsigned tail never keeps a process alive
    }
  }

  /** Signs the head (once it is durable), waits for every checkpoint and anchor, closes the files; idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#clearTimer();
      if (this.#headSeq > this.#requestedSeq) this.#request(this.#headSeq, this.#headHash, this.#log.flush());
      await this.#chain;
      await Promise.all([...this.#anchors]);
      this.#closeFiles();
    })();
    return this.#closing;
  }

  #onTimer(): void {
    this.#timer = null;
    if (this.#headSeq > this.#requestedSeq && this.#closing === null) this.#request(this.#headSeq, this.#headHash, this.#log.flush());
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Queues a checkpoint of `seq` for when `durable` settles; checkpoints are written in seq order. */
  #request(seq: number, hash: string, durable: Promise<void>): void {
    this.#requestedSeq = seq;
    this.#queued += 1;
    if (seq >= this.#headSeq) this.#clearTimer();
    this.#chain = this.#chain.then(async () => {
      this.#queued -= 1;
      try {
        await durable;
      } catch {
        return; // not durable: never signed (the log's own failure halts the registrar)
      }
      if (seq <= this.#writtenSeq || this.#fd === null || this.#logFailed) return;
      // A sidecar slower than the traffic: a later checkpoint is queued and will cover these records too.
      if (this.#queued >= MAX_QUEUED_CHECKPOINTS && seq < this.#requestedSeq) return;
      let checkpoint: Checkpoint;
      try {
        checkpoint = this.#signNext(seq, hash);
        await writeLine(this.#fd, `${JSON.stringify(checkpoint)}\n`);
        this.#durableSeq = checkpoint.seq;
      } catch (cause) {
        this.#log.fail(new AttestationError('ATTESTATION_CHECKPOINT_IO', `cannot write checkpoint file ${this.#path}: ${(cause as Error).message}`, { cause, path: this.#path, seq }));
        this.#closeFiles();
        return;
      }
      this.#anchor(checkpoint);
    });
  }

  /** Signs a checkpoint of the records after the last one written up to `seq`, taking their digests. */
  #signNext(seq: number, hash: string): Checkpoint {
    const records = seq - this.#writtenSeq;
    const digests = Buffer.allocUnsafe(DIGEST_BYTES * records);
    for (let index = 0; index < records; index += 1) digests.writeUInt32BE(this.#digests[index] ?? 0, DIGEST_BYTES * index);
    const checkpoint = signCheckpoint(this.#signing.key, {
      seq,
      fromSeq: this.#writtenSeq + 1,
      count: seq - this.#log.chainStartSeq,
      headHash: hash,
      digests,
      time: new Date().toISOString(),
    });
    this.#digests = this.#digests.slice(records);
    this.#writtenSeq = seq;
    return checkpoint;
  }

  /** Signs, synchronously, the records of the log no checkpoint covers yet (at open). */
  #catchUp(): void {
    if (this.#log.headSeq <= this.#writtenSeq) return;
    let last: { seq: number; hash: string } | null = null;
    const flush = (entry: { seq: number; hash: string }): void => {
      const checkpoint = this.#signNext(entry.seq, entry.hash);
      writeSync(this.#fd as number, `${JSON.stringify(checkpoint)}\n`);
      fdatasyncSync(this.#fd as number);
      this.#durableSeq = checkpoint.seq;
      this.#anchor(checkpoint);
    };
    for (const record of this.#log.records(this.#writtenSeq + 1)) {
      this.#digests.push(digestOf(record.hash));
      last = record;
      if (record.seq - this.#writtenSeq >= this.#signing.everyRecords) flush(record);
    }
    if (last && last.seq > this.#writtenSeq) flush(last);
    this.#requestedSeq = this.#writtenSeq;
  }

  /** Hands a checkpoint to the anchors; their failures are warnings. */
  #anchor(checkpoint: Checkpoint): void {
    const { anchor } = this.#signing;
    const tasks: Promise<void>[] = [];
    if (anchor) tasks.push(Promise.resolve().then(() => anchor(checkpoint)));
    if (this.#anchorFd !== null) {
      const fd = this.#anchorFd;
      const appended = this.#anchorFileChain.then(() => writeLine(fd, `${JSON.stringify(checkpoint)}\n`));
      this.#anchorFileChain = appended.catch(() => undefined);
      tasks.push(appended);
    }
    for (const task of tasks) {
      const tracked: Promise<void> = task.then(
        () => undefined,
        (error: unknown) => process.emitWarning(`checkpoint anchor failed for seq ${checkpoint.seq}: ${describe(error)}`, { code: 'VOICE_SOUNDBOARD_ANCHOR' }),
      );
      this.#anchors.add(tracked);
      void tracked.finally(() => this.#anchors.delete(tracked));
    }
  }

  #closeFiles(): void {
    for (const fd of [this.#fd, this.#anchorFd]) {
      try {
        if (fd !== null) closeSync(fd);
      } catch {
        // already unusable: nothing more to release
      }
    }
    this.#fd = null;
    this.#anchorFd = null;
  }
}

/**
 * Runs a read of a checkpoint file; an AttestationError it throws without a seq (the file is not a
 * regular file, cannot be read) gets `seq`, the first seq that file would vouch for.
 */
function withSeq<T>(read: () => T, seq: number): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof AttestationError) || error.seq !== undefined) throw error;
    throw new AttestationError(error.code, error.message, { cause: error, ...(error.path !== undefined ? { path: error.path } : {}), seq });
  }
}

/** Refuses a log that does not hold what its last checkpoint signed. */
function checkAgainstLog(checkpoint: Checkpoint, signing: LoadedSigning, log: CheckpointedLog, path: string): void {
  // A checkpoint "by another key" vouches for nothing: taking it as the last one signed would let a
  // forger stand a line of their own for the removed sidecar and have the rewritten log signed onward.
  if (checkpoint.keyId !== signing.key.keyId) {
    throw new AttestationError(
      'ATTESTATION_CHECKPOINT_INVALID',
      `checkpoint file ${path}: the checkpoint of seq ${checkpoint.seq} names key ${checkpoint.keyId.slice(0, 16)}…, not this signing key ${signing.key.keyId.slice(0, 16)}… (a log is signed by one key: to change keys, start a new log from a snapshot)`,
      { path, seq: checkpoint.seq },
    );
  }
  if (!checkpointSignatureValid(signing.key, checkpoint)) {
    throw new AttestationError('ATTESTATION_CHECKPOINT_INVALID', `checkpoint file ${path}: the checkpoint of seq ${checkpoint.seq} does not verify with this key (forged or changed)`, { path, seq: checkpoint.seq });
  }
  if (checkpoint.seq > log.headSeq) {
    throw new AttestationError(
      'ATTESTATION_CHECKPOINT_MISMATCH',
      `attestation log ${log.path} ends at seq ${log.headSeq}, but seq ${checkpoint.seq} was signed (${checkpoint.count} records): records were removed; run \`voice-soundboard audit verify --public-key\``,
      { path: log.path, seq: log.headSeq + 1 },
    );
  }
  if (checkpoint.seq > log.chainStartSeq && log.hashAt(checkpoint.seq) !== checkpoint.headHash) {
    throw new AttestationError(
      'ATTESTATION_CHECKPOINT_MISMATCH',
      `attestation log ${log.path}: seq ${checkpoint.seq} is not the record that was signed: the log was changed at or before it; run \`voice-soundboard audit verify --public-key\` to find the first changed record`,
      { path: log.path, seq: checkpoint.seq },
    );
  }
}

function describe(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return 'a value that cannot be printed';
  }
}
