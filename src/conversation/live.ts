/**
 * Live play of a conversation: each turn is its own `engine.play()` (its own registrar stream,
 * the conversation id in its start metadata). A turn with a gap starts when everything before has
 * been heard, plus the gap (scaled by the pause amplification of a covering accessibility
 * override); an overlapping or barge-in turn starts when the turn before has that much left to
 * play, on the mixer's `mix` policy; a barge-in interrupts the turn before once it is audible.
 * An allowed interrupt of any turn (or `conversation.interrupt()`) ends the conversation: the turn
 * fades (the engine's sink), later turns never start, and the turns still running are asked to end
 * as the engine's actor (the playing ones interrupted, the others stopped before they play). The
 * registrar may refuse that (a user's accessibility override covers them and the engine's actor is
 * an agent: spec §3.1): such a turn plays to its end and is reported `endRefused`, the play still
 * resolves with the decision that ended it. A turn someone else ended (interrupt, stop or fail:
 * e.g. the user herself) counts as cut, never as a failure of the conversation.
 * Overlap timing here follows the device's clock only roughly (write-ahead, scheduling); the
 * offline render places turns to the sample.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AbortError, AudioError } from '../errors.js';
import { RegistrarDeniedError } from '../registrar/errors.js';
import type { RegistrarResult } from '../registrar/types.js';
import type { ConversationEngine, LiveTurnOptions, TurnPlayResult } from './engine-face.js';
import { DEFAULT_BARGE_IN_OVERLAP_MS } from './turns.js';
import type { ConversationEnd, TurnWatch } from './turn-watch.js';

/** One turn as the conversation asks the engine for it. */
export interface TurnPlan {
  index: number;
  speaker: string;
  /** What the engine is asked to speak (the turn's text, or SSML around it for a cast pitch). */
  request: string;
  options: LiveTurnOptions;
  gapMs: number;
  overlapMs: number | undefined;
  bargeIn: boolean;
}

/** Options of `engine.play(conversation)`. */
export interface ConversationPlayOptions {
  /** Policy of the turns that do not overlap (overlapping ones always `mix`); default: the engine's. */
  policy?: 'preempt' | 'queue' | 'duck';
  /** Ends the conversation: the playing turn is stopped (attested), later turns never start. */
  signal?: AbortSignal;
}

/** One turn of a live play, as it went. */
export interface LiveTurnResult {
  index: number;
  speaker: string;
  streamId: string;
  durationMs: number;
  /** Cut before its end (by a barge-in of the next turn, or by whatever ended the conversation). */
  interrupted: boolean;
  /**
   * The conversation ended while this turn ran and the registrar refused the engine's request to
   * end it (`reason`, e.g. `accessibility_override`: only the owner of an override covering the
   * turn may end it); the turn played to its end. `seq` is the refusal's attestation.
   */
  endRefused?: { reason: string | null; seq: number };
}

/** The result of `engine.play(conversation)`. */
export interface ConversationPlayResult {
  conversationId: string;
  /** Turns that started, in order. */
  turns: LiveTurnResult[];
  /** Turns that never started because the conversation ended first. */
  skippedTurns: number;
  /** The decision that ended the conversation early, or null when every turn played. */
  endedBy: ConversationEnd | null;
}

interface Running {
  plan: TurnPlan;
  streamId: Promise<string>;
  /** The turn's stream id once its start was allowed. */
  knownStreamId: string | undefined;
  /** Audio length of the turn once fully synthesized (ms). */
  synthesizedMs: Promise<number>;
  /** Audio synthesized so far (ms). */
  audioMs: number;
  /** The registrar's refusal of the engine's request to end this turn when the conversation ended. */
  endRefused: { reason: string | null; seq: number } | undefined;
  done: Promise<TurnPlayResult>;
  /** Ends a turn that is not playing yet (compiling, synthesizing, waiting for the device): the engine stops it, attested. */
  cancel: AbortController;
}

/** Waits for `promise` unless the conversation ends first (then resolves undefined). */
async function unlessEnded<T>(promise: Promise<T>, watch: TurnWatch): Promise<T | undefined> {
  if (watch.signal.aborted) return undefined;
  let onAbort!: () => void;
  const aborted = new Promise<undefined>((resolve) => (onAbort = () => resolve(undefined)));
  watch.signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    watch.signal.removeEventListener('abort', onAbort);
  }
}

