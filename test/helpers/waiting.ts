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
