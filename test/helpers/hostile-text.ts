/**
 * A seeded generator of hostile one-line inputs for espeak-ng: the crash families found on
 * espeak-ng 1.51 (a letter, a full stop and a long tail; stacked `'s` suffixes) at lengths around
 * and far past their thresholds, long digit runs and numbers, long words in many scripts, runs of
 * one character, stacked combining marks, control and format characters, lone surrogates,
 * `[[phoneme]]` input, URLs and emoji, and random mixes of all of them. The same seed always
 * gives the same inputs, so a failure is reproduced from its printed seed.
 */

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LETTERS = ['abcdefghijklmnopqrstuvwxyz', 'ABCXYZ', 'äöüßéèêñçøå', 'абвгдежзийклмн', 'αβγδεζηθ', 'אבגדה', 'مرحباسلام', 'नमस्तेकखग', 'অআইকখ', 'กขคงจ', '中文字语言', 'かなカナ', '한국어', 'ქართული', 'Ծաղիկ'];
const DIGITS = ['0123456789', '٠١٢٣٤٥٦٧٨٩', '०१२३४५६७८९'];
const PUNCTUATION = [...'.,;:!?-–—_/\\@#$%&*+=~^|()[]{}<>"\'`…·،。、'];
const MARKS = [...'\u0300\u0301\u0302\u0308\u0327\u0323\u093C\u094D\u0E31\u0E48'];
const CONTROLS = [...'\u0000\u0001\u0002\u0007\u0008\u000b\u000c\u000e\u001b\u001f\u007f\u0080\u0085\u009b\u009f'];
const FORMATS = [...'\u00ad\u200b\u200c\u200d\u200e\u200f\u202a\u202e\u2060\u2066\ufeff'];
const ODD = ['\ud800', '\udfff', '\ufffe', '\uffff', '\ufdd0', '\u{10ffff}', '\ue000', '\u2028', '\u2029', '😀', '👨‍👩‍👧‍👦', '🏳️‍🌈', '\u{1f1e9}\u{1f1ea}'];

/** Generates inputs from one seed. */
export class HostileText {
  private readonly random: () => number;
  private long = false;

  /** `longShare`: the fraction of inputs that are one long token (the rest are 1–2 short ones). */
  constructor(
    readonly seed: number,
    private readonly longShare = 0.03,
  ) {
    this.random = seededRandom(seed);
  }

  private int(low: number, high: number): number {
    return low + Math.floor(this.random() * (high - low + 1));
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }

  private run(alphabet: string | readonly string[], length: number): string {
    const chars = typeof alphabet === 'string' ? [...alphabet] : alphabet;
    let text = '';
    for (let index = 0; index < length; index++) text += this.pick(chars);
    return text;
  }

  /**
   * Most inputs are short (espeak-ng translates only ~2–7 KB of such text a second, and 10^4 inputs
   * must fit in a test); `longShare` of them are long, straddling the crash thresholds (135–170 bytes).
   */
  private length(): number {
    return this.long ? this.int(90, 320) : this.int(0, 6);
  }

  private token(): string {
    const letters = this.pick(LETTERS);
    // Half the long inputs are of the known crash families (cases 0–2).
    switch (this.long && this.random() < 0.5 ? this.int(0, 2) : this.int(0, 15)) {
      case 0: // a letter, a full stop, a long tail: the `x.111…` family
        return this.pick([...letters]) + '.' + this.run(this.pick([...DIGITS, letters]), this.length());
      case 1: // single letters with full stops, words or not: `a.a. a.a. …`
        return `${this.run(letters, 1)}.${this.pick(['', ' ', ', '])}`.repeat(Math.ceil(this.length() / 2));
      case 2: // stacked suffixes: the `s's's'…` family
        return this.pick(['', 'cat', 'x', 'l']) + this.pick(["s'", "'s", "l'", "'", 'ing', 'ly', '-a']).repeat(Math.ceil(this.length() / 2));
      case 3:
        return this.run(this.pick(DIGITS), this.length());
      case 4: // numbers with separators, decimals, signs, huge exponents
        return `${this.pick(['', '-', '+', '−', '$', '€'])}${this.run('123456789', this.int(1, 3))}${this.run(this.pick([',000', '.000', ' 000', "'000", '_000']), Math.ceil(this.length() / 4))}${this.pick(['', `.${this.run('0123456789', this.length() + 1)}`, `e${this.int(0, 9999)}`, '%'])}`;
      case 5:
        return this.run(letters, this.length());
      case 6:
        return this.pick(PUNCTUATION).repeat(this.length());
      case 7:
        return this.pick([...letters]) + this.run(MARKS, this.length() + 1);
      case 8:
        return this.run([...CONTROLS, ...FORMATS, ...letters], this.length() + 1);
      case 9:
        return this.run([...ODD, ...letters], this.length() + 1);
      case 10:
        return `[[${this.run([...letters, ...PUNCTUATION, "'", ',', '@', ':'], this.length())}${this.pick([']]', '', ']'])}`;
      case 11:
        return `${this.pick(['http://', 'https://', 'www.', 'mailto:', 'file:///', ''])}${this.run(`${letters}0123456789./-_?=&#%@:`, this.length())}`;
      case 12:
        return this.pick([...letters]).repeat(this.length());
      case 13:
        return this.run([...letters, ...DIGITS[0] as string, ...PUNCTUATION], this.length());
      case 14:
        return this.run([...'\t\n\r \u00a0\u3000', ...letters], this.length() + 1);
      default:
        return this.run(`${letters}${this.pick(DIGITS)}${this.pick(PUNCTUATION)}${this.pick(MARKS)}`, this.length() + 1);
    }
  }

  /** One input: one long token (share `longShare`) or one or two short ones, usually separated by spaces. */
  next(): string {
    this.long = this.random() < this.longShare;
    const count = this.long ? 1 : this.int(1, 2);
    let text = '';
    for (let index = 0; index < count; index++) text += this.token() + (this.random() < 0.75 ? ' ' : '');
    return text;
  }
}
