/**
 * Ed25519 signing keys of the attestation layer, with node:crypto only. A signer's private key
 * comes from options (a `KeyObject` or PEM text) or from a PEM file that only its owner may read:
 * like ssh, a key file that its group or others can read is refused (AttestationError
 * ATTESTATION_KEY_PERMISSIONS). Auditors get the public key (PEM, SPKI); a key is named by its
 * `keyId`, the SHA-256 (hex) of the public key's DER SPKI encoding. Signatures are Ed25519 over
 * the UTF-8 text of a canonical-JSON payload, in base64.
 */
import { createHash, createPrivateKey, createPublicKey, KeyObject, sign, verify } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { canonicalJson } from './canonical-json.js';
import { AttestationError } from './errors.js';
import { InputError } from '../errors.js';
import { parseInput } from '../validation.js';

/** A private key: a node:crypto `KeyObject` or PEM text (PKCS#8). */
export type PrivateKeyInput = KeyObject | string;
/** A public key: a node:crypto `KeyObject` or PEM text (SPKI; a private key's PEM also works). */
export type PublicKeyInput = KeyObject | string;

/** Where a private key comes from: exactly one of `privateKey` and `privateKeyFile`. */
export interface PrivateKeySource {
  /** The key itself (KeyObject or PEM text). */
  privateKey?: PrivateKeyInput;
  /** A PEM file holding it; refused when its group or others may read it (chmod 600). */
  privateKeyFile?: string;
}

/** A loaded signing key. */
export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** SHA-256 (hex) of the public key's DER SPKI encoding. */
  readonly keyId: string;
  /** The public key as PEM (SPKI), for auditors. */
  readonly publicKeyPem: string;
}

/** A public key ready to check signatures with. */
export interface VerifyingKey {
  readonly publicKey: KeyObject;
  readonly keyId: string;
}

const keyInput = z.union([z.custom<KeyObject>((value) => value instanceof KeyObject, 'expected a KeyObject'), z.string().min(1)]);

/** zod schema of a private key source (exactly one of the two fields). */
export const privateKeySourceSchema = z
  .strictObject({ privateKey: keyInput.optional(), privateKeyFile: z.string().min(1).optional() })
  .refine((source) => (source.privateKey === undefined) !== (source.privateKeyFile === undefined), {
    message: 'give exactly one of privateKey and privateKeyFile',
  });

/** The key id of a public key: SHA-256 (hex) of its DER SPKI encoding. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

/**
 * Loads a signing key from `source` (validated; `field` names it in errors). Throws InputError
 * naming the field for a missing, unreadable or non-Ed25519 key, AttestationError
 * ATTESTATION_KEY_PERMISSIONS for a key file its group or others may read.
 */
export function loadSigningKey(source: PrivateKeySource, field: string): SigningKey {
  const parsed = parseInput(privateKeySourceSchema, source, field);
  let privateKey: KeyObject;
  if (parsed.privateKeyFile !== undefined) {
    privateKey = privateKeyFromFile(parsed.privateKeyFile, `${field}.privateKeyFile`);
  } else {
    privateKey = privateKeyFrom(parsed.privateKey as PrivateKeyInput, `${field}.privateKey`);
  }
  const publicKey = createPublicKey(privateKey);
  return Object.freeze({ privateKey, publicKey, keyId: keyIdOf(publicKey), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() });
}

/** The public key (PEM, SPKI) of a private key given as for signing: what auditors verify with. */
export function publicKeyPemOf(source: PrivateKeySource): string {
  return loadSigningKey(source, 'source').publicKeyPem;
}

/** Loads a public key (PEM text or KeyObject; a private key gives its public half). Throws InputError naming `field`. */
export function loadVerifyingKey(input: PublicKeyInput, field: string): VerifyingKey {
  const given = parseInput(keyInput, input, field);
  let publicKey: KeyObject;
  try {
    publicKey = typeof given === 'string' ? createPublicKey(given) : given.type === 'public' ? given : createPublicKey(given);
  } catch (cause) {
    throw new InputError(`${field}: expected an Ed25519 public key (PEM or KeyObject): ${(cause as Error).message}`, { field, cause });
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw new InputError(`${field}: expected an Ed25519 key, got ${publicKey.asymmetricKeyType ?? 'a secret key'}`, { field });
  }
  return Object.freeze({ publicKey, keyId: keyIdOf(publicKey) });
}

/** Reads a public key from a PEM file. Throws InputError naming `field`. */
export function loadVerifyingKeyFile(path: string, field: string): VerifyingKey {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new InputError(`${field}: cannot read ${path}: ${(cause as Error).message}`, { field, cause });
  }
  return loadVerifyingKey(text, field);
}

/** Ed25519 signature (base64) of a payload's canonical JSON. */
export function signPayload(key: SigningKey, payload: object): string {
  return sign(null, Buffer.from(canonicalJson(payload), 'utf8'), key.privateKey).toString('base64');
}

/** Whether `signature` (base64) is `key`'s Ed25519 signature of the payload's canonical JSON. */
export function signatureValid(key: VerifyingKey, payload: object, signature: string): boolean {
  try {
    return verify(null, Buffer.from(canonicalJson(payload), 'utf8'), key.publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** The `kind` of a snapshot signature's payload (so no other signed text can pass for one). */
export const SNAPSHOT_SIGNATURE_KIND = 'voice-soundboard.snapshot-signature';

/** What a snapshot signature signs: the snapshot's hash and chain head, and the key id. */
export function snapshotSignaturePayload(fields: { hash: string; lastSeq: number; lastHash: string; keyId: string }): object {
  return { kind: SNAPSHOT_SIGNATURE_KIND, v: 1, hash: fields.hash, lastSeq: fields.lastSeq, lastHash: fields.lastHash, keyId: fields.keyId };
}

function privateKeyFrom(input: PrivateKeyInput, field: string): KeyObject {
  let key: KeyObject;
  try {
    key = typeof input === 'string' ? createPrivateKey(input) : input;
  } catch (cause) {
    throw new InputError(`${field}: expected an Ed25519 private key (PEM): ${(cause as Error).message}`, { field, cause });
  }
  if (key.type !== 'private') throw new InputError(`${field}: expected a private key, got a ${key.type} key`, { field });
  if (key.asymmetricKeyType !== 'ed25519') throw new InputError(`${field}: expected an Ed25519 key, got ${key.asymmetricKeyType ?? 'another kind'}`, { field });
  return key;
}

function privateKeyFromFile(path: string, field: string): KeyObject {
  let mode: number;
  let text: string;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new InputError(`${field}: cannot read ${path}: ${(cause as Error).message}`, { field, cause });
  }
  // Like ssh: a private key others may read is not private. (Windows has no such mode bits.)
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new AttestationError(
      'ATTESTATION_KEY_PERMISSIONS',
      `${field}: the private key file ${path} is readable or writable by its group or others (mode ${(mode & 0o777).toString(8).padStart(3, '0')}); run chmod 600 on it`,
      { path },
    );
  }
  return privateKeyFrom(text, field);
}
