/**
 * Registrar state beside the stream words: plugin grants per stream, override values, the last
 * attestation id per stream, and the actors this registrar registered.
 *
 * Grants and override values are state of the decision core (one state for every thread sharing
 * it): each is interned as canonical text (`SCOPE_SPACES.grants`: a sorted JSON array of plugin
 * keys; `SCOPE_SPACES.values`: canonical JSON of the values) and the core holds the id, changed
 * by the allowed decision that carries it. This book turns texts into ids and back (cached: an
 * interned text never changes).
 *
 * The last transition of a stream (its record's seq, id, version and state after) is remembered
 * here for the records this registrar wrote or replayed (a parent lookup that never reads the log
 * back), and the ids its writer shared; its id is otherwise derived from the stream's `lastSeq`
 * (record-ids.ts) where the log's ids are derived. Per-stream
 * entries follow the core's compaction (compaction.ts): entries of streams that no longer exist
 * are dropped whenever the map has doubled since the last pruning (amortised O(1) per request).
 */
import { canonicalJson } from '../attestation/canonical-json.js';
import { NO_ID, SCOPE_SPACES, type CoreStream, type DecisionCore } from './core.js';
import type { RecordIds } from './record-ids.js';
import type { FacadeState } from './registrar-support.js';
import type { OverrideValues } from './views.js';

/** Fewest per-stream entries before the book prunes. */
const PRUNE_MIN_ENTRIES = 4096;
/** Parsed texts kept before the caches start over (they refill from the core). */
const TEXT_CACHE_MAX = 4096;

/** The canonical text of a plugin grant set (a sorted array of distinct plugin keys). */
export function grantsText(plugins: readonly string[]): string {
  return JSON.stringify([...new Set(plugins)].sort());
}

/** The canonical text of override values (only the fields given). */
export function valuesText(values: OverrideValues): string {
  return canonicalJson({
    ...(values.speechRate !== undefined ? { speechRate: values.speechRate } : {}),
    ...(values.pauseAmplification !== undefined ? { pauseAmplification: values.pauseAmplification } : {}),
    ...(values.forcedCaptions !== undefined ? { forcedCaptions: values.forcedCaptions } : {}),
  });
}

/** The record of a stream's last accepted transition, as the book remembers it. */
export interface LastTransition {
  readonly seq: number;
  readonly id: string;
  /** Null when only the id is known (an id shared by the writer). */
  readonly version: number | null;
  readonly stateAfter: string | null;
}

/** The facade's view of that state (see the file comment). Single-threaded, like the facade. */
export class FacadeBook {
  private readonly lastAttestation = new Map<string, LastTransition>();
  private readonly registeredActors = new Set<string>();
  private readonly grantSets = new Map<number, readonly string[]>();
  private readonly valueSets = new Map<number, OverrideValues>();
  private pruneAt = PRUNE_MIN_ENTRIES;
  /** The log's derived ids, once known (record-ids.ts). */
  ids: RecordIds | null = null;

  /**
   * @param core the decision core the grants and values live in
   * @param streamExists whether the core holds a stream with this id (for pruning)
   */
  constructor(
    private readonly core: DecisionCore,
    private readonly streamExists: (stream: string) => boolean = () => true,
  ) {}

  /** The grant set id of a list of plugins (interned in the core); FULL_ID when none is left. */
  grantsId(plugins: readonly string[]): number {
    return this.core.internScope(SCOPE_SPACES.grants, grantsText(plugins));
  }

  /** The values id of override values (interned in the core), FULL_ID when none is left. */
  valuesId(values: OverrideValues): number {
    return this.core.internScope(SCOPE_SPACES.values, valuesText(values));
  }

  /** The plugins of a grant set id, sorted (empty for NO_ID). */
  plugins(grants: number): readonly string[] {
    if (grants < 0) return [];
    let plugins = this.grantSets.get(grants);
    if (plugins === undefined) {
      if (this.grantSets.size >= TEXT_CACHE_MAX) this.grantSets.clear();
      plugins = Object.freeze(JSON.parse(this.core.scopeKey(SCOPE_SPACES.grants, grants)) as string[]);
      this.grantSets.set(grants, plugins);
    }
    return plugins;
  }

  /** The values of a values id (undefined for NO_ID). */
  values(values: number): OverrideValues | undefined {
    if (values < 0) return undefined;
    let parsed = this.valueSets.get(values);
    if (parsed === undefined) {
      if (this.valueSets.size >= TEXT_CACHE_MAX) this.valueSets.clear();
      parsed = Object.freeze(JSON.parse(this.core.scopeKey(SCOPE_SPACES.values, values)) as OverrideValues);
      this.valueSets.set(values, parsed);
    }
    return parsed;
  }

  /** Whether a stream's owner allowed this plugin to mutate its graph. */
  pluginAllowed(stream: CoreStream | null, plugin: string): boolean {
    return stream !== null && this.plugins(stream.grants).includes(plugin);
  }

  /** Id of the attestation of a stream's last accepted transition (its `lastSeq`'s record). */
  lastAttestationOf(stream: string, lastSeq: number): string | null {
    if (lastSeq > 0 && this.ids?.derives(lastSeq) === true) return this.ids.of(lastSeq);
    return this.lastAttestation.get(stream)?.id ?? null;
  }

  /** The remembered last transition of a stream, when it is the record of `seq`. */
  transitionAt(stream: string | null, seq: number): LastTransition | undefined {
    const last = stream === null ? undefined : this.lastAttestation.get(stream);
    return last?.seq === seq ? last : undefined;
  }

  /** Records a stream's last accepted transition (also for decisions of other threads). */
  setLastAttestation(stream: string, record: LastTransition): void {
    this.lastAttestation.set(stream, { seq: record.seq, id: record.id, version: record.version, stateAfter: record.stateAfter });
    if (this.lastAttestation.size >= this.pruneAt) this.prune();
  }

  /** Drops the entries of streams the core no longer holds (compacted). */
  prune(): void {
    for (const stream of this.lastAttestation.keys()) if (!this.streamExists(stream)) this.lastAttestation.delete(stream);
    this.pruneAt = Math.max(PRUNE_MIN_ENTRIES, 2 * this.lastAttestation.size);
  }

  /** Per-stream entries held (last attestations), for tests of the bound. */
  get streamEntries(): number {
    return this.lastAttestation.size;
  }

  /** Remembers an actor registered through this registrar. */
  addActor(key: string): void {
    this.registeredActors.add(key);
  }

  /** Actors registered through this registrar, sorted. */
  actors(): string[] {
    return [...this.registeredActors].sort();
  }

  /** Grants of the core's streams as sorted `[stream, plugins]` pairs (for the state hash). */
  grantsImage(streams: readonly CoreStream[]): [string, string[]][] {
    const pairs: [string, string[]][] = [];
    for (const stream of streams) {
      // An empty grant set allows no plugin, like none (and a snapshot cannot tell them apart).
      const plugins = stream.grants === NO_ID ? [] : this.plugins(stream.grants);
      if (plugins.length > 0) pairs.push([this.core.streamKey(stream.stream), [...plugins]]);
    }
    return pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  /** Loads the last transitions of a snapshot (grants and values went into the core's image). */
  load(state: FacadeState, actors: readonly string[]): void {
    for (const actor of actors) this.registeredActors.add(actor);
    for (const [stream, last] of state.lastAttestation) this.lastAttestation.set(stream, last);
  }
}
