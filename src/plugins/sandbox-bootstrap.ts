/**
 * The code evaluated in a plugin's isolate before the plugin (BOOTSTRAP), and the bounds it
 * enforces there. It runs in the sandbox process (sandbox-child.ts), never in the host: the host
 * only sees the plain outcomes it returns.
 */
import { MAX_TRANSFORMED_CHARS } from './hook-io.js';

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
export const BOOTSTRAP = `(function (hostRequest) {
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
  const plain = (root, maxChars, maxValues, maxDepth, what, binary) => {
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
        if (!binary) throw invalid(what + ' holds a binary view (a Float32Array...): it must be JSON data, whose text bound never counts binary');
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
  const api = freeze({ request: function request(input) { return hostRequest(plain(input, ${MAX_REQUEST_CHARS}, 256, 16, 'the request', false)); } });
  return function makeInvoker(namespace) {
    return function invoke(name, args) {
      try {
        if (name === '') {
          const functions = [];
          const names = keys(namespace);
          for (let i = 0; i < names.length; i++) if (typeof namespace[names[i]] === 'function') define(functions, functions.length, { value: names[i], writable: true, enumerable: true, configurable: true });
          return { ok: true, value: { manifest: plain(namespace.manifest, 65536, 1000, 8, 'the manifest', false), functions } };
        }
        const hook = namespace[name];
        if (typeof hook !== 'function') throw new TypeErr('the module exports no function ' + name);
        const result = hook(deepFreeze(args[0]), api);
        if (result !== null && (typeof result === 'object' || typeof result === 'function') && typeof result.then === 'function') {
          // Handled here, so its rejection is not reported as the call's error instead.
          try { result.then(undefined, () => undefined); } catch (_) { /* the fault is the Promise itself */ }
          return { ok: false, kind: 'async', message: name + ' returned a Promise: hooks are synchronous (the host gives a plugin its data through the arguments)' };
        }
        return { ok: true, value: plain(result, ${MAX_RESULT_CHARS}, ${MAX_RESULT_VALUES}, ${MAX_RESULT_DEPTH}, 'the result', true) };
      } catch (error) {
        const kind = error === lastInvalid ? 'invalid' : 'threw';
        lastInvalid = null;
        return { ok: false, kind, message: messageOf(error) };
      }
    };
  };
})`;
