import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/compile.js';
import { planSynthesis } from '../../src/compiler/plan.js';
import { normalizeText } from '../../src/compiler/normalize/normalizer.js';
import { SentenceStream, splitSentences } from '../../src/compiler/sentences.js';
import { parseSsml } from '../../src/compiler/ssml/ssml-parser.js';
import { InputError } from '../../src/errors.js';
import { parseSpeechGraph } from '../../src/graph/speech-graph-schema.js';

const SSML_PIECES = [
  '<speak>', '</speak>', '<p>', '</p>', '<s>', '</s>', '<break time="300ms"/>', '<break strength="strong"/>', '<break>',
  '<prosody rate="fast" pitch="+2st">', '<prosody volume="loud">', '</prosody>', '<emphasis>', '</emphasis>',
  '<say-as interpret-as="digits">', '<say-as interpret-as="date" format="ymd">', '</say-as>', '<sub alias="x">', '</sub>',
  '<voice name="v">', '</voice>', '<mark name="m"/>', '<audio src="/a.wav">', '</audio>', '<foo>', '</foo>', '<x:y z="1">',
  '&amp;', '&lt;', '&#65;', '&#x1F600;', '&nbsp;', '&', '<', '>', '/>', '=', '"', "'", '<!--', '-->', '<![CDATA[', ']]>',
  '<!DOCTYPE speak>', '<?xml version="1.0"?>', '<?pi?>', ' ', '\n', 'Hello', 'Dr.', '3.14', '$5', '2024-03-15', '.', '!', '\u0000', '😀',
];
const ssmlLike = fc.array(fc.constantFrom(...SSML_PIECES), { maxLength: 40 }).map((pieces) => pieces.join(''));
const markupLike = fc
  .array(fc.constantFrom('[pause]', '[pause 200ms]', '[pause x]', '[', ']', '{joy}', '{/joy}', '{calm}', '{/calm}', '{glee}', '{', '}', '*', '**', '\\', 'word', ' ', '\n\n', '.', '5', '$3'), { maxLength: 40 })
  .map((pieces) => pieces.join(''));
const anyText = fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 100 }), ssmlLike, markupLike);

/** Runs `run`; anything thrown must be an InputError. Returns the error, if any. */
function onlyInputErrors(run: () => unknown): InputError | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    expect(typeof error.code).toBe('string');
    expect(error.message).toMatch(/^input( \d+:\d+)?: /);
    return error;
  }
}

/** The error's line:column must point into `input` (column may be one past the line's end). */
function expectPositionInside(error: InputError | undefined, input: string): void {
  const position = /^input:(\d+):(\d+)$/.exec(error?.field ?? '');
  if (!position) return;
  const lines = input.split('\n');
  const line = Number(position[1]);
  expect(line).toBeGreaterThanOrEqual(1);
  expect(line).toBeLessThanOrEqual(lines.length);
  expect(Number(position[2])).toBeLessThanOrEqual((lines[line - 1] as string).length + 1);
}

