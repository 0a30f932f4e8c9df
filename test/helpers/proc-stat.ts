/**
 * A process as Linux /proc/<pid>/stat shows it, for tests that check a process is gone, stopped
 * or spinning: its state letter, whether it still runs, and the CPU time it has used. A process
 * that is gone reads as '' / false / 0.
 */
import { readFileSync } from 'node:fs';

/** The fields of /proc/<pid>/stat after the command name (the state first), [] when the process is gone. */
function statFields(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  } catch {
    return [];
  }
}

/** The state letter /proc gives a process (R running, S sleeping, T stopped, Z zombie), '' when it is gone. */
export function processState(pid: number): string {
  return statFields(pid)[0]?.[0] ?? '';
}

/** Whether `pid` is a live process (not gone, not a zombie nobody reaped yet: this machine's init may not reap). */
export function running(pid: number): boolean {
  const state = processState(pid);
  return state !== '' && state !== 'Z' && state !== 'X';
}

/** User plus system CPU ticks a process has used, 0 when it is gone. */
export function cpuTicks(pid: number): number {
  const fields = statFields(pid);
  return fields.length > 12 ? Number(fields[11]) + Number(fields[12]) : 0;
}
