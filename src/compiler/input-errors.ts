/**
 * Error codes of the compiler and the helper that builds an `InputError` naming a position
 * (line:column, both 1-based) in the caller's text.
 */
import { InputError } from '../errors.js';

/** Codes of the errors the compiler throws (all are `InputError`s). */
export const COMPILER_ERROR_CODES = {
  /** Malformed or unsupported SSML (unknown element or attribute, bad value, bad nesting...). */
  ssmlInvalid: 'SSML_INVALID',
  /** A DOCTYPE, ENTITY or other DTD declaration: always refused (no entity expansion, ever). */
  ssmlDtdForbidden: 'SSML_DTD_FORBIDDEN',
  /** Elements nested deeper than `maxDepth`. */
  ssmlTooDeep: 'SSML_TOO_DEEP',
  /** `<audio>` without `allowAudio`, or a source that is not a local file (or outside `audioRoot`). */
  ssmlAudioForbidden: 'SSML_AUDIO_FORBIDDEN',
  /** Malformed light markup (`[pause …]`, `{emotion}` spans). */
  markupInvalid: 'MARKUP_INVALID',
  /** Input longer than `maxInputChars`. */
  inputTooLarge: 'INPUT_TOO_LARGE',
} as const;

/** One compiler error code. */
export type CompilerErrorCode = (typeof COMPILER_ERROR_CODES)[keyof typeof COMPILER_ERROR_CODES];

/** A 1-based line and column in a text. */
export interface TextPosition {
  line: number;
  column: number;
}

/** Line and column (1-based, in UTF-16 code units) of `offset` in `text`. */
export function positionAt(text: string, offset: number): TextPosition {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(0, offset), text.length);
  for (let index = 0; index < end; index++) {
    if (text.charCodeAt(index) === 10) {
      line += 1;
      lineStart = index + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/**
 * An `InputError` at `offset` of `text`: the message starts with `input line:column` and the
 * error's `field` is `input:line:column`.
 */
export function errorAt(code: CompilerErrorCode, text: string, offset: number, message: string): InputError {
  const { line, column } = positionAt(text, offset);
  const field = `input:${line}:${column}`;
  return new InputError(`input ${line}:${column}: ${message}`, { code, field });
}
