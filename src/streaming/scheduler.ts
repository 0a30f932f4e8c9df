/**
 * Scheduler: who plays on a device, and when. One per AudioOutput (`schedulerFor(output)`), shared
 * by every engine that plays on it. `admit()` is the admission point of `VoiceEngine.play()`: it
 * resolves when the play may start, and carries out ScheduleCore's actions:
 * - `preempt`: the arrival's stream is started (the registrar needs both streams to attest), then
 *   the victim's own engine asks, as its `system` runtime actor, for an `interrupt` with
 *   `metadata.preemptFor` naming the arrival and `metadata.requestedBy` its actor (spec §3).
 *   Allowed: the victim's sink closes (decisions are effects). Denied: attested as denied, and the
 *   arrival waits its turn (`queue`). The core asks for a preemption only when the arrival may
 *   alter every victim (schedule-core.ts: overrides, groups, actor kinds).
 * - `gain`: ducking reaches the admitted play's gain target (`{ setGain(gainDb, { rampMs }) }`).
 * - `drop` / `refuse`: the waiting play rejects with AudioError `SCHEDULER_DROPPED` /
 *   `SCHEDULER_QUEUE_FULL` (the engine attests a dropped play's end).
 * Events are handled one at a time in arrival order (a re-entrant call waits for the current one),
 * so the decisions are those of the core: deterministic.
 */
import { AbortError, AudioError } from '../errors.js';
import { ScheduleCore, type ArrivalSpec, type ScheduleAction, type TicketState } from './schedule-core.js';
import type { SchedulePolicy } from './schedule-policy.js';

/** Where the scheduler's gain commands go for one admitted play (a per-stream voice or sink). */
export interface GainTarget {
  /** Ramps the stream's gain to `gainDb` over `rampMs`. */
  setGain(gainDb: number, options: { rampMs: number }): void;
}

/** What a play tells the scheduler when it asks for the device. */
export interface AdmissionRequest extends Pick<ArrivalSpec, 'actor' | 'priority' | 'policy' | 'maxQueue' | 'maxConcurrent' | 'dropPolicy' | 'duck'> {
  /** The engine asking: views and `withdraw` are per owner. */
  owner: object;
  /** Whose `maxQueue` and `maxConcurrent` the play counts against (default: `owner`). */
  budget?: object;
  /** Its registrar: a preemption is attested only between streams of one registrar. */
  group: object;
  /** Owners (actor keys) of the accessibility overrides covering this play now (asked at each decision). */
  coveredBy(): readonly string[];
  /** Gives up waiting: rejects with AbortError. */
  signal?: AbortSignal | undefined;
  /** Starts the play's stream now (synchronously) and returns its id; called at most once. */
  startStream(): string;
  /** Victim side: requests the attested preemption of this play's stream for `requestedBy`'s stream; returns whether it was allowed. */
  preempt(forStreamId: string, requestedBy: string): boolean;
}

/** A play's turn on the device, from admission until `release()`. */
export interface Admission {
  readonly ticket: string;
  /** The policy it was admitted under. */
  readonly policy: SchedulePolicy;
  /** The stream the scheduler started for a preemption, if it had to. */
  readonly streamId: string | undefined;
  /** The play's stream reached `playing` (it may now be preempted). */
  playing(streamId: string): void;
  /** Where ducking goes; a gain already decided is applied at once. */
  attachGain(target: GainTarget | null): void;
  /** The play is over: the next one may come. Idempotent. */
  release(): void;
}

/** One play as `engine.schedule()` shows it. */
export interface ScheduleEntryView {
  ticket: string;
  /** Its registrar stream, once started. */
  streamId: string | null;
  priority: number;
  policy: SchedulePolicy | undefined;
  state: TicketState;
  playing: boolean;
  gainDb: number;
}

/** The scheduler's state for diagnostics: admitted plays, then waiting ones in queue order. */
export interface ScheduleView {
  active: ScheduleEntryView[];
  queued: ScheduleEntryView[];
}

interface Ticket {
  id: string;
  request: AdmissionRequest;
  streamId: string | null;
  startedByScheduler: boolean;
  gain: GainTarget | null;
  gainDb: number;
  resolve: (admission: Admission) => void;
  reject: (error: Error) => void;
  detachAbort: () => void;
}

