/**
 * `verifyLog(path, { publicKey })`: checks a log file's hash chain and, with a public key, its
 * signed checkpoints (checkpoint.ts), streaming the log and the checkpoint files side by side in
 * constant memory. It never throws on a bad log; it reports each problem with the seq it concerns
 * and the first bad seq.
 *
 * What the chain alone catches: a changed record whose hash was not recomputed, a removed,
 * inserted, swapped or repeated record that was not re-chained, a torn or unreadable line. What it
 * cannot: a forger who rewrites records and recomputes every hash after them (the chain is only
 * SHA-256, no secret), or who drops the tail. With the public key, every checkpoint must be signed
 * by it, and the log must hold what each checkpoint signed: the record at each checkpoint's seq
 * hashes to its `headHash`, each record matches its digest (so the first changed record is named
 * exactly), and the log reaches every signed seq; the sidecar's checkpoints must follow each other
 * from the chain start (`checkpoint.gap` where some were removed). A checkpoint file cannot exhaust
 * the reader: a line is read to 64 MiB at most, and after 100 problems the rest of a file is left
 * unread; the report lists 1,000 errors at most (problem-list.ts). Records after the last checkpoint (an unsigned tail) cannot be vouched for: they are reported as such, not as errors. A missing checkpoint file,
 * or one with no valid checkpoint, is an error when the log has records. Structural invariants and
 * replay are `verify()`'s (src/registrar/verify.ts); `audit verify --public-key` runs both.
 * The log is read as views of its records (line-check.ts: seq and hashes are all this needs), the
 * lines checked on worker threads for a long log (`checkWorkers`).
 */
import { existsSync, statSync } from 'node:fs';
import { z } from 'zod';
import { checkpointPath, checkpointSignatureValid, digestOf, DIGEST_BYTES, parseCheckpoint, type Checkpoint } from './checkpoint.js';
import { fileLines, type FileLine } from './checkpoint-file.js';
import { ProblemList } from './problem-list.js';
import { AttestationError } from './errors.js';
import type { TornTail } from './durable-log.js';
import { scanAttestationLogViews } from './log-reader.js';
import { GENESIS_HASH } from './record.js';
import { loadVerifyingKey, type PublicKeyInput, type VerifyingKey } from './signing.js';
import { MAX_CHECK_WORKERS } from './line-check-pool.js';
import { parseInput } from '../validation.js';

/** One problem verifyLog found: the seq it concerns, the check it breaks, and what was seen. */
export interface LogProblem {
  readonly seq: number;
  /** `attestation.*`, `ordering.*` (the chain) or `checkpoint.*` (the signatures). */
  readonly invariant: string;
  readonly message: string;
}

/** What the checkpoints vouch for (with a public key). */
export interface SignatureReport {
  /** The key id of the public key checked against. */
  readonly keyId: string;
  /** Valid checkpoints whose seq the log reached and matched. */
  readonly checkpoints: number;
  /** The last seq a valid checkpoint vouches for (every record up to it matched), or null. */
  readonly signedThroughSeq: number | null;
  /** Records after the last matched checkpoint: written after it could be signed, so not vouched for. */
  readonly unsignedTail: { readonly fromSeq: number; readonly toSeq: number } | null;
}

/** What verifyLog found. */
export interface LogVerifyReport {
  /** No errors (an unsigned tail and warnings allowed). */
  readonly ok: boolean;
  /** Complete records read. */
  readonly records: number;
  /** The seq the last record read stands at (the chain start when none). */
  readonly lastSeq: number;
  readonly errors: readonly LogProblem[];
  readonly warnings: readonly LogProblem[];
  /** The lowest seq of any error, or null. */
  readonly firstBadSeq: number | null;
  readonly tornTail: TornTail | null;
  /** null without a public key. */
  readonly signature: SignatureReport | null;
}

/** Options of verifyLog. */
export interface VerifyLogOptions {
  /** The Ed25519 public key the checkpoints must be signed with; without it only the chain is checked. */
  publicKey?: PublicKeyInput;
  /** Where the chain starts (a snapshot's head); default genesis. */
  start?: { seq: number; hash: string };
  /** The checkpoint file (default `<path>.checkpoints`). */
  checkpointFile?: string;
  /** An anchor file (the signer's `anchorFile`) whose checkpoints are checked too: it holds checkpoints a forger dropped from the sidecar. */
  anchorFile?: string;
  /** How record hashes are checked (LogReadOptions.hashing): `line` (default) or `canonical` (the slower baseline). */
  hashing?: 'line' | 'canonical';
  /** Worker threads that check lines (LogReadOptions.checkWorkers); default one less than the cores for logs of 64 MiB or more, else 0. */
  checkWorkers?: number;
}

