/**
 * Duplicate object keys in a JSON text. JSON.parse keeps the last of duplicate keys, other parsers
 * the first (or refuse the text): a log line holding one reads as two different records, and a key
 * inserted before the real one changes what such a reader sees while the record JSON.parse reads,
 * and so its hash, stay the same. No line the writer writes holds one (canonical JSON), so a log
 * reader refuses a line that does (`duplicateKeyFailure` words it as a record problem).
 *
 * Contract: `duplicateKey` is given a text JSON.parse accepted; it walks it once (strings skipped
 * as a whole, escapes included) and compares keys by their decoded value (`"a"` and `"\u0061"`
 * are the same key). Only lines the canonical-line scanner declined come here: the scanner refuses
 * duplicates itself (keys strictly increasing).
 */
import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COMMA, OPEN_BRACE, OPEN_BRACKET, QUOTE } from './json-codes.js';


/** The first key that an object of `text` (valid JSON) holds twice, as its path (`metadata.a`), or null. */
export function duplicateKey(text: string): string | null {
  /** Per open container: the keys an object has so far (null for an array), and the last key read. */
  const keys: (Set<string> | null)[] = [];
  const path: string[] = [];
  let expectKey = false;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code === QUOTE) {
      let end = index + 1;
      let escaped = false;
      for (;;) {
        const next = text.charCodeAt(end);
        if (next === BACKSLASH) {
          escaped = true;
          end += 2;
        } else if (next === QUOTE) break;
        else end += 1;
      }
      const seen = keys.at(-1);
      if (expectKey && seen) {
        const key = escaped ? (JSON.parse(text.slice(index, end + 1)) as string) : text.slice(index + 1, end);
        if (seen.has(key)) return [...path.slice(0, keys.length - 1), key].join('.');
        seen.add(key);
        path[keys.length - 1] = key;
        expectKey = false;
      }
      index = end;
    } else if (code === OPEN_BRACE) {
      keys.push(new Set());
      expectKey = true;
    } else if (code === OPEN_BRACKET) {
      keys.push(null);
      path[keys.length - 1] = '[]';
      expectKey = false;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      keys.pop();
      path.length = keys.length;
      expectKey = false;
    } else if (code === COMMA) {
      expectKey = keys.at(-1) instanceof Set;
    }
  }
  return null;
}

/**
 * A log line as its readers take it (line-check.ts, line-cursor.ts): the value JSON.parse reads, or
 * why the line is refused (`is not JSON`, a duplicate key). `canonical`: the scanner found the line
 * in the writer's form, which holds no duplicate key (not walked again).
 */
export function parseLogLine(text: string, canonical = false): { value: unknown } | { failure: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { failure: 'is not JSON' };
  }
  const duplicate = canonical ? null : duplicateKeyFailure(text);
  return duplicate === null ? { value } : { failure: duplicate };
}

/** A log reader's failure for a line `text` (valid JSON) that holds a duplicate key, or null: worded as a record problem (`path: message`). */
export function duplicateKeyFailure(text: string): string | null {
  const path = duplicateKey(text);
  return path === null ? null : `is not a valid record: ${path}: a duplicate key (JSON.parse reads the last, other readers the first: no record holds one)`;
}
