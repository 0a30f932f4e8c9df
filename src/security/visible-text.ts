/**
 * Text made safe to print where a human reads it (a terminal, a log viewer): every control,
 * format (bidi overrides, zero-width), surrogate, private-use or line/paragraph separator
 * character is written as `\uXXXX`, so echoed input cannot reorder, hide or forge what is shown.
 */

const INVISIBLE = /[\p{C}\p{Zl}\p{Zp}]/gu;

/** `text` with every invisible or reordering character written as `\uXXXX` (newlines too). */
export function visibleText(text: string): string {
  return text.replace(INVISIBLE, (character) => `\\u${(character.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}`);
}
