/**
 * The English normaliser: the rule table of `english-rules.ts` plus SSML say-as readings.
 */
import { ordinalWords, readDigits } from './english-numbers.js';
import { characterWords, dateWords } from './english-reading.js';
import { ENGLISH_RULES, type RuleContext } from './english-rules.js';
import { collapseWhitespace, type LanguageNormalizer, type SayAsKind } from './language-normalizer.js';

function applyRules(text: string, context: RuleContext): string {
  let result = text;
  for (const rule of ENGLISH_RULES) {
    result = result.replace(rule.pattern, (...args: unknown[]) => {
      // replace() passes (match, ...groups, offset, input); no rule uses named groups.
      const input = args[args.length - 1] as string;
      const offset = args[args.length - 2] as number;
      const match = args.slice(0, -2) as (string | undefined)[];
      const written = match[0] as string;
      const spoken = rule.replace(match, context, offset, input) ?? written;
      // "at 10 a.m." ends a sentence: keep the full stop the reading swallowed.
      const swallowedStop = written.endsWith('.') && !spoken.endsWith('.') && input.slice(offset + written.length).trim() === '';
      // "4K" must read "four K", not "fourK": keep words apart from letters around the match.
      const before = /\p{L}/u.test(input[offset - 1] ?? '') && /^\p{L}/u.test(spoken) ? ' ' : '';
      const after = /\p{L}/u.test(input[offset + written.length] ?? '') && /\p{L}$/u.test(spoken) ? ' ' : '';
      return `${before}${spoken}${swallowedStop ? '.' : ''}${after}`;
    });
  }
  return collapseWhitespace(result);
}

const DATE_ORDERS: Readonly<Record<string, readonly ('y' | 'm' | 'd')[]>> = {
  mdy: ['m', 'd', 'y'],
  dmy: ['d', 'm', 'y'],
  ymd: ['y', 'm', 'd'],
  md: ['m', 'd'],
  dm: ['d', 'm'],
  ym: ['y', 'm'],
  my: ['m', 'y'],
};

function interpretDate(text: string, format: string | undefined, languageTag: string): string | undefined {
  const parts = text.trim().split(/[-/.\s]+/);
  const tag = languageTag.toLowerCase();
  const order = DATE_ORDERS[format ?? (tag === 'en' || tag.startsWith('en-us') ? 'mdy' : 'dmy')];
  if (!order || parts.length !== order.length || !parts.every((part) => /^\d{1,4}$/.test(part))) return undefined;
  const field = (name: 'y' | 'm' | 'd') => parts[order.indexOf(name)];
  const day = field('d');
  return dateWords(field('y') ?? '', Number(field('m')), day === undefined ? undefined : Number(day), order[0] === 'd' ? 'day-first' : 'month-first');
}

/** English (all regions; dates are month-first only for `en` and `en-US`). */
export const englishNormalizer: LanguageNormalizer = Object.freeze({
  language: 'en',
  normalize(text: string, languageTag: string): string {
    return applyRules(text, { languageTag });
  },
  interpretAs(kind: SayAsKind, text: string, format: string | undefined, languageTag: string): string | undefined {
    const trimmed = text.trim();
    const digits = trimmed.replace(/[,\s]/g, '');
    switch (kind) {
      case 'cardinal':
      case 'number':
        if (/^[-−]?\d+(\.\d+)?$/.test(digits)) return applyRules(digits, { languageTag });
        return undefined;
      case 'ordinal': {
        const match = /^(\d+)(st|nd|rd|th)?$/i.exec(digits);
        return match ? ordinalWords(match[1] as string) : undefined;
      }
      case 'characters':
      case 'spell-out':
      case 'verbatim':
        return trimmed === '' ? undefined : characterWords(trimmed);
      case 'digits':
        return /^\d+$/.test(digits) ? readDigits(digits) : undefined;
      case 'date':
        return interpretDate(trimmed, format, languageTag);
      case 'time': {
        const reading = applyRules(trimmed, { languageTag });
        return /\d/.test(trimmed) && reading !== trimmed ? reading : undefined;
      }
      case 'telephone': {
        const groups = trimmed.split(/[^\d]+/).filter((group) => group !== '');
        return groups.length > 0 && /^[\d\s()+.-]+$/.test(trimmed) ? groups.map(readDigits).join(', ') : undefined;
      }
      case 'currency': {
        const reading = applyRules(trimmed, { languageTag });
        return /\d/.test(trimmed) ? reading : undefined;
      }
    }
  },
});
