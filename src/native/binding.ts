/**
 * The typed interface of the native addon. Each plane declares its part in its own file; this
 * file joins them. Nothing outside src/native/ sees the raw addon.
 */
import type { AudioBinding } from './audio-binding.js';
import type { LogBinding } from './log-binding.js';
import type { RegistrarBinding } from './registrar-binding.js';

/** Everything the addon exports. */
export interface NativeBinding extends AudioBinding, RegistrarBinding, LogBinding {
  /** Version of the binding's JS-facing surface. */
  addonVersion(): string;
}
