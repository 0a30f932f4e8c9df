import { describe, expect, it } from 'vitest';
import { normalizeText, normalizerFor, NORMALIZED_LANGUAGES } from '../../src/compiler/normalize/normalizer.js';
import { ENGLISH_RULES } from '../../src/compiler/normalize/english-rules.js';

const en = (text: string, language = 'en-US') => normalizeText(text, language);

describe('English normalisation rules', () => {
  it.each([
    ['cardinal', 'I have 42 apples.', 'I have forty-two apples.'],
    ['cardinal zero', '0 errors', 'zero errors'],
    ['thousands separators', 'about 1,234,567 people', 'about one million two hundred thirty-four thousand five hundred sixty-seven people'],
    ['thousands separator small', '1,000 ships', 'one thousand ships'],
    ['decimal', 'pi is 3.14', 'pi is three point one four'],
    ['leading decimal', 'a .5 chance', 'a point five chance'],
    ['negative', 'it is -5 outside', 'it is minus five outside'],
    ['explicit plus', 'score +3', 'score plus three'],
    ['negative decimal', 'drop of -0.25', 'drop of minus zero point two five'],
    ['version number', 'version 1.2.3 ships', 'version one point two point three ships'],
    ['digits glued to letters', 'page2 of 3', 'page two of three'],
    ['number before letters', 'a 4K screen', 'a four K screen'],
  ])('numbers: %s', (_name, input, expected) => {
    expect(en(input)).toBe(expected);
  });

  it.each([
    ['dollars and cents', '$1,234.56', 'one thousand two hundred thirty-four dollars and fifty-six cents'],
    ['one dollar', '$1', 'one dollar'],
    ['whole dollars', '$5', 'five dollars'],
    ['cents only', '$0.50', 'fifty cents'],
    ['one cent', '$0.01', 'one cent'],
    ['dollars with zero cents', '$1.00', 'one dollar'],
    ['one dollar one cent', '$1.01', 'one dollar and one cent'],
    ['pounds and pence', '£2.50', 'two pounds and fifty pence'],
    ['one penny', '£0.01', 'one penny'],
    ['euros', '€20', 'twenty euros'],
    ['yen has no minor unit', '¥500', 'five hundred yen'],
    ['scaled word', '€2.5 million', 'two point five million euros'],
    ['scaled suffix bn', '$3bn', 'three billion dollars'],
    ['scaled suffix k', '$10k', 'ten thousand dollars'],
    ['scaled suffix M', '$4M', 'four million dollars'],
    ['ISO code after', '25 EUR', 'twenty-five euros'],
    ['ISO code before', 'USD 3', 'three US dollars'],
    ['negative money', '-$5', 'minus five dollars'],
    ['more than two decimals', '$1.005', 'one point zero zero five dollars'],
  ])('currency: %s', (_name, input, expected) => {
    expect(en(input)).toBe(expected);
  });

  it.each([
    ['integer', '50%', 'fifty percent'],
    ['decimal', '3.5%', 'three point five percent'],
    ['negative', '-2%', 'minus two percent'],
    ['spaced', '15 %', 'fifteen percent'],
    ['in a sentence', 'up 7% today', 'up seven percent today'],
  ])('percent: %s', (_name, input, expected) => {
    expect(en(input)).toBe(expected);
  });

  it.each([
    ['ISO', 'on 2024-03-15', 'on March fifteenth, twenty twenty-four'],
    ['US slash', 'on 03/15/2024', 'on March fifteenth, twenty twenty-four'],
    ['US slash, two-digit year', 'on 7/4/26', 'on July fourth, twenty twenty-six'],
    ['month name, day, year', 'March 15, 2024', 'March fifteenth, twenty twenty-four'],
    ['month name with ordinal suffix', 'June 1st', 'June first'],
    ['abbreviated month', 'Sept. 3', 'September third'],
    ['day before month', '15 March 2024', 'the fifteenth of March, twenty twenty-four'],
    ['day of month', '4th of July', 'the fourth of July'],
    ['month and year', 'In Dec. 2019 and March 2020', 'In December twenty nineteen and March twenty twenty'],
  ])('dates: %s', (_name, input, expected) => {
    expect(en(input)).toBe(expected);
  });

  it('reads slash dates day-first outside en-US', () => {
    expect(en('on 03/04/2024', 'en-GB')).toBe('on the third of April, twenty twenty-four');
    expect(en('on 03/04/2024', 'en-US')).toBe('on March fourth, twenty twenty-four');
  });

  it('leaves impossible dates to the number rules', () => {
    expect(en('2024-13-45')).not.toMatch(/\d/);
    expect(en('2024-13-45')).not.toContain('March');
  });

  it.each([
    ['pm', 'at 3:30 pm', 'at three thirty p m'],
    ['PM with dots', 'at 3:30 P.M.', 'at three thirty p m.'],
    ['minutes under ten', 'at 3:05', 'at three oh five'],
    ["o'clock", 'at 3:00', "at three o'clock"],
    ['24-hour', 'at 15:45', 'at fifteen forty-five'],
    ['24-hour on the hour', 'at 18:00', 'at eighteen hundred'],
    ['hour with meridiem', 'at 7am', 'at seven a m'],
    ['hour with spaced meridiem', 'by 11 pm', 'by eleven p m'],
    ['seconds', '10:15:30', 'ten fifteen and thirty seconds'],
  ])('times: %s', (_name, input, expected) => {
    expect(en(input)).toBe(expected);
  });

  it.each([
    ['in', 'in 1999', 'in nineteen ninety-nine'],
    ['since', 'since 2005', 'since two thousand five'],
    ['by', 'by 2030', 'by twenty thirty'],
    ['decade', 'the 1990s', 'the nineteen nineties'],
    ['short decade', "the '80s", 'the eighties'],
    ['era', '44 BC', 'forty-four B C'],
    ['four-digit era', '1066 AD', 'ten sixty-six A D'],
  ])('years: %s', (_name, input, expected) => {
    expect(en(input)).toBe(expected);
  });

  it('reads a bare four-digit count as a number, not a year', () => {
    expect(en('1999 apples')).toBe('one thousand nine hundred ninety-nine apples');
  });

  it.each([
    ['1st', 'the 1st place', 'the first place'],
    ['2nd', '2nd', 'second'],
    ['3rd', '3rd', 'third'],
    ['11th', '11th', 'eleventh'],
    ['21st', '21st', 'twenty-first'],
    ['101st', '101st', 'one hundred first'],
    ['thousands', '1,000th', 'one thousandth'],
  ])('ordinals: %s', (_name, input, expected) => {
    expect(en(input)).toBe(expected);
  });

  it.each([
    ['Dr.', 'Dr. Smith is in.', 'Doctor Smith is in.'],
    ['Mr without stop', 'Mr Jones', 'Mister Jones'],
    ['Mrs.', 'Mrs. Brown', 'Missus Brown'],
    ['Prof.', 'Prof. Xavier', 'Professor Xavier'],
    ['St. before a name', 'St. Louis', 'Saint Louis'],
    ['St. after a name', 'Baker St. is long', 'Baker Street is long'],
    ['e.g.', 'fruit, e.g. apples', 'fruit, for example apples'],
    ['i.e.', 'the best, i.e. mine', 'the best, that is mine'],
    ['etc. at the end keeps its stop', 'apples, pears, etc.', 'apples, pears, et cetera.'],
    ['vs.', 'cats vs. dogs', 'cats versus dogs'],
    ['Jr.', 'Martin Luther King Jr. spoke', 'Martin Luther King Junior spoke'],
    ['No. before a number', 'No. 5', 'number five'],
    ['hash before a number', 'we are #1', 'we are number one'],
    ['ampersand', 'salt & pepper', 'salt and pepper'],
    ['ampersand inside a word', 'R&D', 'R and D'],
  ])('abbreviations and symbols: %s', (_name, input, expected) => {
    expect(en(input)).toBe(expected);
  });

  it.each([
    ['https URL', 'see https://example.com/docs', 'see example dot com slash docs'],
    ['www URL', 'www.example.org', 'W W W dot example dot org'],
    ['URL with trailing stop', 'Go to https://example.com.', 'Go to example dot com.'],
    ['URL with path, dash and number', 'http://a-b.io/v2/x_y', 'a dash b dot io slash v two slash x underscore y'],
    ['long number in URL', 'https://x.io/123456', 'x dot io slash one two three four five six'],
    ['email', 'mail jane.doe@example.com now', 'mail jane dot doe at example dot com now'],
    ['email with plus', 'bob+tts@mail.co.uk', 'bob plus tts at mail dot co dot uk'],
  ])('URLs and e-mails: %s', (_name, input, expected) => {
    expect(en(input)).toBe(expected);
  });

  it.each([
    ['kilometres', '5 km', 'five kilometers'],
    ['one kilogram', '1 kg', 'one kilogram'],
    ['glued unit', '20kg', 'twenty kilograms'],
    ['decimal unit', '2.5 GB', 'two point five gigabytes'],
    ['Celsius', '20°C', 'twenty degrees Celsius'],
    ['milliseconds', '300 ms', 'three hundred milliseconds'],
    ['speed', '60 mph', 'sixty miles per hour'],
    ['feet', '6 ft', 'six feet'],
  ])('units: %s', (_name, input, expected) => {
    expect(en(input)).toBe(expected);
  });

  it.each([
    ['telephone', 'call 555-123-4567', 'call five five five, one two three, four five six seven'],
    ['telephone with country code', '+1 555-123-4567', 'one, five five five, one two three, four five six seven'],
    ['seven-digit telephone', 'dial 555-1234', 'dial five five five, one two three four'],
    ['range', 'pages 10-20', 'pages ten to twenty'],
    ['year range', 'from 1990-1995', 'from nineteen ninety to nineteen ninety-five'],
    ['short year range', 'in 1990-95', 'in nineteen ninety to ninety-five'],
    ['bare year range', '1939-1945', 'nineteen thirty-nine to nineteen forty-five'],
    ['half', '1/2 cup', 'one half cup'],
    ['quarters', '3/4 of it', 'three quarters of it'],
    ['thirds', '2/3', 'two thirds'],
    ['eighths', '5/8', 'five eighths'],
  ])('other numeric forms: %s', (_name, input, expected) => {
    expect(en(input)).toBe(expected);
  });

  it('keeps a sentence-final full stop that a reading swallowed', () => {
    expect(en('We open at 10 a.m.')).toBe('We open at ten a m.');
    expect(en('We open at 10 a.m. sharp')).toBe('We open at ten a m sharp');
    expect(en('Meet Dr. Who.')).toBe('Meet Doctor Who.');
  });

  it('collapses whitespace and keeps ordinary words untouched', () => {
    expect(en('  Hello,\n\tworld!  ')).toBe('Hello, world!');
  });

  it('has uniquely named rules ending with the digit catch-all', () => {
    const names = ENGLISH_RULES.map((rule) => rule.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names[names.length - 1]).toBe('leftover-digits');
  });
});

