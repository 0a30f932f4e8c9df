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
 * (ATTESTATION_CHECKPOINT_MISMATCH), as is a last checkpoint of this key whose signature fails
 * (ATTESTATION_CHECKPOINT_INVALID) or a complete line that is not a checkpoint
 * (ATTESTATION_CHECKPOINT_CORRUPT); a torn last line (a crash while writing it) is cut off. Records
 * after the last checkpoint (written before a crash) are signed at once, `everyRecords` per
 * checkpoint. A log with records and no checkpoint at all is refused
 * (ATTESTATION_CHECKPOINT_MISSING) unless `adoptUnsigned` is set, the one-time step that turns
 * signing on for an existing log: a deleted sidecar is how a forger would get a rewritten log signed.
 *
 * Failures: a sidecar that cannot be written fails the log (the registrar halts `attestation_io`,
 * as for the log itself); once the log has failed nothing more is signed (the file may lack
 * records the store holds); when the sidecar falls behind the traffic by more than 16 checkpoints,
 * a queued checkpoint is skipped for the next one (which covers the same records); an anchor that throws, rejects or cannot be written is reported as a
 * process warning (code VOICE_SOUNDBOARD_ANCHOR) and does not stop the log.
 */
import { closeSync, fdatasync, fdatasyncSync, ftruncateSync, openSync, write, writeSync } from 'node:fs';
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { checkpointPath, checkpointSignatureValid, digestOf, DIGEST_BYTES, fileLines, parseCheckpoint, signCheckpoint, type Checkpoint } from './checkpoint.js';
import { AttestationError } from './errors.js';
import { loadSigningKey, privateKeySourceSchema, type PrivateKeyInput, type SigningKey } from './signing.js';
import { parseInput } from '../validation.js';

/** Receives each checkpoint once it is in the sidecar (an external anchor: a transparency log, a WORM store...). */
export type CheckpointAnchor = (checkpoint: Checkpoint) => void | Promise<void>;

/** The `signing` option group of `AttestationStore.open` and `AudioRegistrar.openLog`. */
export interface SigningOptions {
  /** The Ed25519 private key (KeyObject or PEM text); or give `privateKeyFile`. */
  privateKey?: PrivateKeyInput;
  /** A PEM file holding the private key, readable by its owner only (chmod 600). */
  privateKeyFile?: string;
  /** A checkpoint every this many records (default 1,000; at most 1,000,000: their digests wait in memory until it is signed). */
  everyRecords?: number;
  /** A checkpoint at most this long after the first record not yet covered (default 5,000 ms; 0: only by count and at close). */
  everyMs?: number;
  /** Called with each checkpoint once it is durable in the sidecar (awaited at close). */
  anchor?: CheckpointAnchor;
  /** A second file each checkpoint is appended to (and fdatasync'ed), e.g. on another disk or a WORM mount; checked against the log on open. */
  anchorFile?: string;
  /** Sign an existing log that has no checkpoint yet (turning signing on for it); default false: refused (ATTESTATION_CHECKPOINT_MISSING). */
  adoptUnsigned?: boolean;
}

/** Queued checkpoints beyond which one is skipped for the next (it covers the same records): bounds the backlog of a slow disk. */
const MAX_QUEUED_CHECKPOINTS = 16;

/** Checkpoint every this many records unless told otherwise. */
export const DEFAULT_CHECKPOINT_RECORDS = 1_000;
/** Checkpoint at most this long after the first uncovered record unless told otherwise. */
export const DEFAULT_CHECKPOINT_MS = 5_000;

/** zod schema of the signing options (the key source is checked by loadSigningKey). */
export const signingOptionsSchema = z.strictObject({
  privateKey: z.unknown().optional(),
  privateKeyFile: z.unknown().optional(),
  everyRecords: z.number().int().min(1).max(1_000_000).optional(),
  everyMs: z.number().int().min(0).max(2 ** 31 - 1).optional(),
  anchor: z.custom<CheckpointAnchor>((value) => typeof value === 'function', 'expected a function (checkpoint) => void | Promise<void>').optional(),
  anchorFile: z.string().min(1).optional(),
  adoptUnsigned: z.boolean().optional(),
});

