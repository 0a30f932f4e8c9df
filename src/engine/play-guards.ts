/**
 * Guards of a play's turn on a shared device (docs/ENGINE.md, "Scheduling"): who covers a play
 * (the owners of the accessibility overrides over its session or user, which the scheduler asks
 * before it ducks or preempts it), the admission timeout that fails a play holding its turn
 * with no audio to play, the caller's abort as the owner's request to end the stream, and the
 * error a play ends with (shared by play() and speakToFile({ play: true })); and, by the same
 * timeout, the end of a `speakToFile()` whose encoder stalls. They only read the registrar or ask
 * it (as the runtime, or as the owner for an abort); nothing here touches the device.
 */
import { AbortError, AudioError } from '../errors.js';
import type { ActorHandle } from '../registrar/actor-handle.js';
import { RegistrarDeniedError, RegistrarHaltedError } from '../registrar/errors.js';
import type { AudioRegistrar } from '../registrar/registrar.js';
import type { StreamState } from '../registrar/core.js';
import type { RegistrarResult } from '../registrar/types.js';
import { streamFailed, type Utterance } from './utterance.js';

/** Owners (actor keys) of the accessibility overrides covering a stream of `sessionId` / `userId`. */
export function coveringOwners(registrar: AudioRegistrar, sessionId: string | null, userId: string | null): string[] {
  return registrar
    .listOverrides()
    .filter((override) => (override.scope === 'session' && override.scopeId === sessionId) || (override.scope === 'user' && override.scopeId === userId))
    .map((override) => override.owner);
}

/** An admission timeout: armed while a play waits for its next chunk. */
export interface IdleWatch {
  /** (Re)starts the timeout. */
  arm(): void;
  /** Stops it. */
  disarm(): void;
}

/** States of a stream the runtime may still fail (it has not ended and is not being interrupted). */
const FAILABLE_STATES: ReadonlySet<string> = new Set(['idle', 'compiling', 'synthesizing', 'playing']);

/** Whether the runtime may still fail `streamId`: it exists in a failable state and the registrar is not halted. */
function runtimeMayFail(registrar: AudioRegistrar, streamId: string | undefined): streamId is string {
  if (streamId === undefined || registrar.halted) return false;
  const state = registrar.getState(streamId)?.state;
  return state !== undefined && FAILABLE_STATES.has(state);
}

/**
 * The admission timeout of one play: when it fires, `runtime` fails the stream `current()` names
 * (attested, reason naming `admissionTimeoutMs`), which ends the play and releases its turn. A
 * stream already ended, or a halted registrar, is left alone. While `playing()` says the device still
 * holds audio the stream wrote, the timeout starts over instead. `gaveUp` is told once the fail was
 * allowed (a play waiting on a backend that ignores its abort stops waiting). The timer never
 * keeps the process alive.
 */
export function idleWatch(registrar: AudioRegistrar, runtime: ActorHandle, timeoutMs: number, current: () => string | undefined, playing: () => boolean = () => false, gaveUp: () => void = () => undefined): IdleWatch {
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(fire, timeoutMs);
    timer.unref();
  };
  const fire = (): void => {
    // The device still plays what the stream wrote (a long sentence, the tail being drained): not idle.
    if (playing()) return arm();
    const streamId = current();
    if (!runtimeMayFail(registrar, streamId)) return;
    const result = registrar.request({ action: 'fail', actor: runtime, target: streamId, reason: `no audio to play for ${timeoutMs} ms (admissionTimeoutMs): the stream gives up its turn on the device` });
    if (result.allowed) gaveUp();
  };
  return {
    arm,
    disarm: () => clearTimeout(timer),
  };
}

/**
 * The error a `speakToFile()` whose encoder stalled for `timeoutMs` ends with (its writer killed
 * the encoder: speech-file.ts). As the admission timeout fails a stalled play, the runtime fails
 * the stream (attested, reason naming `admissionTimeoutMs`) and the call rejects `STREAM_FAILED`;
 * a stream not started or already ended, or a halted registrar, gets AudioError `ENCODER_STALLED`.
 */
export function encoderStalled(utterance: Utterance | undefined, registrar: AudioRegistrar, timeoutMs: number): Error {
  return runtimeGivesUp(utterance, registrar, `the encoder took no audio and put out nothing for ${timeoutMs} ms (admissionTimeoutMs): it was stopped`, 'ENCODER_STALLED');
}

/**
 * The runtime gives up a stalled stream: it fails it for `reason` (attested) and returns the
 * call's STREAM_FAILED error; a stream not started or already ended, or a halted registrar, gets
 * AudioError `code` with the reason instead.
 */
export function runtimeGivesUp(utterance: Utterance | undefined, registrar: AudioRegistrar, reason: string, code: string): Error {
  if (utterance && runtimeMayFail(registrar, utterance.lifecycle.streamId)) {
    utterance.lifecycle.fail(reason);
    if (utterance.endedBy?.action === 'fail') return streamFailed(utterance);
  }
  return new AudioError(code, reason);
}

