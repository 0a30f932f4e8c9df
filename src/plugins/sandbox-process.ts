/**
 * The host side of a plugin's sandbox process (sandbox-child.ts), and its watchdog.
 *
 * A small relay thread (a worker, RELAY_SOURCE) spawns the process and moves frames between it and
 * this thread: the relay has an event loop to read the process's stdout while this thread is
 * blocked. A hook call is synchronous, so the engine's hook API stays synchronous: `call` posts the
 * frame, then waits on a shared word the relay bumps after each frame (Atomics.wait) and takes the
 * frames with receiveMessageOnPort. The wait has a deadline; when it passes, this thread itself
 * ends the process with SIGKILL (a syscall: it needs no other thread's help) and the call returns
 * `killed` — unless the process is starved rather than spinning: where /proc tells the process's
 * CPU time (Linux), a process that used less than the call's CPU budget since its last frame (each
 * frame carries its CPU time) is waited for a little longer, up to a hard cap of wall time, so a
 * busy machine does not get a well-behaved plugin killed. Time this thread spends answering the
 * plugin's `request()` is not counted against it.
 * Starting (and restarting) a process is asynchronous and never holds the event loop.
 *
 * Every process has a generation: frames and exits of an earlier one (killed) are dropped.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { deserialize, serialize } from 'node:v8';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { SANDBOX_CHILD_SOURCE, type HostFrame, type SandboxFrame, type SandboxOutcome } from './sandbox-child.js';

/** Most time a sandbox process may take to start (Node and isolated-vm loading) before it says hello. */
const START_DEADLINE_MS = 30_000;

/** How often a starved call's CPU is looked at again after its deadline passed. */
const RECHECK_MS = 50;
/** The hard cap of a call's wall time, however starved: at least this, and at least HARD_CAP_FACTOR deadlines. */
const HARD_CAP_MIN_MS = 1500;
const HARD_CAP_FACTOR = 6;
/** Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on Linux's architectures). */
const USER_HZ = 100;

/** The text of `/proc/<pid>/<file>`, or undefined where it cannot be read (not Linux, the process gone). */
function procFile(pid: number, file: 'stat' | 'status'): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'latin1');
  } catch {
    return undefined;
  }
}

/** The CPU time (µs) /proc says process `pid` has used, or undefined where it cannot tell (not Linux, gone). */
export function procCpuUs(pid: number): number | undefined {
  const text = procFile(pid, 'stat');
  if (text === undefined) return undefined;
  // Fields after the command name (which may hold spaces and parentheses): state is the first, utime the 12th, stime the 13th.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? ((utime + stime) * 1_000_000) / USER_HZ : undefined;
}

/** The resident memory (MB) /proc says process `pid` holds, or undefined where it cannot tell (not Linux, gone). */
export function procRssMb(pid: number): number | undefined {
  const text = procFile(pid, 'status');
  if (text === undefined) return undefined;
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(text)?.[1]);
  return Number.isFinite(kb) ? kb / 1024 : undefined;
}

/** A call's limits: the wall deadline after which the watchdog looks, and the CPU the call may use. */
export interface CallLimits {
  deadlineMs: number;
  cpuBudgetMs: number;
}

/** Atomics.waitAsync (Node 16+; not yet in TypeScript's ES2022 library). */
const waitAsync = (Atomics as unknown as { waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): { value: Promise<string> | string } }).waitAsync;

/** What one exchange with the sandbox ended with. */
export type SandboxExchange = { t: 'result'; outcome: SandboxOutcome } | { t: 'killed' } | { t: 'exited'; detail: string };

/** What the relay posts to this thread. */
type Delivery =
  | { gen: number; t: 'spawned'; pid: number }
  | { gen: number; t: 'frame'; frame: Uint8Array }
  | { gen: number; t: 'exit'; code: number | null; signal: string | null }
  | { gen: number; t: 'error'; message: string };

/** What the relay starts with. */
interface RelayData {
  port: MessagePort;
  signal: Int32Array;
  execPath: string;
  args: string[];
}

/**
 * The relay thread's program (plain CommonJS, shipped as source like the sandbox's): spawns the
 * sandbox process on `spawn`, writes `frame`s to its stdin, cuts its stdout into frames and posts
 * each (and its exit) to the host, bumping the shared word after each post.
 */
