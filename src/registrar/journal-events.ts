/**
 * What a registrar that does not write the log (an attached registrar) tells its listeners about
 * decisions made on other threads: it reads the shared core's journal from a cursor, in seq order,
 * and turns each allowed stream transition into a TransitionEvent and each allowed override
 * decision into an OverrideEvent (the runtime's scheduler decides again on it: an override enabled
 * on any thread protects the streams it covers at once). A thread that fell more than a journal
 * length behind never throws and never halts: it catches up from the core's current stream states
 * (`caughtUp: true` events, and one override event saying overrides may have changed) and goes on
 * from there.
 */
import { HALT_CAUSES, isOverrideAction, NO_ID, STREAM_STATES, type DecisionCore, type JournalEntry, type StreamState, type TransitionAction } from './core.js';
import { actionName, stateName } from './decision-record.js';
import type { RecordIds } from './record-ids.js';
import type { OverrideEvent, TransitionEvent } from './types.js';

/** The action that leads to a state, for events that report a state reached while not looking. */
const ACTION_INTO: Readonly<Record<StreamState, TransitionAction>> = {
  idle: 'restart',
  compiling: 'start',
  synthesizing: 'synthesize',
  playing: 'play',
  interrupting: 'interrupt',
  stopped: 'stop',
  failed: 'fail',
};

/** What a journal reader reports to its registrar. */
export interface JournalEventSink {
  /** An allowed transition of another thread (or a caught-up stream state). */
  transition(event: TransitionEvent): void;
  /** The journal shows a halt (a halting decision, or a halt entry). */
  halt(): void;
  /** An allowed override decision of another thread (enable, update or disable). */
  override?(event: OverrideEvent): void;
}

/** Reads the journal for one registrar's listeners (see the file comment). */
export class JournalEvents {
  readonly #core: DecisionCore;
  readonly #ids: RecordIds;
  /** This registrar's decider id: its own decisions are told when made, not read back. */
  readonly #decider: number;
  readonly #batchEntries: number;
  /** The next seq to read. */
  #cursor: number;

  constructor(core: DecisionCore, ids: RecordIds, decider: number, batchEntries: number) {
    this.#core = core;
    this.#ids = ids;
    this.#decider = decider;
    this.#batchEntries = batchEntries;
    this.#cursor = core.lastSeq() + 1;
  }

  /** Skips to after `seq` without reading (nobody listens, or this thread decided it). */
  skipTo(seq: number): void {
    if (seq >= this.#cursor) this.#cursor = seq + 1;
  }

  /** Reads and tells every published seq up to `upToSeq`; returns how many entries it read. */
  readUpTo(upToSeq: number, sink: JournalEventSink): number {
    let read = 0;
    while (this.#cursor <= upToSeq) {
      const entries = this.#core.readJournal(this.#cursor, Math.min(this.#batchEntries, upToSeq - this.#cursor + 1));
      if (entries.length === 0) break; // not published yet: the next ring brings it
      if (entries[0]?.seq !== this.#cursor) return read + this.#catchUp(sink);
      for (const entry of entries) {
        this.#tell(entry, sink);
        this.#cursor = entry.seq + 1;
        read += 1;
      }
    }
    return read;
  }

  #tell(entry: JournalEntry, sink: JournalEventSink): void {
    if (entry.kind === 3 || (entry.halted && entry.kind === 0)) sink.halt();
    if (entry.kind !== 0 || !entry.allowed || entry.decider === this.#decider) return;
    const name = actionName(entry.action);
    if (name !== null && isOverrideAction(name)) {
      sink.override?.(Object.freeze({ action: name as OverrideEvent['action'], actor: entry.actor === NO_ID ? '' : this.#core.actorKey(entry.actor), seq: entry.seq, attestationId: this.#ids.of(entry.seq) }));
      return;
    }
    if (entry.stream < 0 || entry.stateAfter < 0) return;
    const action = name as TransitionAction | null;
    if (action === null) return;
    sink.transition(
      Object.freeze({
        streamId: this.#core.streamKey(entry.stream),
        action,
        actor: entry.actor === NO_ID ? '' : this.#core.actorKey(entry.actor),
        stateBefore: stateName(entry.stateBefore) as StreamState | null,
        stateAfter: stateName(entry.stateAfter) as StreamState,
        seq: entry.seq,
        attestationId: this.#ids.of(entry.seq),
        reason: null,
      }),
    );
  }

  /** Fell behind the journal: reports every stream changed since the cursor by its current state. */
  #catchUp(sink: JournalEventSink): number {
    const image = this.#core.image();
    const changed = image.streams.filter((stream) => stream.lastSeq >= this.#cursor).sort((a, b) => a.lastSeq - b.lastSeq);
    for (const stream of changed) {
      const state = STREAM_STATES[stream.state] ?? 'failed';
      sink.transition(
        Object.freeze({
          streamId: this.#core.streamKey(stream.stream),
          action: ACTION_INTO[state],
          actor: '',
          stateBefore: null,
          stateAfter: state,
          seq: stream.lastSeq,
          attestationId: this.#ids.of(stream.lastSeq),
          reason: null,
          caughtUp: true,
        }),
      );
    }
    if (image.halted) sink.halt();
    // Override decisions read past are not known one by one: one event says the overrides may have changed.
    if (sink.override && image.lastSeq >= this.#cursor) {
      sink.override(Object.freeze({ action: 'update_override', actor: '', seq: image.lastSeq, attestationId: this.#ids.of(image.lastSeq), caughtUp: true }));
    }
    this.#cursor = image.lastSeq + 1;
    return changed.length;
  }
}

/** A halt cause's name, or null when the core does not know it (restored from a halted snapshot). */
export function haltCauseName(cause: number): (typeof HALT_CAUSES)[number] | null {
  return HALT_CAUSES[cause] ?? null;
}
