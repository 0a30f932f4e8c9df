/**
 * Audio devices and backends as the user chooses them: `listOutputDevices()` (miniaudio's device
 * enumeration, on the calling thread), and the `VOICE_SOUNDBOARD_AUDIO_BACKEND` environment
 * variable (`null` for headless machines and CI, `default` for the platform's audio system) that
 * every AudioOutput opened without an explicit `backend` obeys.
 */
import { z } from 'zod';
import { AudioError, InputError } from '../errors.js';
import type { AudioBinding } from '../native/audio-binding.js';
import { nativeBinding } from '../native/loader.js';
import { parseInput } from '../validation.js';

/** The environment variable naming the audio backend (`null` or `default`). */
export const AUDIO_BACKEND_ENV = 'VOICE_SOUNDBOARD_AUDIO_BACKEND';

/** The audio backends an AudioOutput can open. */
export type AudioBackendName = 'default' | 'null';

/** One playback device. */
export interface OutputDevice {
  /** The backend's own id for it, as text: pass it as `{ device: id }` to open this device. */
  id: string;
  /** Its human-readable name (also accepted as `{ device: name }`). */
  name: string;
  /** The backend's default playback device. */
  isDefault: boolean;
  /** miniaudio's backend name (`'ALSA'`, `'PulseAudio'`, `'Core Audio'`, `'WASAPI'`, `'Null'`, ...). */
  backend: string;
}

/** Options of `listOutputDevices(...)`. */
export const listOutputDevicesOptionsSchema = z.strictObject({
  /** Which backend to ask (default: `VOICE_SOUNDBOARD_AUDIO_BACKEND`, else `'default'`). */
  backend: z.enum(['default', 'null']).optional(),
});

/**
 * The backend named by `VOICE_SOUNDBOARD_AUDIO_BACKEND`, or undefined when it is unset or empty.
 * Throws InputError naming the variable when it holds anything else.
 */
export function audioBackendFromEnv(env: NodeJS.ProcessEnv = process.env): AudioBackendName | undefined {
  const value = env[AUDIO_BACKEND_ENV]?.trim();
  if (value === undefined || value === '') return undefined;
  if (value === 'null' || value === 'default') return value;
  throw new InputError(`${AUDIO_BACKEND_ENV}: expected "null" or "default" (received ${JSON.stringify(value)})`, { field: AUDIO_BACKEND_ENV });
}

/**
 * Lists the playback devices of a backend (the platform's audio system by default). Throws
 * AudioError `AUDIO_BACKEND_INIT_FAILED` when that backend cannot start here.
 */
export function listOutputDevices(options: z.input<typeof listOutputDevicesOptionsSchema> = {}, binding: AudioBinding = nativeBinding()): OutputDevice[] {
  const parsed = parseInput(listOutputDevicesOptionsSchema, options, 'options');
  const backend = parsed.backend ?? audioBackendFromEnv() ?? 'default';
  try {
    return binding.listOutputDevices(backend).map((device) => ({ ...device }));
  } catch (cause) {
    const code = cause instanceof Error && typeof (cause as { code?: unknown }).code === 'string' ? (cause as Error & { code: string }).code : 'AUDIO_BACKEND_INIT_FAILED';
    throw new AudioError(code, `${cause instanceof Error ? cause.message : String(cause)}; the null backend (${AUDIO_BACKEND_ENV}=null) always works`, { cause });
  }
}
