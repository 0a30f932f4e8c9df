/**
 * The layout of an attestation log on disk. A log path names either
 * - a single JSON Lines file (one record per line), or
 * - a directory (a segmented log): `manifest.json` plus segment files `000001.jsonl`,
 *   `000002.jsonl`, … The chain simply continues across segments: each segment's first record's
 *   `prevHash` is the previous segment's last `hash`.
 *
 * The manifest lists every segment in order with `name`, `firstSeq`, `firstPrevHash` and, once the
 * segment is sealed (rotated away from), `lastSeq`, `lastHash` and `bytes`; the last entry is the
 * active segment (those three are null). It is only ever replaced whole, atomically: written to
 * `manifest.json.tmp`, fsync'ed, renamed over `manifest.json`, and the directory fsync'ed.
 *
 * `inspectLog` checks the layout before a record is read: a listed segment that is absent is
 * ATTESTATION_SEGMENT_MISSING, a segment file the manifest does not list is
 * ATTESTATION_SEGMENT_EXTRA (except an empty file with the next segment's name: a rotation a crash
 * interrupted, see durable-log.ts), a sealed segment whose size is not the manifest's is
 * ATTESTATION_SEGMENT_MISMATCH, and a manifest that cannot be read or whose entries do not
 * continue each other is ATTESTATION_MANIFEST_INVALID; each error names the seq concerned.
 * Record-level checks of a segment against its entry (first and last seq and hash) are made while
 * it is read (log-reader.ts).
 */
import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, writeSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { AttestationError } from './errors.js';
import { MIN_SEGMENT_BYTES } from './log-options.js';

/** The manifest's file name inside a segmented log's directory. */
export const MANIFEST_FILE = 'manifest.json';

/** The `kind` a manifest carries. */
export const MANIFEST_KIND = 'voice-soundboard.attestation-log';

const SEGMENT_NAME = /^(\d{6,})\.jsonl$/;
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');
const seqSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

const segmentEntrySchema = z.strictObject({
  name: z.string().regex(SEGMENT_NAME, 'expected a segment file name such as 000001.jsonl'),
  firstSeq: seqSchema,
  firstPrevHash: hex64,
  lastSeq: seqSchema.nullable(),
  lastHash: hex64.nullable(),
  bytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).nullable(),
});

const manifestSchema = z.strictObject({
  kind: z.literal(MANIFEST_KIND),
  v: z.literal(1),
  segmentBytes: z.number().int().min(MIN_SEGMENT_BYTES).max(Number.MAX_SAFE_INTEGER),
  segments: z.array(segmentEntrySchema).min(1),
});

/** One segment as the manifest lists it. */
export type SegmentEntry = z.infer<typeof segmentEntrySchema>;

/** A segmented log's manifest. */
export type LogManifest = z.infer<typeof manifestSchema>;

/** One file of a log, where its bytes sit in the log's byte sequence (segments end to end). */
export interface LogFile {
  /** The file's path. */
  readonly file: string;
  /** Its manifest entry (null for a single-file log). */
  readonly entry: SegmentEntry | null;
  /** Offset of its first byte in the log's byte sequence. */
  readonly baseOffsetBytes: number;
  /** Its size when inspected. */
  readonly sizeBytes: number;
}

/** What is on disk at a log path. */
export interface LogLayout {
  /** The log path (a file, or a segmented log's directory). */
  readonly path: string;
  /** The manifest of a segmented log, or null for a single file. */
  readonly manifest: LogManifest | null;
  /** The files in log order (one for a single-file log; the last is the active segment). */
  readonly files: readonly LogFile[];
  /** An empty segment file left by an interrupted rotation (not part of the log), or null. */
  readonly leftover: string | null;
}

/** The file name of the `index`th segment (1-based). */
export function segmentName(index: number): string {
  return `${String(index).padStart(6, '0')}.jsonl`;
}

/** The index of a segment file name (`000012.jsonl` → 12). */
export function segmentIndex(name: string): number {
  return Number(SEGMENT_NAME.exec(name)?.[1] ?? Number.NaN);
}

