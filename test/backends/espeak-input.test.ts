import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_COMBINING_MARKS,
  MAX_DIGIT_RUN,
  MAX_DOTTED_LETTERS,
  MAX_INITIAL_TAIL_CHARS,
  MAX_REPEATED_CHARACTERS,
  MAX_WORD_BYTES,
  MAX_WORD_CHARS,
  shapeEspeakInput,
} from '../../src/backends/espeak-input.js';
import { HostileText } from '../helpers/hostile-text.js';

const utf8 = new TextEncoder();

/** Every rule of the shaping contract that `shaped` breaks (empty when it keeps them all). */
function violations(shaped: string): string[] {
  const found: string[] = [];
  if (/\p{Cs}/u.test(shaped)) found.push('lone surrogate');
  if (/[^\P{Cc}\n]/u.test(shaped)) found.push('control character');
  if (/[^\P{Cf}\u200C\u200D]/u.test(shaped)) found.push('format character');
  if (/\[\[|\]\]/.test(shaped)) found.push('[[ or ]]');
  if (new RegExp(`\\p{M}{${MAX_COMBINING_MARKS + 1}}`, 'u').test(shaped)) found.push('too many combining marks');
  if (new RegExp(`([^\\p{Nd}\\s])\\1{${MAX_REPEATED_CHARACTERS}}`, 'u').test(shaped)) found.push('repeated character');
  if (new RegExp(`\\p{Nd}{${MAX_DIGIT_RUN + 1}}`, 'u').test(shaped)) found.push('long digit run');
  for (const word of shaped.split(/\s+/u)) {
    if ([...word].length > MAX_WORD_CHARS || utf8.encode(word).length > MAX_WORD_BYTES) found.push(`long word ${JSON.stringify(word)}`);
  }
  if (new RegExp(`(?<![\\p{L}\\p{M}])\\p{L}\\p{M}*\\.\\S{${MAX_INITIAL_TAIL_CHARS + 1}}`, 'u').test(shaped)) found.push('initial with a long tail');
  if (new RegExp(`(?:(?<![\\p{L}\\p{M}])\\p{L}\\p{M}*\\.[^\\S\\n]*,?[^\\S\\n]*){${MAX_DOTTED_LETTERS + 1}}`, 'u').test(shaped)) found.push('dotted-letter chain');
  if (shaped !== shaped.trim() || /[^\S\n]{2}/u.test(shaped)) found.push('untrimmed or repeated spaces');
  return found;
}

