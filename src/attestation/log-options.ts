/**
 * Options of a durable attestation log, validated with zod where they come in
 * (`AttestationStore.open`, `DurableLog.open`, `AudioRegistrar.openLog`): an unknown durability
 * mode, a negative or non-numeric window, a window given for `fsync`, or a segment size below
 * `MIN_SEGMENT_BYTES` is an InputError naming the field; nothing falls back to a default silently.
 *
 * Modes are named for what they do:
 * - `fsync`: every record is written and fdatasync'ed before the call that appended it returns;
 * - `group`: records are written and fdatasync'ed together once per window of `groupCommitMs`
 *   (0: as soon as the current synchronous run of work ends); each is durable when its batch is.
 */
import { z } from 'zod';
import { parseInput } from '../validation.js';

/** The durability modes, in the order the docs list them. */
export const DURABILITY_MODES = ['fsync', 'group'] as const;

/** How appends reach the disk (see the file comment). */
export type DurabilityMode = (typeof DURABILITY_MODES)[number];

/** The group commit window unless configured otherwise, in ms. */
export const DEFAULT_GROUP_COMMIT_MS = 2;

/** The longest group commit window accepted, in ms. */
export const MAX_GROUP_COMMIT_MS = 60_000;

/** The smallest segment size accepted (a segment holds at least a few records). */
export const MIN_SEGMENT_BYTES = 4096;

/** Options of a durable log. */
export interface DurableLogOptions {
  /** `fsync` (default): durable per record before the append returns; `group`: durable per batch, every `groupCommitMs`. */
  durability?: DurabilityMode;
  /** Group mode only: the commit window in ms (default 2, 0 to 60,000); 0 commits as soon as the current synchronous run of work ends (a batch that finds another syncing follows it). */
  groupCommitMs?: number;
  /** Cut a torn tail off the file (after reporting it) instead of refusing to open. */
  repairTornTail?: boolean;
  /**
   * Rotate to a new segment once the current one would grow past this many bytes (at least
   * 4,096). The log path is then a directory holding `manifest.json` and the segments; an existing
   * segmented log keeps the size its manifest records unless this is given.
   */
  segmentBytes?: number;
}

/** zod schema of DurableLogOptions (strict: an unknown option is an error too). */
export const durableLogOptionsSchema = z
  .strictObject({
    durability: z.enum(DURABILITY_MODES).optional(),
    groupCommitMs: z.number().min(0).max(MAX_GROUP_COMMIT_MS).optional(),
    repairTornTail: z.boolean().optional(),
    segmentBytes: z.number().int().min(MIN_SEGMENT_BYTES).max(Number.MAX_SAFE_INTEGER).optional(),
  })
  .refine((options) => options.groupCommitMs === undefined || options.durability === 'group', {
    path: ['groupCommitMs'],
    message: "groupCommitMs is the window of durability 'group' (durability 'fsync', the default, syncs every record)",
  });

/** The options with their defaults, as the log uses them. */
export interface ResolvedLogOptions {
  durability: DurabilityMode;
  groupCommitMs: number;
  repairTornTail: boolean;
  segmentBytes: number | undefined;
}

/** Validates log options (InputError naming `<what>.<field>`) and fills in the defaults. */
export function resolveLogOptions(options: unknown, what = 'options'): ResolvedLogOptions {
  const parsed = parseInput(durableLogOptionsSchema, options ?? {}, what);
  return {
    durability: parsed.durability ?? 'fsync',
    groupCommitMs: parsed.groupCommitMs ?? DEFAULT_GROUP_COMMIT_MS,
    repairTornTail: parsed.repairTornTail ?? false,
    segmentBytes: parsed.segmentBytes,
  };
}
