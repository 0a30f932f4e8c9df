/**
 * voice-soundboard: the public API. Named exports only (a test pins this list).
 */
export {
  AbortError,
  AudioError,
  BackendError,
  InputError,
  NativeError,
  VoiceSoundboardError,
} from './errors.js';
export type { ErrorOptions } from './errors.js';