/** The caller's abort of a play once its stream exists: the owner's request to end it, which the registrar decides. */
export interface CallerAbort {
  /** The caller aborted while the stream existed (set once). */
  requested: boolean;
  /** The registrar's refusal to end the stream (e.g. a user's accessibility override), or null. */
  denial: RegistrarResult | null;
  /** The signal's abort listener: `owner` asks to stop a playing stream, or to fail one not playing yet. */
  onAbort(): void;
}

/**
 * The caller's abort of the play whose stream `current()` names (nothing before it exists). A
 * stream already ending or ended is left alone; a denied request is kept in `denial` (the speech
 * then plays to its end).
 */
export function callerAbort(registrar: AudioRegistrar, owner: ActorHandle, current: () => string | undefined): CallerAbort {
  const abort: CallerAbort = {
    requested: false,
    denial: null,
    onAbort: () => {
      const streamId = current();
      if (abort.requested || streamId === undefined) return;
      abort.requested = true;
      const result = ownerEnds(registrar, owner, streamId, 'aborted by the caller');
      if (result && !result.allowed) abort.denial = result;
    },
  };
  return abort;
}

/**
 * The owner's request to end `streamId` (stop while it plays, fail before), which the registrar
 * decides (a user's accessibility override refuses an agent); null when the stream already ended
 * or is ending. What a caller's abort, or the failure of a file a play also writes, asks.
 */
export function ownerEnds(registrar: AudioRegistrar, owner: ActorHandle, streamId: string, reason: string): RegistrarResult | null {
  const state = registrar.getState(streamId)?.state;
  // A stream not compiling yet is left to its run, which the same abort ends.
  const action = state === 'idle' ? null : endingAction(state);
  return action === null ? null : registrar.request({ action, actor: owner, target: streamId, reason });
}

/** How a stream in `state` is ended: `stop` while it plays (or fades), `fail` before its audio; null once it ended. */
export function endingAction(state: StreamState | undefined): 'stop' | 'fail' | null {
  if (state === 'playing' || state === 'interrupting') return 'stop';
  if (state === 'compiling' || state === 'synthesizing' || state === 'idle') return 'fail';
  return null;
}

/**
 * The AbortError a play ends with when the caller aborted it and the registrar ended the stream
 * (`face` names the call, e.g. `play()`); null when there was no such abort, or the registrar
 * halted meanwhile (the halt is the error then).
 */
export function callerAbortError(abort: CallerAbort, halted: boolean, signal: AbortSignal | undefined, face: string): AbortError | null {
  return abort.requested && abort.denial === null && !halted ? new AbortError(`${face} was aborted by its signal`, { cause: signal?.reason }) : null;
}

/**
 * The error a play on the device ends with once its feed stopped, or null when it ended well (its
 * end, or an interrupt): a halt, the caller's allowed abort, the registrar's refusal of that abort
 * (the speech played to its end), someone else's fail, in that order.
 */
export function playEndError(utterance: Utterance, abort: CallerAbort, registrar: AudioRegistrar, signal: AbortSignal | undefined, face: string): Error | null {
  if (utterance.halted) return haltedError(registrar);
  const aborted = callerAbortError(abort, false, signal, face);
  if (aborted) return aborted;
  if (abort.denial) return abortRefusedError(abort.denial, face, endedOtherwise(utterance) ?? 'it played to its end');
  if (utterance.endedBy?.action === 'fail') return streamFailed(utterance);
  return null;
}

/** How a stream whose caller's abort was refused ended all the same (someone else's decision, e.g. the user's own interrupt), or null when nothing ended it early. */
export function endedOtherwise(utterance: Utterance): string | null {
  const by = utterance.endedBy;
  return by ? `then ${by.action === 'interrupt' ? 'an interrupt' : `a ${by.action}`} by ${by.actor ?? 'the registrar'} ended it` : null;
}

/** The error a call ends with when the registrar refused the owner's end its caller's abort asked for (`denial`); `outcome` says what the stream did instead. */
export function abortRefusedError(denial: RegistrarResult, face: string, outcome: string): RegistrarDeniedError {
  const { reason, message, attestation } = denial;
  return new RegistrarDeniedError(`${face} was aborted, but the registrar refused to end the stream (${reason ?? 'denied'}: ${message}); ${outcome}`, { reason, seq: attestation.seq });
}

/** The error a stream's run ends with once the registrar halted (fail-closed: nothing more is requested; the HALT record says why). */
export function haltedError(registrar: AudioRegistrar, cause?: unknown): RegistrarHaltedError {
  return new RegistrarHaltedError(`the registrar halted (${registrar.haltCause?.cause ?? 'unknown cause'}): the stream was stopped (fail-closed)`, cause === undefined ? undefined : { cause });
}
