/**
 * Registrar state that is not the decision core's business but is part of the registrar's state
 * (and its state hash and snapshot): plugin grants per stream, override values, the last
 * attestation id per stream, and the actors this registrar registered. Re-derived on replay.
 *
 * Per-stream entries follow the core's compaction (compaction.ts): a stream's grants are reset
 * when it is created (so a re-created compacted id starts without the old grants), the grants
 * image lists only streams that exist, and entries of streams that no longer exist are dropped
 * whenever the per-stream maps have doubled since the last pruning (amortised O(1) per request),
 * so the book holds about as many entries as the core holds streams.
 */
import type { Attestation } from '../attestation/record.js';

/** Fewest per-stream entries before the book prunes. */
const PRUNE_MIN_ENTRIES = 4096;
import type { ValidRequest } from './request-schema.js';
import type { FacadeState } from './registrar-support.js';
import { overrideKey, type OverrideValues } from './views.js';

/** The facade's own state (see the file comment). Single-threaded, like the facade. */
export class FacadeBook {
  private readonly grants = new Map<string, ReadonlySet<string>>();
  private readonly overrideValues = new Map<string, OverrideValues>();
  private readonly lastAttestation = new Map<string, string>();
  private readonly registeredActors = new Set<string>();
  private pruneAt = PRUNE_MIN_ENTRIES;

  /** @param streamExists whether the core holds a stream with this id (default: every id does; nothing is pruned) */
  constructor(private readonly streamExists: (stream: string) => boolean = () => true) {}

  /** Applies an allowed decision's side of the facade. */
  apply(request: ValidRequest, streamKey: string | null, record: Attestation): void {
    const metadata = request.metadata ?? {};
    if (streamKey !== null && record.stateAfter !== null) this.setLastAttestation(streamKey, record.id);
    // A created stream starts with no grants (its id may be a compacted stream's).
    if (streamKey !== null && record.stateBefore === null && record.stateAfter !== null) this.grants.delete(streamKey);
    if (streamKey !== null && (request.action === 'start' || request.action === 'claim' || request.action === 'compile') && metadata.allowPlugins) {
      this.grants.set(streamKey, new Set(metadata.allowPlugins));
    }
    if (streamKey !== null && (request.action === 'transfer' || request.action === 'release')) this.grants.delete(streamKey);
    if (metadata.scope !== undefined && metadata.scopeId !== undefined) {
      const key = overrideKey(metadata.scope, metadata.scopeId);
      const values: OverrideValues = {
        ...(metadata.speechRate !== undefined ? { speechRate: metadata.speechRate } : {}),
        ...(metadata.pauseAmplification !== undefined ? { pauseAmplification: metadata.pauseAmplification } : {}),
        ...(metadata.forcedCaptions !== undefined ? { forcedCaptions: metadata.forcedCaptions } : {}),
      };
      if (request.action === 'enable_override') this.overrideValues.set(key, values);
      if (request.action === 'update_override') this.overrideValues.set(key, { ...this.overrideValues.get(key), ...values });
      if (request.action === 'disable_override') this.overrideValues.delete(key);
    }
  }

  /** Whether the owner of `stream` allowed this plugin to mutate its graph. */
  pluginAllowed(stream: string, plugin: string): boolean {
    return this.grants.get(stream)?.has(plugin) ?? false;
  }

  /** Plugins allowed on a stream, sorted. */
  pluginsOf(stream: string): string[] {
    return [...(this.grants.get(stream) ?? [])].sort();
  }

  /** Values of an override. */
  valuesOf(scope: string, scopeId: string): OverrideValues | undefined {
    return this.overrideValues.get(overrideKey(scope, scopeId));
  }

  /** Id of the attestation of a stream's last accepted transition. */
  lastAttestationOf(stream: string): string | null {
    return this.lastAttestation.get(stream) ?? null;
  }

  /** Records a stream's last accepted transition (also for decisions of other threads). */
  setLastAttestation(stream: string, id: string): void {
    this.lastAttestation.set(stream, id);
    if (this.lastAttestation.size + this.grants.size >= this.pruneAt) this.prune();
  }

  /** Drops the entries of streams the core no longer holds (compacted). */
  prune(): void {
    for (const stream of this.lastAttestation.keys()) if (!this.streamExists(stream)) this.lastAttestation.delete(stream);
    for (const stream of this.grants.keys()) if (!this.streamExists(stream)) this.grants.delete(stream);
    this.pruneAt = Math.max(PRUNE_MIN_ENTRIES, 2 * (this.lastAttestation.size + this.grants.size));
  }

  /** Per-stream entries held (last attestations and grants), for tests of the bound. */
  get streamEntries(): number {
    return this.lastAttestation.size + this.grants.size;
  }

  /** Remembers an actor registered through this registrar. */
  addActor(key: string): void {
    this.registeredActors.add(key);
  }

  /** Actors registered through this registrar, sorted. */
  actors(): string[] {
    return [...this.registeredActors].sort();
  }

  /** Grants of existing streams as sorted `[stream, plugins]` pairs (for the state hash). */
  grantsImage(): [string, string[]][] {
    return [...this.grants.keys()].filter((stream) => this.streamExists(stream)).sort().map((stream) => [stream, this.pluginsOf(stream)]);
  }

  /** Loads state from a snapshot. */
  load(state: FacadeState, actors: readonly string[]): void {
    for (const actor of actors) this.registeredActors.add(actor);
    for (const [stream, plugins] of state.grants) this.grants.set(stream, new Set(plugins));
    for (const [key, values] of state.overrideValues) this.overrideValues.set(key, { ...values });
    for (const [stream, id] of state.lastAttestation) this.lastAttestation.set(stream, id);
  }
}
