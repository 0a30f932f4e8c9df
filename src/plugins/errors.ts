/**
 * Errors of plugins: one class, `PluginError`, with a stable code per family of failure and the
 * plugin's name. A hook's fault is contained by the engine (skipped or failing the stream, per the
 * hook's policy); loading errors are thrown to the caller of `loadPlugin`.
 */
import { VoiceSoundboardError } from '../errors.js';

/** Codes of PluginError. */
export type PluginErrorCode =
  | 'PLUGIN_NOT_FOUND'
  | 'PLUGIN_MANIFEST_INVALID'
  | 'PLUGIN_API_VERSION'
  | 'PLUGIN_IMPORT_BLOCKED'
  | 'PLUGIN_LOAD_FAILED'
  | 'PLUGIN_DUPLICATE'
  | 'PLUGIN_HOOK_THREW'
  | 'PLUGIN_HOOK_ASYNC'
  | 'PLUGIN_CPU_LIMIT'
  | 'PLUGIN_MEMORY_LIMIT'
  | 'PLUGIN_OUTPUT_INVALID'
  | 'PLUGIN_FORGED_ACTOR'
  | 'PLUGIN_REENTRANT'
  | 'PLUGIN_RESTARTING'
  | 'PLUGIN_SANDBOX_EXITED'
  | 'PLUGIN_DISABLED';

/** A plugin failed to load, or one of its hooks faulted (threw, ran out of CPU or memory, returned bad data). */
export class PluginError extends VoiceSoundboardError {
  /** The plugin's manifest name (or the source, before the manifest is read). */
  readonly plugin: string;
  /** The hook that faulted, when a hook did. */
  readonly hook: string | null;
  /** The message without the plugin and hook prefix. */
  readonly detail: string;

  constructor(code: PluginErrorCode, plugin: string, message: string, options: ErrorOptions & { hook?: string } = {}) {
    super(code, `plugin ${plugin}${options.hook ? ` (${options.hook})` : ''}: ${message}`, options);
    this.plugin = plugin;
    this.hook = options.hook ?? null;
    this.detail = message;
  }

  /** The same error, said of `hook` (an error thrown by the host inside a hook call). */
  inHook(hook: string): PluginError {
    return this.hook === hook ? this : new PluginError(this.code as PluginErrorCode, this.plugin, this.detail, { hook, cause: this });
  }
}
