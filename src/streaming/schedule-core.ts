/**
 * ScheduleCore: the scheduler's decisions as a pure, synchronous state machine. Events go in
 * (`arrive`, `playing`, `end`, `preemptOutcome`, `recheck`), actions come out (`admit`, `preempt`, `gain`,
 * `block`, `drop`, `refuse`); nothing here waits, reads a clock or draws a random number, so the
 * same events in the same order always give the same actions (deterministic under load).
 *
 * Rules (docs/ENGINE.md, "Scheduling"):
 * - Waiting plays form one queue ordered by priority (high first), then arrival (FIFO). Only the
 *   head is considered; a head that must wait holds everything behind it.
 * - Policy (asked per call, else per engine, else default: `duck` when the arrival outranks every
 *   admitted stream, `queue` otherwise):
 *   `queue` waits until nothing is admitted; `mix` is admitted at once, unless another owner's play
 *   of equal or higher priority waits for the device (it then queues behind it: no starvation); `duck` is admitted when it
 *   outranks every admitted stream and the others are ducked to its `gainDb`; `preempt`, when it
 *   outranks every admitted stream (all playing, all of its group), asks for each of them to be
 *   preempted and is admitted once the outcomes are in. A denied preemption waits (`queue`).
 * - Protection (spec §3.1): a stream covered by an accessibility override (`coveredBy`, the owners
 *   of the overrides covering it) is never ducked nor preempted for an arrival whose actor owns
 *   none of them; a stream of another group (registrar) is never ducked nor preempted at all; a
 *   stream of another actor is preempted only for a `system:` or `user:` arrival. An arrival that
 *   may not alter a stream it would duck or preempt waits (`queue`) until that stream ends; a
 *   ducking stream never ducks a stream it may not alter (its gain stays 0 dB).
 * - Every admitted stream has its own voice of the device mixer (StreamSink opens one per play),
 *   so admitted streams sound together; `queue` is what keeps them one at a time. At most `voices`
 *   streams are admitted on the device, at most `maxConcurrent` of one owner (every policy, `mix`
 *   too), and agents' and plugins' plays together hold at most all but an eighth of the voices
 *   (the rest stay free for users and the system): past that a play waits (queued, so under
 *   `maxQueue`) for a free voice. A queued play held by its owner's or the agents' share does not
 *   hold the queue for others.
 * - Bounds per owner: at most `maxQueue` queued; when full, `graceful` refuses the arrival,
 *   `drop-oldest` drops the owner's oldest queued play of no higher priority (else refuses), and
 *   `block` parks the arrival (at most `maxQueue` parked, then refuses) until the queue has room.
 */
import { effectivePolicy, type DropPolicy, type SchedulePolicy } from './schedule-policy.js';

/** The gain envelope a ducking stream imposes on the streams below it. */
export interface DuckEnvelope {
  gainDb: number;
  attackMs: number;
  releaseMs: number;
}

/** One play asking for the device. */
export interface ArrivalSpec {
  /** Unique ticket id. */
  id: string;
  /** Who asked (an engine): queue bounds and views are per owner. */
  owner: string;
  /** Registrar identity: a preemption is attested by one registrar, so only within one group. */
  group: string;
  /** The actor key (`kind:id`) of the play's stream (its registrar's actor). */
  actor: string;
  /** 1–10. */
  priority: number;
  policy: SchedulePolicy | undefined;
  maxQueue: number;
  /** Most admitted plays of this owner at once. */
  maxConcurrent: number;
  dropPolicy: DropPolicy;
  duck: DuckEnvelope;
}

/** What the core asks its shell about the world (the registrar's overrides). */
export interface ScheduleCoreOptions {
  /** Voices of the device: the most streams admitted at once (default 64). */
  voices?: number;
  /** The owners (actor keys) of the accessibility overrides covering ticket `id` now; empty when none. */
  coveredBy?: (id: string) => readonly string[];
}

/** Actor kinds that may preempt another actor's stream (spec §3: the runtime, and users). */
const PREEMPTING_KINDS = ['system', 'user'];

/** Whether `actor` (a key, `kind:id`) may preempt another actor's stream: a user or the runtime. */
const mayPreempt = (actor: string): boolean => PREEMPTING_KINDS.includes(actor.slice(0, actor.indexOf(':')));

/** Whether a play is an agent's or a plugin's (not a user's nor the runtime's). */
const byAgent = (entry: { actor: string }): boolean => !mayPreempt(entry.actor);

/** What the scheduler shell must do. */
export type ScheduleAction =
  | { kind: 'admit'; id: string; policy: SchedulePolicy }
  | { kind: 'preempt'; id: string; forId: string }
  | { kind: 'gain'; id: string; gainDb: number; rampMs: number }
  | { kind: 'block'; id: string }
  | { kind: 'unblock'; id: string }
  | { kind: 'drop'; id: string; forId: string }
  | { kind: 'refuse'; id: string; maxQueue: number; dropPolicy: DropPolicy };