describe('shapeEspeakInput', () => {
  it('leaves ordinary text and abbreviations alone', () => {
    for (const text of ['Hello, world! It costs 3.50 dollars.', 'Das ist z.B. gut, d.h. sehr gut.', 'The U.S.A. and e.g. Ph.D.', 'Im Jahr 2024 waren es 123456789012 Leute.', 'Đây là tiếng Việt.', 'नमस्ते दुनिया', '你好，世界。', 'Rindfleischetikettierungsüberwachungsaufgaben']) {
      expect(shapeEspeakInput(text)).toBe(text);
    }
  });

  it('cuts the inputs that crashed espeak-ng 1.51', () => {
    expect(shapeEspeakInput(`x.${'1'.repeat(170)}`)).toBe(`x.${Array.from({ length: 56 }, () => '111').join(', ')}, 11`);
    const suffixes = shapeEspeakInput("s'".repeat(220));
    expect(suffixes.split(' ').every((word) => word.length <= MAX_WORD_CHARS)).toBe(true);
    expect(suffixes.replace(/ /g, '')).toBe("s'".repeat(220));
    expect(shapeEspeakInput('a.'.repeat(20)).split('\n')).toEqual(['a. a. a. a. a. a. a. a.', 'a. a. a. a. a. a. a. a.', 'a.a.a.a.']);
    expect(shapeEspeakInput(`어.${'국어'.repeat(20)}`)).toMatch(/^어\. 국어/u);
    expect(shapeEspeakInput("xl'l'l' rock'n'roll", 'trk/ky+f3')).toBe('xlll rocknroll');
    expect(shapeEspeakInput("xl'l'l'", 'gmw/en-US')).toBe("xl'l'l'");
  });

  it('groups long digit runs in threes, in any script, so each group is read as a number', () => {
    expect(shapeEspeakInput('1234567890123')).toBe('123, 456, 789, 012, 3');
    expect(shapeEspeakInput('٠١٢٣٤٥٦٧٨٩٠١٢')).toBe('٠١٢, ٣٤٥, ٦٧٨, ٩٠١, ٢');
    expect(shapeEspeakInput('123456789012')).toBe('123456789012');
  });

  it('removes control, format and lone surrogate characters; keeps the joiners scripts need', () => {
    expect(shapeEspeakInput('hallo \u000120S welt')).toBe('hallo 20S welt');
    expect(shapeEspeakInput('a\u0000b\u001bc\u007fd\u009be')).toBe('a b c d e');
    expect(shapeEspeakInput('x\ud800y\udfffz\ufffe')).toBe('xyz');
    expect(shapeEspeakInput('soft\u00adhyphen\ufeff \u202eevil')).toBe('softhyphen evil');
    expect(shapeEspeakInput('می\u200cخواهم')).toBe('می\u200cخواهم');
    expect(shapeEspeakInput('a\r\nb\u2028c\u0085d')).toBe('a\nb\nc\nd');
    expect(shapeEspeakInput('ก\u200bข')).toBe('ก ข');
  });

  it('never lets text switch to phoneme input', () => {
    expect(shapeEspeakInput("[[h@'loU]]")).toBe("[ [h@'loU] ]");
    expect(shapeEspeakInput('[[[x]]]')).toBe('[ [ [x] ] ]');
  });

  it('caps combining marks and repeated characters', () => {
    expect(shapeEspeakInput(`a${'\u0301'.repeat(30)}`)).toBe(`á${'\u0301'.repeat(MAX_REPEATED_CHARACTERS)}`);
    expect(shapeEspeakInput('No!!!!!!!! Sooooo good......')).toBe('No!!! Sooo good...');
  });

  it('cuts long words into even pieces, after punctuation when near', () => {
    expect(shapeEspeakInput('https://example.com/some/very/long/path/with/many/segments/index.html')).toBe('https://example.com/some/very/long/path/ with/many/segments/index.html');
    const cjk = shapeEspeakInput('中文'.repeat(60));
    expect(cjk.split(' ').every((word) => utf8.encode(word).length <= MAX_WORD_BYTES)).toBe(true);
    expect(shapeEspeakInput('👨‍👩‍👧‍👦'.repeat(20)).split(' ').every((word) => word.startsWith('👨') && word.endsWith('👦'))).toBe(true);
  });

  it('keeps every rule and is idempotent on 3000 hostile inputs (seeded)', () => {
    const generator = new HostileText(7, 0.3);
    for (let index = 0; index < 3000; index++) {
      const input = generator.next();
      const shaped = shapeEspeakInput(input);
      expect(violations(shaped), JSON.stringify(input)).toEqual([]);
      expect(shapeEspeakInput(shaped)).toBe(shaped);
    }
  });

  it('keeps every rule and is idempotent on arbitrary strings (fast-check)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (input) => {
        const shaped = shapeEspeakInput(input);
        expect(violations(shaped)).toEqual([]);
        expect(shapeEspeakInput(shaped)).toBe(shaped);
      }),
      { numRuns: 500 },
    );
  });

  it('negative: the checks see each planted violation', () => {
    expect(violations(`x.${'1'.repeat(20)}`)).toEqual(expect.arrayContaining(['long digit run', 'initial with a long tail']));
    expect(violations("s'".repeat(40))).toEqual([`long word ${JSON.stringify("s'".repeat(40))}`]);
    expect(violations('a. '.repeat(9).trim())).toEqual(['dotted-letter chain']);
    expect(violations('\u0001 [[x]] \ud800')).toEqual(expect.arrayContaining(['control character', '[[ or ]]', 'lone surrogate']));
  });
});