const optionsSchema = z.strictObject({
  publicKey: z.unknown().optional(),
  start: z.strictObject({ seq: z.number().int().nonnegative(), hash: z.string().regex(/^[0-9a-f]{64}$/) }).optional(),
  checkpointFile: z.string().min(1).optional(),
  anchorFile: z.string().min(1).optional(),
  hashing: z.enum(['line', 'canonical']).optional(),
  checkWorkers: z.number().int().min(0).max(MAX_CHECK_WORKERS).optional(),
});

/** Problems reported for the lines of one checkpoint file before the rest of it is left unread: a file of junk lines (or of one checkpoint repeated) costs bounded time and memory. */
export const MAX_CHECKPOINT_FILE_PROBLEMS = 100;

/** A checkpoint file read alongside the log. */
interface Cursor {
  readonly path: string;
  /** The sidecar: its checkpoints follow each other from the chain start (an anchor is best effort, so it may skip some). */
  readonly contiguous: boolean;
  /** Problems reported for its lines so far. */
  problems: number;
  lines: Generator<FileLine, void, undefined> | null;
  /** The next valid checkpoint not yet matched, and its digests. */
  current: Checkpoint | null;
  digests: Buffer;
  /** The seq of the last valid checkpoint read (the chain start before any). */
  lastSeq: number;
  valid: number;
  matched: number;
  /** The last seq a matched checkpoint vouches for. */
  signedThroughSeq: number | null;
  /** A mismatch was found: later comparisons would only repeat it. */
  stopped: boolean;
}

