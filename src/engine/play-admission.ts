/**
 * A play's admission by its device's scheduler (docs/ENGINE.md, "Scheduling"): the request the
 * engine makes (priority, policy, including a plugin's onSchedule answer, queue bounds, ducking,
 * who covers the play) and what happens around it. When a preemption needs the play's stream
 * before its turn, the scheduler starts it through `begin`; a play that gives up while waiting
 * ends a stream started that way; a play dropped from a full queue gets a stream that is created
 * and failed with the reason (attested). Preemptions are requested by the runtime actor.
 */
import { AbortError, AudioError } from '../errors.js';
import type { ActorHandle } from '../registrar/actor-handle.js';
import type { AudioRegistrar } from '../registrar/registrar.js';
import type { EnginePlugins } from '../plugins/plugin-set.js';
import { priorityValue } from '../streaming/schedule-policy.js';
import type { Admission, Scheduler, ScheduleView } from '../streaming/scheduler.js';
import type { ParsedEngineOptions, ParsedSpeakOptions } from './engine-options.js';
import { coveringOwners } from './play-guards.js';
import { describe, type Utterance } from './utterance.js';

/** What an admission needs of its engine. */
export interface AdmissionContext {
  /** The scheduler of the engine's device. */
  scheduler: Scheduler;
  /** The engine asking (the scheduler's views are per owner). */
  owner: object;
  /** Whose queue bounds the play counts against (the engine, or the guest that made it). */
  budget: object;
  registrar: AudioRegistrar;
  /** The engine's actor (the play's owner) and the runtime (which requests preemptions). */
  actor: ActorHandle;
  runtime: ActorHandle;
  options: ParsedEngineOptions;
  plugins: EnginePlugins;
  /** The engine's plays as the scheduler sees them (what a plugin's onSchedule is shown). */
  schedule(): ScheduleView;
  /** Starts the play's stream (asks the registrar). */
  begin(): Utterance;
  /** Whether the engine began closing, and the check that throws once it did. */
  closed(): boolean;
  throwIfClosed(): void;
}

/**
 * Waits for the play's turn. `started` keeps a stream started for the play while it waited
 * (preemption, or a dropped play's attested end); `current` is the play's utterance so far.
 */
export async function admitPlay(context: AdmissionContext, parsed: ParsedSpeakOptions, started: (utterance: Utterance) => void, current: () => Utterance | undefined): Promise<Admission> {
  const { registrar, options, plugins } = context;
  try {
    return await context.scheduler.admit({
      owner: context.owner,
      budget: context.budget,
      group: registrar,
      actor: context.actor.key,
      coveredBy: () => playCoveredBy(registrar, options, parsed, current()),
      priority: priorityValue(parsed.priority),
      policy: parsed.policy ?? (plugins.has('onSchedule') ? plugins.onSchedule({ priority: priorityValue(parsed.priority), requestedPolicy: null, schedule: context.schedule() }) : undefined) ?? options.policy,
      maxQueue: options.maxQueue,
      maxConcurrent: options.maxConcurrent,
      dropPolicy: options.dropPolicy,
      duck: { gainDb: options.duckDb, attackMs: options.duckAttackMs, releaseMs: options.duckReleaseMs },
      signal: parsed.signal,
      startStream: () => {
        context.throwIfClosed();
        const utterance = context.begin();
        started(utterance);
        return utterance.lifecycle.streamId;
      },
      preempt: (forStreamId, requestedBy) => {
        const target = current()?.lifecycle.streamId;
        if (target === undefined) return false;
        // The runtime asks (spec §3), and the log names whose stream caused it.
        const result = registrar.request({ action: 'interrupt', actor: context.runtime, target, reason: 'preempted by a higher-priority stream', metadata: { preemptFor: forStreamId, requestedBy } });
        return result.allowed;
      },
    });
  } catch (error) {
    if (error instanceof AudioError && error.code === 'SCHEDULER_DROPPED' && !current() && !context.closed() && !registrar.halted) {
      // Attested: the dropped play's stream is created and failed with the reason.
      const utterance = context.begin();
      started(utterance);
      utterance.lifecycle.fail(`dropped from the queue (dropPolicy drop-oldest, maxQueue ${options.maxQueue})`);
      const attestation = utterance.lifecycle.attestations.at(-1);
      throw Object.assign(error, { streamId: utterance.lifecycle.streamId, attestationId: attestation?.id ?? null });
    }
    // A stream the scheduler started for a preemption that never came to be: it ends here.
    current()?.lifecycle.stop(error instanceof AbortError ? 'aborted by the caller' : describe(error));
    throw error;
  }
}

/** Owners of the accessibility overrides covering a play: its stream's session and user (or the ones it will start with). */
function playCoveredBy(registrar: AudioRegistrar, options: ParsedEngineOptions, parsed: ParsedSpeakOptions, utterance: Utterance | undefined): string[] {
  const stream = utterance ? registrar.getState(utterance.lifecycle.streamId) : null;
  if (stream) return coveringOwners(registrar, stream.sessionId, stream.userId);
  // Not started yet: the session and user it will start with (the registrar's default session is "default").
  return coveringOwners(registrar, parsed.sessionId ?? options.sessionId ?? 'default', parsed.userId ?? options.userId ?? null);
}
