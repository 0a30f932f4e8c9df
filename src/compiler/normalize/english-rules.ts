/**
 * The English rule table: ordered regular-expression rules that rewrite written forms into words.
 * Order matters: whole tokens (URLs, e-mails, money, dates, times) go before bare numbers, and a
 * final catch-all reads any digit left, so normalised English never contains digits.
 */
import { cardinalWords, decimalWords, ordinalWords, readDigits, yearWords } from './english-numbers.js';
import { CURRENCIES, MONTHS, addressWords, dateWords, moneyWords, timeWords } from './english-reading.js';

/** What a rule sees besides its match. */
export interface RuleContext {
  /** Full BCP-47 tag, e.g. `en-GB` (dates are day-first outside `en-US`/`en`). */
  languageTag: string;
}

/** One rewrite: `replace` gets the match and its groups; returning undefined keeps the match. */
export interface NormalizationRule {
  readonly name: string;
  readonly pattern: RegExp;
  readonly replace: (match: readonly (string | undefined)[], context: RuleContext, offset: number, input: string) => string | undefined;
}

const NUMBER = String.raw`(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?`;
const MONTH_NAMES = String.raw`(January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)`;
const CURRENCY_SYMBOLS = String.raw`([$£€¥₹])`;
const SCALE = String.raw`(?:\s?(thousand|million|billion|trillion|bn|mn|tn|[kKmMbBtT])(?![A-Za-z]))?`;

function digitsOf(group: string | undefined): string {
  return (group ?? '').replace(/,/g, '');
}

function monthNumber(name: string): number {
  return MONTHS.findIndex((month) => month.toLowerCase().startsWith(name.toLowerCase().slice(0, 3))) + 1;
}

function isDayFirst(languageTag: string): boolean {
  const tag = languageTag.toLowerCase();
  return !(tag === 'en' || tag === 'en-us' || tag.startsWith('en-us-'));
}

function plural(word: string): string {
  return word.endsWith('y') ? `${word.slice(0, -1)}ies` : `${word}s`;
}

/** Units after a number: symbol -> [singular, plural]. */
const UNITS: Readonly<Record<string, readonly [string, string]>> = {
  km: ['kilometer', 'kilometers'],
  cm: ['centimeter', 'centimeters'],
  mm: ['millimeter', 'millimeters'],
  m: ['meter', 'meters'],
  kg: ['kilogram', 'kilograms'],
  mg: ['milligram', 'milligrams'],
  g: ['gram', 'grams'],
  lb: ['pound', 'pounds'],
  lbs: ['pounds', 'pounds'],
  oz: ['ounce', 'ounces'],
  mi: ['mile', 'miles'],
  ft: ['foot', 'feet'],
  mph: ['mile per hour', 'miles per hour'],
  'km/h': ['kilometer per hour', 'kilometers per hour'],
  kph: ['kilometer per hour', 'kilometers per hour'],
  '°C': ['degree Celsius', 'degrees Celsius'],
  '°F': ['degree Fahrenheit', 'degrees Fahrenheit'],
  ms: ['millisecond', 'milliseconds'],
  sec: ['second', 'seconds'],
  min: ['minute', 'minutes'],
  hr: ['hour', 'hours'],
  hrs: ['hours', 'hours'],
  KB: ['kilobyte', 'kilobytes'],
  kB: ['kilobyte', 'kilobytes'],
  MB: ['megabyte', 'megabytes'],
  GB: ['gigabyte', 'gigabytes'],
  TB: ['terabyte', 'terabytes'],
  Hz: ['hertz', 'hertz'],
  kHz: ['kilohertz', 'kilohertz'],
  MHz: ['megahertz', 'megahertz'],
  GHz: ['gigahertz', 'gigahertz'],
  kW: ['kilowatt', 'kilowatts'],
  W: ['watt', 'watts'],
  V: ['volt', 'volts'],
  ml: ['milliliter', 'milliliters'],
  mL: ['milliliter', 'milliliters'],
  L: ['liter', 'liters'],
};
const UNIT_PATTERN = Object.keys(UNITS)
  .sort((a, b) => b.length - a.length)
  .map((unit) => unit.replace(/[/]/g, '\\/'))
  .join('|');

