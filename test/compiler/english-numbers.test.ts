import { describe, expect, it } from 'vitest';
import { MAX_CARDINAL_DIGITS, cardinalWords, decimalWords, ordinalWords, readDigits, yearWords } from '../../src/compiler/normalize/english-numbers.js';

describe('cardinalWords', () => {
  it.each([
    ['0', 'zero'],
    ['7', 'seven'],
    ['13', 'thirteen'],
    ['20', 'twenty'],
    ['21', 'twenty-one'],
    ['99', 'ninety-nine'],
    ['100', 'one hundred'],
    ['101', 'one hundred one'],
    ['110', 'one hundred ten'],
    ['999', 'nine hundred ninety-nine'],
    ['1000', 'one thousand'],
    ['1001', 'one thousand one'],
    ['12345', 'twelve thousand three hundred forty-five'],
    ['1000000', 'one million'],
    ['1000001', 'one million one'],
    ['2000000000', 'two billion'],
    ['007', 'seven'],
    ['000', 'zero'],
    ['9007199254740993', 'nine quadrillion seven trillion one hundred ninety-nine billion two hundred fifty-four million seven hundred forty thousand nine hundred ninety-three'],
  ])('%s -> %s', (digits, words) => {
    expect(cardinalWords(digits)).toBe(words);
  });

  it('reads integers longer than the largest scale digit by digit', () => {
    const digits = '1'.repeat(MAX_CARDINAL_DIGITS + 1);
    expect(cardinalWords(digits)).toBe(Array(MAX_CARDINAL_DIGITS + 1).fill('one').join(' '));
  });
});

describe('ordinalWords', () => {
  it.each([
    ['1', 'first'],
    ['2', 'second'],
    ['3', 'third'],
    ['4', 'fourth'],
    ['5', 'fifth'],
    ['8', 'eighth'],
    ['9', 'ninth'],
    ['11', 'eleventh'],
    ['12', 'twelfth'],
    ['20', 'twentieth'],
    ['21', 'twenty-first'],
    ['22', 'twenty-second'],
    ['23', 'twenty-third'],
    ['100', 'one hundredth'],
    ['101', 'one hundred first'],
    ['1000000', 'one millionth'],
  ])('%s -> %s', (digits, words) => {
    expect(ordinalWords(digits)).toBe(words);
  });
});

describe('yearWords', () => {
  it.each([
    ['1999', 'nineteen ninety-nine'],
    ['1900', 'nineteen hundred'],
    ['1905', 'nineteen oh five'],
    ['2000', 'two thousand'],
    ['2005', 'two thousand five'],
    ['2010', 'twenty ten'],
    ['2024', 'twenty twenty-four'],
    ['1066', 'ten sixty-six'],
    ['1000', 'one thousand'],
    ['2100', 'twenty-one hundred'],
    ['800', 'eight hundred'],
  ])('%s -> %s', (digits, words) => {
    expect(yearWords(digits)).toBe(words);
  });
});

describe('decimals and digits', () => {
  it('reads the fraction digit by digit', () => {
    expect(decimalWords('3', '14')).toBe('three point one four');
    expect(decimalWords('0', '05')).toBe('zero point zero five');
    expect(decimalWords('', '5')).toBe('zero point five');
    expect(decimalWords('12', '')).toBe('twelve');
  });

  it('reads digits one by one', () => {
    expect(readDigits('405')).toBe('four zero five');
  });
});
