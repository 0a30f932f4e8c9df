/**
 * The plugins of one engine and the hook points the engine calls (a few lines each in
 * voice-engine.ts): `transformText` before compiling, `onGraph` between compile and commit (each
 * proposal applied only by an allowed `mutate_graph` of the plugin's own actor), `onSchedule` at a
 * play's admission, `onAudio` on every chunk, and `synthesize` plugins registered as backends.
 * With no plugin every hook point returns its input unchanged at the cost of one loop over nothing.
 */
import { createHash } from 'node:crypto';
import type { BackendConstructor, BackendRegistry } from '../backends/registry.js';
import type { SpeechGraph } from '../graph/speech-graph.js';
import type { AudioRegistrar } from '../registrar/registrar.js';
import type { AuditLogger } from '../security/audit-log.js';
import type { ScheduleView } from '../streaming/scheduler.js';
import type { SchedulePolicy } from '../streaming/schedule-policy.js';
import { parseInput } from '../validation.js';
import { PluginError } from './errors.js';
import { applyGraphMutations } from './graph-mutations.js';
import { graphViewOf, onGraphOutputSchema, onScheduleOutputSchema, pcmProblem, transformTextOutputSchema, type ChunkView } from './hook-io.js';
import { loadPluginOptionsSchema, pluginEntrySchema, type LoadPluginOptions, type PluginEntry, type PluginHookName } from './manifest.js';
import { LoadedPlugin, type PluginFault, type PluginInfo } from './plugin.js';
import { PluginBackend } from './plugin-backend.js';
import { startPlugin } from './loader.js';

/** Most faults kept in an engine's plugin audit (the oldest go first). */
const MAX_AUDITED_FAULTS = 1000;

/** What a play's `onSchedule` hooks see. */
export interface QueueView {
  /** Priority of the play being admitted (1-10). */
  priority: number;
  /** The policy the caller asked for, if any. */
  requestedPolicy: SchedulePolicy | null;
  /** This engine's plays on the device now. */
  schedule: ScheduleView;
}

/** The engine's plugins. */
export class EnginePlugins {
  readonly #registrar: AudioRegistrar;
  readonly #registry: BackendRegistry;
  readonly #plugins: LoadedPlugin[] = [];
  readonly #faults: PluginFault[] = [];
  readonly #configured: PluginEntry[];
  readonly #auditLog: AuditLogger | undefined;
  #ready: Promise<void> | undefined;

  /** `entries` (the engine's `plugins` option) load on the first `ready()`; every fault also goes to `audit` (the engine's security audit log). */
  constructor(registrar: AudioRegistrar, registry: BackendRegistry, entries: readonly PluginEntry[] = [], audit?: AuditLogger) {
    this.#registrar = registrar;
    this.#auditLog = audit;
    this.#registry = registry;
    this.#configured = entries.map((entry) => parseInput(pluginEntrySchema, entry, 'VoiceEngineOptions.plugins'));
  }