async function pause(ms: number, watch: TurnWatch): Promise<void> {
  if (ms <= 0) return;
  await sleep(ms, undefined, { signal: watch.signal }).catch(() => undefined);
}

/** Interrupts every turn of this run still playing (the conversation ended). */
export function interruptPlaying(engine: ConversationEngine, watch: TurnWatch, reason: string): RegistrarResult[] {
  const results: RegistrarResult[] = [];
  for (const streamId of watch.streams().values()) {
    if (engine.registrar.getState(streamId)?.state !== 'playing') continue;
    results.push(engine.interrupt(streamId, { reason }));
  }
  return results;
}

/**
 * The conversation ended: each of its turns still running ends too, as the engine's actor asks. A
 * playing one is interrupted (it fades); one not playing yet is cancelled (the engine fails its
 * stream, attested; one still waiting for the device never gets a stream). A refusal (a user's
 * override over an agent's turns) is kept on the turn: it plays to its end.
 */
function endRunning(engine: ConversationEngine, running: readonly Running[]): void {
  for (const turn of running) {
    const state = turn.knownStreamId === undefined ? undefined : engine.registrar.getState(turn.knownStreamId)?.state;
    if (state === 'stopped' || state === 'failed' || state === 'interrupting') continue;
    if (state === 'playing') {
      const answer = engine.interrupt(turn.knownStreamId as string, { reason: 'the conversation ended' });
      if (!answer.allowed) turn.endRefused = { reason: answer.reason, seq: answer.attestation.seq };
    } else turn.cancel.abort(new AbortError('the conversation ended'));
  }
}

/** How a turn that started went, or null when it failed the conversation (a turn cancelled before its stream existed is left out: `skipped`). */
function turnResult(turn: Running, outcome: PromiseSettledResult<TurnPlayResult>, watch: TurnWatch): LiveTurnResult | 'skipped' | null {
  const { index, speaker } = turn.plan;
  if (outcome.status === 'fulfilled') {
    const { streamId, durationMs, interrupted } = outcome.value;
    return { index, speaker, streamId, durationMs, interrupted: interrupted === true, ...(turn.endRefused && interrupted !== true ? { endRefused: turn.endRefused } : {}) };
  }
  const error: unknown = outcome.reason;
  const streamId = turn.knownStreamId;
  if (turn.cancel.signal.aborted && error instanceof AbortError) {
    // Cancelled because the conversation ended: an interrupted turn when its stream existed.
    return streamId === undefined ? 'skipped' : { index, speaker, streamId, durationMs: 0, interrupted: true };
  }
  const refused = turn.cancel.signal.aborted && error instanceof RegistrarDeniedError;
  if (streamId === undefined || !(refused || (error instanceof AudioError && error.code === 'STREAM_FAILED'))) return null;
  // Someone else's decision (e.g. the user's own, under her override) cut the turn, after a refused cancel or not: it ended the conversation, it did not fail it.
  if (watch.endedByOthers(streamId)) return { index, speaker, streamId, durationMs: 0, interrupted: true };
  // The cancel was refused (the registrar said why, attested): the turn played to its end.
  if (refused) return { index, speaker, streamId, durationMs: turn.audioMs, interrupted: false, endRefused: { reason: error.reason, seq: error.seq } };
  return null;
}