/** Verifies a log file (see the file comment). Throws only InputError for bad options (or an unreadable public key). */
export function verifyLog(path: string, options: VerifyLogOptions = {}): LogVerifyReport {
  const parsed = parseInput(optionsSchema, options, 'options');
  const key = parsed.publicKey === undefined ? null : loadVerifyingKey(parsed.publicKey as PublicKeyInput, 'options.publicKey');
  const start = parsed.start ?? { seq: 0, hash: GENESIS_HASH };
  // Bounded lists: a log damaged throughout is reported in bounded memory (problem-list.ts).
  const errors = new ProblemList();
  const warnings = new ProblemList();
  const fail = (seq: number, invariant: string, message: string): void => errors.add(seq, invariant, message);
  const warn = (seq: number, invariant: string, message: string): void => warnings.add(seq, invariant, message);
  const sidecarPath = parsed.checkpointFile ?? checkpointPath(path);
  const cursors = key ? [sidecarPath, ...(parsed.anchorFile !== undefined ? [parsed.anchorFile] : [])].map((file, index) => openCursor(file, start.seq, index === 0, fail)) : [];
  const next = (cursor: Cursor): void => advance(cursor, key as VerifyingKey, start.seq, fail, warn);

  let position = start.seq; // the seq the records read so far stand at
  let previousSeq = start.seq;
  let previousHash = start.hash;
  let scan: ReturnType<typeof scanAttestationLogViews> | null = null;
  try {
    // Only seq and hashes are read: views of the records (line-check.ts), checked on worker threads for a long log.
    scan = scanAttestationLogViews(
      path,
      (record) => {
        position += 1;
        // The chain: one problem per record at most (the first), so one edit is not reported many times.
        const expected = previousSeq + 1;
        if (record.seq > expected) fail(expected, 'ordering.gap_free', `seq ${expected} is missing: seq ${record.seq} follows seq ${previousSeq}`);
        else if (record.seq === previousSeq) fail(record.seq, 'ordering.total', `seq ${record.seq} appears again`);
        else if (record.seq < expected) fail(record.seq, 'ordering.monotonic', `seq ${record.seq} after seq ${previousSeq} (reordered)`);
        else if (record.prevHash !== previousHash) fail(record.seq, 'ordering.total', `seq ${record.seq}: prevHash does not link to seq ${previousSeq} (this record or the one before it was changed, or records were removed, inserted or reordered)`);
        else if (!record.hashHolds) fail(record.seq, 'attestation.hash', `seq ${record.seq}: hash does not match the record's content (tampered)`);
        previousSeq = Math.max(previousSeq, record.seq);
        previousHash = record.hash;
        // The checkpoints: the record at this position must be the one signed there.
        for (const cursor of cursors) {
          if (cursor.stopped) continue;
          if (cursor.current === null) next(cursor);
          while (cursor.current !== null && position > cursor.current.seq) next(cursor); // only a signer's overlapping checkpoints
          const checkpoint = cursor.current;
          if (checkpoint === null || position < checkpoint.fromSeq) continue;
          if (cursor.digests.readUInt32BE(DIGEST_BYTES * (position - checkpoint.fromSeq)) !== digestOf(record.hash)) {
            fail(position, 'checkpoint.mismatch', `seq ${position} is not the record that was signed (checkpoint of seq ${checkpoint.seq} in ${cursor.path}): changed, removed, inserted or re-chained`);
            cursor.stopped = true;
          } else if (position === checkpoint.seq) {
            if (record.hash !== checkpoint.headHash) {
              fail(position, 'checkpoint.mismatch', `seq ${position}: the signed head hash differs (checkpoint in ${cursor.path})`);
              cursor.stopped = true;
            } else {
              cursor.matched += 1;
              cursor.signedThroughSeq = checkpoint.seq;
              cursor.current = null;
            }
          }
        }
      },
      { ...(parsed.hashing !== undefined ? { hashing: parsed.hashing } : {}), ...(parsed.checkWorkers !== undefined ? { checkWorkers: parsed.checkWorkers } : {}) },
    );
  } catch (error) {
    fail(position + 1, 'attestation.io', (error as Error).message);
  } finally {
    if (scan === null) for (const cursor of cursors) cursor.lines?.return();
  }
  const lastSeq = position;
  const corrupt = scan?.problem && scan.problem.code !== 'ATTESTATION_TORN_TAIL' ? scan.problem : null;
  if (corrupt) fail(corrupt.seq ?? lastSeq + 1, corrupt.code === 'ATTESTATION_LOG_CORRUPT' ? 'attestation.schema' : 'attestation.io', `seq ${corrupt.seq ?? lastSeq + 1}: ${corrupt.message}`);
  if (scan?.tornTail) fail(lastSeq + 1, 'attestation.torn_tail', `torn tail after seq ${lastSeq}: ${scan.tornTail.lengthBytes} bytes at offset ${scan.tornTail.offsetBytes} are a partial record`);

  // Checkpoints beyond the end: the log lost records that were signed (unless it is unreadable before them).
  for (const cursor of cursors) {
    if (cursor.stopped || corrupt || scan === null) {
      cursor.lines?.return(); // closes the file
      continue;
    }
    if (cursor.current === null) next(cursor);
    const beyond = cursor.current;
    if (beyond !== null && beyond.seq > lastSeq) {
      fail(lastSeq + 1, 'checkpoint.truncated', `the log ends at seq ${lastSeq}, but seq ${beyond.seq} was signed (${beyond.count} records, ${cursor.path}): seqs ${lastSeq + 1}..${beyond.seq} are missing`);
    }
    while (cursor.current !== null) {
      cursor.current = null;
      next(cursor); // checks the signatures of the rest
    }
  }

  let signature: SignatureReport | null = null;
  if (key) {
    const sidecar = cursors[0] as Cursor;
    if (position > start.seq && sidecar.valid === 0) {
      fail(start.seq + 1, 'checkpoint.missing', existsSync(sidecar.path) ? `the log is not signed: ${sidecar.path} holds no valid checkpoint` : `the log is not signed: no checkpoint file ${sidecar.path}`);
    }
    const through = cursors.reduce<number | null>((best, cursor) => (cursor.signedThroughSeq !== null && (best === null || cursor.signedThroughSeq > best) ? cursor.signedThroughSeq : best), null);
    const tailFrom = (through ?? start.seq) + 1;
    signature = Object.freeze({
      keyId: key.keyId,
      checkpoints: cursors.reduce((sum, cursor) => sum + cursor.matched, 0),
      signedThroughSeq: through,
      unsignedTail: tailFrom <= lastSeq ? Object.freeze({ fromSeq: tailFrom, toSeq: lastSeq }) : null,
    });
  }
  return Object.freeze({
    ok: errors.count === 0,
    records: scan?.records ?? position - start.seq,
    lastSeq,
    errors: errors.list(),
    warnings: warnings.list(),
    firstBadSeq: errors.lowestSeq,
    tornTail: scan?.tornTail ?? null,
    signature,
  });
}

function openCursor(path: string, startSeq: number, contiguous: boolean, fail: (seq: number, invariant: string, message: string) => void): Cursor {
  let lines: Generator<FileLine, void, undefined> | null = null;
  if (existsSync(path)) {
    // A device or a pipe is never read (it may never end).
    if (statSync(path).isFile()) lines = fileLines(path);
    else fail(startSeq + 1, 'checkpoint.io', `${path} is not a regular file`);
  }
  return { path, contiguous, problems: 0, lines, current: null, digests: Buffer.alloc(0), lastSeq: startSeq, valid: 0, matched: 0, signedThroughSeq: null, stopped: false };
}

