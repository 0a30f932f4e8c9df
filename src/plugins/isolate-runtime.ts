/**
 * The sandbox: one isolated-vm isolate per plugin, with no Node APIs (no `process`, `require`,
 * `fetch`, timers or modules), a heap limit (`maxMemoryMb`) and a CPU limit per call (`maxCpuMs`).
 * The plugin file is read on the host and compiled as a module in the isolate; it may import
 * nothing (any `import` fails to load with PLUGIN_IMPORT_BLOCKED). Only copies cross: arguments are
 * structured-cloned in and deep-frozen there, results are cloned out (getters run in the isolate,
 * Proxies and functions cannot be cloned). An isolate killed at its memory limit is replaced on the
 * next call, from the same source.
 */
import ivm from 'isolated-vm';
import { PluginError, type PluginErrorCode } from './errors.js';
import type { SandboxLimits } from './manifest.js';
import { messageOf, type PluginExports, type PluginRuntime, type RequestBridge } from './runtime.js';

/**
 * Evaluated in the isolate before the plugin: captures what it needs (so a plugin that overwrites
 * globals hurts only itself) and returns `makeInvoker(namespace)`.
 */
const BOOTSTRAP = `(function (hostRequest) {
  'use strict';
  const freeze = Object.freeze, isFrozen = Object.isFrozen, keys = Object.keys, isView = ArrayBuffer.isView;
  const deepFreeze = (value) => {
    if (value !== null && typeof value === 'object' && !isView(value) && !isFrozen(value)) {
      freeze(value);
      const names = keys(value);
      for (let i = 0; i < names.length; i++) deepFreeze(value[names[i]]);
    }
    return value;
  };
  const api = freeze({ request: function request(input) { return hostRequest(input); } });
  return function makeInvoker(namespace) {
    return function invoke(name, args) {
      if (name === '') {
        const functions = [];
        const names = keys(namespace);
        for (let i = 0; i < names.length; i++) if (typeof namespace[names[i]] === 'function') functions.push(names[i]);
        return { manifest: namespace.manifest, functions };
      }
      const hook = namespace[name];
      if (typeof hook !== 'function') throw new TypeError('the module exports no function ' + name);
      const result = hook(deepFreeze(args[0]), api);
      if (result !== null && (typeof result === 'object' || typeof result === 'function') && typeof result.then === 'function') {
        throw new TypeError(name + ' returned a Promise: hooks are synchronous (the host gives a plugin its data through the arguments)');
      }
      return result;
    };
  };
})`;

const TIMED_OUT = 'Script execution timed out.';

/** A plugin running in its own V8 isolate. */
export class IsolateRuntime implements PluginRuntime {
  readonly mode = 'isolate' as const;
  readonly exports: PluginExports;
  readonly #name: () => string;
  readonly #source: string;
  readonly #filename: string;
  readonly #limits: Required<SandboxLimits>;
  readonly #bridge: RequestBridge;
  #isolate: ivm.Isolate | undefined;
  #invoke: ivm.Reference<(name: string, args: unknown[]) => unknown> | undefined;
  /** The host error the bridge threw during the current call (kept so its code survives the isolate). */
  #bridgeError: PluginError | undefined;
  #disposed = false;

