/**
 * The sandbox: one isolated-vm isolate per plugin, with no Node APIs (no `process`, `require`,
 * `fetch`, timers or modules), a heap limit (`maxMemoryMb`) and a CPU limit per call (`maxCpuMs`).
 * The plugin file is read on the host and compiled as a module in the isolate; it may import
 * nothing (any `import` fails to load with PLUGIN_IMPORT_BLOCKED). Only copies cross: arguments are
 * structured-cloned in and deep-frozen there; results are rebuilt as bounded plain data inside the
 * call (see BOOTSTRAP) so copying them out runs no plugin code. `request()` works only during a
 * call, MAX_REQUESTS_PER_CALL times. An isolate killed at its memory limit is replaced on the next
 * call, from the same source. Known limit: a value thrown at load or a rejection left unhandled is
 * copied by isolated-vm itself, outside the CPU limit's watch (docs/PLUGINS.md).
 */
import ivm from 'isolated-vm';
import { PluginError, type PluginErrorCode } from './errors.js';
import { MAX_TRANSFORMED_CHARS } from './hook-io.js';
import type { SandboxLimits } from './manifest.js';
import { messageOf, type PluginExports, type PluginRuntime, type RequestBridge } from './runtime.js';

/** Most characters of strings (values and keys) one hook result may hold: the longest `transformText` result. */
const MAX_RESULT_CHARS = MAX_TRANSFORMED_CHARS;
/** Most objects, arrays and values one hook result may hold. */
const MAX_RESULT_VALUES = 100_000;
/** Deepest nesting of one hook result. */
const MAX_RESULT_DEPTH = 64;
/** Most `request()` calls one hook call may make. */
export const MAX_REQUESTS_PER_CALL = 16;
/** Most characters of strings one `request()` input may hold. */
export const MAX_REQUEST_CHARS = 4096;
/** Longest error message a plugin's throw leaves in the audit. */
const MAX_MESSAGE_CHARS = 1000;

/**
 * Evaluated in the isolate before the plugin: captures the intrinsics it needs (so a plugin that
 * overwrites globals hurts only itself), removes what would run plugin code outside a call
 * (`Atomics.waitAsync` posts a task isolated-vm aborts the host process on; `Error.prepareStackTrace`
 * runs when the host reads an error's stack) and returns `makeInvoker(namespace)`.
 *
 * Nothing the plugin made crosses as it is: `plain` rebuilds a result (and a `request()` input)
 * from own data properties, inside the call and so under its CPU limit, refusing getters,
 * functions, deep or huge values; a Float32Array is copied onto a fresh (never shared) buffer.
 * A throw or a Promise becomes `{ ok: false, kind, message }` with a bounded message string, so
 * the host never copies a plugin's error object (whose getters and stack it would run).
 */
const BOOTSTRAP = `(function (hostRequest) {
  'use strict';
  const O = Object, freeze = O.freeze, isFrozen = O.isFrozen, keys = O.keys, hasOwn = O.hasOwn, define = O.defineProperty;
  const describeProperty = O.getOwnPropertyDescriptor, protoOf = O.getPrototypeOf, apply = Reflect.apply;
  const isArray = Array.isArray, isView = ArrayBuffer.isView, F32 = Float32Array, F32Proto = Float32Array.prototype;
  const Err = Error, TypeErr = TypeError, Str = String, slice = String.prototype.slice;
  if (typeof Atomics === 'object') delete Atomics.waitAsync;
  define(Err, 'prepareStackTrace', { value: undefined, writable: false, enumerable: false, configurable: false });
  const deepFreeze = (value) => {
    if (value !== null && typeof value === 'object' && !isView(value) && !isFrozen(value)) {
      freeze(value);
      const names = keys(value);
      for (let i = 0; i < names.length; i++) deepFreeze(value[names[i]]);
    }
    return value;
  };
  let lastInvalid = null;
  const invalid = (what) => { lastInvalid = new TypeErr(what); return lastInvalid; };
  const plain = (root, maxChars, maxValues, maxDepth, what) => {
    let chars = 0, values = 0;
    const copy = (value, depth) => {
      if (value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean') return value;
      if (typeof value === 'string') {
        chars += value.length;
        if (chars > maxChars) throw invalid(what + ' holds more than ' + maxChars + ' characters of text');
        return value;
      }
      if (typeof value !== 'object') throw invalid(what + ' holds a ' + typeof value + ', which is not plain data');
      if (++values > maxValues) throw invalid(what + ' holds more than ' + maxValues + ' values');
      if (depth > maxDepth) throw invalid(what + ' is nested deeper than ' + maxDepth + ' levels');
      if (isView(value)) {
        if (protoOf(value) !== F32Proto) throw invalid(what + ' holds a binary view other than a Float32Array');
        return new F32(value);
      }
      const out = isArray(value) ? [] : {};
      const names = isArray(value) ? null : keys(value);
      const count = names === null ? value.length : names.length;
      if (typeof count !== 'number' || !(count >= 0 && count <= maxValues)) throw invalid(what + ' holds more than ' + maxValues + ' values');
      for (let i = 0; i < count; i++) {
        const name = names === null ? i : names[i];
        if (names !== null) { chars += name.length; if (chars > maxChars) throw invalid(what + ' holds more than ' + maxChars + ' characters of text'); }
        const property = describeProperty(value, name);
        if (property !== undefined && !hasOwn(property, 'value')) throw invalid(what + ' has a getter (' + Str(name) + '): return plain data');
        define(out, name, { value: property === undefined ? undefined : copy(property.value, depth + 1), writable: true, enumerable: true, configurable: true });
      }
      return out;
    };
    return copy(root, 0);
  };
  const messageOf = (error) => {
    let text;
    try {
      text = error instanceof Err ? Str(error.message) : Str(error);
    } catch (_) {
      text = 'a value that cannot be printed';
    }
    return text.length > ${MAX_MESSAGE_CHARS} ? apply(slice, text, [0, ${MAX_MESSAGE_CHARS}]) + '... (cut at ${MAX_MESSAGE_CHARS} characters)' : text;
  };
  const api = freeze({ request: function request(input) { return hostRequest(plain(input, ${MAX_REQUEST_CHARS}, 256, 16, 'the request')); } });
  return function makeInvoker(namespace) {
    return function invoke(name, args) {
      try {
        if (name === '') {
          const functions = [];
          const names = keys(namespace);
          for (let i = 0; i < names.length; i++) if (typeof namespace[names[i]] === 'function') define(functions, functions.length, { value: names[i], writable: true, enumerable: true, configurable: true });
          return { ok: true, value: { manifest: plain(namespace.manifest, 65536, 1000, 8, 'the manifest'), functions } };
        }
        const hook = namespace[name];
        if (typeof hook !== 'function') throw new TypeErr('the module exports no function ' + name);
        const result = hook(deepFreeze(args[0]), api);
        if (result !== null && (typeof result === 'object' || typeof result === 'function') && typeof result.then === 'function') {
          // Handled here, so its rejection is not reported as the call's error instead.
          try { result.then(undefined, () => undefined); } catch (_) { /* the fault is the Promise itself */ }
          return { ok: false, kind: 'async', message: name + ' returned a Promise: hooks are synchronous (the host gives a plugin its data through the arguments)' };
        }
        return { ok: true, value: plain(result, ${MAX_RESULT_CHARS}, ${MAX_RESULT_VALUES}, ${MAX_RESULT_DEPTH}, 'the result') };
      } catch (error) {
        const kind = error === lastInvalid ? 'invalid' : 'threw';
        lastInvalid = null;
        return { ok: false, kind, message: messageOf(error) };
      }
    };
  };
})`;

