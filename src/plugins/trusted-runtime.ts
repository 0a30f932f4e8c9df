/**
 * The trusted in-process runtime: the plugin module is imported into the host process with full
 * Node access. Only by explicit opt-in (`trusted: true`), labelled `trusted` in health and in the
 * metadata of every request it makes. Arguments and results are still copies (structuredClone) and
 * still validated; the CPU budget is checked after each call (an in-process call cannot be killed).
 */
import { pathToFileURL } from 'node:url';
import { PluginError } from './errors.js';
import { isThenable, messageOf, type PluginExports, type PluginRuntime, type RequestBridge } from './runtime.js';

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/** Deepest nesting of a result, as in the isolate (deeper would overflow the host's validators). */
const MAX_RESULT_DEPTH = 64;

/** Whether `value` (a structured-clone copy: no getters, no cycles we cannot see) nests deeper than `max`. Iterative. */
function deeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== 'object' || ArrayBuffer.isView(current) || seen.has(current)) continue;
    if (depth > max) return true;
    seen.add(current);
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

/** A plugin imported into the host process. */
export class TrustedRuntime implements PluginRuntime {
  readonly mode = 'trusted' as const;
  readonly exports: PluginExports;
  readonly #name: () => string;
  readonly #module: Record<string, unknown>;
  readonly #maxCpuMs: number;
  readonly #api: { request: (input: unknown) => unknown };

  private constructor(name: () => string, module: Record<string, unknown>, maxCpuMs: number, bridge: RequestBridge) {
    this.#name = name;
    this.#module = module;
    this.#maxCpuMs = maxCpuMs;
    this.#api = Object.freeze({ request: (input: unknown) => structuredClone(bridge(structuredClone(input))) });
    const functions = Object.keys(module).filter((key) => typeof module[key] === 'function');
    this.exports = { manifest: module.manifest, functions };
  }

  /** Imports the module at `path`. */
  static async load(name: () => string, path: string, maxCpuMs: number, bridge: RequestBridge): Promise<TrustedRuntime> {
    let module: Record<string, unknown>;
    try {
      module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    } catch (error) {
      throw new PluginError('PLUGIN_LOAD_FAILED', name(), `cannot load: ${messageOf(error)}`, { cause: error });
    }
    return new TrustedRuntime(name, module, maxCpuMs, bridge);
  }

  call(name: string, args: readonly unknown[]): unknown {
    const hook = this.#module[name];
    if (typeof hook !== 'function') throw new PluginError('PLUGIN_HOOK_THREW', this.#name(), `the module exports no function ${name}`, { hook: name });
    const started = performance.now();
    let result: unknown;
    try {
      result = (hook as (arg: unknown, api: unknown) => unknown)(deepFreeze(structuredClone(args[0])), this.#api);
    } catch (error) {
      if (error instanceof PluginError) throw error.inHook(name);
      throw new PluginError('PLUGIN_HOOK_THREW', this.#name(), `threw ${messageOf(error)}`, { hook: name, cause: error });
    }
    if (isThenable(result)) throw new PluginError('PLUGIN_HOOK_ASYNC', this.#name(), `${name} returned a Promise: hooks are synchronous`, { hook: name });
    const elapsedMs = performance.now() - started;
    if (elapsedMs > this.#maxCpuMs) throw new PluginError('PLUGIN_CPU_LIMIT', this.#name(), `took ${elapsedMs.toFixed(1)} ms, over maxCpuMs ${this.#maxCpuMs} (result discarded)`, { hook: name });
    let copy: unknown;
    try {
      copy = structuredClone(result);
    } catch (error) {
      throw new PluginError('PLUGIN_OUTPUT_INVALID', this.#name(), `returned a value that cannot be copied (${messageOf(error)}): return plain data`, { hook: name, cause: error });
    }
    if (deeperThan(copy, MAX_RESULT_DEPTH)) throw new PluginError('PLUGIN_OUTPUT_INVALID', this.#name(), `returned a value nested deeper than ${MAX_RESULT_DEPTH} levels: return plain data`, { hook: name });
    return copy;
  }

  dispose(): void {
    // Nothing to free: an imported module stays in the module cache.
  }
}
