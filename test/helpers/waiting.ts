/**
 * Waiting for events in tests without assuming speed: poll a condition until it holds, with a
 * timeout that is only a deadline against hanging (generous, for a busy 2-core machine).
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** The default deadline of `waitUntil`, in ms. */
export const WAIT_DEADLINE_MS = 30_000;

/** Resolves once `condition` holds; rejects naming `what` when it still does not after `deadlineMs`. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, deadlineMs: number = WAIT_DEADLINE_MS): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** One full turn of the event loop: every callback and rejection already queued has run. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Whether a process with this pid exists (a child that exited and was reaped no longer does). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A flag that turns true as soon as `promise` settles (either way); the promise is left as it is. */
export function settledFlag(promise: Promise<unknown>): { readonly settled: boolean } {
  const flag = { settled: false };
  const mark = (): void => {
    flag.settled = true;
  };
  promise.then(mark, mark);
  return flag;
}

/** What a watched async function saw: how many calls started, and this thread's event-loop turns while one ran. */
export interface CallWatch {
  started: number;
  turnsWhileRunning: number;
  /** Resolves when the next call starts. */
  nextStart(): Promise<void>;
}

/**
 * Wraps an async function to count its calls and, while one is running, the turns of this
 * thread's event loop (a chain of setImmediate callbacks): a call that blocks the thread sees none.
 */
export function watchCalls<A extends unknown[], R>(call: (...args: A) => Promise<R>): { watch: CallWatch; wrapped: (...args: A) => Promise<R> } {
  let onStart: (() => void) | undefined;
  const watch: CallWatch = { started: 0, turnsWhileRunning: 0, nextStart: () => new Promise<void>((resolve) => (onStart = resolve)) };
  const wrapped = (...args: A): Promise<R> => {
    let running = true;
    const turn = () => {
      if (!running) return;
      watch.turnsWhileRunning += 1;
      setImmediate(turn);
    };
    setImmediate(turn);
    const result = call(...args);
    watch.started += 1;
    onStart?.();
    const stop = () => {
      running = false;
    };
    result.then(stop, stop);
    return result;
  };
  return { watch, wrapped };
}
