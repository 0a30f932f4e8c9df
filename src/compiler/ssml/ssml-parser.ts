/**
 * A strict parser for the SSML subset (no XML dependency). It reads elements, attributes, text,
 * comments and CDATA; it expands only the five predefined XML entities and numeric character
 * references; any DTD (DOCTYPE, ENTITY...) is refused, always. Errors are `InputError`s naming
 * line:column. In lenient mode malformed markup is read as text, unknown elements are unwrapped
 * and unknown attributes dropped; the size, depth and DTD limits still apply.
 */
import { COMPILER_ERROR_CODES, errorAt, positionAt, type CompilerErrorCode } from '../input-errors.js';

/** An element of the parsed tree. `offset` is where its `<` is in the input. */
export interface SsmlElement {
  readonly kind: 'element';
  readonly name: string;
  readonly attributes: ReadonlyMap<string, string>;
  readonly children: SsmlContent[];
  readonly offset: number;
  /** True for an element the subset does not know (lenient mode only): read its content only. */
  readonly unknown: boolean;
}

/** Text of the parsed tree, entities already decoded. */
export interface SsmlText {
  readonly kind: 'text';
  readonly text: string;
  readonly offset: number;
}

/** A child of an element. */
export type SsmlContent = SsmlElement | SsmlText;

/** Limits and mode of the parser. */
export interface SsmlParseOptions {
  lenient: boolean;
  /** Deepest allowed element nesting (`<speak>` is depth 1). */
  maxDepth: number;
  maxInputChars: number;
}

/** The elements of the subset and the attributes each accepts (`*` = any `xmlns:` prefix). */
export const SSML_ELEMENTS: Readonly<Record<string, readonly string[]>> = {
  speak: ['version', 'xmlns', 'xml:lang', 'xmlns:*'],
  p: ['xml:lang'],
  s: ['xml:lang'],
  break: ['time', 'strength'],
  prosody: ['rate', 'pitch', 'volume'],
  emphasis: ['level'],
  'say-as': ['interpret-as', 'format', 'detail'],
  sub: ['alias'],
  voice: ['name', 'xml:lang'],
  audio: ['src'],
  mark: ['name'],
};

/** Elements that must be empty. */
const EMPTY_ELEMENTS = new Set(['break', 'mark']);
/** Elements whose content must be text only. */
const TEXT_ONLY_ELEMENTS = new Set(['say-as', 'sub']);
const PREDEFINED_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const NAME = /[A-Za-z_][A-Za-z0-9._:-]*/y;
const XML_DECLARATION = /<\?xml\s+version\s*=\s*(["'])1\.[01]\1(?:\s+encoding\s*=\s*(["'])[A-Za-z][A-Za-z0-9._-]*\2)?(?:\s+standalone\s*=\s*(["'])(?:yes|no)\3)?\s*\?>/y;

/**
 * A strictly invalid piece of markup; in lenient mode the caller reads it as text instead. Not an
 * Error on purpose: it never leaves the parser, and skipping the stack capture keeps lenient
 * parsing of input full of stray '&' and '<' fast.
 */
class Malformed {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

function isXmlChar(codePoint: number): boolean {
  return (
    codePoint === 0x9 || codePoint === 0xa || codePoint === 0xd ||
    (codePoint >= 0x20 && codePoint <= 0xd7ff) || (codePoint >= 0xe000 && codePoint <= 0xfffd) ||
    (codePoint >= 0x10000 && codePoint <= 0x10ffff)
  );
}

class Parser {
  private index = 0;
  private readonly stack: { element: SsmlElement; offset: number }[] = [];

  constructor(
    private readonly input: string,
    private readonly options: SsmlParseOptions,
  ) {}

  parse(): SsmlElement {
    if (this.input.length > this.options.maxInputChars) {
      throw errorAt(COMPILER_ERROR_CODES.inputTooLarge, this.input, this.options.maxInputChars, `the input has ${this.input.length} characters, more than maxInputChars (${this.options.maxInputChars})`);
    }
    if (this.input.startsWith('\uFEFF')) this.index = 1;
    this.parseDeclaration();
    this.skipMisc();
    let root: SsmlElement;
    if (this.input.startsWith('<speak', this.index) && /[\s/>]/.test(this.input[this.index + 6] ?? '')) {
      root = this.guard(() => this.parseStartTag(), () => undefined) ?? this.implicitRoot();
    } else if (this.options.lenient) {
      root = this.implicitRoot();
    } else {
      throw this.fail(COMPILER_ERROR_CODES.ssmlInvalid, this.index, this.index >= this.input.length ? 'the document is empty: expected a <speak> root element' : 'expected a <speak> root element');
    }
    this.parseContent(root);
    return root;
  }

