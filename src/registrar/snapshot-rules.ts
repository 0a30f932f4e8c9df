/**
 * The rules a snapshot's state must keep (spec §1, §3.1), checked whenever a snapshot is parsed
 * (restore, signing, audit), and the check that a restored snapshot is the state its `stateHash`
 * names. A snapshot's `hash` only shows it was not edited after it was sealed: a forger who edits
 * one recomputes it (and its `stateHash`). These checks refuse every state the registrar can never
 * reach, whatever the hashes say:
 *
 * - every actor key is `"kind:id"` with a known kind;
 * - a stream's id is a stream id, its session is named, its owner (when it has one) is an actor key,
 *   its version and last seq show at least one transition no later than the snapshot's, its plugin
 *   grants name plugins, and a stream created with a `userId` implies that user's membership of its
 *   session (`memberships`, `stream: true`);
 * - an override's owner is a user; a user-scoped override is its owner's own (`scopeId` is the
 *   owner's id); a session-scoped one belongs to a member of that session (`memberships`); at most
 *   one override per scope and scope id;
 * - memberships are listed once per user and session; a snapshot without `memberships` (taken before
 *   they existed) cannot be checked and is refused.
 *
 * What they cannot refuse: a state the rules allow but the log never reached (an override removed,
 * a stream owned by another registered actor, a membership declared that the host never declared;
 * a declaration is trusted the same way in replay, membership.ts). Only a signature
 * (snapshot-signature.ts) or a replay of the log shows those.
 */
import { RegistrarReplayError } from './errors.js';
import { ACTOR_KEY, STREAM_ID } from './request-schema.js';

/** A rule a snapshot breaks: the path of the offending field and why. */
export interface SnapshotRuleIssue {
  path: (string | number)[];
  message: string;
}

/** The parts of a snapshot the rules read (the schema's output, before refinement). */
export interface SnapshotState {
  lastSeq: number;
  actors: readonly string[];
  streams: readonly { streamId: string; owner: string | null; sessionId: string; userId: string | null; version: number; lastSeq: number; plugins: readonly string[] }[];
  overrides: readonly { owner: string; scope: 'session' | 'user'; scopeId: string }[];
  memberships?: readonly { userId: string; sessionId: string; declared: boolean; stream: boolean }[] | undefined;
}

const PLUGIN_KEY = /^plugin:\S{1,128}$/;

/** Every rule the snapshot breaks (empty when it keeps them all), in field order. */
export function snapshotRuleIssues(snapshot: SnapshotState): SnapshotRuleIssue[] {
  const issues: SnapshotRuleIssue[] = [];
  const add = (path: (string | number)[], message: string) => issues.push({ path, message });
  snapshot.actors.forEach((actor, index) => {
    if (!ACTOR_KEY.test(actor)) add(['actors', index], `is ${JSON.stringify(actor)}, not "kind:id" with kind user|agent|plugin|system`);
  });
  if (snapshot.memberships === undefined) {
    add(['memberships'], 'is absent: the snapshot was taken before session memberships existed, so its overrides cannot be checked; replay the log instead');
    return issues;
  }
  const members = new Map<string, { declared: boolean; stream: boolean }>();
  snapshot.memberships.forEach((entry, index) => {
    const key = pairKey(entry.userId, entry.sessionId);
    if (members.has(key)) add(['memberships', index], `lists user ${entry.userId} in session ${entry.sessionId} twice`);
    members.set(key, entry);
  });
  const streamIds = new Set<string>();
  snapshot.streams.forEach((stream, index) => {
    const at = (field: string) => ['streams', index, field];
    if (!STREAM_ID.test(stream.streamId)) add(at('streamId'), `is ${JSON.stringify(stream.streamId)}, not a stream id (1-200 non-space characters)`);
    if (streamIds.has(stream.streamId)) add(at('streamId'), `${stream.streamId} is listed twice`);
    streamIds.add(stream.streamId);
    if (stream.sessionId.length === 0) add(at('sessionId'), 'is empty: every stream belongs to a session');
    if (stream.owner !== null && !ACTOR_KEY.test(stream.owner)) add(at('owner'), `is ${JSON.stringify(stream.owner)}, not "kind:id" with a known kind`);
    if (stream.version < 1) add(at('version'), `is ${stream.version}: a stream exists after at least one accepted transition`);
    if (stream.lastSeq < 1 || stream.lastSeq > snapshot.lastSeq) add(at('lastSeq'), `is ${stream.lastSeq}, outside 1..${snapshot.lastSeq} (the snapshot's lastSeq)`);
    stream.plugins.forEach((plugin, pluginIndex) => {
      if (!PLUGIN_KEY.test(plugin)) add(['streams', index, 'plugins', pluginIndex], `is ${JSON.stringify(plugin)}, not "plugin:id"`);
    });
    if (stream.userId !== null && members.get(pairKey(stream.userId, stream.sessionId))?.stream !== true) {
      add(at('userId'), `is ${stream.userId}, but memberships does not list user ${stream.userId} in session ${stream.sessionId} as implied by a stream (a stream created with a userId makes that user a member of its session)`);
    }
  });
  const scopes = new Set<string>();
  snapshot.overrides.forEach((override, index) => {
    const at = (field: string) => ['overrides', index, field];
    const scopeKey = `${override.scope}:${override.scopeId}`;
    if (scopes.has(scopeKey)) add(at('scopeId'), `override ${scopeKey} is listed twice (at most one per scope and scope id)`);
    scopes.add(scopeKey);
    const owner = ACTOR_KEY.exec(override.owner);
    if (owner === null || owner[1] !== 'user') {
      add(at('owner'), `is ${JSON.stringify(override.owner)}, not a user: an override's owner is a user (spec §1)`);
      return;
    }
    const ownerId = owner[2] ?? '';
    if (override.scope === 'user' && override.scopeId !== ownerId) {
      add(at('scopeId'), `is ${override.scopeId}, but a user-scoped override is its owner's own (scopeId ${ownerId} for ${override.owner})`);
    }
    if (override.scope === 'session' && !members.has(pairKey(ownerId, override.scopeId))) {
      add(at('owner'), `is ${override.owner}, who is not a member of session ${override.scopeId} in memberships: a user enables a session override only for a session they belong to`);
    }
  });
  return issues;
}

/**
 * Throws REGISTRAR_SNAPSHOT_INVALID when the state a snapshot restored to does not hash to the
 * snapshot's `stateHash` (its content was edited after the state hash was taken, or it was taken
 * while another thread was deciding on a shared core and is not one consistent state).
 */
export function checkRestoredState(snapshot: { stateHash: string }, restoredStateHash: string): void {
  if (restoredStateHash === snapshot.stateHash) return;
  throw new RegistrarReplayError(
    'REGISTRAR_SNAPSHOT_INVALID',
    `snapshot: stateHash ${snapshot.stateHash.slice(0, 16)}… is not the hash of the state it restores (${restoredStateHash.slice(0, 16)}…): its streams, overrides, grants, memberships, halted flag or lastSeq are not the ones it was taken with`,
    0,
  );
}

function pairKey(userId: string, sessionId: string): string {
  return JSON.stringify([userId, sessionId]);
}