/** Moves a cursor to its next valid checkpoint (or null at the end), reporting the invalid ones it passes. */
function advance(
  cursor: Cursor,
  key: VerifyingKey,
  startSeq: number,
  fail: (seq: number, invariant: string, message: string) => void,
  warn: (seq: number, invariant: string, message: string) => void,
): void {
  cursor.current = null;
  if (cursor.lines === null) return;
  /** A line passed on the way was reported: a gap after it is that line's (not reported again). */
  let passedBadLine = false;
  const problem = (seq: number, invariant: string, message: string): void => {
    passedBadLine = true;
    cursor.problems += 1;
    if (cursor.problems <= MAX_CHECKPOINT_FILE_PROBLEMS) return fail(seq, invariant, message);
    fail(seq, invariant, `${cursor.path}: more than ${MAX_CHECKPOINT_FILE_PROBLEMS} problems; the rest of the file is not read`);
    cursor.lines?.return();
    cursor.lines = null;
  };
  for (;;) {
    if (cursor.lines === null) return;
    let step: IteratorResult<FileLine, void>;
    try {
      step = cursor.lines.next();
    } catch (error) {
      // A line too long to be a checkpoint is a bad line; anything else, the file could not be read.
      const corrupt = error instanceof AttestationError && error.code === 'ATTESTATION_CHECKPOINT_CORRUPT';
      fail(cursor.lastSeq + 1, corrupt ? 'checkpoint.schema' : 'checkpoint.io', (error as Error).message);
      cursor.lines = null;
      return;
    }
    if (step.done === true) return;
    const line = step.value;
    const where = `${cursor.path} line ${line.number}`;
    if (!line.complete) {
      warn(cursor.lastSeq + 1, 'checkpoint.torn', `${where}: a partial checkpoint (a crash while it was written) is ignored`);
      continue;
    }
    const parsed = parseCheckpoint(line.text);
    if ('problem' in parsed) {
      problem(cursor.lastSeq + 1, 'checkpoint.schema', `${where}: not a checkpoint (${parsed.problem})`);
      continue;
    }
    const checkpoint = parsed.checkpoint;
    if (checkpoint.keyId !== key.keyId) {
      problem(checkpoint.fromSeq, 'checkpoint.key', `${where}: the checkpoint of seq ${checkpoint.seq} is signed by key ${checkpoint.keyId.slice(0, 16)}…, not the given key ${key.keyId.slice(0, 16)}…`);
      continue;
    }
    if (!checkpointSignatureValid(key, checkpoint)) {
      problem(checkpoint.fromSeq, 'checkpoint.signature', `${where}: the signature of the checkpoint of seq ${checkpoint.seq} does not hold (forged or edited)`);
      continue;
    }
    if (checkpoint.seq <= cursor.lastSeq) {
      problem(checkpoint.fromSeq, 'checkpoint.order', `${where}: the checkpoint of seq ${checkpoint.seq} comes after one of seq ${cursor.lastSeq}`);
      continue;
    }
    if (checkpoint.count !== checkpoint.seq - startSeq) {
      problem(checkpoint.fromSeq, 'checkpoint.count', `${where}: the checkpoint of seq ${checkpoint.seq} counts ${checkpoint.count} records, but the chain starts after seq ${startSeq}`);
      continue;
    }
    // The writer signs every record once, each checkpoint from the one after the last: a sidecar
    // that starts later, skips records or overlaps was edited (records signed without their digests
    // checked are how a forger's rewrite, signed onward by a deceived writer, would look).
    if (cursor.contiguous && checkpoint.fromSeq !== cursor.lastSeq + 1 && !passedBadLine) {
      fail(cursor.lastSeq + 1, 'checkpoint.gap', `${where}: the checkpoint of seq ${checkpoint.seq} covers seqs from ${checkpoint.fromSeq}, but ${cursor.lastSeq === startSeq ? `the chain starts after seq ${startSeq}` : `the checkpoint before it ends at seq ${cursor.lastSeq}`}: checkpoints were removed`);
    }
    cursor.valid += 1;
    cursor.lastSeq = checkpoint.seq;
    cursor.current = checkpoint;
    cursor.digests = Buffer.from(checkpoint.digests, 'base64');
    return;
  }
}
