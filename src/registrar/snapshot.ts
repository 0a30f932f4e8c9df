/**
 * Registrar snapshots (spec §6): a versioned, hashed image of every stream, override, plugin grant,
 * registered actor and session membership the log proves (membership.ts), plus the chain head (last seq and hash) and the compaction policy the log
 * is written under. `restore(snapshot, tail)` equals a full replay of the log. A snapshot may carry
 * an Ed25519 `signature` over its hash and head (snapshot-signature.ts); the hash leaves it out.
 * Parsing checks the shape, the rules its state must keep (snapshot-rules.ts) and the hash.
 */
import { z } from 'zod';
import { canonicalJson, frozenJsonCopy, sha256Hex, type JsonObject } from '../attestation/canonical-json.js';
import { statedPolicySchema } from './compaction-record.js';
import { ACTOR_KINDS, NO_ID, OVERRIDE_SCOPES, SCOPE_SPACES, STREAM_STATES, type CoreImage, type DecisionCore } from './core.js';
import { grantsText, valuesText } from './facade-state.js';
import { RegistrarReplayError } from './errors.js';
import { coreMemberships } from './membership.js';
import { requestMetadataSchema } from './request-schema.js';
import { snapshotRuleIssues } from './snapshot-rules.js';
import type { FacadeState } from './registrar-support.js';
import { REGISTRAR_SCHEMA_VERSION } from './version.js';

/** The `kind` of a snapshot document. */
export const SNAPSHOT_KIND = 'voice-soundboard.registrar-snapshot';

const streamEntry = z.strictObject({
  streamId: z.string().min(1),
  state: z.enum(STREAM_STATES),
  owner: z.string().nullable(),
  sessionId: z.string(),
  userId: z.string().nullable(),
  priority: z.number().int().min(1).max(10),
  version: z.number().int().nonnegative(),
  graphRevision: z.number().int().nonnegative(),
  committed: z.boolean(),
  lastAttestation: z.string().nullable(),
  lastSeq: z.number().int().nonnegative(),
  plugins: z.array(z.string()),
});

/** zod schema of a snapshot. */
export const snapshotSchema = z.strictObject({
  kind: z.literal(SNAPSHOT_KIND),
  v: z.string(),
  lastSeq: z.number().int().nonnegative(),
  lastHash: z.string().regex(/^[0-9a-f]{64}$/),
  halted: z.boolean(),
  /** The compaction policy of the log (compaction-record.ts); null or absent (older snapshots): none. */
  compaction: statedPolicySchema.nullable().optional(),
  actors: z.array(z.string()),
  streams: z.array(streamEntry),
  overrides: z.array(
    z.strictObject({
      owner: z.string(),
      scope: z.enum(OVERRIDE_SCOPES),
      scopeId: z.string(),
      speechRate: requestMetadataSchema.shape.speechRate,
      pauseAmplification: requestMetadataSchema.shape.pauseAmplification,
      forcedCaptions: z.boolean().optional(),
    }),
  ),
  /** Session memberships the log proves (membership.ts); absent in older snapshots: none. */
  memberships: z
    .array(
      z
        .strictObject({ userId: z.string().min(1), sessionId: z.string().min(1), declared: z.boolean(), stream: z.boolean() })
        .refine((entry) => entry.declared || entry.stream, 'a membership is declared, implied by a stream, or both'),
    )
    .optional(),
  stateHash: z.string(),
  hash: z.string(),
  /** Ed25519 signature of the hash and head (snapshot-signature.ts); absent when unsigned. */
  signature: z.strictObject({ keyId: z.string().regex(/^[0-9a-f]{64}$/), value: z.string().min(1) }).optional(),
}).superRefine((snapshot, context) => {
  // The rules its state must keep, whatever its hashes say (snapshot-rules.ts).
  for (const issue of snapshotRuleIssues(snapshot)) context.addIssue({ code: 'custom', path: issue.path, message: issue.message });
});