/** Signing options after validation, with the key loaded. */
export interface LoadedSigning {
  key: SigningKey;
  everyRecords: number;
  everyMs: number;
  anchor: CheckpointAnchor | undefined;
  anchorFile: string | undefined;
  adoptUnsigned: boolean;
}

/**
 * Validates signing options and loads the key (before any file is touched). Throws InputError
 * naming the field (`<field>.everyRecords`...), AttestationError ATTESTATION_KEY_PERMISSIONS.
 */
export function loadSigning(options: SigningOptions, field: string): LoadedSigning {
  const parsed = parseInput(signingOptionsSchema, options, field);
  parseInput(privateKeySourceSchema, { privateKey: parsed.privateKey, privateKeyFile: parsed.privateKeyFile }, field);
  const source = parsed.privateKeyFile !== undefined ? { privateKeyFile: parsed.privateKeyFile as string } : { privateKey: parsed.privateKey as PrivateKeyInput };
  return {
    key: loadSigningKey(source, field),
    everyRecords: parsed.everyRecords ?? DEFAULT_CHECKPOINT_RECORDS,
    everyMs: parsed.everyMs ?? DEFAULT_CHECKPOINT_MS,
    anchor: parsed.anchor,
    anchorFile: parsed.anchorFile,
    adoptUnsigned: parsed.adoptUnsigned ?? false,
  };
}

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
    const last = lastCheckpoint(path);
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
      const anchored = lastCheckpoint(signing.anchorFile).checkpoint;
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

/** Whether `path` is a regular file (an anchor may be a device or a pipe: never read back). */
function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The last complete checkpoint of a sidecar (null when there is none) and where a torn last line starts. */
function lastCheckpoint(path: string): { checkpoint: Checkpoint | null; tornAtBytes: number | null } {
  if (!existsSync(path)) return { checkpoint: null, tornAtBytes: null };
  if (!isRegularFile(path)) throw new AttestationError('ATTESTATION_IO', `${path} is not a regular file`, { path });
  let lastLine: string | null = null;
  let lastNumber = 0;
  let tornAtBytes: number | null = null;
  for (const line of fileLines(path)) {
    if (line.complete) {
      lastLine = line.text;
      lastNumber = line.number;
    } else {
      tornAtBytes = line.offsetBytes;
    }
  }
  if (lastLine === null) return { checkpoint: null, tornAtBytes };
  const parsed = parseCheckpoint(lastLine);
  if ('problem' in parsed) throw new AttestationError('ATTESTATION_CHECKPOINT_CORRUPT', `checkpoint file ${path}: line ${lastNumber} is not a checkpoint (${parsed.problem})`, { path });
  return { checkpoint: parsed.checkpoint, tornAtBytes };
}

/** Refuses a log that does not hold what its last checkpoint signed. */
function checkAgainstLog(checkpoint: Checkpoint, signing: LoadedSigning, log: CheckpointedLog, path: string): void {
  if (checkpoint.keyId === signing.key.keyId && !checkpointSignatureValid(signing.key, checkpoint)) {
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

function openFile(path: string, flags: string): number {
  try {
    return openSync(path, flags, 0o644);
  } catch (cause) {
    throw new AttestationError('ATTESTATION_IO', `cannot open ${path}: ${(cause as Error).message}`, { cause, path });
  }
}

/** Makes a new file's directory entry durable (best effort: some file systems refuse to sync a directory). */
function syncDirectory(path: string): void {
  try {
    const fd = openSync(path, 'r');
    try {
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // not supported here: the file's own fdatasync still holds its data
  }
}

/** Appends a line and fdatasyncs it, off the event loop. */
async function writeLine(fd: number, text: string): Promise<void> {
  const buffer = Buffer.from(text, 'utf8');
  let offset = 0;
  while (offset < buffer.length) {
    offset += await new Promise<number>((resolve, reject) => write(fd, buffer, offset, buffer.length - offset, null, (error, written) => (error ? reject(error) : resolve(written))));
  }
  await new Promise<void>((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
}

function describe(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return 'a value that cannot be printed';
  }
}