/** The scheduler of one device. Owned by one JS thread. */
export class Scheduler {
  readonly #core: ScheduleCore;
  readonly #tickets = new Map<string, Ticket>();
  readonly #names = new WeakMap<object, string>();
  #nextName = 0;
  #nextTicket = 0;
  readonly #events: (() => ScheduleAction[])[] = [];
  #dispatching = false;

  /** A scheduler for one device whose mixer plays every admitted stream on its own voice (`voices` of them). */
  constructor(voices = 64) {
    this.#core = new ScheduleCore({ voices, coveredBy: (id) => this.#coveredBy(id) });
  }

  /**
   * Waits for the play's turn. Rejects with AbortError (its signal), AudioError
   * `SCHEDULER_QUEUE_FULL` (refused) or `SCHEDULER_DROPPED` (dropped for a newer play), or the
   * error `withdraw()` was given.
   */
  admit(request: AdmissionRequest): Promise<Admission> {
    if (request.signal?.aborted) return Promise.reject(new AbortError('play() was aborted while waiting for the device', { cause: request.signal.reason }));
    const id = `t${++this.#nextTicket}`;
    return new Promise<Admission>((resolve, reject) => {
      const onAbort = (): void => this.#fail(id, new AbortError('play() was aborted while waiting for the device', { cause: request.signal?.reason }));
      request.signal?.addEventListener('abort', onAbort, { once: true });
      const ticket: Ticket = {
        id, request, streamId: null, startedByScheduler: false, gain: null, gainDb: 0, resolve, reject,
        detachAbort: () => request.signal?.removeEventListener('abort', onAbort),
      };
      this.#tickets.set(id, ticket);
      const spec = { id, owner: this.#name(request.budget ?? request.owner), group: this.#name(request.group), actor: request.actor, priority: request.priority, policy: request.policy, maxQueue: request.maxQueue, maxConcurrent: request.maxConcurrent, dropPolicy: request.dropPolicy, duck: request.duck };
      this.#dispatch(() => this.#core.arrive(spec));
    });
  }

  /** Rejects every waiting play of `owner` with `error` (an engine closing). */
  withdraw(owner: object, error: Error): void {
    for (const ticket of [...this.#tickets.values()]) {
      if (ticket.request.owner === owner && !this.#isAdmitted(ticket.id)) this.#fail(ticket.id, error);
    }
  }

  /** An accessibility override changed: the core decides again (gains, waiting plays). */
  recheck(): void {
    this.#dispatch(() => this.#core.recheck());
  }

  /** Plays of `owner` waiting for the device (queued or blocked). */
  queuedCount(owner: object): number {
    return this.view(owner).queued.length;
  }

  /** The plays of `owner` (every owner's when omitted): admitted, then waiting in queue order. */
  view(owner?: object): ScheduleView {
    const entries = this.#core.view().filter((entry) => owner === undefined || this.#tickets.get(entry.id)?.request.owner === owner);
    const shown = entries.map((entry): ScheduleEntryView => ({
      ticket: entry.id, streamId: this.#tickets.get(entry.id)?.streamId ?? null, priority: entry.priority, policy: entry.policy, state: entry.state, playing: entry.playing, gainDb: entry.gainDb,
    }));
    return { active: shown.filter((entry) => entry.state === 'admitted'), queued: shown.filter((entry) => entry.state !== 'admitted') };
  }

  // --- internals -------------------------------------------------------------------------------

  #name(object: object): string {
    let name = this.#names.get(object);
    if (name === undefined) {
      name = `o${++this.#nextName}`;
      this.#names.set(object, name);
    }
    return name;
  }

  /** Who may alter ticket `id`: the owners of the overrides covering it (fail-closed: a throwing query covers it for everyone). */
  #coveredBy(id: string): readonly string[] {
    const ticket = this.#tickets.get(id);
    if (!ticket) return [];
    try {
      return ticket.request.coveredBy();
    } catch {
      return ['(unknown)'];
    }
  }

  #isAdmitted(id: string): boolean {
    return this.#core.view().some((entry) => entry.id === id && entry.state === 'admitted');
  }

