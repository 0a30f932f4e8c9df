/**
 * WatchedOutput: the real AudioOutput (real addon, real voices) that keeps every voice it opens and
 * where the callback started each one (`started` event: the capture index of its first frame), so a
 * test can read one stream's own voice (its stats, its gain's effect) and rebuild the expected mix.
 */
import { expect } from 'vitest';
import { AudioOutput } from '../../src/audio/output.js';
import type { AudioVoice, AudioVoiceOptions } from '../../src/audio/voice.js';
import { waitUntil } from './waiting.js';

/** An AudioOutput that records the voices it opened, in order. */
export class WatchedOutput extends AudioOutput {
  /** Every voice opened on this output, in opening order (one per played stream). */
  readonly voices: AudioVoice[] = [];
  /** Capture index of each voice's first mixed frame, by voice id (from its `started` event). */
  readonly startedAt = new Map<number, number>();
  /**
   * The silences each voice's underruns padded into the output, by voice id, in order: an underrun
   * event at device frame f leaves the rest of its period silent (the null device renders fixed
   * periods from frame 0, so `periodFrames - f % periodFrames` frames from f). Only a started voice underruns.
   */
  readonly starved = new Map<number, { atFrame: number; frames: number }[]>();

  /** Opens a real voice and records it. */
  override openVoice(options: AudioVoiceOptions = {}): AudioVoice {
    const voice = super.openVoice(options);
    this.voices.push(voice);
    voice.on('started', (event) => this.startedAt.set(voice.id, event.deviceFrames));
    const period = this.config.periodFrames;
    const starved: { atFrame: number; frames: number }[] = [];
    this.starved.set(voice.id, starved);
    voice.on('underrun', (event) => starved.push({ atFrame: event.deviceFrames, frames: period - (event.deviceFrames % period) }));
    return voice;
  }
}

/**
 * The most frames the one voice `run` opens on `output` held queued ahead of the device while it
 * ran (polled); checks that `run` opened exactly one voice and left nothing queued.
 */
export async function largestBuffered(output: WatchedOutput, run: () => Promise<unknown>): Promise<number> {
  let largest = 0;
  let done = false;
  const opened = output.voices.length;
  const running = run().finally(() => (done = true));
  await waitUntil(() => {
    const voice = output.voices[opened];
    if (voice) largest = Math.max(largest, voice.stats().bufferedFrames);
    return done;
  }, 'the play to end');
  await running;
  expect(output.voices).toHaveLength(opened + 1);
  expect(output.stats().bufferedFrames).toBe(0);
  return largest;
}
