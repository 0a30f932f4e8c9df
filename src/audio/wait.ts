/**
 * The waits of the audio plane (AudioOutput, AudioVoice): a timer sized from the device period
 * that an AbortSignal cuts short with an AbortError saying how far a write got. Never a spin.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AbortError } from '../errors.js';

/** Sleeps `delayMs`; rejects with AbortError (naming the write's progress) when `signal` fires. */
export async function waitOrAbort(delayMs: number, signal: AbortSignal | undefined, writtenFrames?: number, totalFrames?: number): Promise<void> {
  try {
    await sleep(delayMs, undefined, signal === undefined ? undefined : { signal });
  } catch (cause) {
    throwIfAborted(signal, writtenFrames, totalFrames);
    throw cause;
  }
}

/** Throws AbortError when `signal` has fired (naming the write's progress when given). */
export function throwIfAborted(signal: AbortSignal | undefined, writtenFrames?: number, totalFrames?: number): void {
  if (!signal?.aborted) return;
  const progress = writtenFrames === undefined ? '' : ` after writing ${writtenFrames} of ${totalFrames} frames`;
  throw new AbortError(`The audio wait was aborted${progress}`, { cause: signal.reason });
}