/** Where a ticket is. */
export type TicketState = 'queued' | 'preempting' | 'blocked' | 'admitted';

/** A ticket as views show it. */
export interface TicketView {
  id: string;
  owner: string;
  priority: number;
  /** The policy asked for (queued) or the one it was admitted under (admitted). */
  policy: SchedulePolicy | undefined;
  state: TicketState;
  playing: boolean;
  gainDb: number;
}

interface Entry extends ArrivalSpec {
  seq: number;
  state: TicketState;
  admittedAs: SchedulePolicy | undefined;
  playing: boolean;
  gainDb: number;
  /** Release ramp of the envelope that ducks this entry now. */
  releaseMs: number;
  preemptDenied: boolean;
  pendingVictims: Set<string>;
}

type Decision = { kind: 'admit'; policy: SchedulePolicy } | { kind: 'preempt'; victims: Entry[] } | { kind: 'wait' };

/** The deterministic decision core of one device's scheduler. Owned by one JS thread. */
export class ScheduleCore {
  #seq = 0;
  readonly #voices: number;
  /** Voices agents' and plugins' plays never take: an eighth of the device's, kept for users and the system. */
  readonly #reserved: number;
  readonly #coveredBy: (id: string) => readonly string[];
  readonly #entries = new Map<string, Entry>();
  /** Queued and preempting entries, by priority (high first) then seq. */
  readonly #queue: Entry[] = [];
  /** Blocked arrivals (dropPolicy `block`), FIFO. */
  readonly #blocked: Entry[] = [];

  /** A core for a device of `voices` voices, asking `coveredBy` which overrides cover a ticket. */
  constructor(options: ScheduleCoreOptions = {}) {
    this.#voices = options.voices ?? 64;
    this.#reserved = Math.floor(this.#voices / 8);
    this.#coveredBy = options.coveredBy ?? (() => []);
  }