describe('compiler properties', () => {
  it('the SSML parser throws nothing but InputError on random input, in both modes', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, ssmlLike.map((body) => `<speak>${body}</speak>`)), fc.boolean(), (input, lenient) => {
        expectPositionInside(onlyInputErrors(() => parseSsml(input, { lenient, maxDepth: 8, maxInputChars: 100_000 })), input);
        expectPositionInside(onlyInputErrors(() => compile(input, { format: 'ssml', lenient, maxDepth: 8 })), input);
      }),
      { numRuns: 600 },
    );
  });

  it('lenient SSML fails only on DTDs, depth, size and unterminated comments or CDATA', () => {
    fc.assert(
      fc.property(ssmlLike.map((body) => `<speak>${body}</speak>`), (input) => {
        const error = onlyInputErrors(() => compile(input, { format: 'ssml', lenient: true, allowAudio: true, maxDepth: 8 }));
        if (error === undefined) return;
        expect(['SSML_DTD_FORBIDDEN', 'SSML_TOO_DEEP', 'SSML_INVALID']).toContain(error.code);
        if (error.code === 'SSML_INVALID') expect(error.message).toMatch(/(comment|CDATA section) is never closed|malformed XML declaration/);
      }),
      { numRuns: 600 },
    );
  });

  it('markup and text compile throw nothing but InputError, and lenient markup never throws', () => {
    fc.assert(
      fc.property(anyText, (input) => {
        expectPositionInside(onlyInputErrors(() => compile(input, { format: 'markup' })), input);
        compile(input, { format: 'markup', lenient: true });
        compile(input, { format: 'text' });
      }),
      { numRuns: 400 },
    );
  });

  it('English normalisation of number-only input contains no digits', () => {
    const digits = fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String);
    const grouped = fc.bigInt({ min: 1000n, max: 10n ** 15n }).map((value) => value.toLocaleString('en-US'));
    const decimal = fc.tuple(digits, fc.stringMatching(/^\d{1,6}$/)).map(([whole, fraction]) => `${whole}.${fraction}`);
    const number = fc.oneof(digits, grouped, decimal);
    const token = fc.oneof(
      number,
      number.map((value) => `-${value}`),
      number.map((value) => `$${value}`),
      number.map((value) => `£${value}`),
      number.map((value) => `${value}%`),
      digits.map((value) => `${value}th`),
      fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${h}:${String(m).padStart(2, '0')}`),
      fc.tuple(fc.integer({ min: 1000, max: 2999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 })).map(([y, m, d]) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`),
    );
    fc.assert(
      fc.property(fc.array(token, { minLength: 1, maxLength: 6 }), fc.constantFrom(' ', ', ', '; ', ' and '), fc.constantFrom('en-US', 'en-GB'), (tokens, separator, language) => {
        const output = normalizeText(tokens.join(separator), language);
        expect(output).not.toMatch(/\d/);
        expect(output.trim()).not.toBe('');
      }),
      { numRuns: 500 },
    );
  });

  it('English segments from text and markup never contain an ASCII digit', () => {
    fc.assert(
      fc.property(anyText, fc.constantFrom('text', 'markup') as fc.Arbitrary<'text' | 'markup'>, (input, format) => {
        for (const step of planSynthesis(compile(input, { format, lenient: true }))) {
          if (step.kind === 'speech') expect(step.segment.text).not.toMatch(/[0-9]/);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('English normalisation leaves no ASCII digit in any text', () => {
    fc.assert(
      fc.property(anyText, (input) => {
        expect(normalizeText(input, 'en-US')).not.toMatch(/[0-9]/);
      }),
      { numRuns: 400 },
    );
  });

  const prose = fc
    .array(fc.constantFrom('Dr.', 'Smith', 'e.g.', 'etc.', 'J.', '3.14', '...', '…', '"', "'", '(', ')', '!', '?', '.', ',', 'word', 'Word', ' ', ' ', '\n', '\n\n', 'x'.repeat(30)), { maxLength: 60 })
    .map((pieces) => pieces.join(''));

  it('sentence segmentation loses no non-space character', () => {
    fc.assert(
      fc.property(fc.oneof(prose, fc.string({ maxLength: 300 })), fc.integer({ min: 5, max: 700 }), (text, maxSentenceChars) => {
        const sentences = splitSentences(text, { maxSentenceChars });
        expect(sentences.join('').replace(/\s+/g, '')).toBe(text.replace(/\s+/g, ''));
        for (const sentence of sentences) {
          expect(sentence).toBe(sentence.trim());
          expect(sentence.length).toBeGreaterThan(0);
          expect(sentence.length).toBeLessThanOrEqual(maxSentenceChars);
        }
      }),
      { numRuns: 600 },
    );
  });

  it('SentenceStream gives the same sentences however the text is chunked', () => {
    fc.assert(
      fc.property(prose, fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 30 }), (text, sizes) => {
        const stream = new SentenceStream({ maxSentenceChars: 80 });
        const sentences: string[] = [];
        let offset = 0;
        for (let index = 0; offset < text.length; index++) {
          const size = sizes[index % sizes.length] as number;
          sentences.push(...stream.push(text.slice(offset, offset + size)));
          offset += size;
        }
        sentences.push(...stream.end());
        expect(sentences).toEqual(splitSentences(text, { maxSentenceChars: 80 }));
      }),
      { numRuns: 400 },
    );
  });

  it('compile is deterministic and its graphs satisfy the SpeechGraph schema', () => {
    fc.assert(
      fc.property(fc.oneof(prose, markupLike, ssmlLike.map((body) => `<speak>${body}</speak>`)), fc.constantFrom(undefined, 'narrator', 'whisper'), (input, preset) => {
        const options = { lenient: true, allowAudio: true, maxDepth: 8, ...(preset ? { preset } : {}) };
        let first: unknown;
        try {
          first = compile(input, options);
        } catch (error) {
          if (!(error instanceof InputError)) throw error;
          return;
        }
        const again = compile(input, options);
        expect(JSON.stringify(again)).toBe(JSON.stringify(first));
        expect(parseSpeechGraph(JSON.parse(JSON.stringify(first)))).toEqual(first);
      }),
      { numRuns: 300 },
    );
  });
});