/** A registrar snapshot (frozen, JSON-serialisable). */
export type RegistrarSnapshot = z.output<typeof snapshotSchema>;

/** Hash of a snapshot's content (everything but `hash` and `signature`). */
export function snapshotHash(snapshot: Omit<RegistrarSnapshot, 'hash'> & { hash?: string }): string {
  const { hash: _ignored, signature: _signature, ...content } = snapshot;
  void [_ignored, _signature];
  return sha256Hex(canonicalJson(content));
}

/** Seals snapshot content with its hash and freezes it (unsigned: a signature given in `content` is dropped). */
export function sealSnapshot(content: Omit<RegistrarSnapshot, 'hash' | 'kind' | 'v'>): RegistrarSnapshot {
  const { signature: _signature, ...unsigned } = content;
  void _signature;
  const withKind = { kind: SNAPSHOT_KIND, v: REGISTRAR_SCHEMA_VERSION, ...unsigned } as const;
  return frozenJsonCopy({ ...withKind, hash: snapshotHash(withKind) } as unknown as JsonObject) as unknown as RegistrarSnapshot;
}

/** Validates a snapshot (shape, rules and hash); throws REGISTRAR_SNAPSHOT_INVALID naming the first bad field. */
export function parseSnapshot(value: unknown): RegistrarSnapshot {
  const parsed = snapshotSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RegistrarReplayError('REGISTRAR_SNAPSHOT_INVALID', `snapshot: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`.trim(), 0);
  }
  if (snapshotHash(parsed.data) !== parsed.data.hash) throw new RegistrarReplayError('REGISTRAR_SNAPSHOT_INVALID', 'snapshot: hash does not match its content (tampered)', 0);
  return parsed.data;
}

function kindOf(key: string): number {
  return ACTOR_KINDS.indexOf(key.slice(0, key.indexOf(':')) as (typeof ACTOR_KINDS)[number]);
}

/** Loads a snapshot into a core; returns the facade state to hand to the registrar. */
export function loadSnapshot(core: DecisionCore, snapshot: RegistrarSnapshot): FacadeState {
  for (const actor of snapshot.actors) core.registerActor(actor, kindOf(actor));
  const image: CoreImage = {
    lastSeq: snapshot.lastSeq,
    halted: snapshot.halted,
    streams: snapshot.streams.map((stream) => ({
      stream: core.internStream(stream.streamId),
      state: STREAM_STATES.indexOf(stream.state),
      owner: stream.owner === null ? NO_ID : core.registerActor(stream.owner, kindOf(stream.owner)),
      session: core.internScope(0, stream.sessionId),
      user: stream.userId === null ? NO_ID : core.internScope(1, stream.userId),
      priority: stream.priority,
      version: stream.version,
      graphRevision: stream.graphRevision,
      committed: stream.committed,
      lastSeq: stream.lastSeq,
      // A snapshot lists no plugins both for "no grants" and for an empty grant set: both allow none.
      grants: stream.plugins.length > 0 ? core.internScope(SCOPE_SPACES.grants, grantsText(stream.plugins)) : NO_ID,
    })),
    overrides: snapshot.overrides.map((override) => ({
      owner: core.registerActor(override.owner, kindOf(override.owner)),
      scope: OVERRIDE_SCOPES.indexOf(override.scope),
      scopeId: core.internScope(override.scope === 'user' ? 1 : 0, override.scopeId),
      values: core.internScope(SCOPE_SPACES.values, valuesText(override)),
    })),
    memberships: coreMemberships(core, snapshot.memberships ?? []),
  };
  core.load(image);
  return {
    lastAttestation: snapshot.streams
      .filter((stream) => stream.lastAttestation !== null)
      .map((stream) => [stream.streamId, { seq: stream.lastSeq, id: stream.lastAttestation ?? '', version: stream.version, stateAfter: stream.state }]),
  };
}
