/**
 * The conversation script form: one turn per line (`Alice: Hello!`), directions on their own line
 * in brackets (`[pause 500ms]`, `[overlap 300ms]`, `[barge-in]`), stage directions in parentheses
 * (`(laughs)`: taken out of the spoken text, and mapped to an emotion when one fits), `#` comments
 * and blank lines. An indented line continues the turn above. A speaker's name is a letter, then
 * up to 63 letters, digits, spaces or `_ . ' -` (`constructor` is one; `__proto__` is not, and
 * is refused as such). Anything else is an InputError
 * (code `SCRIPT_INVALID`) whose message starts with `script line N:` and whose field is
 * `script:N`. Pure: no I/O, no engine.
 */
import { InputError } from '../errors.js';
import type { ConversationTurnInput } from './turns.js';

/** Stage directions that map to an emotion of the compiler; any other direction is dropped. */
export const STAGE_DIRECTION_EMOTIONS: Readonly<Record<string, string>> = Object.freeze({
  laughs: 'joy',
  laughing: 'joy',
  smiles: 'joy',
  happily: 'joy',
  cheerfully: 'joy',
  sighs: 'sadness',
  sadly: 'sadness',
  crying: 'sadness',
  angrily: 'anger',
  shouts: 'anger',
  shouting: 'anger',
  whispers: 'calm',
  calmly: 'calm',
  softly: 'calm',
  nervously: 'fear',
  afraid: 'fear',
  gasps: 'surprise',
  surprised: 'surprise',
  excited: 'excited',
  excitedly: 'excited',
});

/** Longest script accepted, in characters. */
export const MAX_SCRIPT_CHARS = 1_000_000;

const TURN_LINE = /^([\p{L}][\p{L}\p{N} _.'-]{0,63}?)\s*:\s*(.*)$/u;
/** A line shaped like a turn (`something: text`) whose speaker TURN_LINE did not accept. */
const NAMED_LINE = /^([^\s:][^:]{0,99}?)\s*:\s*\S/u;
const DIRECTION_LINE = /^\[\s*([a-z-]+)(?:\s+([^\]]*?))?\s*\]$/i;
const STAGE_DIRECTION = /\(([^()]{1,80})\)/g;

/** A duration as written in a direction: `500ms`, `1.5s` or a bare number of ms. */
function parseDurationMs(text: string | undefined): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s)?$/i.exec(text ?? '');
  if (!match) return null;
  const value = Number(match[1]) * (match[2]?.toLowerCase() === 's' ? 1000 : 1);
  return Number.isFinite(value) && value <= 60_000 ? value : null;
}

function lineError(line: number, message: string): InputError {
  return new InputError(`script line ${line}: ${message}`, { code: 'SCRIPT_INVALID', field: `script:${line}` });
}

/** The text without its stage directions, and the emotion the last mapped direction names. */
function stripStageDirections(text: string): { text: string; emotion: string | undefined } {
  let emotion: string | undefined;
  const spoken = text.replace(STAGE_DIRECTION, (_whole, inner: string) => {
    for (const word of inner.toLowerCase().split(/\s+/)) {
      const mapped = STAGE_DIRECTION_EMOTIONS[word];
      if (mapped) emotion = mapped;
    }
    return ' ';
  });
  return { text: spoken.replace(/\s+/g, ' ').trim(), emotion };
}