const RELAY_SOURCE = `'use strict';
const { workerData } = require('node:worker_threads');
const { spawn } = require('node:child_process');
const { port, signal, execPath, args } = workerData;
let child = null;
let current = 0;
function deliver(message, transfer) {
  port.postMessage(message, transfer);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}
function start(gen) {
  if (child !== null) child.kill('SIGKILL');
  current = gen;
  const process = spawn(execPath, args, { stdio: ['pipe', 'pipe', 'ignore'], env: {}, windowsHide: true });
  child = process;
  process.on('error', (error) => deliver({ gen, t: 'error', message: String(error && error.message) }));
  if (process.pid !== undefined) deliver({ gen, t: 'spawned', pid: process.pid });
  const chunks = [];
  let length = 0;
  process.stdout.on('data', (chunk) => {
    chunks.push(chunk);
    length += chunk.length;
    for (;;) {
      if (length < 4) return;
      if (chunks[0].length < 4) { const merged = Buffer.concat(chunks, length); chunks.length = 0; chunks.push(merged); }
      const size = chunks[0].readUInt32LE(0);
      if (length < 4 + size) return;
      const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length);
      const frame = new Uint8Array(size);
      frame.set(all.subarray(4, 4 + size));
      const rest = all.subarray(4 + size);
      chunks.length = 0;
      length = rest.length;
      if (length > 0) chunks.push(rest);
      deliver({ gen, t: 'frame', frame }, [frame.buffer]);
    }
  });
  process.stdin.on('error', () => undefined);
  process.on('exit', (code, signal) => deliver({ gen, t: 'exit', code, signal }));
}
port.on('message', (message) => {
  if (message.t === 'close') {
    // Ends the process and waits for it (so it is reaped, not left a zombie), then ends this thread.
    port.close();
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    child.removeAllListeners('exit');
    child.on('exit', () => undefined);
    child.kill('SIGKILL');
  } else if (message.t === 'spawn') start(message.gen);
  else if (message.t === 'kill') { if (child !== null && message.gen === current) child.kill('SIGKILL'); }
  else if (message.t === 'frame' && child !== null && message.gen === current) child.stdin.write(message.frame);
});
`;

/** One plugin's sandbox process, its relay thread and its watchdog. */
export class SandboxProcess {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #signal: Int32Array;
  #gen = 0;
  #pid: number | undefined;
  /** The process's CPU time (µs) as its latest frame reported it. */
  #reportedCpuUs = 0;
  #exited: string | undefined;
  #closed = false;

  /** Starts the relay thread (no process yet: `start` spawns one). */
  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.#signal = new Int32Array(new SharedArrayBuffer(4));
    const ivmPath = createRequire(import.meta.url).resolve('isolated-vm');
    const data: RelayData = { port: port2, signal: this.#signal, execPath: process.execPath, args: ['-e', SANDBOX_CHILD_SOURCE, ivmPath] };
    this.#worker = new Worker(RELAY_SOURCE, { eval: true, workerData: data, transferList: [port2], execArgv: [], name: 'plugin-sandbox-relay' });
    this.#worker.unref();
    this.#port.unref();
    // A relay that dies takes its process's pipes with it: the next exchange reports the exit.
    this.#worker.on('error', () => this.#markExited('its relay thread failed'));
  }

  /** The process id of the current (or last) sandbox process, once spawned. */
  get pid(): number | undefined {
    return this.#pid;
  }

