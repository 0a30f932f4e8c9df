/**
 * Attestation ids that any thread can compute: the id of seq `n` of a log is `<prefix>.<n>`, with
 * one random prefix (a UUID) per log. So a registrar on another thread names the record of any
 * seq, e.g. the `parent` of a stream whose previous transition a third thread decided, without
 * asking the log writer, and the writer's log holds exactly the ids the deciding threads returned.
 *
 * A log written before ids were derived (random UUIDs), or continued under a new prefix, has a
 * first seq from which the scheme holds (`baseSeq`); ids of earlier seqs are whatever the log
 * says, and only the writer's store (and the `legacy` ids it shares for live streams) knows them.
 */
import { randomUUID } from 'node:crypto';

/** `<uuid>.<seq>`: the shape of a derived id. */
const DERIVED_ID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([1-9][0-9]*)$/;

/** The ids of one log from `baseSeq` on (see the file comment). Immutable. */
export class RecordIds {
  /** The log's prefix (a UUID). */
  readonly prefix: string;
  /** The first seq whose id is derived. */
  readonly baseSeq: number;
  readonly #dotted: string;

  constructor(prefix: string, baseSeq: number) {
    this.prefix = prefix;
    this.baseSeq = baseSeq;
    this.#dotted = `${prefix}.`;
    Object.freeze(this);
  }

  /** Ids for a new log, or a log continued under a fresh prefix from `baseSeq`. */
  static fresh(baseSeq = 1): RecordIds {
    return new RecordIds(randomUUID(), baseSeq);
  }

  /** The id of `seq` (meaningful for seq >= baseSeq). */
  of(seq: number): string {
    return this.#dotted + seq;
  }

  /** Whether the id of `seq` is derived (else only the log knows it). */
  derives(seq: number): boolean {
    return seq >= this.baseSeq;
  }
}

/**
 * Follows a log record by record (replay, restore) to learn where its derived ids run: after the
 * last record, `ids()` continues that run, or starts a fresh prefix when the log's last id is not
 * derived (an older log).
 */
export class IdRun {
  #prefix: string | null = null;
  #baseSeq = 0;
  #lastSeq: number;

  /** @param startSeq the seq before the first record that will be noted (0, or a snapshot's) */
  constructor(startSeq: number) {
    this.#lastSeq = startSeq;
  }

  /** Notes the next record's id. */
  note(seq: number, id: string): void {
    this.#lastSeq = seq;
    if (this.#prefix !== null && id === `${this.#prefix}.${seq}`) return;
    const match = DERIVED_ID.exec(id);
    if (match && Number(match[2]) === seq) {
      this.#prefix = match[1] ?? null;
      this.#baseSeq = seq;
    } else {
      this.#prefix = null;
    }
  }

  /** The ids of the records after the last one noted. */
  ids(): RecordIds {
    return this.#prefix !== null ? new RecordIds(this.#prefix, this.#baseSeq) : RecordIds.fresh(this.#lastSeq + 1);
  }
}
