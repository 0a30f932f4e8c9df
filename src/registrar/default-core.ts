/**
 * Which decision core a registrar gets by default: the native lock-free core when the addon
 * loads, else the TypeScript reference core. VOICE_SOUNDBOARD_REGISTRAR_CORE=reference|native
 * forces one (native then fails loudly instead of falling back).
 */
import type { CompactionOption } from './compaction.js';
import type { DecisionCore } from './core.js';
import { NativeCore } from './native-core.js';
import { ReferenceCore } from './reference-core.js';

/** Options of the default core. */
export interface DefaultCoreOptions {
  /** Its compaction policy (default DEFAULT_COMPACTION; false never compacts). */
  compaction?: CompactionOption;
}

/** A new default decision core (see the file comment). */
export function createDefaultCore(options: DefaultCoreOptions = {}): DecisionCore {
  const coreOptions = options.compaction === undefined ? {} : { compaction: options.compaction };
  const forced = process.env.VOICE_SOUNDBOARD_REGISTRAR_CORE;
  if (forced === 'reference') return new ReferenceCore(coreOptions);
  try {
    return new NativeCore(coreOptions); // loads the addon on first use; throws NativeError when it cannot
  } catch (error) {
    if (forced === 'native') throw error;
    return new ReferenceCore(coreOptions);
  }
}
