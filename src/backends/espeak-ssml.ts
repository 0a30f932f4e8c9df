/**
 * A sentence with changes of delivery inside (emphasis, prosody spans) as one espeak-ng SSML
 * document (`-m`), so espeak-ng speaks it in one call with one intonation. Each part's prosody is
 * written relative to the segment's, which the caller passes as `-s`/`-p` and gain: rate as a
 * percentage, pitch in semitones (`st`), volume as a percentage (espeak-ng 1.51 ignores `dB`
 * volumes: measured, `+6dB` changed the level by 0.35 dB). Emphasis is the compiler's prosody change
 * only: espeak-ng's own `<emphasis>` puts a pause before the word (measured 46–75 ms on en-us,
 * against 0–32 ms extra for the prosody span alone, below the 40 ms closures of its stop consonants).
 */
import type { Prosody, SegmentPart } from '../graph/engine-output.js';

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The `<prosody>` attributes that take `part` from `base`, or '' when it is the same delivery. */
function prosodyAttributes(part: Prosody, base: Prosody): string {
  const attributes: string[] = [];
  if (part.rate !== base.rate) attributes.push(`rate="${Math.round((100 * part.rate) / base.rate)}%"`);
  const semitones = Math.round((part.pitchSemitones - base.pitchSemitones) * 100) / 100;
  if (semitones !== 0) attributes.push(`pitch="${semitones > 0 ? '+' : ''}${semitones}st"`);
  const volumeDb = part.volumeDb - base.volumeDb;
  if (volumeDb !== 0) attributes.push(`volume="${Math.round(100 * 10 ** (volumeDb / 20))}%"`);
  return attributes.join(' ');
}

/** The SSML document for `parts`, relative to the segment's `base` prosody. */
export function espeakPartsSsml(parts: readonly SegmentPart[], base: Prosody): string {
  const body = parts
    .map((part) => {
      let text = escapeXml(part.text);
      const attributes = prosodyAttributes(part.prosody, base);
      if (attributes !== '') text = `<prosody ${attributes}>${text}</prosody>`;
      return text;
    })
    .join(' ');
  return `<speak>${body}</speak>`;
}
