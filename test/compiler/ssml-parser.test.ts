import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { parseSsml, type SsmlContent, type SsmlElement } from '../../src/compiler/ssml/ssml-parser.js';

const strict = { lenient: false, maxDepth: 32, maxInputChars: 100_000 };
const lenient = { ...strict, lenient: true };

function failure(input: string, options = strict): InputError {
  try {
    parseSsml(input, options);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

/** The tree without offsets, for readable expectations. */
function shape(node: SsmlContent): unknown {
  if (node.kind === 'text') return node.text;
  const attributes = Object.fromEntries(node.attributes);
  return { [node.unknown ? `?${node.name}` : node.name]: [Object.keys(attributes).length ? attributes : null, ...node.children.map(shape)].filter((item) => item !== null) };
}

describe('parseSsml: valid documents', () => {
  it('reads elements, attributes, text and self-closing tags', () => {
    const root = parseSsml('<speak>Hi <break time="300ms"/><emphasis level=\'strong\'>you</emphasis></speak>', strict);
    expect(shape(root)).toEqual({ speak: ['Hi ', { break: [{ time: '300ms' }] }, { emphasis: [{ level: 'strong' }, 'you'] }] });
  });

  it('accepts an XML declaration, a BOM, comments and namespaces', () => {
    const input = '\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n<!-- intro -->\n<speak version="1.1" xmlns="http://www.w3.org/2001/10/synthesis" xmlns:amz="x" xml:lang="en-GB"><!-- c -->Hello</speak>\n<!-- end -->\n';
    const root = parseSsml(input, strict);
    expect(root.attributes.get('xml:lang')).toBe('en-GB');
    expect(shape(root)).toMatchObject({ speak: [expect.anything(), 'Hello'] });
  });

  it('expands only the five predefined entities and numeric references', () => {
    const root = parseSsml('<speak>&lt;a&gt; &amp; &quot;b&quot; &apos;c&apos; &#65;&#x42;&#x1F600;</speak>', strict);
    expect((root.children[0] as { text: string }).text).toBe('<a> & "b" \'c\' AB😀');
  });

  it('decodes entities in attribute values and reads CDATA as text', () => {
    const root = parseSsml('<speak><sub alias="Tom &amp; Jerry">T&amp;J</sub><![CDATA[ a < b & c ]]></speak>', strict);
    const sub = root.children[0] as SsmlElement;
    expect(sub.attributes.get('alias')).toBe('Tom & Jerry');
    expect((root.children[1] as { text: string }).text).toBe(' a < b & c ');
  });

  it('records where each element starts', () => {
    const root = parseSsml('<speak>\n  <mark name="a"/></speak>', strict);
    expect((root.children[1] as SsmlElement).offset).toBe(10);
  });
});

describe('parseSsml: strict errors name the code and line:column', () => {
  it.each([
    ['empty document', '', 'SSML_INVALID', '1:1', 'expected a <speak> root element'],
    ['no root', 'Hello', 'SSML_INVALID', '1:1', 'expected a <speak> root element'],
    ['wrong root', '<p>hi</p>', 'SSML_INVALID', '1:1', 'expected a <speak> root element'],
    ['unknown element', '<speak>\n  <foo>x</foo></speak>', 'SSML_INVALID', '2:3', 'unknown element <foo>'],
    ['vendor element', '<speak><amazon:effect>x</amazon:effect></speak>', 'SSML_INVALID', '1:8', 'unknown element <amazon:effect>'],
    ['unknown attribute', '<speak><break foo="1"/></speak>', 'SSML_INVALID', '1:8', '<break> does not accept attribute foo'],
    ['mismatched closing tag', '<speak><p>hi</s></speak>', 'SSML_INVALID', '1:13', 'closing tag </s> does not match: expected </p> for the <p> opened at 1:8'],
    ['unclosed element', '<speak><p>hi', 'SSML_INVALID', '1:8', '<p> is never closed'],
    ['unclosed root', '<speak>hi', 'SSML_INVALID', '1:1', '<speak> is never closed'],
    ['unknown entity', '<speak>&nbsp;</speak>', 'SSML_INVALID', '1:8', 'unknown entity &nbsp;'],
    ['bare ampersand', '<speak>salt & pepper</speak>', 'SSML_INVALID', '1:13', "'&' must start an entity reference"],
    ['bad numeric reference', '<speak>&#0;</speak>', 'SSML_INVALID', '1:8', '&#0; is not a valid XML character'],
    ['bare less-than', '<speak>1 < 2</speak>', 'SSML_INVALID', '1:11', "expected an element name after '<'"],
    ['unquoted attribute', '<speak><break time=3s/></speak>', 'SSML_INVALID', '1:20', 'attribute time needs a quoted value'],
    ['missing equals', '<speak><break time"3s"/></speak>', 'SSML_INVALID', '1:19', "expected '=' after attribute time"],
    ['duplicate attribute', '<speak><break time="1s" time="2s"/></speak>', 'SSML_INVALID', '1:25', 'attribute time appears twice'],
    ['attributes without space', '<speak><prosody rate="1"pitch="+1st">x</prosody></speak>', 'SSML_INVALID', '1:25', "expected a space, '>' or '/>'"],
    ['less-than in attribute', '<speak><sub alias="a<b">x</sub></speak>', 'SSML_INVALID', '1:21', "'<' is not allowed in the value"],
    ['unterminated attribute', '<speak><sub alias="ab', 'SSML_INVALID', '1:13', 'the value of attribute alias is never closed'],
    ['content after root', '<speak>a</speak>b', 'SSML_INVALID', '1:17', 'content after the closing </speak>'],
    ['nested speak', '<speak><speak>x</speak></speak>', 'SSML_INVALID', '1:8', '<speak> may only be the root element'],
    ['text in break', '<speak><break>x</break></speak>', 'SSML_INVALID', '1:15', '<break> must be empty'],
    ['element in say-as', '<speak><say-as interpret-as="digits"><break/></say-as></speak>', 'SSML_INVALID', '1:38', '<say-as> may contain only text'],
    ['p inside s', '<speak><s><p>x</p></s></speak>', 'SSML_INVALID', '1:11', '<p> cannot be inside <s>'],
    ['processing instruction', '<speak><?php x ?></speak>', 'SSML_INVALID', '1:8', 'processing instructions are not supported'],
    ['bad XML declaration', '<?xml version="2.0"?><speak/>', 'SSML_INVALID', '1:1', 'malformed XML declaration'],
    ['double dash in comment', '<speak><!-- a -- b --></speak>', 'SSML_INVALID', '1:15', "'--' is not allowed inside a comment"],
    ['unterminated comment', '<speak><!-- never', 'SSML_INVALID', '1:8', 'comment is never closed'],
    ['unterminated CDATA', '<speak><![CDATA[ never', 'SSML_INVALID', '1:8', 'CDATA section is never closed'],
    ['control character', '<speak>a\u0001b</speak>', 'SSML_INVALID', '1:9', 'character U+0001 is not allowed'],
    ['position on a later line', '<speak>\n<p>\n  ok\n  <bogus/>\n</p>\n</speak>', 'SSML_INVALID', '4:3', 'unknown element <bogus>'],
  ])('%s', (_name, input, code, position, message) => {
    const error = failure(input);
    expect(error.code).toBe(code);
    expect(error.message).toContain(`input ${position}:`);
    expect(error.message).toContain(message);
    expect(error.field).toBe(`input:${position}`);
  });
});

describe('parseSsml: DTDs are always refused', () => {
  it.each([
    ['DOCTYPE', '<!DOCTYPE speak>\n<speak>x</speak>', '1:1'],
    ['DOCTYPE after declaration', '<?xml version="1.0"?><!DOCTYPE speak [<!ENTITY x "boom">]><speak>&x;</speak>', '1:22'],
    ['ENTITY inside the root', '<speak><!ENTITY x "y"></speak>', '1:8'],
  ])('%s', (_name, input, position) => {
    for (const options of [strict, lenient]) {
      const error = failure(input, options);
      expect(error.code).toBe('SSML_DTD_FORBIDDEN');
      expect(error.message).toContain(`input ${position}: DTD declarations`);
    }
  });
});

describe('parseSsml: limits', () => {
  const nested = (depth: number) => `<speak>${'<prosody rate="fast">'.repeat(depth - 1)}x${'</prosody>'.repeat(depth - 1)}</speak>`;

  it('accepts nesting up to maxDepth and refuses deeper, in both modes', () => {
    expect(() => parseSsml(nested(4), { ...strict, maxDepth: 4 })).not.toThrow();
    for (const options of [strict, lenient]) {
      const error = failure(nested(5), { ...options, maxDepth: 4 });
      expect(error.code).toBe('SSML_TOO_DEEP');
      expect(error.message).toContain('input 1:71: elements are nested deeper than maxDepth (4)');
    }
  });

  it('refuses input longer than maxInputChars, in both modes', () => {
    for (const options of [strict, lenient]) {
      const error = failure('<speak>0123456789</speak>', { ...options, maxInputChars: 20 });
      expect(error.code).toBe('INPUT_TOO_LARGE');
      expect(error.message).toContain('more than maxInputChars (20)');
    }
  });
});

describe('parseSsml: lenient mode reads bad markup as text', () => {
  it.each([
    ['unknown element is unwrapped', '<speak>a <foo>b</foo> c</speak>', { speak: ['a ', { '?foo': ['b'] }, ' c'] }],
    ['unknown attribute is dropped', '<speak><break foo="1" time="1s"/></speak>', { speak: [{ break: [{ time: '1s' }] }] }],
    ['bare less-than is text', '<speak>1 < 2</speak>', { speak: ['1 ', '< 2'] }],
    ['bare ampersand is text', '<speak>a & b</speak>', { speak: ['a & b'] }],
    ['unknown entity is text', '<speak>&nbsp;x</speak>', { speak: ['&nbsp;x'] }],
    ['stray closing tag is dropped', '<speak>a</p>b</speak>', { speak: ['a', 'b'] }],
    ['closing an ancestor closes the children', '<speak><p><emphasis>a</p>b</speak>', { speak: [{ p: [{ emphasis: ['a'] }] }, 'b'] }],
    ['unclosed elements close at the end', '<speak><p>a', { speak: [{ p: ['a'] }] }],
    ['missing root', 'just <emphasis>text</emphasis>', { speak: ['just ', { emphasis: ['text'] }] }],
    ['content after the root joins it', '<speak>a</speak> b', { speak: ['a', ' b'] }],
    ['misplaced element is unwrapped', '<speak><s><p>x</p></s></speak>', { speak: [{ s: [{ '?p': ['x'] }] }] }],
    ['control characters are dropped', '<speak>a\u0001b</speak>', { speak: ['ab'] }],
  ])('%s', (_name, input, expected) => {
    expect(shape(parseSsml(input, lenient))).toEqual(expected);
  });
});
