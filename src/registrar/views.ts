/** Frozen public views of the core's streams and overrides. */
import { NO_ID, OVERRIDE_SCOPES, STREAM_STATES, type CoreOverride, type CoreStream, type DecisionCore } from './core.js';
import type { OverrideView, StreamView } from './types.js';

/** Override values kept by the facade, keyed by `scope:scopeId`. */
export interface OverrideValues {
  speechRate?: number;
  pauseAmplification?: number;
  forcedCaptions?: boolean;
}

/** The facade key of an override. */
export function overrideKey(scope: string, scopeId: string): string {
  return `${scope}:${scopeId}`;
}

/** A core stream as a frozen public view. */
export function streamView(core: DecisionCore, stream: CoreStream, lastAttestation: string | null): StreamView {
  return Object.freeze({
    streamId: core.streamKey(stream.stream),
    state: STREAM_STATES[stream.state] ?? 'failed',
    owner: stream.owner === NO_ID ? null : core.actorKey(stream.owner),
    sessionId: core.scopeKey(0, stream.session),
    userId: stream.user === NO_ID ? null : core.scopeKey(1, stream.user),
    priority: stream.priority,
    version: stream.version,
    graphRevision: stream.graphRevision,
    committed: stream.committed,
    lastAttestation,
  });
}

/** A core override as a frozen public view, with the values the facade holds for it. */
export function overrideView(core: DecisionCore, override: CoreOverride, values: OverrideValues | undefined): OverrideView {
  const scope = OVERRIDE_SCOPES[override.scope] ?? 'session';
  return Object.freeze({
    owner: core.actorKey(override.owner),
    scope,
    scopeId: core.scopeKey(scope === 'user' ? 1 : 0, override.scopeId),
    ...(values ?? {}),
  });
}
