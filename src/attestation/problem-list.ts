/**
 * The problems a log verifier reports (verifyLog, verify), listed up to a bound: a log damaged
 * throughout (every record re-sealed, re-attributed or cut) would otherwise be answered with one
 * object per record, growing with the log. Past the bound problems are only counted (and the
 * lowest seq kept); the list then ends with one `report.truncated` entry saying how many more there
 * were. Every problem still counts for `ok`.
 */

/** One reported problem. */
export interface ListedProblem {
  readonly seq: number;
  readonly invariant: string;
  readonly message: string;
}

/** Problems listed at most per report (errors and warnings each). */
export const MAX_LISTED_PROBLEMS = 1000;

/** A bounded list of problems (see the file comment). */
export class ProblemList {
  readonly #items: ListedProblem[] = [];
  readonly #limit: number;
  #omitted = 0;
  /** The lowest seq of the problems only counted (they come in any order: a verifier's end-of-log checks name early seqs). */
  #lowestOmittedSeq = 0;
  #lowestSeq: number | null = null;

  /** A list of at most `limit` problems (default MAX_LISTED_PROBLEMS). */
  constructor(limit: number = MAX_LISTED_PROBLEMS) {
    this.#limit = limit;
  }

  /** Reports a problem: listed while there is room, else counted. */
  add(seq: number, invariant: string, message: string): void {
    if (this.#lowestSeq === null || seq < this.#lowestSeq) this.#lowestSeq = seq;
    if (this.#items.length < this.#limit) {
      this.#items.push(Object.freeze({ seq, invariant, message }));
      return;
    }
    if (this.#omitted === 0 || seq < this.#lowestOmittedSeq) this.#lowestOmittedSeq = seq;
    this.#omitted += 1;
  }

  /** Problems reported, listed or not. */
  get count(): number {
    return this.#items.length + this.#omitted;
  }

  /** The lowest seq of any problem reported, or null when none was. */
  get lowestSeq(): number | null {
    return this.#lowestSeq;
  }

  /** The listed problems, frozen, ending with a `report.truncated` entry when some were only counted. */
  list(): readonly ListedProblem[] {
    if (this.#omitted === 0) return Object.freeze([...this.#items]);
    const more = Object.freeze({ seq: this.#lowestOmittedSeq, invariant: 'report.truncated', message: `${this.#omitted} more problems from seq ${this.#lowestOmittedSeq} on are not listed (the first ${this.#limit} are)` });
    return Object.freeze([...this.#items, more]);
  }
}