function ioError(path: string, action: string, cause: unknown, seq?: number): AttestationError {
  return new AttestationError('ATTESTATION_IO', `cannot ${action} attestation log ${path}: ${(cause as Error).message}`, { cause, path, ...(seq !== undefined ? { seq } : {}) });
}

/** fsyncs a directory, so the names created, renamed or removed in it survive a crash. */
export function fsyncDirectory(directory: string): void {
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Largest manifest read (64 MiB: some 300,000 segments; a manifest is read whole). */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

/** Reads and checks a manifest (ATTESTATION_MANIFEST_INVALID when unreadable, malformed or not continuous). */
export function readManifest(directory: string): LogManifest {
  const path = join(directory, MANIFEST_FILE);
  let value: unknown;
  try {
    // A FIFO or a device would block the read or never end it: only a regular file is read.
    const stats = statSync(path, { throwIfNoEntry: false });
    if (stats !== undefined && !stats.isFile()) throw new Error(`${MANIFEST_FILE} is not a regular file`);
    // Read whole, so bounded: the writer's manifest lists a segment in ~200 bytes.
    if (stats !== undefined && stats.size > MAX_MANIFEST_BYTES) throw new Error(`${MANIFEST_FILE} is ${stats.size} bytes, more than any manifest (${MAX_MANIFEST_BYTES})`);
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new AttestationError('ATTESTATION_MANIFEST_INVALID', `segmented attestation log ${directory}: cannot read ${MANIFEST_FILE} (${(cause as Error).message})`, { cause, path: directory });
  }
  const parsed = manifestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AttestationError('ATTESTATION_MANIFEST_INVALID', `segmented attestation log ${directory}: ${MANIFEST_FILE}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`, { path: directory });
  }
  const manifest = parsed.data;
  const segments = manifest.segments;
  for (let index = 0; index < segments.length; index += 1) {
    const entry = segments[index] as SegmentEntry;
    const active = index === segments.length - 1;
    const invalid = (message: string) => new AttestationError('ATTESTATION_MANIFEST_INVALID', `segmented attestation log ${directory}: ${MANIFEST_FILE}: ${message}`, { path: directory, seq: entry.firstSeq });
    const sealed = entry.lastSeq !== null && entry.lastHash !== null && entry.bytes !== null;
    if (active ? entry.lastSeq !== null || entry.lastHash !== null || entry.bytes !== null : !sealed) {
      throw invalid(`segment ${entry.name} must be ${active ? 'open (the last entry is the active segment)' : 'sealed (lastSeq, lastHash and bytes)'}`);
    }
    if (entry.lastSeq !== null && entry.lastSeq < entry.firstSeq) throw invalid(`segment ${entry.name} ends (seq ${entry.lastSeq}) before it starts (seq ${entry.firstSeq})`);
    const previous = segments[index - 1];
    if (previous) {
      if (segmentIndex(entry.name) <= segmentIndex(previous.name)) throw invalid(`segment ${entry.name} is listed after ${previous.name} (segments out of order)`);
      if (previous.lastSeq === null || entry.firstSeq !== previous.lastSeq + 1 || entry.firstPrevHash !== previous.lastHash) {
        throw invalid(`segment ${entry.name} (first seq ${entry.firstSeq}) does not continue ${previous.name} (last seq ${previous.lastSeq ?? '?'}): segments missing or out of order`);
      }
    }
  }
  return manifest;
}

