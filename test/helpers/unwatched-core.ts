/**
 * A native decision core with its device watch taken away (`watchStream` reads as absent), every
 * other call going to the real core: the planted violation of the native watch tests, and the
 * "before" row of bench/interrupt.bench.ts (a decision on another thread then reaches the device
 * only when the engine's thread hears it).
 */
import type { DecisionCore } from '../../src/registrar/core.js';
import { NativeCore } from '../../src/registrar/native-core.js';

/** A new native core whose registrar finds no `watchStream` (see the file comment). */
export function unwatchedCore(): DecisionCore {
  return new Proxy(new NativeCore(), {
    get(target, property) {
      if (property === 'watchStream') return undefined;
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