describe('language table', () => {
  it('serves every English region from the English module', () => {
    expect(NORMALIZED_LANGUAGES).toEqual(['en']);
    expect(normalizerFor('en-AU').language).toBe('en');
    expect(normalizerFor('EN_gb').language).toBe('en');
  });

  it('passes other languages through with whitespace collapsed only', () => {
    expect(normalizerFor('de-DE').language).toBe('und');
    expect(normalizeText('Es kostet  5 Euro.', 'de-DE')).toBe('Es kostet 5 Euro.');
  });
});

describe('say-as readings (English)', () => {
  const english = normalizerFor('en-US');
  it.each([
    ['cardinal', '1,234', undefined, 'one thousand two hundred thirty-four'],
    ['number', '-7', undefined, 'minus seven'],
    ['ordinal', '3', undefined, 'third'],
    ['ordinal', '22nd', undefined, 'twenty-second'],
    ['characters', 'AB-1', undefined, 'A B dash one'],
    ['spell-out', 'tts', undefined, 'T T S'],
    ['verbatim', 'a b', undefined, 'A B'],
    ['digits', '2024', undefined, 'two zero two four'],
    ['date', '2024-03-15', 'ymd', 'March fifteenth, twenty twenty-four'],
    ['date', '15/03/2024', 'dmy', 'the fifteenth of March, twenty twenty-four'],
    ['date', '03/15', 'md', 'March fifteenth'],
    ['date', '2024-03', 'ym', 'March twenty twenty-four'],
    ['time', '3:30pm', undefined, 'three thirty p m'],
    ['telephone', '(555) 123-4567', undefined, 'five five five, one two three, four five six seven'],
    ['currency', '$3.50', undefined, 'three dollars and fifty cents'],
  ] as const)('%s %s (format %s)', (kind, text, format, expected) => {
    expect(english.interpretAs(kind, text, format, 'en-US')).toBe(expected);
  });

  it.each([
    ['cardinal', 'twelve', undefined],
    ['ordinal', 'first', undefined],
    ['digits', '12a', undefined],
    ['date', '2024-03-15', 'xyz'],
    ['date', '2024-13-15', 'ymd'],
    ['time', 'noon', undefined],
    ['telephone', 'call me', undefined],
    ['characters', '   ', undefined],
  ] as const)('cannot read %s %s', (kind, text, format) => {
    expect(english.interpretAs(kind, text, format, 'en-US')).toBeUndefined();
  });
});
