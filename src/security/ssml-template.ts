/**
 * A safe way to put untrusted text into SSML: the `ssml` tagged template escapes every
 * interpolation, so `ssml\`<speak>${userText}</speak>\`` can never open a tag, close one, start an
 * entity or leave an attribute's quotes. Characters XML cannot carry (controls, lone surrogates,
 * U+FFFE/U+FFFF) are dropped. An interpolation where escaping cannot make it safe (a tag or
 * attribute name, an unquoted attribute value, a comment, CDATA, a processing instruction, the
 * rest of a reference the template opened as in `&${x};`) is an `InputError` when the template
 * runs, whatever the value.
 */
import { InputError } from '../errors.js';

const XML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
/** Characters XML 1.0 cannot represent, even as character references. */
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `text` without the characters XML 1.0 cannot represent. */
export function xmlCharactersOf(text: string): string {
  return text.replace(NOT_XML, '');
}

/** Escapes the five XML special characters (text and attribute context) and drops characters XML cannot carry. */
export function escapeXml(text: string): string {
  return xmlCharactersOf(text).replace(/[&<>"']/g, (character) => XML_ESCAPES[character] as string);
}

/** A static part ending inside a reference it opened (`&`, `&#`, `&#x20`, `&l`): the next value would complete it. */
const OPEN_REFERENCE = /&#?[0-9A-Za-z_.-]*$/;

/** Where an interpolation sits in the template's markup. */
type Context = 'text' | 'tag' | 'quoted' | 'closed';

/** Scans a static part of the template from `context`; returns the context at its end. */
function scan(part: string, start: { context: Context; quote: string }): { context: Context; quote: string } {
  let { context, quote } = start;
  for (let index = 0; index < part.length; index++) {
    const character = part[index];
    if (context === 'closed') {
      // Inside a comment, CDATA or processing instruction: wait for its end.
      const end = quote === '--' ? '-->' : quote === ']]' ? ']]>' : '?>';
      const found = part.indexOf(end, index);
      if (found < 0) return { context, quote };
      index = found + end.length - 1;
      context = 'text';
    } else if (context === 'text') {
      if (character !== '<') continue;
      if (part.startsWith('<!--', index)) [context, quote] = ['closed', '--'];
      else if (part.startsWith('<![CDATA[', index)) [context, quote] = ['closed', ']]'];
      else if (part.startsWith('<?', index)) [context, quote] = ['closed', '?'];
      else context = 'tag';
    } else if (context === 'tag') {
      if (character === '"' || character === "'") [context, quote] = ['quoted', character];
      else if (character === '>') context = 'text';
    } else if (character === quote) {
      context = 'tag';
    }
  }
  return { context, quote };
}

/**
 * Tagged template for SSML with untrusted values: every `${value}` is turned into a string and
 * escaped, so it is read as text (or as an attribute value inside quotes) and nothing else.
 * Throws `InputError` (`SSML_TEMPLATE_UNSAFE`) for an interpolation outside text and quoted values.
 */
export function ssml(strings: TemplateStringsArray, ...values: readonly unknown[]): string {
  let out = strings[0] ?? '';
  let state = scan(out, { context: 'text', quote: '' });
  let before = out;
  for (let index = 0; index < values.length; index++) {
    if (OPEN_REFERENCE.test(before) && (state.context === 'text' || state.context === 'quoted')) {
      throw new InputError(`ssml template: interpolation ${index + 1} is inside a character or entity reference the template opened (&...;); put it after the reference's ";"`, {
        code: 'SSML_TEMPLATE_UNSAFE',
        field: `ssml.values.${index}`,
      });
    }
    if (state.context === 'tag' || state.context === 'closed') {
      const where = state.context === 'tag' ? 'inside a tag but outside a quoted attribute value' : 'inside a comment, CDATA section or processing instruction';
      throw new InputError(`ssml template: interpolation ${index + 1} is ${where}; put it in element text or in a quoted attribute value`, {
        code: 'SSML_TEMPLATE_UNSAFE',
        field: `ssml.values.${index}`,
      });
    }
    const next = strings[index + 1] ?? '';
    out += escapeXml(String(values[index])) + next;
    state = scan(next, state);
    before = next;
  }
  return out;
}