  /** Compiles and evaluates the module in a fresh isolate; throws PluginError when it cannot load. */
  constructor(name: () => string, source: string, filename: string, limits: Required<SandboxLimits>, bridge: RequestBridge) {
    this.#name = name;
    this.#source = source;
    this.#filename = filename;
    this.#limits = limits;
    this.#bridge = bridge;
    this.#boot();
    try {
      this.exports = this.#call('', []) as PluginExports;
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  call(name: string, args: readonly unknown[]): unknown {
    if (this.#disposed) throw new PluginError('PLUGIN_DISABLED', this.#name(), 'the plugin was unloaded', { hook: name });
    // A plugin killed at its memory limit gets a fresh isolate (its state is gone, its code is not).
    if (!this.#isolate || this.#isolate.isDisposed) this.#boot();
    return this.#call(name, args);
  }

  dispose(): void {
    this.#disposed = true;
    if (this.#isolate && !this.#isolate.isDisposed) this.#isolate.dispose();
    this.#isolate = undefined;
  }

  #call(name: string, args: readonly unknown[]): unknown {
    const invoke = this.#invoke;
    if (!invoke) throw new PluginError('PLUGIN_LOAD_FAILED', this.#name(), 'the isolate is not running');
    this.#bridgeError = undefined;
    const hook = name === '' ? 'load' : name;
    try {
      return invoke.applySync(undefined, [name, [...args]], { arguments: { copy: true }, result: { copy: true }, timeout: this.#limits.maxCpuMs });
    } catch (error) {
      throw this.#fault(error, hook);
    }
  }

  #fault(error: unknown, hook: string): PluginError {
    const bridged = this.#bridgeError;
    this.#bridgeError = undefined;
    const message = messageOf(error);
    if (bridged && message.includes(bridged.message)) return bridged.inHook(hook);
    if (this.#isolate?.isDisposed) {
      return new PluginError('PLUGIN_MEMORY_LIMIT', this.#name(), `killed at the memory limit (maxMemoryMb ${this.#limits.maxMemoryMb}); the isolate is replaced`, { hook, cause: error });
    }
    if (message === TIMED_OUT) return new PluginError('PLUGIN_CPU_LIMIT', this.#name(), `killed at the CPU limit (maxCpuMs ${this.#limits.maxCpuMs})`, { hook, cause: error });
    if (message.includes('returned a Promise')) return new PluginError('PLUGIN_HOOK_ASYNC', this.#name(), message, { hook, cause: error });
    if (message.includes('could not be cloned')) {
      return new PluginError('PLUGIN_OUTPUT_INVALID', this.#name(), `returned a value that cannot be copied out of the isolate (${message}): return plain data`, { hook, cause: error });
    }
    return new PluginError('PLUGIN_HOOK_THREW', this.#name(), `threw ${message}`, { hook, cause: error });
  }

  #boot(): void {
    const isolate = new ivm.Isolate({ memoryLimit: this.#limits.maxMemoryMb });
    this.#isolate = isolate;
    const timeout = Math.max(this.#limits.maxCpuMs, 500);
    let blocked: PluginError | undefined;
    try {
      const context = isolate.createContextSync();
      const bootstrap = context.evalSync(BOOTSTRAP, { reference: true, timeout }) as ivm.Reference<(request: unknown) => unknown>;
      const request = new ivm.Callback((input: unknown) => {
        try {
          return this.#bridge(input);
        } catch (error) {
          if (error instanceof PluginError) this.#bridgeError = error;
          throw error;
        }
      });
      const makeInvoker = bootstrap.applySync(undefined, [request], { result: { reference: true } }) as ivm.Reference<(namespace: unknown) => unknown>;
      const module = isolate.compileModuleSync(this.#source, { filename: this.#filename });
      module.instantiateSync(context, (specifier) => {
        blocked = new PluginError(
          'PLUGIN_IMPORT_BLOCKED',
          this.#name(),
          `imports ${JSON.stringify(specifier)}: a sandboxed plugin can import nothing (no node:* modules, no packages); bundle it into one file and get data from the host through hook arguments`,
        );
        throw blocked;
      });
      module.evaluateSync({ timeout });
      this.#invoke = makeInvoker.applySync(undefined, [module.namespace.derefInto()], { result: { reference: true } }) as ivm.Reference<(name: string, args: unknown[]) => unknown>;
    } catch (error) {
      // Classified before disposing: a disposed isolate reads as one killed at its memory limit.
      const fault = blocked ?? this.#fault(error, 'load');
      if (!isolate.isDisposed) isolate.dispose();
      if (blocked) throw blocked;
      const code = fault.code === 'PLUGIN_HOOK_THREW' ? 'PLUGIN_LOAD_FAILED' : (fault.code as PluginErrorCode);
      throw new PluginError(code, this.#name(), `cannot load: ${fault.detail.replace(/^threw /, '')}`, { cause: error });
    }
  }
}