/** Plays the planned turns live; see the module comment. */
export async function playTurns(engine: ConversationEngine, conversationId: string, plans: readonly TurnPlan[], watch: TurnWatch, options: ConversationPlayOptions): Promise<ConversationPlayResult> {
  const running: Running[] = [];
  const results: LiveTurnResult[] = [];
  let failure: unknown;
  const onCallerAbort = () => watch.end({ turn: -1, streamId: null, action: 'abort', actor: null, reason: 'aborted by the caller' });
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  // The caller's abort reaches each turn through its own signal (the engine stops it); any other end is ours to carry out.
  const onEnd = () => {
    if (!options.signal?.aborted) endRunning(engine, running);
  };
  watch.signal.addEventListener('abort', onEnd, { once: true });
  try {
    for (const plan of plans) {
      if (watch.ended || options.signal?.aborted) break;
      const previous = running.at(-1);
      const overlapping = previous !== undefined && (plan.overlapMs !== undefined || plan.bargeIn);
      if (previous && overlapping) {
        const overlapMs = plan.overlapMs ?? DEFAULT_BARGE_IN_OVERLAP_MS;
        const totalMs = await unlessEnded(Promise.race([previous.synthesizedMs, previous.done.then((result) => result.durationMs)]), watch);
        const streamId = await unlessEnded(previous.streamId, watch);
        const playingAt = streamId === undefined ? undefined : await unlessEnded(Promise.race([watch.playing(streamId), previous.done.then(() => performance.now())]), watch);
        if (totalMs !== undefined && playingAt !== undefined) await pause(playingAt + totalMs - overlapMs - performance.now(), watch);
      } else if (previous) {
        await unlessEnded(Promise.allSettled(running.map((turn) => turn.done)), watch);
        const streamId = await unlessEnded(previous.streamId, watch);
        const amplification = streamId === undefined ? 1 : (engine.registrar.overrideFor(streamId)?.pauseAmplification ?? 1);
        await pause(plan.gapMs * amplification, watch);
      } else {
        await pause(plan.gapMs, watch);
      }
      if (watch.ended || options.signal?.aborted) break;
      running.push(startTurn(engine, plan, previous, overlapping, watch, options));
    }
    const settled = await Promise.allSettled(running.map((turn) => turn.done));
    for (const [position, outcome] of settled.entries()) {
      const result = turnResult(running[position] as Running, outcome, watch);
      if (result === null) failure ??= (outcome as PromiseRejectedResult).reason;
      else if (result !== 'skipped') results.push(result);
    }
  } finally {
    options.signal?.removeEventListener('abort', onCallerAbort);
    watch.signal.removeEventListener('abort', onEnd);
  }
  if (options.signal?.aborted) throw new AbortError('the conversation was aborted', { cause: options.signal.reason });
  if (failure !== undefined) throw failure;
  return { conversationId, turns: results, skippedTurns: plans.length - results.length, endedBy: watch.ended };
}

function startTurn(engine: ConversationEngine, plan: TurnPlan, previous: Running | undefined, overlapping: boolean, watch: TurnWatch, options: ConversationPlayOptions): Running {
  let resolveStream!: (streamId: string) => void;
  let resolveSynthesized!: (ms: number) => void;
  const cancel = new AbortController();
  const turn: Running = {
    plan,
    streamId: new Promise<string>((resolve) => (resolveStream = resolve)),
    knownStreamId: undefined,
    synthesizedMs: new Promise<number>((resolve) => (resolveSynthesized = resolve)),
    audioMs: 0,
    endRefused: undefined,
    done: Promise.resolve({ streamId: '', durationMs: 0 }),
    cancel,
  };
  const turnOptions: LiveTurnOptions = {
    ...plan.options,
    ...(overlapping ? { policy: 'mix' as const } : options.policy ? { policy: options.policy } : {}),
    signal: options.signal ? AbortSignal.any([options.signal, cancel.signal]) : cancel.signal,
    onStreamStart: (id) => {
      turn.knownStreamId = id;
      watch.add(id, plan.index);
      resolveStream(id);
      if (previous && plan.bargeIn) void bargeIn(engine, watch, id, previous);
    },
    onProgress: (progress) => {
      turn.audioMs = progress.audioMs;
      if (progress.done >= progress.total) resolveSynthesized(progress.audioMs);
    },
  };
  turn.done = engine.play(plan.request, turnOptions);
  // A turn that fails ends the conversation (the others stop); play() rethrows its error.
  turn.done.catch(() => watch.end({ turn: plan.index, streamId: turn.knownStreamId ?? null, action: 'fail', actor: null, reason: 'the turn failed' }));
  return turn;
}

/** Once the barge-in turn is audible, the turn before is interrupted (its own cut, not the conversation's end). */
async function bargeIn(engine: ConversationEngine, watch: TurnWatch, streamId: string, previous: Running): Promise<void> {
  await unlessEnded(watch.playing(streamId), watch);
  const target = await previous.streamId;
  if (watch.ended || engine.registrar.getState(target)?.state !== 'playing') return;
  watch.bargeInto(target);
  // Refused (e.g. a user's override): the turn plays on, and a later interrupt of it is someone else's decision.
  if (!engine.interrupt(target, { reason: 'barge-in: the next turn cut in' }).allowed) watch.forgetBargeIn(target);
}
