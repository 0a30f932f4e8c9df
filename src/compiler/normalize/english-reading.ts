/**
 * English readings of whole tokens: money, URLs and e-mail addresses, spelled-out characters,
 * dates and clock times. Used by the English rule table and by SSML say-as.
 */
import { cardinalWords, decimalWords, ordinalWords, readDigits, yearWords } from './english-numbers.js';

/** Month names, January first. */
export const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'] as const;

/** A currency's spoken names. */
interface CurrencyNames {
  one: string;
  many: string;
  /** Minor unit names, absent when the currency has none in speech (yen). */
  minorOne?: string;
  minorMany?: string;
}

/** Currencies by symbol and ISO code. */
export const CURRENCIES: Readonly<Record<string, CurrencyNames>> = {
  $: { one: 'dollar', many: 'dollars', minorOne: 'cent', minorMany: 'cents' },
  USD: { one: 'US dollar', many: 'US dollars', minorOne: 'cent', minorMany: 'cents' },
  '£': { one: 'pound', many: 'pounds', minorOne: 'penny', minorMany: 'pence' },
  GBP: { one: 'pound', many: 'pounds', minorOne: 'penny', minorMany: 'pence' },
  '€': { one: 'euro', many: 'euros', minorOne: 'cent', minorMany: 'cents' },
  EUR: { one: 'euro', many: 'euros', minorOne: 'cent', minorMany: 'cents' },
  '¥': { one: 'yen', many: 'yen' },
  JPY: { one: 'yen', many: 'yen' },
  '₹': { one: 'rupee', many: 'rupees', minorOne: 'paisa', minorMany: 'paise' },
  INR: { one: 'rupee', many: 'rupees', minorOne: 'paisa', minorMany: 'paise' },
};

const SCALE_SUFFIXES: Readonly<Record<string, string>> = {
  k: 'thousand',
  thousand: 'thousand',
  m: 'million',
  mn: 'million',
  million: 'million',
  b: 'billion',
  bn: 'billion',
  billion: 'billion',
  t: 'trillion',
  tn: 'trillion',
  trillion: 'trillion',
};

/** Reads an amount of money. `integerDigits` has no separators; `scale` is e.g. `m`, `bn`, `million`. */
export function moneyWords(currency: string, integerDigits: string, fractionDigits: string, scale?: string): string {
  const names = CURRENCIES[currency] ?? CURRENCIES.$!;
  const scaleWord = scale ? SCALE_SUFFIXES[scale.toLowerCase()] : undefined;
  if (scaleWord) return `${decimalWords(integerDigits, fractionDigits)} ${scaleWord} ${names.many}`;
  const whole = integerDigits.replace(/^0+(?=\d)/, '');
  if (fractionDigits.length > 2 || (fractionDigits !== '' && !names.minorOne)) {
    return `${decimalWords(whole, fractionDigits)} ${names.many}`;
  }
  const minor = fractionDigits === '' ? 0 : Number(fractionDigits.padEnd(2, '0'));
  const parts: string[] = [];
  if (whole !== '0' || minor === 0) parts.push(`${cardinalWords(whole)} ${whole === '1' ? names.one : names.many}`);
  if (minor > 0) parts.push(`${cardinalWords(String(minor))} ${minor === 1 ? names.minorOne : names.minorMany}`);
  return parts.join(' and ');
}

const SYMBOL_NAMES: Readonly<Record<string, string>> = {
  '.': 'dot',
  '/': 'slash',
  '-': 'dash',
  _: 'underscore',
  ':': 'colon',
  '?': 'question mark',
  '=': 'equals',
  '&': 'and',
  '#': 'hash',
  '@': 'at',
  '~': 'tilde',
  '%': 'percent',
  '+': 'plus',
  ',': 'comma',
  '!': 'exclamation mark',
  '*': 'star',
  '\\': 'backslash',
  "'": 'apostrophe',
  '"': 'quote',
  '(': 'open parenthesis',
  ')': 'close parenthesis',
  '$': 'dollar',
  ' ': 'space',
};

/** Reads a URL or e-mail address: "docs.example.com/a-b" -> "docs dot example dot com slash a dash b". */
export function addressWords(address: string): string {
  const withoutScheme = address.replace(/^https?:\/\//i, '').replace(/\/$/, '');
  const words: string[] = [];
  for (const token of withoutScheme.match(/[A-Za-z]+|\d+|./gu) ?? []) {
    if (/^\d+$/.test(token)) words.push(token.length <= 4 ? cardinalWords(token) : readDigits(token));
    else if (/^www$/i.test(token)) words.push('W W W');
    else if (/^[A-Za-z]+$/.test(token)) words.push(token.toLowerCase());
    else words.push(SYMBOL_NAMES[token] ?? token);
  }
  return words.join(' ');
}

/** Spells text out: "AB-1" -> "A B dash one". */
export function characterWords(text: string): string {
  return [...text]
    .filter((character) => character.trim() !== '')
    .map((character) => {
      if (/\d/.test(character)) return readDigits(character);
      if (/\p{L}/u.test(character)) return character.toUpperCase();
      return SYMBOL_NAMES[character] ?? character;
    })
    .join(' ');
}

/** Reads a calendar date; returns undefined when month/day are out of range. `year` may be ''. */
export function dateWords(year: string, month: number, day: number | undefined, style: 'month-first' | 'day-first'): string | undefined {
  const monthName = MONTHS[month - 1];
  if (!monthName || (day !== undefined && (day < 1 || day > 31))) return undefined;
  const yearPart = year === '' ? '' : yearWords(year.length === 2 ? `20${year}` : year);
  if (day === undefined) return yearPart ? `${monthName} ${yearPart}` : monthName;
  const dayPart = ordinalWords(String(day));
  const head = style === 'month-first' ? `${monthName} ${dayPart}` : `the ${dayPart} of ${monthName}`;
  return yearPart ? `${head}, ${yearPart}` : head;
}

/** Reads a clock time; returns undefined when out of range. `meridiem` is `a`/`p` when given. */
export function timeWords(hours: number, minutes: number, seconds: number | undefined, meridiem: string | undefined): string | undefined {
  const maxHour = meridiem ? 12 : 23;
  if (hours > maxHour || minutes > 59 || (seconds !== undefined && seconds > 59)) return undefined;
  const hourWords = cardinalWords(String(hours));
  let reading: string;
  if (minutes === 0) {
    if (meridiem) reading = hourWords;
    else if (hours >= 1 && hours <= 12) reading = `${hourWords} o'clock`;
    else reading = `${hourWords} hundred`;
  } else {
    reading = `${hourWords} ${minutes < 10 ? `oh ${cardinalWords(String(minutes))}` : cardinalWords(String(minutes))}`;
  }
  if (seconds !== undefined && seconds > 0) reading += ` and ${cardinalWords(String(seconds))} second${seconds === 1 ? '' : 's'}`;
  if (meridiem) reading += meridiem.toLowerCase() === 'a' ? ' a m' : ' p m';
  return reading;
}
