/**
 * Scheduling vocabulary: priorities (names and 1–10), policies, drop policies and their defaults.
 * Priority names map to the registrar's values (system = 10, assistant = 5, background = 1), so a
 * stream's scheduling priority is exactly the priority the registrar attests at `start` and checks
 * in a preemption (spec §3: `system` may preempt a strictly lower priority).
 */
import { z } from 'zod';

/**
 * Priority names and their 1–10 values: the registrar's (src/registrar/request-schema.ts, which
 * other layers may import for types only); test/streaming/schedule-core.test.ts pins them equal.
 */
export const PRIORITY_VALUES = Object.freeze({ system: 10, assistant: 5, background: 1 } as const);

/** How a play meets the plays already on the device. */
export const SCHEDULE_POLICIES = ['preempt', 'queue', 'duck', 'mix'] as const;
/** One of SCHEDULE_POLICIES. */
export type SchedulePolicy = (typeof SCHEDULE_POLICIES)[number];

/** What happens when a queue is full (and, in real-time mode, when synthesis cannot keep up). */
export const DROP_POLICIES = ['graceful', 'drop-oldest', 'block'] as const;
/** One of DROP_POLICIES. */
export type DropPolicy = (typeof DROP_POLICIES)[number];

/** A priority by name or 1–10 (higher wins). */
export type PriorityInput = keyof typeof PRIORITY_VALUES | number;

/** Zod schema of a policy option (engine and per call). */
export const schedulePolicySchema = z.enum(SCHEDULE_POLICIES);
/** Zod schema of `dropPolicy`. */
export const dropPolicySchema = z.enum(DROP_POLICIES);

/** Defaults of the scheduling options. */
export const SCHEDULE_DEFAULTS = Object.freeze({
  /** Gain of a ducked stream, in dB. */
  duckDb: -12,
  /** Ramp down when a stream is ducked, in ms. */
  duckAttackMs: 30,
  /** Ramp back up when the stream that ducked it ends, in ms. */
  duckReleaseMs: 250,
  /** Waiting plays per engine. */
  maxQueue: 64,
  /** Admitted plays per engine at once (of the device's 64 voices). */
  maxConcurrent: 8,
  /** Longest a play may hold its turn without audio to play, in ms. */
  admissionTimeoutMs: 10_000,
  dropPolicy: 'graceful' as DropPolicy,
  /** Real-time mode: the most audio an engine keeps queued ahead of the device, in ms. */
  maxLatencyMs: 50,
  /** Real-time mode: the write-ahead beyond one device period, in ms (kept under this). */
  realtimeHeadroomMs: 20,
  /**
   * Otherwise: each stream's voice ring on the device, in ms (at least the output's own ring). A
   * play refills it when about half has played, so the JS thread may stall for about half of this
   * (a loaded machine, a busy registrar writer, GC) before the stream underruns. Interrupts,
   * ducking and preemption act in the audio callback, so a long write-ahead never delays them.
   */
  writeAheadMs: 2_000,
});

/** The 1–10 value of a priority (default: assistant, as in the registrar). */
export function priorityValue(priority: PriorityInput | undefined): number {
  if (priority === undefined) return PRIORITY_VALUES.assistant;
  return typeof priority === 'number' ? priority : PRIORITY_VALUES[priority];
}

/**
 * The policy in force for an arrival: the one asked for (per call, else per engine), otherwise
 * the defaults: `duck` when it outranks every stream on the device, `queue` otherwise.
 */
export function effectivePolicy(asked: SchedulePolicy | undefined, outranksAll: boolean): SchedulePolicy {
  if (asked !== undefined) return asked;
  return outranksAll ? 'duck' : 'queue';
}
