// The scheduler shell: promises, preemption callbacks, gain commands to each play's gain target,
// bounds and withdrawal, and the per-device registry. Gain targets here record what they are told
// (per-stream voices carry them out; the engine tests cover the device).
import { describe, expect, it } from 'vitest';
import { AbortError, AudioError } from '../../src/errors.js';
import { SCHEDULE_DEFAULTS } from '../../src/streaming/schedule-policy.js';
import { schedulerFor, Scheduler, type AdmissionRequest, type GainTarget } from '../../src/streaming/scheduler.js';
import { nextTurn } from '../helpers/waiting.js';

const DUCK = { gainDb: SCHEDULE_DEFAULTS.duckDb, attackMs: SCHEDULE_DEFAULTS.duckAttackMs, releaseMs: SCHEDULE_DEFAULTS.duckReleaseMs };
const owner = {};
const group = {};

/** A play's side of admission: records the calls the scheduler makes. */
function play(name: string, fields: Partial<AdmissionRequest> & { allowPreempt?: boolean } = {}) {
  const calls: string[] = [];
  const request: AdmissionRequest = {
    owner, group, actor: 'system:engine', coveredBy: () => [], priority: 5, policy: undefined, maxQueue: 8, maxConcurrent: 64, dropPolicy: 'graceful', duck: DUCK,
    startStream: () => {
      calls.push('start');
      return `stream-${name}`;
    },
    preempt: (forStreamId, requestedBy) => {
      calls.push(`preempted for ${forStreamId} by ${requestedBy}`);
      return fields.allowPreempt ?? true;
    },
    ...fields,
  };
  return { request, calls };
}

function recorder(): GainTarget & { gains: string[] } {
  const gains: string[] = [];
  return { gains, setGain: (gainDb, { rampMs }) => void gains.push(`${gainDb} dB over ${rampMs} ms`) };
}

describe('Scheduler', () => {
  it('ducking reaches each play’s gain target: down on attack, back up on release; a gain decided before attach applies at once', async () => {
    const scheduler = new Scheduler();
    const music = await scheduler.admit(play('music', { priority: 1 }).request);
    const target = recorder();
    music.attachGain(target);
    const answer = await scheduler.admit(play('answer').request);
    expect(answer.policy).toBe('duck');
    expect(target.gains).toEqual(['-12 dB over 30 ms']);
    answer.release();
    expect(target.gains).toEqual(['-12 dB over 30 ms', '0 dB over 250 ms']);
    const late = await scheduler.admit(play('late', { priority: 1, policy: 'mix' }).request);
    const alarm = await scheduler.admit(play('alarm', { priority: 10 }).request);
    const lateTarget = recorder();
    late.attachGain(lateTarget);
    expect(lateTarget.gains).toEqual(['-12 dB over 0 ms']);
    alarm.release();
    expect(lateTarget.gains).toEqual(['-12 dB over 0 ms', '0 dB over 250 ms']);
  });

  it('preempt: starts the arrival’s stream once, asks the victim for the attested interrupt, then admits', async () => {
    const scheduler = new Scheduler();
    const low = play('low', { priority: 1 });
    const admitted = await scheduler.admit(low.request);
    admitted.playing('stream-low');
    const high = play('high', { priority: 10, policy: 'preempt' });
    const turn = await scheduler.admit(high.request);
    expect(high.calls).toEqual(['start']);
    expect(low.calls).toEqual(['preempted for stream-high by system:engine']);
    expect(turn).toMatchObject({ policy: 'preempt', streamId: 'stream-high' });
    expect(scheduler.view(owner).active.map((entry) => entry.ticket)).toEqual([turn.ticket]);
  });

  it('a denied preemption makes the arrival wait its turn; the victim plays on at 0 dB', async () => {
    const scheduler = new Scheduler();
    const low = play('low', { priority: 1, allowPreempt: false });
    const admitted = await scheduler.admit(low.request);
    admitted.playing('stream-low');
    const target = recorder();
    admitted.attachGain(target);
    const high = play('high', { priority: 10, policy: 'preempt' });
    const turn = scheduler.admit(high.request);
    await nextTurn();
    expect(low.calls).toEqual(['preempted for stream-high by system:engine']);
    expect(target.gains).toEqual([]);
    admitted.release();
    await expect(turn).resolves.toMatchObject({ policy: 'queue', streamId: 'stream-high' });
  });

  it('asks the covered state at each decision: a throwing coveredBy covers the stream for everyone (fail-closed)', async () => {
    const scheduler = new Scheduler();
    const low = play('low', { priority: 1, coveredBy: () => { throw new Error('registrar gone'); } });
    const admitted = await scheduler.admit(low.request);
    admitted.playing('stream-low');
    const turn = scheduler.admit(play('high', { priority: 10, policy: 'preempt', actor: 'user:alice' }).request);
    await nextTurn();
    expect(low.calls).toEqual([]);
    admitted.release();
    await expect(turn).resolves.toMatchObject({ policy: 'preempt' });
  });

  it('refuses past maxQueue naming it, rejects an aborted wait with AbortError, and withdraw() rejects what waits', async () => {
    const scheduler = new Scheduler();
    await scheduler.admit(play('first', { maxQueue: 1 }).request);
    const controller = new AbortController();
    const aborted = scheduler.admit(play('second', { maxQueue: 1, signal: controller.signal }).request);
    await expect(scheduler.admit(play('third', { maxQueue: 1 }).request)).rejects.toMatchObject({ code: 'SCHEDULER_QUEUE_FULL', message: expect.stringContaining('maxQueue 1') });
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(AbortError);
    expect(scheduler.queuedCount(owner)).toBe(0);
    const withdrawn = scheduler.admit(play('fourth', { maxQueue: 1 }).request);
    scheduler.withdraw(owner, new AudioError('ENGINE_CLOSED', 'closed'));
    await expect(withdrawn).rejects.toMatchObject({ code: 'ENGINE_CLOSED' });
    await expect(scheduler.admit(play('late', { signal: AbortSignal.abort() }).request)).rejects.toBeInstanceOf(AbortError);
  });

  it('one scheduler per device', () => {
    const first = {};
    const second = {};
    expect(schedulerFor(first)).toBe(schedulerFor(first));
    expect(schedulerFor(second)).not.toBe(schedulerFor(first));
  });
});
