/**
 * Signed snapshots: an Ed25519 signature (signing.ts) over a snapshot's hash and chain head
 * (`lastSeq`, `lastHash`), carried in its `signature` field `{ keyId, value }`. The hash covers
 * everything else, so a forger who edits a snapshot and recomputes its hash still cannot make the
 * signature hold: `restore(snapshot, tail, { publicKey })` refuses it.
 *
 * A registrar whose store signs (opened with `signing`) signs its own snapshots; host code with a
 * memory store signs with `signSnapshot(snapshot, { privateKey })`.
 */
import { frozenJsonCopy, type JsonObject } from '../attestation/canonical-json.js';
import type { AttestationStore } from '../attestation/store.js';
import { loadSigningKey, loadVerifyingKey, signatureValid, signPayload, snapshotSignaturePayload, type PrivateKeySource, type PublicKeyInput } from '../attestation/signing.js';
import { RegistrarReplayError } from './errors.js';
import { parseSnapshot, type RegistrarSnapshot } from './snapshot.js';

/** The snapshot with `signature` set (a frozen copy). */
function withSignature(snapshot: RegistrarSnapshot, signature: { keyId: string; value: string }): RegistrarSnapshot {
  return frozenJsonCopy({ ...snapshot, signature } as unknown as JsonObject) as unknown as RegistrarSnapshot;
}

/**
 * Signs a snapshot with an Ed25519 private key (the same key sources as `signing`). Throws
 * REGISTRAR_SNAPSHOT_INVALID when the snapshot's hash does not match its content, InputError for
 * a bad key.
 */
export function signSnapshot(snapshot: unknown, key: PrivateKeySource): RegistrarSnapshot {
  const parsed = parseSnapshot(snapshot);
  const signing = loadSigningKey(key, 'key');
  const payload = snapshotSignaturePayload({ hash: parsed.hash, lastSeq: parsed.lastSeq, lastHash: parsed.lastHash, keyId: signing.keyId });
  return withSignature(parsed, { keyId: signing.keyId, value: signPayload(signing, payload) });
}

/** The snapshot signed by its registrar's store (unchanged when the store does not sign). @internal */
export function signedByStore(snapshot: RegistrarSnapshot, store: AttestationStore, writer: object): RegistrarSnapshot {
  const signature = store.signSnapshot({ hash: snapshot.hash, lastSeq: snapshot.lastSeq, lastHash: snapshot.lastHash }, writer);
  return signature ? withSignature(snapshot, signature) : snapshot;
}

/** Parses a snapshot (REGISTRAR_SNAPSHOT_INVALID when malformed or tampered) and checks its signature (checkSnapshotSignature). */
export function checkSignedSnapshot(value: unknown, publicKey: PublicKeyInput, field = 'options.publicKey'): RegistrarSnapshot {
  const snapshot = parseSnapshot(value);
  checkSnapshotSignature(snapshot, publicKey, field);
  return snapshot;
}

/**
 * Checks a (parsed) snapshot's signature against a public key. Throws RegistrarReplayError
 * REGISTRAR_SNAPSHOT_UNSIGNED when it carries none, REGISTRAR_SNAPSHOT_INVALID when it is signed
 * by another key or does not hold (a forged or edited snapshot); InputError for a bad key.
 */
export function checkSnapshotSignature(snapshot: RegistrarSnapshot, publicKey: PublicKeyInput, field = 'options.publicKey'): void {
  const key = loadVerifyingKey(publicKey, field);
  const { signature } = snapshot;
  if (!signature) throw new RegistrarReplayError('REGISTRAR_SNAPSHOT_UNSIGNED', 'snapshot: it carries no signature, and a public key was given', 0);
  if (signature.keyId !== key.keyId) {
    throw new RegistrarReplayError('REGISTRAR_SNAPSHOT_INVALID', `snapshot: signed by key ${signature.keyId.slice(0, 16)}…, not the given key ${key.keyId.slice(0, 16)}…`, 0);
  }
  const payload = snapshotSignaturePayload({ hash: snapshot.hash, lastSeq: snapshot.lastSeq, lastHash: snapshot.lastHash, keyId: signature.keyId });
  if (!signatureValid(key, payload, signature.value)) {
    throw new RegistrarReplayError('REGISTRAR_SNAPSHOT_INVALID', 'snapshot: the signature does not hold over its hash and head (forged or edited)', 0);
  }
}
