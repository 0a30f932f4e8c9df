/**
 * Model files verified before they are loaded (the 2.4 threat model's model poisoning): the
 * file's SHA-256 must equal `modelSha256`, and with `modelSignature` (base64) and
 * `modelPublicKey` (PEM, or base64 of the raw 32-byte key) the file must carry a valid detached
 * Ed25519 signature over its bytes (as `openssl pkeyutl -sign -rawin` makes). A mismatch refuses
 * to load with `BACKEND_MODEL_UNVERIFIED`, naming what differed. Contract: with a pin the file is
 * read once, the checks run on those bytes and those bytes are what the runtime loads
 * (`verifyModelFile` returns them), so a file swapped after the check is never the model that runs.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { BackendError, InputError } from '../errors.js';

/** Option fields of the ONNX backends (Kokoro, Piper) that pin their model file. */
export const modelVerifyOptions = {
  /** Expected SHA-256 of the model file (64 hex digits); a different file refuses to load. */
  modelSha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'expected 64 hexadecimal digits').optional(),
  /** Detached Ed25519 signature of the model file, base64 (needs `modelPublicKey`). */
  modelSignature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'expected a base64 Ed25519 signature (64 bytes)').optional(),
  /** Ed25519 public key that signed the model: PEM (SPKI) or base64 of the raw 32 bytes. */
  modelPublicKey: z.string().min(1).max(1000).optional(),
};

/** What `verifyModelFile` checks. */
export interface ModelPins {
  modelSha256?: string | undefined;
  modelSignature?: string | undefined;
  modelPublicKey?: string | undefined;
}

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), followed by the 32 raw key bytes. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Parses `modelPublicKey` (PEM or raw base64); InputError naming `field` when it is not an Ed25519 key. */
export function readEd25519PublicKey(text: string, field: string): KeyObject {
  let key: KeyObject;
  try {
    if (text.includes('-----BEGIN')) key = createPublicKey(text);
    else {
      const raw = Buffer.from(text, 'base64');
      if (raw.length !== 32) throw new Error(`${raw.length} bytes`);
      key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
    }
  } catch (error) {
    throw new InputError(`${field}: expected an Ed25519 public key (PEM, or base64 of 32 bytes)`, { field, cause: error });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new InputError(`${field}: expected an Ed25519 public key (received ${key.asymmetricKeyType ?? 'another key type'})`, { field });
  return key;
}

/** Checks the pins' shape once, at construction: a signature and its key go together. */
export function checkModelPins(pins: ModelPins, what: string): void {
  if ((pins.modelSignature === undefined) !== (pins.modelPublicKey === undefined)) {
    const field = pins.modelSignature === undefined ? 'modelSignature' : 'modelPublicKey';
    throw new InputError(`${what}.${field}: modelSignature and modelPublicKey go together (give both or neither)`, { field: `${what}.${field}` });
  }
  if (pins.modelPublicKey !== undefined) readEd25519PublicKey(pins.modelPublicKey, `${what}.modelPublicKey`);
}

/**
 * Refuses (BackendError `BACKEND_MODEL_UNVERIFIED`) a model file that does not match its pins.
 * Returns the verified bytes (load these, not the path: the file may change after the check), or
 * null without pins (nothing read).
 */
export async function verifyModelFile(backend: string, path: string, pins: ModelPins): Promise<Uint8Array | null> {
  if (pins.modelSha256 === undefined && (pins.modelSignature === undefined || pins.modelPublicKey === undefined)) return null;
  const bytes = await readFile(path);
  if (pins.modelSha256 !== undefined) {
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== pins.modelSha256.toLowerCase()) {
      throw new BackendError(backend, 'BACKEND_MODEL_UNVERIFIED', `model file ${path} has SHA-256 ${actual}, expected ${pins.modelSha256.toLowerCase()} (modelSha256): refusing to load it`);
    }
  }
  if (pins.modelSignature !== undefined && pins.modelPublicKey !== undefined) {
    const key = readEd25519PublicKey(pins.modelPublicKey, 'modelPublicKey');
    const valid = verify(null, bytes, key, Buffer.from(pins.modelSignature, 'base64'));
    if (!valid) throw new BackendError(backend, 'BACKEND_MODEL_UNVERIFIED', `model file ${path} does not carry a valid Ed25519 signature by modelPublicKey (modelSignature): refusing to load it`);
  }
  return bytes;
}
