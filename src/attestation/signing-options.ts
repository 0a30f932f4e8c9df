/**
 * The `signing` option group of `AttestationStore.open` and `AudioRegistrar.openLog`: which key
 * signs checkpoints, how often, and where they are anchored; validated with zod (InputError naming
 * the field) and loaded (the key file's permissions checked) before any file is touched.
 */
import { z } from 'zod';
import type { Checkpoint } from './checkpoint.js';
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