  private implicitRoot(): SsmlElement {
    const root: SsmlElement = { kind: 'element', name: 'speak', attributes: new Map(), children: [], offset: 0, unknown: false };
    this.stack.push({ element: root, offset: 0 });
    return root;
  }

  private fail(code: CompilerErrorCode, offset: number, message: string) {
    return errorAt(code, this.input, offset, message);
  }

  /** Runs a piece of strict syntax; in lenient mode a `Malformed` runs `fallback` instead. */
  private guard<T>(strict: () => T, fallback: (error: Malformed) => T): T {
    const start = this.index;
    try {
      return strict();
    } catch (error) {
      if (!(error instanceof Malformed)) throw error;
      if (!this.options.lenient) throw this.fail(COMPILER_ERROR_CODES.ssmlInvalid, error.offset, error.message);
      this.index = start;
      return fallback(error);
    }
  }

  private parseDeclaration(): void {
    if (!this.input.startsWith('<?xml', this.index)) return;
    XML_DECLARATION.lastIndex = this.index;
    const match = XML_DECLARATION.exec(this.input);
    if (!match) throw this.fail(COMPILER_ERROR_CODES.ssmlInvalid, this.index, 'malformed XML declaration (expected <?xml version="1.0" ...?>)');
    this.index += match[0].length;
  }

  /** Skips whitespace and comments outside the root; refuses DTDs. */
  private skipMisc(): void {
    for (;;) {
      while (/\s/.test(this.input[this.index] ?? '')) this.index += 1;
      if (this.input.startsWith('<!--', this.index)) {
        this.guard(() => this.parseComment(), () => this.fatalComment());
      } else if (this.input.startsWith('<!', this.index) && !this.input.startsWith('<![CDATA[', this.index)) {
        throw this.dtdError();
      } else {
        return;
      }
    }
  }

  private fatalComment(): never {
    // An unterminated comment swallows the rest of the document: not even lenient mode can read on.
    throw this.fail(COMPILER_ERROR_CODES.ssmlInvalid, this.index, 'comment is never closed (expected -->)');
  }

  private dtdError() {
    return this.fail(COMPILER_ERROR_CODES.ssmlDtdForbidden, this.index, 'DTD declarations (<!DOCTYPE>, <!ENTITY>, ...) are not allowed: entities are never expanded');
  }

  private parseComment(): void {
    const end = this.input.indexOf('-->', this.index + 4);
    if (end < 0) throw new Malformed(this.index, 'comment is never closed (expected -->)');
    const body = this.input.slice(this.index + 4, end);
    const dashes = body.indexOf('--');
    if (dashes >= 0 || body.endsWith('-')) throw new Malformed(this.index + 4 + Math.max(0, dashes), "'--' is not allowed inside a comment");
    this.index = end + 3;
  }

  private parseContent(root: SsmlElement): void {
    let text = '';
    let textOffset = this.index;
    const flushText = () => {
      const current = this.stack[this.stack.length - 1];
      if (text !== '' && current) this.appendText(current.element, text, textOffset);
      text = '';
      textOffset = this.index;
    };
    while (this.index < this.input.length) {
      if (this.stack.length === 0) {
        const afterRoot = this.index;
        this.skipMisc();
        if (this.index >= this.input.length) break;
        if (!this.options.lenient) throw this.fail(COMPILER_ERROR_CODES.ssmlInvalid, this.index, 'content after the closing </speak> of the root element');
        // Lenient: reopen the root and read the rest, spaces included (they separate words).
        this.index = afterRoot;
        textOffset = afterRoot;
        this.stack.push({ element: root, offset: root.offset });
        continue;
      }
      const character = this.input[this.index] as string;
      if (character === '<') {
        if (this.input.startsWith('<!--', this.index)) {
          flushText();
          this.guard(() => this.parseComment(), () => this.fatalComment());
        } else if (this.input.startsWith('<![CDATA[', this.index)) {
          const end = this.input.indexOf(']]>', this.index + 9);
          if (end < 0) throw this.fail(COMPILER_ERROR_CODES.ssmlInvalid, this.index, 'CDATA section is never closed (expected ]]>)');
          if (text === '') textOffset = this.index;
          text += this.checkCharacters(this.input.slice(this.index + 9, end), this.index + 9);
          this.index = end + 3;
        } else if (this.input.startsWith('<!', this.index)) {
          throw this.dtdError();
        } else {
          flushText();
          const handled = this.guard(
            () => {
              if (this.input.startsWith('<?', this.index)) throw new Malformed(this.index, 'processing instructions are not supported');
              if (this.input.startsWith('</', this.index)) this.parseEndTag();
              else this.parseStartTag();
              return true;
            },
            () => false,
          );
          if (!handled) {
            text = '<';
            textOffset = this.index;
            this.index += 1;
          }
          continue;
        }
        continue;
      }
      if (text === '') textOffset = this.index;
      if (character === '&') {
        text += this.guard(
          () => this.parseReference(),
          () => {
            this.index += 1;
            return '&';
          },
        );
        continue;
      }
      const codePoint = this.input.codePointAt(this.index) as number;
      const width = codePoint > 0xffff ? 2 : 1;
      if (!isXmlChar(codePoint)) {
        if (!this.options.lenient) throw this.fail(COMPILER_ERROR_CODES.ssmlInvalid, this.index, `character U+${codePoint.toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`);
      } else {
        text += this.input.slice(this.index, this.index + width);
      }
      this.index += width;
    }
    flushText();
    const open = this.stack[this.stack.length - 1];
    if (open && !this.options.lenient) {
      throw this.fail(COMPILER_ERROR_CODES.ssmlInvalid, open.offset, `<${open.element.name}> is never closed`);
    }
  }