/** Parses a conversation script into turns; throws InputError naming the line on bad input. */
export function parseScript(script: string): ConversationTurnInput[] {
  if (typeof script !== 'string') throw new InputError(`script: expected a string (received ${script === null ? 'null' : typeof script})`, { code: 'SCRIPT_INVALID', field: 'script' });
  if (script.length > MAX_SCRIPT_CHARS) throw new InputError(`script: longer than ${MAX_SCRIPT_CHARS} characters (received ${script.length})`, { code: 'SCRIPT_INVALID', field: 'script' });
  const turns: ConversationTurnInput[] = [];
  // Directions seen since the last turn apply to the next one (and where they were written).
  let pending: { gapMs?: number; overlapMs?: number; bargeIn?: boolean; line: number } | null = null;
  let lastTurnLine = 0;
  const lines = script.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, position) => {
    const line = position + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const direction = DIRECTION_LINE.exec(trimmed);
    if (direction) {
      const name = (direction[1] ?? '').toLowerCase();
      pending ??= { line };
      if (name === 'pause' || name === 'gap') {
        const ms = parseDurationMs(direction[2]);
        if (ms === null) throw lineError(line, `[${name} …] needs a duration such as 500ms or 1.5s, at most 60s (received "${direction[2] ?? ''}")`);
        pending.gapMs = (pending.gapMs ?? 0) + ms;
      } else if (name === 'overlap') {
        const ms = parseDurationMs(direction[2]);
        if (ms === null) throw lineError(line, `[overlap …] needs a duration such as 300ms (received "${direction[2] ?? ''}")`);
        pending.overlapMs = ms;
      } else if (name === 'barge-in' || name === 'interrupts') {
        if (direction[2]) {
          const ms = parseDurationMs(direction[2]);
          if (ms === null) throw lineError(line, `[${name} …] takes an optional overlap such as 300ms (received "${direction[2]}")`);
          pending.overlapMs = ms;
        }
        pending.bargeIn = true;
      } else {
        throw lineError(line, `unknown direction [${direction[1]}] (expected [pause 500ms], [overlap 300ms] or [barge-in])`);
      }
      if (pending.gapMs !== undefined && pending.overlapMs !== undefined) throw lineError(line, 'a turn cannot both wait (pause) and overlap');
      return;
    }
    if (/^\s/.test(raw) && lastTurnLine > 0 && pending === null) {
      // An indented line continues the turn above.
      const previous = turns.at(-1) as ConversationTurnInput;
      const { text, emotion } = stripStageDirections(trimmed);
      previous.text = `${previous.text} ${text}`.trim();
      if (emotion && previous.emotion === undefined) previous.emotion = emotion;
      return;
    }
    const turn = TURN_LINE.exec(trimmed);
    if (!turn) {
      // A line that is only a stage direction, e.g. "(Bob leaves)", is not spoken.
      if (stripStageDirections(trimmed).text === '') return;
      // A turn whose speaker is no name of the form (e.g. "__proto__: hi"): say what a name is.
      const named = NAMED_LINE.exec(trimmed);
      if (named) throw lineError(line, `a speaker's name is a letter, then up to 63 letters, digits, spaces or _ . ' - (received ${JSON.stringify((named[1] ?? '').slice(0, 40))})`);
      throw lineError(line, `expected "Speaker: text", a [direction], a (stage direction) or a # comment (received ${JSON.stringify(trimmed.slice(0, 40))})`);
    }
    const speaker = (turn[1] ?? '').trim();
    const { text, emotion } = stripStageDirections(turn[2] ?? '');
    if (text === '') throw lineError(line, `the turn of ${speaker} has nothing to say`);
    const entry: ConversationTurnInput = { speaker, text };
    if (emotion) entry.emotion = emotion;
    if (pending) {
      const { line: _line, ...directions } = pending as { line: number; gapMs?: number; overlapMs?: number; bargeIn?: boolean };
      void _line;
      if (turns.length === 0 && (directions.overlapMs !== undefined || directions.bargeIn)) throw lineError(line, `the first turn (${speaker}) has no turn before it to overlap or interrupt`);
      Object.assign(entry, directions);
      pending = null;
    }
    turns.push(entry);
    lastTurnLine = line;
  });
  if (pending !== null) throw lineError((pending as { line: number }).line, 'a direction must be followed by a turn');
  if (turns.length === 0) throw new InputError('script: no turns (expected lines such as "Alice: Hello!")', { code: 'SCRIPT_INVALID', field: 'script' });
  return turns;
}
