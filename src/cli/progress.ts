/**
 * Progress of `voice-soundboard speak` on stderr, from the engine's `onProgress` (one call per
 * sentence): on a terminal one line rewritten in place (a bar, the percentage, sentences and an
 * ETA from the time per sentence so far); elsewhere sparse lines, one per 10 % step; nothing when
 * quiet or for texts of three sentences or fewer.
 */
import type { SpeechProgress } from '../engine/engine-options.js';

/** Width of the bar in characters. */
const BAR_WIDTH = 24;
/** Texts with at most this many sentences show no progress (they are done at once). */
const MIN_SENTENCES = 4;

/** What the speak command needs: the callback, and `finish()` to end the terminal line. */
export interface ProgressReporter {
  onProgress(progress: SpeechProgress): void;
  finish(): void;
}

/** A reporter writing to `stream`; `isTTY` on the stream picks the updating line. `nowMs` is injectable for tests. */
export function progressReporter(stream: NodeJS.WritableStream & { isTTY?: boolean }, options: { quiet: boolean; nowMs?: () => number }): ProgressReporter {
  const nowMs = options.nowMs ?? (() => performance.now());
  const startedMs = nowMs();
  let lastStep = -1;
  let lineOpen = false;
  return {
    onProgress({ done, total, audioMs }) {
      if (options.quiet || total < MIN_SENTENCES) return;
      const fraction = Math.min(1, done / total);
      const percent = Math.floor(fraction * 100);
      if (stream.isTTY === true) {
        const filled = Math.round(fraction * BAR_WIDTH);
        const elapsedMs = nowMs() - startedMs;
        const etaSeconds = done > 0 ? Math.round(((elapsedMs / done) * (total - done)) / 1000) : 0;
        const bar = `${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}`;
        stream.write(`\r[${bar}] ${String(percent).padStart(3)}%  sentence ${done}/${total}  ETA ${formatSeconds(etaSeconds)}\u001b[K`);
        lineOpen = true;
        return;
      }
      const step = Math.floor(percent / 10);
      if (step === lastStep) return;
      lastStep = step;
      stream.write(`voice-soundboard speak: ${percent}% (sentence ${done}/${total}, ${(audioMs / 1000).toFixed(1)} s of audio)\n`);
    },
    finish() {
      if (lineOpen) stream.write('\n');
      lineOpen = false;
    },
  };
}

function formatSeconds(seconds: number): string {
  return seconds >= 60 ? `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s` : `${seconds} s`;
}
