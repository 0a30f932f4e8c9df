/**
 * One loaded plugin: its validated manifest, its runtime (isolate or trusted), its own actor handle
 * (`plugin:<name>`), what the owner granted, and its fault record. `invoke` contains a hook's
 * fault: it is audited here (and counted: `maxFaults` faults disable the plugin), then skipped or
 * rethrown per the hook's policy. A hook is never entered twice at once (reentrancy is a fault).
 */
import type { ActorHandle } from '../registrar/actor-handle.js';
import { PluginError } from './errors.js';
import type { PluginHookName, PluginManifest, PluginPermission, ParsedLoadPluginOptions } from './manifest.js';
import type { PluginRuntime } from './runtime.js';

/** One audited hook fault (or a registrar denial of a plugin's proposal). */
export interface PluginFault {
  /** ISO 8601 time. */
  at: string;
  plugin: string;
  hook: string;
  code: string;
  message: string;
  /** The stream the hook ran for, when there was one. */
  streamId: string | null;
  /** What the engine did: went on without the hook's effect, failed the stream, or recorded a denial. */
  outcome: 'skipped' | 'failed' | 'denied';
}

/** A plugin as `engine.plugins()` and health show it. */
export interface PluginInfo {
  name: string;
  version: string;
  apiVersion: string;
  hooks: PluginHookName[];
  /** Permissions the manifest asks for. */
  permissions: PluginPermission[];
  /** Permissions the owner granted that the manifest asked for (the ones in effect). */
  granted: PluginPermission[];
  /** `isolate` (sandboxed) or `trusted` (in-process, explicit opt-in). */
  mode: 'isolate' | 'trusted';
  /** The actor the plugin acts as. */
  actor: string;
  /** Disabled after `maxFaults` faults: its hooks no longer run. */
  disabled: boolean;
  faults: number;
  /** Where the plugin was loaded from. */
  path: string;
  /** The id of the plugin's sandbox process (isolate mode; it changes when the watchdog restarts it). */
  sandboxPid?: number;
}

/** The result of one hook call: its value, or the contained fault (policy `skip`). */
export type HookResult = { ok: true; value: unknown } | { ok: false; fault: PluginError };

/** A loaded plugin. */
export class LoadedPlugin {
  readonly manifest: PluginManifest;
  readonly handle: ActorHandle;
  readonly path: string;
  readonly granted: readonly PluginPermission[];
  readonly #runtime: PluginRuntime;
  readonly #options: ParsedLoadPluginOptions;
  readonly #audit: (fault: PluginFault) => void;
  #faults = 0;
  #disabled = false;
  #busy = false;

  constructor(manifest: PluginManifest, runtime: PluginRuntime, handle: ActorHandle, path: string, options: ParsedLoadPluginOptions, audit: (fault: PluginFault) => void) {
    this.manifest = manifest;
    this.#runtime = runtime;
    this.handle = handle;
    this.path = path;
    this.#options = options;
    this.#audit = audit;
    this.granted = options.grant.filter((permission) => manifest.permissions.includes(permission));
  }

  /** `isolate` or `trusted`. */
  get mode(): 'isolate' | 'trusted' {
    return this.#runtime.mode;
  }

  /** Whether `hook` should run: the manifest declares it and the plugin is not disabled. */
  runs(hook: PluginHookName): boolean {
    return !this.#disabled && this.manifest.hooks.includes(hook);
  }

  /** Calls `hook` with a copy of `argument`; a fault is audited and skipped, or thrown (policy `fail`). */
  invoke(hook: PluginHookName, argument: unknown, streamId: string | null): HookResult {
    if (this.#busy) return this.fault(new PluginError('PLUGIN_REENTRANT', this.manifest.name, 'a hook was called while another of its hooks was running', { hook }), streamId);
    this.#busy = true;
    try {
      return { ok: true, value: this.#runtime.call(hook, [argument]) };
    } catch (error) {
      const fault = error instanceof PluginError ? error : new PluginError('PLUGIN_HOOK_THREW', this.manifest.name, `threw ${String(error)}`, { hook, cause: error });
      return this.fault(fault, streamId);
    } finally {
      this.#busy = false;
    }
  }

  /** Audits `fault`, counts it (disabling the plugin at `maxFaults`), then skips it or throws it per policy. */
  fault(fault: PluginError, streamId: string | null): HookResult {
    const hook = (fault.hook ?? 'load') as PluginHookName;
    const policy = this.#options.policy[hook] ?? 'skip';
    // A call skipped while the sandbox restarts after a counted fault is audited, not counted again.
    if (fault.code !== 'PLUGIN_RESTARTING') this.#faults += 1;
    if (this.#faults >= this.#options.maxFaults) this.#disabled = true;
    this.#audit({ at: new Date().toISOString(), plugin: this.manifest.name, hook, code: fault.code, message: fault.message, streamId, outcome: policy === 'fail' ? 'failed' : 'skipped' });
    if (policy === 'fail') throw fault;
    return { ok: false, fault };
  }

  /** Audits a registrar denial of the plugin's proposal (attested by the registrar; not counted as a fault). */
  denied(hook: PluginHookName, reason: string, message: string, streamId: string | null): void {
    this.#audit({ at: new Date().toISOString(), plugin: this.manifest.name, hook, code: `REGISTRAR_DENIED:${reason}`, message, streamId, outcome: 'denied' });
  }

  /** The plugin as health and `engine.plugins()` show it. */
  info(): PluginInfo {
    const { name, version, apiVersion, hooks, permissions } = this.manifest;
    const pid = this.#runtime.pid;
    return { name, version, apiVersion, hooks: [...hooks], permissions: [...permissions], granted: [...this.granted], mode: this.mode, actor: this.handle.key, disabled: this.#disabled, faults: this.#faults, path: this.path, ...(pid === undefined ? {} : { sandboxPid: pid }) };
  }

  /** Frees the runtime. */
  dispose(): void {
    this.#disabled = true;
    this.#runtime.dispose();
  }
}
