/**
 * English number words: cardinals of any size up to sextillions, ordinals, years, decimals and
 * digit-by-digit reading. Works on digit strings so large values never lose precision.
 */

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'] as const;
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'] as const;
const SCALES = ['', 'thousand', 'million', 'billion', 'trillion', 'quadrillion', 'quintillion', 'sextillion'] as const;

/** Longest integer (in digits) read as a cardinal; longer runs are read digit by digit. */
export const MAX_CARDINAL_DIGITS = SCALES.length * 3;

const IRREGULAR_ORDINALS: Readonly<Record<string, string>> = {
  one: 'first',
  two: 'second',
  three: 'third',
  five: 'fifth',
  eight: 'eighth',
  nine: 'ninth',
  twelve: 'twelfth',
};

function underHundred(value: number): string {
  if (value < 20) return ONES[value] as string;
  const tens = TENS[Math.floor(value / 10)] as string;
  const ones = value % 10;
  return ones === 0 ? tens : `${tens}-${ONES[ones]}`;
}

function underThousand(value: number): string {
  const hundreds = Math.floor(value / 100);
  const rest = value % 100;
  const parts: string[] = [];
  if (hundreds > 0) parts.push(`${ONES[hundreds]} hundred`);
  if (rest > 0 || hundreds === 0) parts.push(underHundred(rest));
  return parts.join(' ');
}

/** Reads each digit: "305" -> "three zero five". */
export function readDigits(digits: string): string {
  return [...digits].map((digit) => ONES[Number(digit)] ?? digit).join(' ');
}

/** Cardinal words of a non-negative integer given as digits: "1200" -> "one thousand two hundred". */
export function cardinalWords(digits: string): string {
  const trimmed = digits.replace(/^0+(?=\d)/, '');
  if (trimmed.length > MAX_CARDINAL_DIGITS) return readDigits(trimmed);
  const groups: number[] = [];
  for (let end = trimmed.length; end > 0; end -= 3) groups.unshift(Number(trimmed.slice(Math.max(0, end - 3), end)));
  if (groups.every((group) => group === 0)) return 'zero';
  const words: string[] = [];
  groups.forEach((group, index) => {
    if (group === 0) return;
    const scale = SCALES[groups.length - 1 - index] as string;
    words.push(scale ? `${underThousand(group)} ${scale}` : underThousand(group));
  });
  return words.join(' ');
}

/** Turns the last word of cardinal words into its ordinal: "twenty-one" -> "twenty-first". */
export function ordinalFromCardinal(cardinal: string): string {
  const match = /([a-z]+)$/.exec(cardinal);
  if (!match) return cardinal;
  const last = match[1] as string;
  const ordinal = IRREGULAR_ORDINALS[last] ?? (last.endsWith('y') ? `${last.slice(0, -1)}ieth` : `${last}th`);
  return cardinal.slice(0, cardinal.length - last.length) + ordinal;
}

/** Ordinal words of a non-negative integer given as digits: "23" -> "twenty-third". */
export function ordinalWords(digits: string): string {
  return ordinalFromCardinal(cardinalWords(digits));
}

/** Reads a four-digit year the way people say it: 1999 -> "nineteen ninety-nine", 2005 -> "two thousand five". */
export function yearWords(digits: string): string {
  const value = Number(digits);
  if (!/^\d{4}$/.test(digits) || value < 1000) return cardinalWords(digits);
  if (value % 1000 < 10 && Math.floor(value / 1000) === 2) return cardinalWords(digits);
  const high = Math.floor(value / 100);
  const low = value % 100;
  if (low === 0) return value % 1000 === 0 ? cardinalWords(digits) : `${underHundred(high)} hundred`;
  return `${underHundred(high)} ${low < 10 ? `oh ${ONES[low]}` : underHundred(low)}`;
}

/** Reads a decimal: ("3", "14") -> "three point one four". */
export function decimalWords(integerDigits: string, fractionDigits: string): string {
  const whole = cardinalWords(integerDigits === '' ? '0' : integerDigits);
  return fractionDigits === '' ? whole : `${whole} point ${readDigits(fractionDigits)}`;
}
