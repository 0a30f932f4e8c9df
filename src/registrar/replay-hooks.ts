/**
 * The registrar's replay hooks (its core and internal replay steps), reachable only through this
 * internal module: no property or symbol of an AudioRegistrar hands them out. Used by replay.ts.
 */
import type { ReplayHooks } from './registrar-support.js';

const hooksByRegistrar = new WeakMap<object, ReplayHooks>();

/** Registers a registrar's hooks (its constructor calls this once). @internal */
export function setReplayHooks(registrar: object, hooks: ReplayHooks): void {
  hooksByRegistrar.set(registrar, hooks);
}

/** The hooks of a registrar built by this package. @internal */
export function replayHooksOf(registrar: object): ReplayHooks {
  const hooks = hooksByRegistrar.get(registrar);
  if (!hooks) throw new TypeError('not an AudioRegistrar');
  return hooks;
}
