/**
 * InputValidator: the gate for untrusted text before it reaches the engine. It bounds the length,
 * refuses characters that hide or reorder what is shown (controls, bidi overrides and isolates,
 * lone surrogates), and decides what markup may pass: SSML only with `allowSsml` (then checked by
 * the strict SSML parser, depth and size limits included), anything else spoken as plain text.
 * With `sanitizeMarkup` the offending pieces are removed instead of refused. Contract: `validate`
 * returns `{ text, format }` to pass to `speak` as is, or throws an `InputError` naming what was
 * refused and where.
 */
import { z } from 'zod';
import { compile, looksLikeSsml } from '../compiler/index.js';
import { positionAt } from '../compiler/input-errors.js';
import { InputError } from '../errors.js';
import { parseInput } from '../validation.js';

/** Default `maxLength`: 10,000 characters. */
export const DEFAULT_MAX_INPUT_LENGTH = 10_000;

/** Schema of `new InputValidator(options)`. */
export const inputValidatorOptionsSchema = z.strictObject({
  /** Longest text accepted, in UTF-16 code units (default 10,000). */
  maxLength: z.number().int().min(1).max(10_000_000).default(DEFAULT_MAX_INPUT_LENGTH),
  /** Accept SSML documents (`<speak>`...), checked by the strict parser (default false: markup is refused). */
  allowSsml: z.boolean().default(false),
  /** Remove tags, entities and hidden characters instead of refusing them (default false). */
  sanitizeMarkup: z.boolean().default(false),
});

/** What callers pass to `new InputValidator(...)`. */
export type InputValidatorOptions = z.input<typeof inputValidatorOptionsSchema>;

/** Validated input: speak `text` with `format` (`text` for plain text, `ssml` for an accepted document). */
export interface ValidatedText {
  readonly text: string;
  readonly format: 'text' | 'ssml';
}

/**
 * C0/C1 controls (not tab, newline, CR), bidi marks, embeddings, overrides and isolates (U+061C,
 * U+200E/F, U+202A-E, U+2066-9), zero-width space, word joiner and invisible operators
 * (U+200B, U+2060-4), BOM (U+FEFF), tag characters (U+E0000-7F: text a reader cannot see), lone
 * surrogates, noncharacters. ZWNJ and ZWJ (U+200C/D) stay: scripts and emoji sequences need them.
 */
const HIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u061C\u200B\u200E\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF\uFFFE\uFFFF]|\uDB40[\uDC00-\uDC7F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** Something a reader could take for markup: a tag, an entity or character reference, light markup. */
const MARKUP = /<\/?[A-Za-z_!?][^<>]*>?|&(?:#x?[0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);|\[pause\b[^\]\n]*\]?|\{\/?[A-Za-z]+\}/gi;

function describeCharacter(character: string): string {
  return `U+${(character.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Validates untrusted text against a policy (see the module comment). */
export class InputValidator {
  readonly #options: z.output<typeof inputValidatorOptionsSchema>;

  constructor(options: InputValidatorOptions = {}) {
    this.#options = parseInput(inputValidatorOptionsSchema, options, 'inputValidator');
  }

  /** The validated text and the format to speak it with, or an `InputError` naming what was refused. */
  validate(input: unknown, field = 'text'): ValidatedText {
    if (typeof input !== 'string') throw new InputError(`${field}: expected a string (received ${input === null ? 'null' : typeof input})`, { field });
    const { maxLength, allowSsml, sanitizeMarkup } = this.#options;
    if (input.length > maxLength) {
      throw new InputError(`${field}: ${input.length} characters is more than maxLength (${maxLength})`, { code: 'INPUT_TOO_LARGE', field });
    }
    let text = input;
    const hidden = new RegExp(HIDDEN.source, 'g').exec(text);
    if (hidden) {
      if (!sanitizeMarkup) throw this.#refused(field, text, hidden.index, `character ${describeCharacter(hidden[0])} (a control, bidi control, invisible character or lone surrogate) is not allowed`);
      text = text.replace(HIDDEN, '');
    }
    if (looksLikeSsml(text)) {
      if (allowSsml) {
        // The strict parser is the judge: any malformed or unsupported markup is its InputError.
        const graph = compile(text, { format: 'ssml', maxInputChars: maxLength });
        // Character references decode to what the raw check saw as harmless (&#x202E;): check what will be spoken.
        for (const node of graph.nodes) {
          // The source, the words spoken (a <sub alias> is spoken, not its content) and the voice.
          const decoded = 'sourceText' in node ? `${node.sourceText}${node.text}${node.voice ?? ''}` : '';
          const reference = new RegExp(HIDDEN.source).exec(decoded);
          if (reference) throw this.#refused(field, text, 0, `character ${describeCharacter(reference[0])} (a control, bidi control, invisible character or lone surrogate, written as a reference) is not allowed`);
        }
        return { text, format: 'ssml' };
      }
      if (!sanitizeMarkup) throw this.#refused(field, text, text.indexOf('<'), 'SSML is not allowed here (allowSsml is false)');
    }
    const markup = new RegExp(MARKUP.source, 'gi').exec(text);
    if (markup) {
      if (!sanitizeMarkup) throw this.#refused(field, text, markup.index, `markup ${JSON.stringify(markup[0].slice(0, 40))} is not allowed`);
      text = removeMarkup(text);
    }
    return { text, format: 'text' };
  }

  #refused(field: string, text: string, offset: number, message: string): InputError {
    const { line, column } = positionAt(text, offset);
    return new InputError(`${field} ${line}:${column}: ${message}`, { code: 'INPUT_REFUSED', field });
  }
}

/** `text` with markup removed until none is left (so removal cannot assemble a new tag). */
function removeMarkup(text: string): string {
  let previous: string;
  let current = text;
  do {
    previous = current;
    current = current.replace(MARKUP, '');
  } while (current !== previous);
  return current;
}