  /** A waiting ticket gives up (or is withdrawn): it leaves the core and its caller gets `error`. */
  #fail(id: string, error: Error): void {
    const ticket = this.#tickets.get(id);
    if (!ticket) return;
    this.#tickets.delete(id);
    ticket.detachAbort();
    ticket.reject(error);
    this.#dispatch(() => this.#core.end(id));
  }

  /** Runs core events one at a time, in order, carrying out their actions. */
  #dispatch(event: () => ScheduleAction[]): void {
    this.#events.push(event);
    if (this.#dispatching) return;
    this.#dispatching = true;
    try {
      for (let next = this.#events.shift(); next; next = this.#events.shift()) {
        for (const action of next()) this.#carryOut(action);
      }
    } finally {
      this.#dispatching = false;
    }
  }

  #carryOut(action: ScheduleAction): void {
    const ticket = this.#tickets.get(action.id);
    switch (action.kind) {
      case 'admit':
        if (ticket) this.#admitted(ticket, action.policy);
        return;
      case 'preempt':
        this.#preempt(action.id, action.forId);
        return;
      case 'gain':
        if (!ticket) return;
        ticket.gainDb = action.gainDb;
        ticket.gain?.setGain(action.gainDb, { rampMs: action.rampMs });
        return;
      case 'drop':
        if (ticket) this.#settle(ticket, new AudioError('SCHEDULER_DROPPED', `play() was dropped from the queue: maxQueue ${ticket.request.maxQueue} waiting plays reached and dropPolicy is 'drop-oldest' (a newer play took its place)`));
        return;
      case 'refuse':
        if (ticket) this.#settle(ticket, new AudioError('SCHEDULER_QUEUE_FULL', `play() was refused: the queue is full (maxQueue ${action.maxQueue} waiting plays, dropPolicy '${action.dropPolicy}')`));
        return;
      case 'block':
      case 'unblock':
        return;
    }
  }

  /** A ticket the core already let go of: its caller gets `error`. */
  #settle(ticket: Ticket, error: Error): void {
    this.#tickets.delete(ticket.id);
    ticket.detachAbort();
    ticket.reject(error);
  }

  #admitted(ticket: Ticket, policy: SchedulePolicy): void {
    ticket.detachAbort();
    let released = false;
    const admission: Admission = {
      ticket: ticket.id,
      policy,
      streamId: ticket.startedByScheduler ? (ticket.streamId ?? undefined) : undefined,
      playing: (streamId) => {
        ticket.streamId = streamId;
        this.#dispatch(() => this.#core.playing(ticket.id));
      },
      attachGain: (target) => {
        ticket.gain = target;
        if (target && ticket.gainDb !== 0) target.setGain(ticket.gainDb, { rampMs: 0 });
      },
      release: () => {
        if (released) return;
        released = true;
        this.#tickets.delete(ticket.id);
        this.#dispatch(() => this.#core.end(ticket.id));
      },
    };
    ticket.resolve(admission);
  }

  /** Preempts `victimId` for `forId`: the arrival's stream must exist for the registrar to attest it. */
  #preempt(victimId: string, forId: string): void {
    const arrival = this.#tickets.get(forId);
    const victim = this.#tickets.get(victimId);
    if (!arrival) {
      this.#events.push(() => this.#core.preemptOutcome(victimId, forId, false));
      return;
    }
    if (arrival.streamId === null) {
      try {
        arrival.streamId = arrival.request.startStream();
        arrival.startedByScheduler = true;
      } catch (error) {
        this.#fail(forId, error instanceof Error ? error : new Error(String(error)));
        return;
      }
    }
    let allowed = false;
    try {
      allowed = victim !== undefined && victim.request.preempt(arrival.streamId, arrival.request.actor);
    } catch {
      allowed = false;
    }
    this.#events.push(() => this.#core.preemptOutcome(victimId, forId, allowed));
  }
}

/** The scheduler of each device, shared by every engine that plays on it. */
const schedulers = new WeakMap<object, Scheduler>();

/** The scheduler of `output` (created on first use). */
export function schedulerFor(output: object): Scheduler {
  let scheduler = schedulers.get(output);
  if (!scheduler) {
    scheduler = new Scheduler();
    schedulers.set(output, scheduler);
  }
  return scheduler;
}

// Hardening: no caller can swap a method of this class for its own (a monkey-patched prototype would see every instance).
Object.freeze(Scheduler.prototype);
Object.freeze(Scheduler);
