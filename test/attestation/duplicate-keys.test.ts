// Duplicate keys in a log line (duplicate-keys.ts): JSON.parse keeps the last, other parsers the
// first, so a line holding one is refused by every log read. Held on explicit texts (escaped keys,
// keys inside strings, nesting, arrays), on random objects (fast-check: found exactly when a
// decoded key repeats in one object), and on a real log line with a key inserted before its own.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { duplicateKey } from '../../src/attestation/duplicate-keys.js';
import { checkLines } from '../../src/attestation/line-check.js';
import { canonicalJson } from '../../src/attestation/canonical-json.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { ReferenceCore } from '../../src/registrar/reference-core.js';

describe('duplicate keys', () => {
  it('names the first key an object holds twice, by its decoded value, wherever it nests', () => {
    expect(duplicateKey('{"a":1,"b":2}')).toBeNull();
    expect(duplicateKey('{"a":1,"a":2}')).toBe('a');
    expect(duplicateKey('{"a":1,"\\u0061":2}')).toBe('a');
    expect(duplicateKey('{"x":{"a":1,"b":{"c":[{"d":1,"d":2}]}}}')).toBe('x.b.c.[].d');
    expect(duplicateKey('{"x":{"a":1},"y":{"a":1}}')).toBeNull(); // the same key in two objects
    expect(duplicateKey('{"a":"\\",\\"a\\":","b":["a","a"],"c":"{\\"a\\":1,\\"a\\":2}"}')).toBeNull(); // keys inside strings are text
    expect(duplicateKey('[{"a":1},{"a":1}]')).toBeNull();
    expect(duplicateKey('{"__proto__":1,"__proto__":2}')).toBe('__proto__');
    expect(duplicateKey(' { "a" : 1 , "a" : 2 } ')).toBe('a');
  });

  it('finds one exactly when a decoded key repeats in one object (random objects, keys escaped at random)', () => {
    const key = fc.constantFrom('a', 'b', 'é', '"', '\\', 'a\u0000');
    const escape = (text: string, escaped: boolean) => (escaped ? `"${[...text].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"` : JSON.stringify(text));
    const members = fc.array(fc.tuple(key, fc.boolean(), fc.constantFrom('1', '"a"', '{"a":1}', '[{"b":1,"c":2}]', '{"a":1,"a":2}')), { maxLength: 5 });
    fc.assert(
      fc.property(members, (list) => {
        const text = `{${list.map(([name, escaped, value]) => `${escape(name, escaped)}:${value}`).join(',')}}`;
        JSON.parse(text); // valid JSON
        const names = list.map(([name]) => name);
        const repeats = new Set(names).size !== names.length || list.some(([, , value]) => value === '{"a":1,"a":2}');
        expect(duplicateKey(text) !== null).toBe(repeats);
      }),
      { numRuns: 500 },
    );
  });

  it('a log line with a key inserted before its own is no record, on the scanner\'s path and the general one', () => {
    const registrar = new AudioRegistrar({ core: new ReferenceCore() });
    registrar.registerActor('agent:a');
    registrar.requestAsHost({ action: 'start', actor: 'agent:a', target: 's' });
    const line = canonicalJson(registrar.attestationStore.all()[0]);
    const forged = line.replace('{"accessibility":', '{"decision":"denied","accessibility":');
    expect((JSON.parse(forged) as { decision: string }).decision).toBe('allowed'); // JSON.parse reads the last
    for (const hashing of ['line', 'canonical'] as const) {
      const checked = checkLines(Buffer.from(`${line}\n${forged}\n`), hashing);
      expect(checked.count).toBe(1);
      expect(checked.failure).toMatch(/not a valid record: decision: a duplicate key/);
    }
  });
});