/** What `invoke` returns from the isolate: a plain result, or why there is none (a bounded message). */
type Outcome = { ok: true; value: unknown } | { ok: false; kind: 'async' | 'invalid' | 'threw'; message: string };

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
  /** Whether a hook call is running, and how many requests it made. */
  #inCall = false;
  #requests = 0;

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
      if (error instanceof PluginError && error.code === 'PLUGIN_OUTPUT_INVALID') throw new PluginError('PLUGIN_MANIFEST_INVALID', this.#name(), `cannot load: ${error.detail}`, { cause: error });
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
    this.#requests = 0;
    this.#inCall = true;
    const hook = name === '' ? 'load' : name;
    let outcome: Outcome;
    try {
      outcome = invoke.applySync(undefined, [name, [...args]], { arguments: { copy: true }, result: { copy: true }, timeout: this.#limits.maxCpuMs }) as Outcome;
    } catch (error) {
      throw this.#fault(error, hook);
    } finally {
      this.#inCall = false;
    }
    if (outcome.ok) return outcome.value;
    const bridged = this.#bridgeError as PluginError | undefined;
    this.#bridgeError = undefined;
    if (bridged && outcome.kind === 'threw' && outcome.message.includes(bridged.message)) throw bridged.inHook(hook);
    if (outcome.kind === 'async') throw new PluginError('PLUGIN_HOOK_ASYNC', this.#name(), outcome.message, { hook });
    if (outcome.kind === 'invalid') throw new PluginError('PLUGIN_OUTPUT_INVALID', this.#name(), `cannot copy out of the isolate: ${outcome.message}`, { hook });
    throw new PluginError('PLUGIN_HOOK_THREW', this.#name(), `threw ${outcome.message}`, { hook });
  }

  /** The host side of `request()`: only during a call, at most MAX_REQUESTS_PER_CALL times per call. */
  #request(input: unknown): unknown {
    try {
      if (!this.#inCall) throw new PluginError('PLUGIN_OUTPUT_INVALID', this.#name(), 'request() outside a hook call');
      if (++this.#requests > MAX_REQUESTS_PER_CALL) throw new PluginError('PLUGIN_OUTPUT_INVALID', this.#name(), `request(): more than ${MAX_REQUESTS_PER_CALL} requests in one hook call`);
      return this.#bridge(input);
    } catch (error) {
      if (error instanceof PluginError) this.#bridgeError = error;
      throw error;
    }
  }

  #fault(error: unknown, hook: string): PluginError {
    const bridged = this.#bridgeError;
    this.#bridgeError = undefined;
    const message = messageOf(error).slice(0, 2000);
    if (bridged && message.includes(bridged.message)) return bridged.inHook(hook);
    if (this.#isolate?.isDisposed) {
      return new PluginError('PLUGIN_MEMORY_LIMIT', this.#name(), `killed at the memory limit (maxMemoryMb ${this.#limits.maxMemoryMb}); the isolate is replaced`, { hook, cause: error });
    }
    if (message === TIMED_OUT) return new PluginError('PLUGIN_CPU_LIMIT', this.#name(), `killed at the CPU limit (maxCpuMs ${this.#limits.maxCpuMs})`, { hook, cause: error });
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
      const request = new ivm.Callback((input: unknown) => this.#request(input));
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
