/**
 * WatchedOutput: the real AudioOutput (real addon, real voices) that keeps every voice it opens and
 * where the callback started each one (`started` event: the capture index of its first frame), so a
 * test can read one stream's own voice (its stats, its gain's effect) and rebuild the expected mix.
 */
import { AudioOutput } from '../../src/audio/output.js';
import type { AudioVoice, AudioVoiceOptions } from '../../src/audio/voice.js';

/** An AudioOutput that records the voices it opened, in order. */
export class WatchedOutput extends AudioOutput {
  /** Every voice opened on this output, in opening order (one per played stream). */
  readonly voices: AudioVoice[] = [];
  /** Capture index of each voice's first mixed frame, by voice id (from its `started` event). */
  readonly startedAt = new Map<number, number>();

  /** Opens a real voice and records it. */
  override openVoice(options: AudioVoiceOptions = {}): AudioVoice {
    const voice = super.openVoice(options);
    this.voices.push(voice);
    voice.on('started', (event) => this.startedAt.set(voice.id, event.deviceFrames));
    return voice;
  }
}