/** Abbreviations read in place; `titles` only before a capitalised name. */
const TITLES: Readonly<Record<string, string>> = {
  Dr: 'Doctor',
  Mr: 'Mister',
  Mrs: 'Missus',
  Ms: 'Miz',
  Prof: 'Professor',
  St: 'Saint',
  Mt: 'Mount',
  Gen: 'General',
  Capt: 'Captain',
  Lt: 'Lieutenant',
  Sgt: 'Sergeant',
  Rev: 'Reverend',
  Sen: 'Senator',
  Gov: 'Governor',
};
const ABBREVIATIONS: Readonly<Record<string, string>> = {
  'e.g.': 'for example',
  'i.e.': 'that is',
  'etc.': 'et cetera',
  'vs.': 'versus',
  'approx.': 'approximately',
  'dept.': 'department',
  'Jr.': 'Junior',
  'Sr.': 'Senior',
  'St.': 'Street',
  'Ave.': 'Avenue',
  'Blvd.': 'Boulevard',
  'Rd.': 'Road',
  'Inc.': 'Incorporated',
  'Ltd.': 'Limited',
  'Corp.': 'Corporation',
  'a.m.': 'a m',
  'p.m.': 'p m',
};
const ABBREVIATION_PATTERN = Object.keys(ABBREVIATIONS)
  .map((abbreviation) => abbreviation.replace(/\./g, '\\.'))
  .join('|');

const SYMBOLS: Readonly<Record<string, string>> = { '&': 'and', '+': 'plus', '=': 'equals', '@': 'at', '°': 'degrees', '×': 'times' };