  /** Loads the configured plugins once; a failure rejects every call that waits for it. */
  ready(): Promise<void> {
    if (this.#configured.length === 0) return Promise.resolve();
    this.#ready ??= (async () => {
      for (const entry of this.#configured) {
        if (typeof entry === 'string') await this.load(entry);
        else {
          const { source, ...options } = entry;
          await this.load(source, options);
        }
      }
    })();
    return this.#ready;
  }

  /** Loads, validates and registers one plugin (see `engine.loadPlugin`). */
  async load(source: string, options: LoadPluginOptions = {}): Promise<PluginInfo> {
    const parsed = parseInput(loadPluginOptionsSchema, options, 'options');
    const started = await startPlugin(source, parsed, this.#registrar);
    const { manifest } = started;
    if (this.#plugins.some((plugin) => plugin.manifest.name === manifest.name)) {
      started.runtime.dispose();
      throw new PluginError('PLUGIN_DUPLICATE', manifest.name, 'a plugin of this name is already loaded in this engine');
    }
    // Its own actor: the handle its request() acts as, never another's.
    const handle = this.#registrar.registerActor(`plugin:${manifest.name}`);
    started.bind(handle);
    const plugin = new LoadedPlugin(manifest, started.runtime, handle, started.path, parsed, (fault) => this.#audit(fault));
    if (manifest.hooks.includes('synthesize')) {
      const backend = new PluginBackend(plugin);
      this.#registry.register({
        name: backend.name,
        description: `experimental backend of plugin ${manifest.name} ${manifest.version} (${plugin.mode})`,
        remote: false,
        load: async () => (class {
          constructor() {
            return backend;
          }
        }) as unknown as BackendConstructor,
      });
    }
    this.#plugins.push(plugin);
    return plugin.info();
  }

  /** The loaded plugins. */
  list(): PluginInfo[] {
    return this.#plugins.map((plugin) => plugin.info());
  }

  /** Audited faults and denials, oldest first. */
  faults(): PluginFault[] {
    return [...this.#faults];
  }

  /** Plugin actors the owner lets mutate its streams' graphs (`allowPlugins` of a stream's start), or undefined when none. */
  allowPlugins(): string[] | undefined {
    const keys = this.#plugins.filter((plugin) => plugin.granted.includes('mutate_graph')).map((plugin) => plugin.handle.key);
    return keys.length > 0 ? keys : undefined;
  }

  /** Compiler hook: each `transformText` plugin rewrites the text in turn (custom markup → our markup or SSML). */
  transformText(text: string): string {
    let current = text;
    for (const plugin of this.#running('transformText')) {
      const result = plugin.invoke('transformText', current, null);
      if (!result.ok) continue;
      const parsed = transformTextOutputSchema.safeParse(result.value);
      if (parsed.success) current = parsed.data;
      else this.#invalid(plugin, 'transformText', `expected a string of at most 1,000,000 characters (received ${typeof result.value})`, null);
    }
    return current;
  }

  /**
   * Compiler hook, between compile and commit: each `onGraph` plugin proposes mutations; each
   * proposal is applied only when the registrar allows the plugin's own `mutate_graph` (the owner
   * granted it; a denial such as `not_owner` is attested by the registrar and audited here).
   */
  onGraph(graph: SpeechGraph, streamId: string): SpeechGraph {
    let current = graph;
    for (const plugin of this.#running('onGraph')) {
      const result = plugin.invoke('onGraph', graphViewOf(current, streamId), streamId);
      if (!result.ok) continue;
      const parsed = onGraphOutputSchema.safeParse(result.value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        this.#invalid(plugin, 'onGraph', `mutations.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`, streamId);
        continue;
      }
      const mutations = parsed.data ?? [];
      if (mutations.length === 0) continue;
      let next: SpeechGraph;
      try {
        next = applyGraphMutations(current, mutations, `plugin-${plugin.manifest.name}`);
      } catch (error) {
        this.#invalid(plugin, 'onGraph', error instanceof Error ? error.message : String(error), streamId);
        continue;
      }
      const hash = `sha256:${createHash('sha256').update(JSON.stringify(next)).digest('hex')}`;
      const decision = this.#registrar.request({ action: 'mutate_graph', actor: plugin.handle, target: streamId, metadata: { graphHash: hash, mutations: mutations.length, pluginMode: plugin.mode } });
      if (decision.allowed) current = next;
      else plugin.denied('onGraph', decision.reason ?? 'denied', decision.message, streamId);
    }
    return current;
  }

  /** Runtime hook: the last `onSchedule` proposal's policy for a play being admitted (undefined: none). */
  onSchedule(view: QueueView): SchedulePolicy | undefined {
    let policy: SchedulePolicy | undefined;
    for (const plugin of this.#running('onSchedule')) {
      const result = plugin.invoke('onSchedule', view, null);
      if (!result.ok) continue;
      const parsed = onScheduleOutputSchema.safeParse(result.value);
      if (!parsed.success) this.#invalid(plugin, 'onSchedule', `proposal.${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? 'invalid'}`, null);
      else if (parsed.data?.policy) policy = parsed.data.policy;
    }
    return policy;
  }

  /** Audio hook: each `onAudio` plugin processes a copy of the chunk; a result of another length or with a non-finite sample is rejected. */
  onAudio(pcm: Float32Array, view: Omit<ChunkView, 'pcm'>): Float32Array {
    let current = pcm;
    for (const plugin of this.#running('onAudio')) {
      const result = plugin.invoke('onAudio', { ...view, pcm: current }, view.streamId);
      if (!result.ok) continue;
      const problem = pcmProblem(result.value, current.length);
      if (problem) this.#invalid(plugin, 'onAudio', problem, view.streamId);
      else current = result.value as Float32Array;
    }
    return current;
  }

  /** Whether any loaded plugin has `hook` (so the engine can skip building a view). */
  has(hook: PluginHookName): boolean {
    return this.#plugins.some((plugin) => plugin.runs(hook));
  }

  /** Disposes every plugin's runtime. */
  dispose(): void {
    for (const plugin of this.#plugins) plugin.dispose();
  }

  #running(hook: PluginHookName): LoadedPlugin[] {
    return this.#plugins.filter((plugin) => plugin.runs(hook));
  }

  #invalid(plugin: LoadedPlugin, hook: PluginHookName, message: string, streamId: string | null): void {
    plugin.fault(new PluginError('PLUGIN_OUTPUT_INVALID', plugin.manifest.name, `returned ${message}`, { hook }), streamId);
  }

  #audit(fault: PluginFault): void {
    this.#auditLog?.pluginViolation({ plugin: fault.plugin, actor: `plugin:${fault.plugin}`, ...(fault.streamId !== null ? { streamId: fault.streamId } : {}), reason: `${fault.code} in ${fault.hook} (${fault.outcome}): ${fault.message}` });
    this.#faults.push(fault);
    if (this.#faults.length > MAX_AUDITED_FAULTS) this.#faults.shift();
  }
}
