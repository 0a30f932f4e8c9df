import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { parseSsml, type SsmlElement } from '../../src/compiler/ssml/ssml-parser.js';
import { InputError } from '../../src/errors.js';
import { escapeXml, ssml, xmlCharactersOf } from '../../src/security/ssml-template.js';

const strict = { lenient: false, maxDepth: 32, maxInputChars: 1_000_000 };
const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: fc.constantFrom('<', '>', '&', '"', "'", '/', ';', '#', 'x', 'a', ' ', ']', '-', '!', '?', '=', '\uD800', '\u202E'), maxLength: 40 }),
);

function textOf(element: SsmlElement): string {
  return element.children.map((child) => (child.kind === 'text' ? child.text : textOf(child))).join('');
}

describe('ssml tagged template', () => {
  it('round-trips any string as text through the SSML parser (property)', () => {
    fc.assert(
      fc.property(anyString, (value) => {
        const root = parseSsml(ssml`<speak>${value}</speak>`, strict);
        expect(root.children.every((child) => child.kind === 'text')).toBe(true);
        expect(textOf(root)).toBe(xmlCharactersOf(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips any string as an attribute value (property)', () => {
    fc.assert(
      fc.property(anyString, anyString, (alias, body) => {
        const root = parseSsml(ssml`<speak><sub alias='${alias}'>${body}</sub></speak>`, strict);
        const sub = root.children[0] as SsmlElement;
        expect(root.children).toHaveLength(1);
        expect([...sub.attributes.keys()]).toEqual(['alias']);
        expect(sub.attributes.get('alias')).toBe(xmlCharactersOf(alias));
        expect(textOf(sub)).toBe(xmlCharactersOf(body));
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps a payload that closes and opens tags as spoken text', () => {
    const graph = compile(ssml`<speak>${'</speak><speak><break time="10s"/>'}</speak>`, { format: 'ssml' });
    expect(graph.nodes.filter((node) => node.type === 'silence')).toHaveLength(0);
    expect(graph.nodes.map((node) => ('sourceText' in node ? node.sourceText : '')).join('')).toContain('</speak><speak><break time="10s"/>');
  });

  it('refuses interpolations where escaping cannot help, whatever the value', () => {
    const cases = [
      () => ssml`<speak><${'break'}/></speak>`,
      () => ssml`<speak><break time=${'1s'}/></speak>`,
      () => ssml`<speak><mark ${'name'}="a"/></speak>`,
      () => ssml`<speak><!-- ${'x'} --></speak>`,
      () => ssml`<speak><![CDATA[${'x'}]]></speak>`,
    ];
    for (const make of cases) {
      expect(make).toThrow(InputError);
      expect(make).toThrow(/interpolation 1 is (inside a tag|inside a comment)/);
    }
    // After the comment ends, text context again.
    expect(ssml`<speak><!-- c -->${'<b>'}</speak>`).toBe('<speak><!-- c -->&lt;b&gt;</speak>');
  });

  it('escapes the five specials and drops characters XML cannot carry', () => {
    expect(escapeXml(`<a href="x" b='y'>&amp;\u0000\uD800`)).toBe('&lt;a href=&quot;x&quot; b=&apos;y&apos;&gt;&amp;amp;');
  });

  it('refuses an interpolation that would complete a reference the template opened (&${x}; could spell U+202E)', () => {
    for (const make of [
      () => ssml`<speak>&${'#x202E'};evil</speak>`,
      () => ssml`<speak>&#${'x202E'};evil</speak>`,
      () => ssml`<speak><sub alias="&${'lt'};b">w</sub></speak>`,
      () => ssml`<speak><sub alias='&amp;&${'#60'};'>w</sub></speak>`,
    ]) {
      expect(make).toThrow(InputError);
      expect(make).toThrow(/interpolation 1 is inside a character or entity reference/);
    }
    // A finished reference before the interpolation is fine; so is a lone & with a space.
    expect(ssml`<speak>&amp;${'x'} & ${'y'}</speak>`).toBe('<speak>&amp;x & y</speak>');
  });
});