  /** A play asks for the device. */
  arrive(spec: ArrivalSpec): ScheduleAction[] {
    if (this.#entries.has(spec.id)) throw new Error(`ScheduleCore: ticket ${spec.id} arrived twice`);
    const entry: Entry = { ...spec, duck: { ...spec.duck }, seq: ++this.#seq, state: 'queued', admittedAs: undefined, playing: false, gainDb: 0, releaseMs: 0, preemptDenied: false, pendingVictims: new Set() };
    this.#entries.set(entry.id, entry);
    const actions: ScheduleAction[] = [];
    const head = this.#head();
    const first = head === undefined || (head.state === 'queued' && head.priority < entry.priority);
    // Only a play admitted at once passes a full queue (a preemption may be denied and leave it waiting).
    const goesNow = ((spec.policy === 'mix' && !this.#othersWaitAhead(entry)) || first) && this.#decide(entry).kind === 'admit';
    if (!goesNow && this.#queuedOf(entry.owner) >= entry.maxQueue) {
      if (!this.#overflow(entry, actions)) return actions;
    } else if (goesNow && spec.policy === 'mix') {
      this.#admit(entry, 'mix', actions);
      this.#settle(actions);
      return actions;
    }
    this.#insert(entry);
    this.#settle(actions);
    return actions;
  }

  /** An admitted stream reached `playing` (it may now be preempted). */
  playing(id: string): ScheduleAction[] {
    const entry = this.#entries.get(id);
    const actions: ScheduleAction[] = [];
    if (entry?.state === 'admitted' && !entry.playing) {
      entry.playing = true;
      this.#settle(actions);
    }
    return actions;
  }

  /** A ticket leaves, wherever it is (its play ended, or its caller gave up). Idempotent. */
  end(id: string): ScheduleAction[] {
    const entry = this.#entries.get(id);
    const actions: ScheduleAction[] = [];
    if (!entry) return actions;
    this.#remove(entry);
    this.#settle(actions);
    return actions;
  }

  /** The outcome of a `preempt` action: allowed (the victim is gone) or denied (it keeps playing). */
  preemptOutcome(victimId: string, forId: string, allowed: boolean): ScheduleAction[] {
    const actions: ScheduleAction[] = [];
    const arrival = this.#entries.get(forId);
    const victim = this.#entries.get(victimId);
    if (allowed && victim) this.#remove(victim);
    if (arrival?.state === 'preempting') {
      arrival.pendingVictims.delete(victimId);
      if (!allowed) arrival.preemptDenied = true;
      if (arrival.pendingVictims.size === 0) arrival.state = 'queued';
    }
    this.#settle(actions);
    return actions;
  }

  /**
   * The world changed outside the core (an accessibility override was enabled, updated or
   * disabled): decides again and brings the gains up to date (a duck an override now forbids is
   * released with its release ramp; a play waiting on a lifted override may go).
   */
  recheck(): ScheduleAction[] {
    const actions: ScheduleAction[] = [];
    this.#settle(actions);
    return actions;
  }

  /** Every ticket, admitted first, then queued in queue order, then blocked. */
  view(): TicketView[] {
    const admitted = [...this.#entries.values()].filter((entry) => entry.state === 'admitted');
    return [...admitted, ...this.#queue, ...this.#blocked].map((entry) => ({
      id: entry.id,
      owner: entry.owner,
      priority: entry.priority,
      policy: entry.admittedAs ?? entry.policy,
      state: entry.state,
      playing: entry.playing,
      gainDb: entry.gainDb,
    }));
  }

  /** Queued (and preempting) tickets of `owner`. */
  queuedCount(owner: string): number {
    return this.#queuedOf(owner) + this.#blocked.filter((entry) => entry.owner === owner).length;
  }

  // --- internals -------------------------------------------------------------------------------

  #queuedOf(owner: string): number {
    let count = 0;
    for (const entry of this.#queue) if (entry.owner === owner) count++;
    return count;
  }

  /** A full queue meets `entry`: returns whether the entry goes into the queue after all. */
  #overflow(entry: Entry, actions: ScheduleAction[]): boolean {
    if (entry.dropPolicy === 'drop-oldest') {
      let oldest: Entry | undefined;
      for (const queued of this.#queue) {
        if (queued.owner !== entry.owner || queued.state !== 'queued' || queued.priority > entry.priority) continue;
        if (!oldest || queued.seq < oldest.seq) oldest = queued;
      }
      if (oldest) {
        this.#remove(oldest);
        actions.push({ kind: 'drop', id: oldest.id, forId: entry.id });
        return true;
      }
    } else if (entry.dropPolicy === 'block' && this.#blocked.filter((blocked) => blocked.owner === entry.owner).length < entry.maxQueue) {
      entry.state = 'blocked';
      this.#blocked.push(entry);
      actions.push({ kind: 'block', id: entry.id });
      return false;
    }
    this.#entries.delete(entry.id);
    actions.push({ kind: 'refuse', id: entry.id, maxQueue: entry.maxQueue, dropPolicy: entry.dropPolicy });
    return false;
  }

  #insert(entry: Entry): void {
    entry.state = 'queued';
    let at = this.#queue.length;
    // A preempting head keeps its place: its victims are being decided.
    while (at > 0) {
      const before = this.#queue[at - 1];
      if (!before || before.state === 'preempting' || before.priority >= entry.priority) break;
      at--;
    }
    this.#queue.splice(at, 0, entry);
  }

  #remove(entry: Entry): void {
    this.#entries.delete(entry.id);
    const queued = this.#queue.indexOf(entry);
    if (queued >= 0) this.#queue.splice(queued, 1);
    const blocked = this.#blocked.indexOf(entry);
    if (blocked >= 0) this.#blocked.splice(blocked, 1);
  }

  #admit(entry: Entry, policy: SchedulePolicy, actions: ScheduleAction[]): void {
    const queued = this.#queue.indexOf(entry);
    if (queued >= 0) this.#queue.splice(queued, 1);
    entry.state = 'admitted';
    entry.admittedAs = policy;
    actions.push({ kind: 'admit', id: entry.id, policy });
  }

