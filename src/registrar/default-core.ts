/**
 * Which decision core a registrar gets by default: the native lock-free core when its module is
 * present and the addon loads, else the TypeScript reference core. The environment variable
 * VOICE_SOUNDBOARD_REGISTRAR_CORE=reference|native forces one (native then fails loudly).
 */
import { NativeError } from '../errors.js';
import type { DecisionCore } from './core.js';
import { ReferenceCore } from './reference-core.js';

interface NativeCoreModule {
  NativeCore: new () => DecisionCore;
}

// A variable specifier keeps the type checker from requiring the module to exist.
const NATIVE_CORE_MODULE = './native-core.js';
const nativeCoreModule: NativeCoreModule | null = await import(NATIVE_CORE_MODULE).then(
  (module: NativeCoreModule) => module,
  () => null,
);

/** A new default decision core (see the file comment). */
export function createDefaultCore(): DecisionCore {
  const forced = process.env.VOICE_SOUNDBOARD_REGISTRAR_CORE;
  if (forced === 'reference') return new ReferenceCore();
  if (nativeCoreModule) {
    try {
      return new nativeCoreModule.NativeCore();
    } catch (error) {
      if (forced === 'native') throw error;
    }
  }
  if (forced === 'native') throw new NativeError('NATIVE_CORE_UNAVAILABLE', 'VOICE_SOUNDBOARD_REGISTRAR_CORE=native but the native registrar core module is not available');
  return new ReferenceCore();
}