/** Replaces a segmented log's manifest atomically (temp file, fsync, rename, fsync of the directory). */
export function writeManifest(directory: string, manifest: LogManifest): void {
  const path = join(directory, MANIFEST_FILE);
  const temporary = `${path}.tmp`;
  const text = `${JSON.stringify({ kind: manifest.kind, v: manifest.v, segmentBytes: manifest.segmentBytes, segments: manifest.segments }, null, 1)}\n`;
  try {
    const fd = openSync(temporary, 'w');
    try {
      const bytes = Buffer.from(text, 'utf8');
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
    fsyncDirectory(directory);
  } catch (cause) {
    throw ioError(directory, 'write the manifest of', cause);
  }
}

/** The seq of a file's first line, when it reads as a record's (to name an extra segment). */
function firstSeqIn(file: string): number | undefined {
  try {
    const fd = openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(65_536);
      const read = readSync(fd, buffer, 0, buffer.length, 0);
      const newline = buffer.subarray(0, read).indexOf(0x0a);
      const seq: unknown = (JSON.parse(buffer.toString('utf8', 0, newline === -1 ? read : newline)) as { seq?: unknown }).seq;
      return typeof seq === 'number' ? seq : undefined;
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/**
 * A segment file's own stats (not followed): ATTESTATION_NOT_A_FILE for anything but a regular file.
 * The writer never makes a symlink, FIFO or device in a log's directory; reading one could block
 * (a FIFO opened for reading waits for a writer) and appending through one writes elsewhere.
 */
function segmentStats(directory: string, file: string, seq: number): Stats {
  const stats = lstatSync(file);
  if (stats.isFile()) return stats;
  const kind = stats.isSymbolicLink() ? 'a symlink' : stats.isFIFO() ? 'a FIFO' : stats.isSocket() ? 'a socket' : stats.isCharacterDevice() || stats.isBlockDevice() ? 'a device' : 'not a regular file';
  throw new AttestationError('ATTESTATION_NOT_A_FILE', `segmented attestation log ${directory}: segment file ${file} is ${kind}: segments must be regular files`, { path: directory, seq });
}

/**
 * What is at `path`: a single-file log, a segmented log (checked, see the file comment), or null
 * when nothing is there. Throws ATTESTATION_IO when it cannot be read, and the segment codes.
 */
export function inspectLog(path: string): LogLayout | null {
  let isDirectory: boolean;
  let sizeBytes: number;
  let kind: string | null;
  try {
    const stats = statSync(path, { throwIfNoEntry: false });
    if (stats === undefined) return null;
    isDirectory = stats.isDirectory();
    sizeBytes = stats.size;
    kind = isDirectory || stats.isFile() ? null : stats.isFIFO() ? 'a FIFO' : stats.isSocket() ? 'a socket' : stats.isCharacterDevice() || stats.isBlockDevice() ? 'a device' : 'not a regular file';
  } catch (cause) {
    throw ioError(path, 'read', cause, 1);
  }
  // A log must be a file that reads back what was appended: /dev/null would swallow every record.
  if (kind !== null) throw new AttestationError('ATTESTATION_NOT_A_FILE', `attestation log ${path} is ${kind}: a log must be a regular file (or a segmented log's directory)`, { path, seq: 1 });
  if (!isDirectory) return { path, manifest: null, files: [{ file: path, entry: null, baseOffsetBytes: 0, sizeBytes }], leftover: null };
  const manifest = readManifest(path);
  let names: string[];
  try {
    names = readdirSync(path);
  } catch (cause) {
    throw ioError(path, 'read', cause, manifest.segments[0]?.firstSeq);
  }
  const present = new Set(names.filter((name) => SEGMENT_NAME.test(name)));
  const files: LogFile[] = [];
  let baseOffsetBytes = 0;
  for (const entry of manifest.segments) {
    const file = join(path, entry.name);
    if (!present.delete(entry.name)) {
      throw new AttestationError('ATTESTATION_SEGMENT_MISSING', `segmented attestation log ${path}: segment ${entry.name} (from seq ${entry.firstSeq}) is missing`, { path, seq: entry.firstSeq });
    }
    let size: number;
    try {
      size = segmentStats(path, file, entry.firstSeq).size;
    } catch (cause) {
      throw cause instanceof AttestationError ? cause : ioError(file, 'read', cause, entry.firstSeq);
    }
    if (entry.bytes !== null && size !== entry.bytes) {
      throw new AttestationError(
        'ATTESTATION_SEGMENT_MISMATCH',
        `segmented attestation log ${path}: segment ${entry.name} (seqs ${entry.firstSeq}-${entry.lastSeq ?? '?'}) has ${size} bytes, the manifest records ${entry.bytes} (truncated, grown or replaced)`,
        { path, seq: entry.firstSeq },
      );
    }
    files.push({ file, entry, baseOffsetBytes, sizeBytes: size });
    baseOffsetBytes += size;
  }
  let leftover: string | null = null;
  const last = manifest.segments.at(-1) as SegmentEntry;
  for (const name of [...present].sort()) {
    const file = join(path, name);
    let empty: boolean;
    try {
      empty = segmentStats(path, file, last.lastSeq ?? last.firstSeq).size === 0;
    } catch (cause) {
      throw cause instanceof AttestationError ? cause : ioError(file, 'read', cause);
    }
    if (empty && segmentIndex(name) === segmentIndex(last.name) + 1) {
      leftover = file; // created by a rotation that a crash interrupted before the manifest listed it
      continue;
    }
    const seq = firstSeqIn(file);
    throw new AttestationError('ATTESTATION_SEGMENT_EXTRA', `segmented attestation log ${path}: segment file ${name} is not in the manifest${seq !== undefined ? ` (its first record is seq ${seq})` : ''}`, {
      path,
      ...(seq !== undefined ? { seq } : {}),
    });
  }
  return { path, manifest, files, leftover };
}

/** Creates an empty segmented log: its directory, segment 1 (after `start`) and the manifest, all fsync'ed (the directory into its parent too). */
export function createSegmentedLog(path: string, segmentBytes: number, start: { seq: number; hash: string }): void {
  try {
    mkdirSync(path);
    closeSync(openSync(join(path, segmentName(1)), 'a'));
    writeManifest(path, {
      kind: MANIFEST_KIND,
      v: 1,
      segmentBytes,
      segments: [{ name: segmentName(1), firstSeq: start.seq + 1, firstPrevHash: start.hash, lastSeq: null, lastHash: null, bytes: null }],
    });
    fsyncDirectory(dirname(path));
  } catch (cause) {
    throw cause instanceof AttestationError ? cause : ioError(path, 'create', cause, start.seq + 1);
  }
}

/** What a rotation made: the new active segment (open for append and read) and the manifest that lists it. */
export interface Rotation {
  fd: number;
  file: string;
  manifest: LogManifest;
  sealed: SegmentEntry;
  opened: SegmentEntry;
}

/**
 * Rotates a segmented log before the record `next`: the active segment (`activeBytes` long, all on
 * disk already) is sealed and a new one opened. The order is what makes a crash safe: first the
 * new, empty segment file is created and the directory fsync'ed (a crash here leaves an empty,
 * unlisted next segment: `inspectLog` calls it a leftover and opening removes it); then the
 * manifest is replaced atomically, sealing the old segment (last seq and hash = `next`'s
 * predecessor, its size) and listing the new one. Throws ATTESTATION_IO.
 */
export function rotateSegment(directory: string, manifest: LogManifest, activeBytes: number, next: { seq: number; prevHash: string }): Rotation {
  const active = manifest.segments.at(-1) as SegmentEntry;
  const name = segmentName(segmentIndex(active.name) + 1);
  const file = join(directory, name);
  let fd: number;
  try {
    fd = openSync(file, 'a+');
    fsyncDirectory(directory);
  } catch (cause) {
    throw ioError(directory, `create segment ${name} of`, cause, next.seq);
  }
  const sealed: SegmentEntry = { ...active, lastSeq: next.seq - 1, lastHash: next.prevHash, bytes: activeBytes };
  const opened: SegmentEntry = { name, firstSeq: next.seq, firstPrevHash: next.prevHash, lastSeq: null, lastHash: null, bytes: null };
  const rotated: LogManifest = { ...manifest, segments: [...manifest.segments.slice(0, -1), sealed, opened] };
  try {
    writeManifest(directory, rotated);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return { fd, file, manifest: rotated, sealed, opened };
}
