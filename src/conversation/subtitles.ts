/**
 * Subtitles from a conversation's timeline: SubRip (SRT) and WebVTT, one cue per turn, timed by
 * the turn's start and end on the conversation's clock (to the millisecond), the speaker named
 * (`Alice: …` in SRT, a `<v Alice>` voice span in WebVTT).
 */
import type { TimelineEntry } from './timeline.js';

/** `ms` as `HH:MM:SS<sep>mmm` (rounded to the millisecond). */
export function formatTimestamp(ms: number, separator: ',' | '.'): string {
  const total = Math.max(0, Math.round(ms));
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = Math.floor((total % 60_000) / 1000);
  const millis = total % 1000;
  const two = (value: number) => String(value).padStart(2, '0');
  return `${two(hours)}:${two(minutes)}:${two(seconds)}${separator}${String(millis).padStart(3, '0')}`;
}

/**
 * A cue's text on one line: every line break or control character (a blank line would end the
 * cue early, a bare CR or U+2028 breaks the line in lenient players) becomes a space, and `-->`
 * (a timing line's arrow) becomes `->`, so no text can add, end or retime a cue.
 */
function cueText(text: string): string {
  return text
    .replace(/[\s\p{Cc}\p{Zl}\p{Zp}]+/gu, ' ')
    .replace(/-->/g, '->')
    .trim();
}

/** The timeline as SubRip text (cues numbered from 1). */
export function toSrt(timeline: readonly TimelineEntry[]): string {
  return timeline
    .map((entry, position) => `${position + 1}\n${formatTimestamp(entry.startMs, ',')} --> ${formatTimestamp(entry.endMs, ',')}\n${cueText(entry.speaker)}: ${cueText(entry.text)}\n`)
    .join('\n');
}

/** WebVTT escapes: `&`, `<` and `>` are markup there. */
function vttEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The timeline as WebVTT text (each cue a `<v Speaker>` span). */
export function toVtt(timeline: readonly TimelineEntry[]): string {
  const cues = timeline.map(
    (entry, position) => `${position + 1}\n${formatTimestamp(entry.startMs, '.')} --> ${formatTimestamp(entry.endMs, '.')}\n<v ${vttEscape(cueText(entry.speaker))}>${vttEscape(cueText(entry.text))}\n`,
  );
  return ['WEBVTT\n', ...cues].join('\n');
}