/** The English rules, applied in order. */
export const ENGLISH_RULES: readonly NormalizationRule[] = Object.freeze([
  {
    name: 'url',
    pattern: /\b(?:https?:\/\/|www\.)[^\s<>"']*[^\s<>"'.,;:!?)\]]/gi,
    replace: ([match]) => addressWords(match ?? ''),
  },
  {
    name: 'email',
    // Bounded quantifiers (RFC 5321 lengths): unbounded ones make long dotted runs quadratic.
    pattern: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}\b/g,
    replace: ([match]) => addressWords(match ?? ''),
  },
  {
    name: 'currency-symbol',
    pattern: new RegExp(String.raw`([-−])?${CURRENCY_SYMBOLS}\s?${NUMBER}${SCALE}`, 'g'),
    replace: ([, minus, symbol, integer, fraction, scale]) =>
      `${minus ? 'minus ' : ''}${moneyWords(symbol ?? '$', digitsOf(integer), fraction ?? '', scale)}`,
  },
  {
    name: 'currency-code',
    pattern: new RegExp(String.raw`\b(?:(${Object.keys(CURRENCIES).filter((code) => /^[A-Z]+$/.test(code)).join('|')})\s?${NUMBER}|${NUMBER}\s?(${Object.keys(CURRENCIES).filter((code) => /^[A-Z]+$/.test(code)).join('|')}))\b`, 'g'),
    replace: ([, codeBefore, integerBefore, fractionBefore, integerAfter, fractionAfter, codeAfter]) =>
      codeBefore
        ? moneyWords(codeBefore, digitsOf(integerBefore), fractionBefore ?? '')
        : moneyWords(codeAfter ?? 'USD', digitsOf(integerAfter), fractionAfter ?? ''),
  },
  {
    name: 'percent',
    pattern: new RegExp(String.raw`(?<![\w.])([-−+])?${NUMBER}\s?%`, 'g'),
    replace: ([, sign, integer, fraction]) =>
      `${sign === '+' ? 'plus ' : sign ? 'minus ' : ''}${decimalWords(digitsOf(integer), fraction ?? '')} percent`,
  },
  {
    name: 'iso-date',
    pattern: /\b(\d{4})-(\d{2})-(\d{2})\b/g,
    replace: ([, year, month, day]) => dateWords(year ?? '', Number(month), Number(day), 'month-first'),
  },
  {
    name: 'slash-date',
    pattern: /\b(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d{2})\b/g,
    replace: ([, first, second, year], context) => {
      const dayFirst = isDayFirst(context.languageTag);
      const month = Number(dayFirst ? second : first);
      const day = Number(dayFirst ? first : second);
      return dateWords(year ?? '', month, day, dayFirst ? 'day-first' : 'month-first');
    },
  },
  {
    name: 'month-day-year',
    pattern: new RegExp(String.raw`\b${MONTH_NAMES}\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?\b`, 'g'),
    replace: ([, month, day, year]) => dateWords(year ?? '', monthNumber(month ?? ''), Number(day), 'month-first'),
  },
  {
    name: 'day-month-year',
    pattern: new RegExp(String.raw`\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?${MONTH_NAMES}\.?(?:,?\s+(\d{4}))?\b`, 'g'),
    replace: ([, day, month, year]) => dateWords(year ?? '', monthNumber(month ?? ''), Number(day), 'day-first'),
  },
  {
    name: 'month-year',
    pattern: new RegExp(String.raw`\b${MONTH_NAMES}\.?,?\s+(\d{4})\b`, 'g'),
    replace: ([, month, year]) => dateWords(year ?? '', monthNumber(month ?? ''), undefined, 'month-first'),
  },
  {
    name: 'clock-time',
    pattern: /\b(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s?([AaPp])\.?[Mm]\.?(?![A-Za-z]))?/g,
    replace: ([, hours, minutes, seconds, meridiem]) =>
      timeWords(Number(hours), Number(minutes), seconds === undefined ? undefined : Number(seconds), meridiem),
  },
  {
    name: 'hour-meridiem',
    pattern: /\b(\d{1,2})\s?([AaPp])\.?[Mm]\.?(?![A-Za-z])/g,
    replace: ([, hours, meridiem]) => timeWords(Number(hours), 0, undefined, meridiem),
  },
  {
    name: 'telephone',
    pattern: /(?<![\d-])(?:\+?(1)[-.\s])?(?:\(?(\d{3})\)?[-.\s])?(\d{3})[-.](\d{4})(?![\d-])/g,
    replace: ([, country, area, exchange, line]) =>
      [country, area, exchange, line].filter((part): part is string => part !== undefined).map(readDigits).join(', '),
  },
  {
    name: 'decade',
    pattern: /(?:\b(\d{1,3}0)|'(\d0))s\b/g,
    replace: ([, full, short]) => {
      const words = full ? yearWords(full) : cardinalWords(short ?? '0');
      return words.replace(/([a-z]+)$/, (last) => plural(last));
    },
  },
  {
    name: 'year-in-context',
    pattern: /\b(in|since|by|from|until|till|before|after|during|of|year|around|circa|c\.)\s+(\d{4})(?:[-–](\d{4}|\d{2}))?\b(?![.,]\d|\s?%)/gi,
    replace: ([, word, year = '', until]) =>
      `${word} ${yearWords(year)}${until === undefined ? '' : ` to ${until.length === 4 ? yearWords(until) : cardinalWords(until)}`}`,
  },
  {
    name: 'year-era',
    pattern: /\b(\d{1,4})\s?(AD|BC|BCE|CE)\b/g,
    replace: ([, year, era]) => `${(year ?? '').length === 4 ? yearWords(year ?? '') : cardinalWords(year ?? '0')} ${[...(era ?? '')].join(' ')}`,
  },
  {
    name: 'ordinal',
    pattern: /\b(\d{1,3}(?:,\d{3})+|\d+)(st|nd|rd|th)\b/gi,
    replace: ([, digits]) => ordinalWords(digitsOf(digits)),
  },
  {
    name: 'number-sign',
    pattern: /(?:\bNo\.\s?|#)(?=\d)/g,
    replace: () => 'number ',
  },
  {
    name: 'unit',
    pattern: new RegExp(String.raw`(?<![\w.])([-−])?${NUMBER}\s?(${UNIT_PATTERN})(?![A-Za-z\d])`, 'g'),
    replace: ([, minus, integer, fraction, unit]) => {
      const names = UNITS[unit ?? ''];
      if (!names) return undefined;
      const one = digitsOf(integer) === '1' && !fraction;
      return `${minus ? 'minus ' : ''}${decimalWords(digitsOf(integer), fraction ?? '')} ${one ? names[0] : names[1]}`;
    },
  },
  {
    name: 'fraction',
    pattern: /(?<![\d/.,])(\d)\/(\d{1,2})(?![\d/])/g,
    replace: ([, numerator, denominator]) => {
      const over = Number(denominator);
      if (over < 2) return `${cardinalWords(numerator ?? '0')} over ${cardinalWords(denominator ?? '0')}`;
      const one = numerator === '1';
      const name = over === 2 ? 'half' : over === 4 ? 'quarter' : ordinalWords(String(over));
      const names = over === 2 ? (one ? 'half' : 'halves') : one ? name : plural(name).replace(/fs$/, 'ves');
      return `${cardinalWords(numerator ?? '0')} ${names}`;
    },
  },
  {
    name: 'range',
    pattern: /(?<![\w.,-])(\d{1,4})[-–](\d{1,4})(?![\w-]|[.,]\d)/g,
    replace: ([, from = '0', to = '0']) => {
      const isYear = (value: string) => /^\d{4}$/.test(value) && Number(value) >= 1100 && Number(value) <= 2099;
      const read = isYear(from) && isYear(to) ? yearWords : cardinalWords;
      return `${read(from)} to ${read(to)}`;
    },
  },
  {
    name: 'version',
    pattern: /(?<![\w.])\d+(?:\.\d+){2,}(?![\w]|\.\d)/g,
    replace: ([version]) => (version ?? '').split('.').map((part) => cardinalWords(part)).join(' point '),
  },
  {
    name: 'number',
    pattern: new RegExp(String.raw`(?<![\w.,])([-−+](?=\d))?${NUMBER}(?![\d])`, 'g'),
    replace: ([, sign, integer, fraction]) =>
      `${sign === '+' ? 'plus ' : sign ? 'minus ' : ''}${decimalWords(digitsOf(integer), fraction ?? '')}`,
  },
  {
    name: 'leading-decimal',
    pattern: /(?<![\w])\.(\d+)/g,
    replace: ([, fraction]) => `point ${readDigits(fraction ?? '')}`,
  },
  {
    name: 'title',
    pattern: new RegExp(String.raw`\b(${Object.keys(TITLES).join('|')})\.?(?=\s+[A-Z])`, 'g'),
    replace: ([, title]) => TITLES[title ?? ''],
  },
  {
    name: 'abbreviation',
    pattern: new RegExp(String.raw`(?<![\w.])(${ABBREVIATION_PATTERN})(?=[\s,;:!?)]|$)`, 'g'),
    replace: ([abbreviation], _context, offset, input) => {
      const words = ABBREVIATIONS[abbreviation ?? ''];
      // Keep the full stop when the abbreviation ends the text: it also ended the sentence.
      return words !== undefined && input.slice(offset + (abbreviation ?? '').length).trim() === '' ? `${words}.` : words;
    },
  },
  {
    name: 'symbol',
    pattern: /(^|\s)([&+=@°×])(?=\s|$)/g,
    replace: ([, space, symbol]) => `${space}${SYMBOLS[symbol ?? ''] ?? symbol}`,
  },
  {
    name: 'ampersand-between-words',
    pattern: /(?<=[A-Za-z])&(?=[A-Za-z])/g,
    replace: () => ' and ',
  },
  {
    name: 'leftover-digits',
    pattern: /\d+/g,
    // Padded with spaces so "page2" reads "page two"; whitespace is collapsed afterwards.
    replace: ([digits]) => ` ${cardinalWords(digits ?? '0')} `,
  },
]);
