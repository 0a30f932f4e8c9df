/**
 * What runs a plugin's code: the isolate sandbox (default) or the trusted in-process runtime
 * (explicit opt-in). Both call hooks synchronously with copied arguments and return copied results,
 * so no live object crosses in either direction; both hand each hook `{ request }`, bound by the
 * host to the plugin's own actor handle.
 */

/** The host side of a plugin's `request()`: validates, acts as the plugin's handle, returns a plain copy. */
export type RequestBridge = (input: unknown) => unknown;

/** What a plugin module exports, as the runtime read it (copied). */
export interface PluginExports {
  /** The `manifest` export, unvalidated. */
  manifest: unknown;
  /** Names of the exported functions. */
  functions: string[];
}

/** A plugin's code, loaded and callable. */
export interface PluginRuntime {
  /** `isolate` (sandboxed) or `trusted` (in-process). */
  readonly mode: 'isolate' | 'trusted';
  /** The module's manifest and exported function names. */
  readonly exports: PluginExports;
  /** The id of the process running the plugin's code, when it has one of its own (isolate mode). */
  readonly pid?: number | undefined;
  /** Calls an exported function with copies of `args`; returns a copy of its result. Throws PluginError. */
  call(name: string, args: readonly unknown[]): unknown;
  /** Frees the runtime (idempotent). */
  dispose(): void;
}

/** Whether `value` is a thenable (a hook that returned a Promise). */
export function isThenable(value: unknown): boolean {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** The message of any thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