  /** Unblocks, admits and preempts until nothing changes, then brings the gains up to date. */
  #settle(actions: ScheduleAction[]): void {
    for (;;) {
      let changed = this.#unblock(actions);
      const head = this.#head();
      if (head && head.state === 'queued') {
        const decision = this.#decide(head);
        if (decision.kind === 'admit') {
          this.#admit(head, decision.policy, actions);
          changed = true;
        } else if (decision.kind === 'preempt') {
          head.state = 'preempting';
          for (const victim of decision.victims) {
            head.pendingVictims.add(victim.id);
            actions.push({ kind: 'preempt', id: victim.id, forId: head.id });
          }
        }
      }
      if (!changed) break;
    }
    this.#updateGains(actions);
  }

  #unblock(actions: ScheduleAction[]): boolean {
    let changed = false;
    for (const entry of [...this.#blocked]) {
      if (this.#queuedOf(entry.owner) >= entry.maxQueue) continue;
      this.#blocked.splice(this.#blocked.indexOf(entry), 1);
      this.#insert(entry);
      actions.push({ kind: 'unblock', id: entry.id });
      changed = true;
    }
    return changed;
  }

  #admitted(): Entry[] {
    return [...this.#entries.values()].filter((entry) => entry.state === 'admitted');
  }

  /** The queued play considered next: a preempting head, else the first whose owner has room. */
  #head(): Entry | undefined {
    const first = this.#queue[0];
    if (!first || first.state === 'preempting') return first;
    const agentsFull = this.#agentsFull();
    return this.#queue.find((entry) => entry.state === 'queued' && this.#hasShare(entry, agentsFull));
  }

  /**
   * Whether `entry` is within its share: its owner's `maxConcurrent`, and for an agent's play the
   * agents' voices (`agentsFull`: counted once by a caller that asks for many entries).
   */
  #hasShare(entry: Entry, agentsFull?: boolean): boolean {
    return this.#admittedOf(entry.owner) < entry.maxConcurrent && !(byAgent(entry) && (agentsFull ?? this.#agentsFull()));
  }

  /** Whether agents' and plugins' plays hold every voice they may (all but the reserved ones). */
  #agentsFull(): boolean {
    let count = 0;
    for (const entry of this.#entries.values()) if (entry.state === 'admitted' && byAgent(entry)) count++;
    return count >= this.#voices - this.#reserved;
  }

  /**
   * Whether another owner's play of equal or higher priority waits for the device (not just for
   * its own owner's `maxConcurrent`): a `mix` arrival then queues behind it. Admitted at once, mix
   * plays that keep coming would keep the device from ever being free, and that play waiting for good.
   */
  #othersWaitAhead(arrival: Entry): boolean {
    const agentsFull = this.#agentsFull();
    return this.#queue.some((waiting) => waiting.owner !== arrival.owner && waiting.priority >= arrival.priority && (waiting.state === 'preempting' || this.#hasShare(waiting, agentsFull)));
  }

  #admittedOf(owner: string): number {
    let count = 0;
    for (const entry of this.#entries.values()) if (entry.state === 'admitted' && entry.owner === owner) count++;
    return count;
  }

  /**
   * Whether `arrival` may duck (or preempt) `victim`: same group, not covered by an override of
   * another actor than the arrival's, and for a preemption of another actor's stream, an arrival
   * of the runtime or a user.
   */
  #mayAlter(victim: Entry, arrival: Entry, how: 'duck' | 'preempt'): boolean {
    if (victim.group !== arrival.group) return false;
    const owners = this.#coveredBy(victim.id);
    if (owners.length > 0 && !owners.includes(arrival.actor)) return false;
    if (how === 'preempt' && victim.actor !== arrival.actor) return mayPreempt(arrival.actor);
    return true;
  }

  #decide(entry: Entry): Decision {
    const admitted = this.#admitted();
    // A voice for it: the device's, within its owner's share and, for an agent's, the agents'.
    if (admitted.length >= this.#voices || !this.#hasShare(entry)) return { kind: 'wait' };
    const outranksAll = admitted.every((other) => other.priority < entry.priority);
    let policy = effectivePolicy(entry.policy, outranksAll);
    // A denied preemption waits its turn for good (it is not asked again).
    if (entry.preemptDenied) policy = 'queue';
    if (admitted.length === 0) return { kind: 'admit', policy };
    if (policy === 'preempt') {
      if (!outranksAll) return { kind: 'wait' };
      // Another group's stream (the registrar could not attest it), a covered one, or another
      // actor's for an agent: the arrival waits its turn.
      if (admitted.some((other) => !this.#mayAlter(other, entry, 'preempt'))) return { kind: 'wait' };
      if (admitted.some((other) => !other.playing)) return { kind: 'wait' };
      return { kind: 'preempt', victims: admitted };
    }
    if (policy === 'mix') return { kind: 'admit', policy };
    if (policy === 'duck') return outranksAll && admitted.every((other) => this.#mayAlter(other, entry, 'duck')) ? { kind: 'admit', policy } : { kind: 'wait' };
    return { kind: 'wait' };
  }

  /** Ducked: below an admitted `duck` stream of higher priority (the highest such sets the envelope). */
  #updateGains(actions: ScheduleAction[]): void {
    const admitted = this.#admitted().sort((a, b) => a.seq - b.seq);
    for (const entry of admitted) {
      let ducker: Entry | undefined;
      for (const other of admitted) {
        if (other.admittedAs !== 'duck' || other.priority <= entry.priority || !this.#mayAlter(entry, other, 'duck')) continue;
        if (!ducker || other.priority > ducker.priority) ducker = other;
      }
      const target = ducker ? ducker.duck.gainDb : 0;
      if (target === entry.gainDb) continue;
      const rampMs = ducker && target < entry.gainDb ? ducker.duck.attackMs : entry.releaseMs;
      entry.gainDb = target;
      if (ducker) entry.releaseMs = ducker.duck.releaseMs;
      actions.push({ kind: 'gain', id: entry.id, gainDb: target, rampMs });
    }
  }
}
