/**
 * Guards of a play's turn on a shared device (docs/ENGINE.md, "Scheduling"): who covers a play
 * (the owners of the accessibility overrides over its session or user, which the scheduler asks
 * before it ducks or preempts it), and the admission timeout that fails a play holding its turn
 * with no audio to play. Both only read the registrar or ask it as the runtime; nothing here
 * touches the device.
 */
import type { ActorHandle } from '../registrar/actor-handle.js';
import type { AudioRegistrar } from '../registrar/registrar.js';

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

/**
 * The admission timeout of one play: when it fires, `runtime` fails the stream `current()` names
 * (attested, reason naming `admissionTimeoutMs`), which ends the play and releases its turn. A
 * stream already ended, or a halted registrar, is left alone. While `playing()` says the device still
 * holds audio the stream wrote, the timeout starts over instead. The timer never keeps the process alive.
 */
export function idleWatch(registrar: AudioRegistrar, runtime: ActorHandle, timeoutMs: number, current: () => string | undefined, playing: () => boolean = () => false): IdleWatch {
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
    if (streamId === undefined || registrar.halted) return;
    const state = registrar.getState(streamId)?.state;
    if (state !== 'idle' && state !== 'compiling' && state !== 'synthesizing' && state !== 'playing') return;
    registrar.request({ action: 'fail', actor: runtime, target: streamId, reason: `no audio to play for ${timeoutMs} ms (admissionTimeoutMs): the stream gives up its turn on the device` });
  };
  return {
    arm,
    disarm: () => clearTimeout(timer),
  };
}