  /**
   * Spawns a fresh process (ending the previous one) and boots the plugin in it: resolves with the
   * boot's outcome, `killed` when it took longer than `bootDeadlineMs` after the process started,
   * or `exited`. Never holds the event loop.
   */
  async start(boot: Extract<HostFrame, { t: 'boot' }>, bootDeadlineMs: number): Promise<SandboxExchange> {
    if (this.#closed) return { t: 'exited', detail: 'the sandbox was closed' };
    this.#gen += 1;
    this.#pid = undefined;
    this.#reportedCpuUs = 0;
    this.#exited = undefined;
    this.#port.postMessage({ t: 'spawn', gen: this.#gen });
    // Atomics.waitAsync does not keep the event loop alive: the relay does, while a start waits.
    this.#worker.ref();
    try {
      return await this.#started(boot, bootDeadlineMs);
    } finally {
      this.#worker.unref();
    }
  }

  async #started(boot: Extract<HostFrame, { t: 'boot' }>, bootDeadlineMs: number): Promise<SandboxExchange> {
    let deadline = performance.now() + START_DEADLINE_MS;
    let started = false;
    for (;;) {
      const got = this.#next(deadline);
      if (got.t === 'wait') await waitAsync(this.#signal, 0, got.seen, got.remainingMs).value;
      else if (got.t === 'due' && !started) {
        this.#killed();
        return { t: 'exited', detail: `did not start within ${START_DEADLINE_MS} ms` };
      } else if (got.t === 'due') return this.#killed();
      else if (got.t === 'hello') {
        started = true;
        this.#post(boot);
        deadline = performance.now() + bootDeadlineMs;
      } else if (got.t === 'request') {
        this.#post({ t: 'answer', ok: false, message: 'request() outside a hook call' });
      } else {
        return got;
      }
    }
  }

  /**
   * Sends `frame` and waits (blocking this thread) for its result, answering the plugin's requests
   * with `answer` meanwhile. After `limits.deadlineMs` of waiting (time spent in `answer` excluded)
   * the process is ended with SIGKILL and the result is `killed`, unless it is starved (see the
   * module comment): then it is looked at again every RECHECK_MS until the hard cap.
   */
  call(frame: HostFrame, limits: CallLimits, answer: (input: unknown) => HostFrame): SandboxExchange {
    if (this.#exited !== undefined) return { t: 'exited', detail: this.#exited };
    this.#post(frame);
    let deadline = performance.now() + limits.deadlineMs;
    let cap = performance.now() + Math.max(HARD_CAP_MIN_MS, HARD_CAP_FACTOR * limits.deadlineMs);
    for (;;) {
      const got = this.#next(deadline);
      if (got.t === 'wait') Atomics.wait(this.#signal, 0, got.seen, got.remainingMs);
      else if (got.t === 'due') {
        if (performance.now() >= cap || !this.#starved(limits.cpuBudgetMs)) return this.#killed();
        deadline = Math.min(cap, performance.now() + RECHECK_MS);
      } else if (got.t === 'request') {
        const started = performance.now();
        this.#post(answer(got.input));
        const answering = performance.now() - started;
        deadline += answering;
        cap += answering;
      } else if (got.t !== 'hello') {
        return got;
      }
    }
  }

  /** The resident memory (MB) of the current process, where the host can read it (Linux `/proc`). */
  residentMb(): number | undefined {
    return this.#pid === undefined || this.#exited !== undefined ? undefined : procRssMb(this.#pid);
  }

  /** Ends the current process with SIGKILL (the next `start` spawns a fresh one). */
  end(detail: string): void {
    this.#kill();
    this.#markExited(detail);
  }

  /** Ends the process and the relay thread (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#kill();
    this.#markExited('the sandbox was closed');
    // Wakes a `start` still waiting, which then sees the exit.
    Atomics.add(this.#signal, 0, 1);
    Atomics.notify(this.#signal, 0);
    // The relay reaps the process, then closes the channel and ends.
    this.#port.postMessage({ t: 'close' });
  }

  /**
   * The next frame of the current process, or the end of the exchange (`exited`), `due` once
   * `deadline` passed, or what to wait on for more (the shared word's value seen before looking).
   */
  #next(deadline: number): SandboxFrame | SandboxExchange | { t: 'due' } | { t: 'wait'; seen: number; remainingMs: number } {
    const seen = Atomics.load(this.#signal, 0);
    const got = this.#take();
    if (got !== undefined) return got;
    const remainingMs = deadline - performance.now();
    return remainingMs <= 0 ? { t: 'due' } : { t: 'wait', seen, remainingMs };
  }

  /** Whether the process used less than `budgetMs` of CPU since its latest frame (false where /proc cannot tell). */
  #starved(budgetMs: number): boolean {
    const now = this.#pid === undefined ? undefined : procCpuUs(this.#pid);
    return now !== undefined && now - this.#reportedCpuUs < budgetMs * 1000;
  }

  /** The next frame (or exchange end) of the current process, or undefined when none is waiting. */
  #take(): SandboxFrame | SandboxExchange | undefined {
    for (;;) {
      if (this.#exited !== undefined) return { t: 'exited', detail: this.#exited };
      const received = receiveMessageOnPort(this.#port);
      if (received === undefined) return undefined;
      const delivery = received.message as Delivery;
      if (delivery.gen !== this.#gen) continue;
      if (delivery.t === 'spawned') this.#pid = delivery.pid;
      else if (delivery.t === 'frame') {
        const frame = deserialize(delivery.frame) as SandboxFrame & { cpuUs?: unknown };
        if (typeof frame.cpuUs === 'number') this.#reportedCpuUs = frame.cpuUs;
        return frame;
      }
      else if (delivery.t === 'error') this.#markExited(`could not start: ${delivery.message}`);
      else this.#markExited(`exited (${delivery.signal ?? `code ${delivery.code}`})`);
    }
  }

  #post(frame: HostFrame): void {
    const body = serialize(frame);
    const bytes = new Uint8Array(4 + body.length);
    new DataView(bytes.buffer).setUint32(0, body.length, true);
    bytes.set(body, 4);
    this.#port.postMessage({ t: 'frame', gen: this.#gen, frame: bytes }, [bytes.buffer]);
  }

  #killed(): SandboxExchange {
    this.#kill();
    this.#markExited('ended by the watchdog');
    return { t: 'killed' };
  }

  #kill(): void {
    if (this.#pid !== undefined && this.#exited === undefined) {
      try {
        process.kill(this.#pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    // And through the relay, for a process whose pid has not arrived yet.
    this.#port.postMessage({ t: 'kill', gen: this.#gen });
  }

  #markExited(detail: string): void {
    this.#exited ??= detail;
  }
}