  private checkCharacters(text: string, offset: number): string {
    for (let index = 0; index < text.length; index++) {
      const codePoint = text.codePointAt(index) as number;
      if (!isXmlChar(codePoint)) {
        if (!this.options.lenient) throw this.fail(COMPILER_ERROR_CODES.ssmlInvalid, offset + index, `character U+${codePoint.toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`);
        return [...text].filter((character) => isXmlChar(character.codePointAt(0) as number)).join('');
      }
      if (codePoint > 0xffff) index += 1;
    }
    return text;
  }

  private appendText(parent: SsmlElement, text: string, offset: number): void {
    if (EMPTY_ELEMENTS.has(parent.name) && text.trim() !== '') {
      if (!this.options.lenient) throw this.fail(COMPILER_ERROR_CODES.ssmlInvalid, offset, `<${parent.name}> must be empty`);
      return;
    }
    parent.children.push({ kind: 'text', text, offset });
  }

  /** Reads `&...;` at the cursor; returns the decoded text. */
  private parseReference(): string {
    const start = this.index;
    // The longest valid reference is &#x10FFFF; — look no further, so many bare '&' stay linear.
    const semicolon = this.input.slice(start, start + 12).indexOf(';');
    const end = semicolon < 0 ? -1 : start + semicolon;
    const body = end < 0 ? '' : this.input.slice(start + 1, end);
    if (end < 0 || !/^(#x[0-9A-Fa-f]+|#[0-9]+|[A-Za-z][A-Za-z0-9]*)$/.test(body)) {
      throw new Malformed(start, "'&' must start an entity reference such as &amp; (write &amp; for a literal '&')");
    }
    let decoded: string | undefined;
    if (body.startsWith('#')) {
      const codePoint = body[1] === 'x' ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
      if (!isXmlChar(codePoint)) throw new Malformed(start, `&${body}; is not a valid XML character`);
      decoded = String.fromCodePoint(codePoint);
    } else {
      decoded = PREDEFINED_ENTITIES[body];
      if (decoded === undefined) throw new Malformed(start, `unknown entity &${body}; (only &lt; &gt; &amp; &quot; &apos; and numeric references are allowed)`);
    }
    this.index = end + 1;
    return decoded;
  }

  private readName(what: string): string {
    NAME.lastIndex = this.index;
    const match = NAME.exec(this.input);
    if (!match) throw new Malformed(this.index, `expected ${what}`);
    this.index += match[0].length;
    return match[0];
  }

  private skipSpaces(): boolean {
    const start = this.index;
    while (/\s/.test(this.input[this.index] ?? '')) this.index += 1;
    return this.index > start;
  }

  private parseEndTag(): void {
    const start = this.index;
    this.index += 2;
    const name = this.readName('an element name after </');
    this.skipSpaces();
    if (this.input[this.index] !== '>') throw new Malformed(this.index, `expected '>' to end </${name}`);
    this.index += 1;
    const depth = this.stack.findLastIndex((entry) => entry.element.name === name);
    const top = this.stack[this.stack.length - 1];
    if (top && top.element.name === name) {
      this.stack.pop();
      return;
    }
    if (!this.options.lenient) {
      const expected = top ? `</${top.element.name}> for the <${top.element.name}> opened at ${this.describe(top.offset)}` : 'no closing tag';
      throw this.fail(COMPILER_ERROR_CODES.ssmlInvalid, start, `closing tag </${name}> does not match: expected ${expected}`);
    }
    // Lenient: close up to a matching ancestor, or drop a stray closing tag.
    if (depth >= 0) this.stack.length = depth;
  }

  private describe(offset: number): string {
    const { line, column } = positionAt(this.input, offset);
    return `${line}:${column}`;
  }

  private parseStartTag(): SsmlElement {
    const start = this.index;
    this.index += 1;
    const name = this.readName("an element name after '<' (write &lt; for a literal '<')");
    const attributes = new Map<string, string>();
    for (;;) {
      const spaced = this.skipSpaces();
      const next = this.input[this.index];
      if (next === '>' || (next === '/' && this.input[this.index + 1] === '>')) break;
      if (next === undefined) throw new Malformed(start, `<${name}> tag is never closed (expected '>')`);
      if (!spaced) throw new Malformed(this.index, `expected a space, '>' or '/>' in <${name}>`);
      const attributeOffset = this.index;
      const attribute = this.readName(`an attribute name in <${name}>`);
      this.skipSpaces();
      if (this.input[this.index] !== '=') throw new Malformed(this.index, `expected '=' after attribute ${attribute}`);
      this.index += 1;
      this.skipSpaces();
      const quote = this.input[this.index];
      if (quote !== '"' && quote !== "'") throw new Malformed(this.index, `attribute ${attribute} needs a quoted value`);
      this.index += 1;
      let value = '';
      while (this.input[this.index] !== quote) {
        const character = this.input[this.index];
        if (character === undefined) throw new Malformed(attributeOffset, `the value of attribute ${attribute} is never closed`);
        if (character === '<') throw new Malformed(this.index, `'<' is not allowed in the value of attribute ${attribute}`);
        if (character === '&') value += this.parseReference();
        else {
          value += character;
          this.index += 1;
        }
      }
      this.index += 1;
      if (attributes.has(attribute)) throw new Malformed(attributeOffset, `attribute ${attribute} appears twice in <${name}>`);
      attributes.set(attribute, this.checkCharacters(value, attributeOffset));
    }
    const selfClosing = this.input[this.index] === '/';
    this.index += selfClosing ? 2 : 1;
    return this.openElement(name, attributes, start, selfClosing);
  }

  private openElement(name: string, attributes: Map<string, string>, offset: number, selfClosing: boolean): SsmlElement {
    const parent = this.stack[this.stack.length - 1]?.element;
    const allowed = SSML_ELEMENTS[name];
    if (!allowed && !this.options.lenient) {
      throw this.fail(COMPILER_ERROR_CODES.ssmlInvalid, offset, `unknown element <${name}> (the subset is: ${Object.keys(SSML_ELEMENTS).join(', ')})`);
    }
    if (allowed) {
      for (const attribute of [...attributes.keys()]) {
        const known = allowed.includes(attribute) || (allowed.includes('xmlns:*') && attribute.startsWith('xmlns:'));
        if (known) continue;
        if (!this.options.lenient) throw this.fail(COMPILER_ERROR_CODES.ssmlInvalid, offset, `<${name}> does not accept attribute ${attribute} (accepted: ${allowed.join(', ')})`);
        attributes.delete(attribute);
      }
    }
    const problem = parent ? this.nestingProblem(parent, name) : undefined;
    if (problem && !this.options.lenient) throw this.fail(COMPILER_ERROR_CODES.ssmlInvalid, offset, problem);
    if (this.stack.length + 1 > this.options.maxDepth) {
      throw this.fail(COMPILER_ERROR_CODES.ssmlTooDeep, offset, `elements are nested deeper than maxDepth (${this.options.maxDepth})`);
    }
    // Lenient mode reads a misplaced or unknown element's content in place (it is "unwrapped").
    const element: SsmlElement = { kind: 'element', name, attributes, children: [], offset, unknown: !allowed || problem !== undefined };
    parent?.children.push(element);
    if (!selfClosing) this.stack.push({ element, offset });
    return element;
  }

  private nestingProblem(parent: SsmlElement, name: string): string | undefined {
    if (name === 'speak') return '<speak> may only be the root element';
    if (EMPTY_ELEMENTS.has(parent.name)) return `<${parent.name}> must be empty`;
    if (TEXT_ONLY_ELEMENTS.has(parent.name)) return `<${parent.name}> may contain only text, not <${name}>`;
    if (name === 'p' || name === 's') {
      const inside = this.stack.find((entry) => entry.element.name === 's' || (name === 'p' && entry.element.name === 'p'));
      if (inside) return `<${name}> cannot be inside <${inside.element.name}>`;
    }
    return undefined;
  }
}

/** Parses an SSML document into its `<speak>` element (see the module comment for the rules). */
export function parseSsml(input: string, options: SsmlParseOptions): SsmlElement {
  return new Parser(input, options).parse();
}
