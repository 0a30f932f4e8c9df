/**
 * The program of a plugin's sandbox process, and the frames it exchanges with the host.
 *
 * One process per sandboxed plugin holds the plugin's isolated-vm isolate. It is shipped as source
 * text (run with `node -e`, CommonJS, no imports but Node's and isolated-vm's), so it runs the same
 * from the built package and from TypeScript sources under a test runner. It starts with an empty
 * environment and no inherited Node options.
 *
 * It is entirely synchronous: it reads one frame from stdin (blocking), answers on stdout, and
 * reads the next. A frame is a 4-byte little-endian length and a v8-serialized message. A hook's
 * `request()` writes a `request` frame and blocks on stdin for the host's `answer`. Nothing here
 * ever waits on an event loop, so the host's watchdog (sandbox-process.ts) can always end the
 * process with SIGKILL, whatever plugin code is running and whichever thread runs it: the one
 * guarantee isolated-vm cannot give in-process (it copies a value thrown at load, or a rejection a
 * hook left unhandled, outside its CPU limit, running the value's getters).
 *
 * A helper thread ends the process when its parent is gone (an orphan never spins on), and stdin's
 * end (the host closed it) ends it too.
 */
import { BOOTSTRAP } from './sandbox-bootstrap.js';

/** What the sandbox answers to a `boot` or a `call`: a plain value, or why there is none. */
export type SandboxOutcome =
  | { ok: true; value: unknown }
  | { ok: false; kind: 'async' | 'invalid' | 'threw' | 'timeout' | 'memory' | 'blocked'; message: string };

/** Frames the host sends. */
export type HostFrame =
  | { t: 'boot'; source: string; filename: string; maxMemoryMb: number; maxCpuMs: number }
  | { t: 'call'; name: string; args: unknown[] }
  | { t: 'answer'; ok: true; value: unknown }
  | { t: 'answer'; ok: false; message: string };

/** Frames the sandbox sends. */
export type SandboxFrame = { t: 'hello' } | { t: 'result'; outcome: SandboxOutcome } | { t: 'request'; input: unknown };

/** The message isolated-vm's timeout error carries. */
export const TIMED_OUT = 'Script execution timed out.';

/** How often the orphan check runs in the sandbox (ms). */
const ORPHAN_CHECK_MS = 500;

/** The sandbox program (see the file comment). `process.argv[1]` is the path of isolated-vm's entry. */
export const SANDBOX_CHILD_SOURCE = `'use strict';
const fs = require('node:fs');
const v8 = require('node:v8');
const { Worker } = require('node:worker_threads');
const ivm = require(process.argv[1]);
const BOOTSTRAP = ${JSON.stringify(BOOTSTRAP)};
const TIMED_OUT = ${JSON.stringify(TIMED_OUT)};

new Worker("const { workerData } = require('node:worker_threads'); setInterval(() => { if (process.ppid !== workerData) process.kill(process.pid, 'SIGKILL'); }, ${ORPHAN_CHECK_MS});", { eval: true, workerData: process.ppid }).unref();

const pause = new Int32Array(new SharedArrayBuffer(4));
function readExactly(buffer) {
  let filled = 0;
  while (filled < buffer.length) {
    let count;
    try {
      count = fs.readSync(0, buffer, filled, buffer.length - filled, null);
    } catch (error) {
      if (error.code === 'EAGAIN') { Atomics.wait(pause, 0, 0, 1); continue; }
      process.exit(0);
    }
    if (count === 0) process.exit(0);
    filled += count;
  }
}
function receive() {
  const head = Buffer.alloc(4);
  readExactly(head);
  const body = Buffer.allocUnsafe(head.readUInt32LE(0));
  readExactly(body);
  return v8.deserialize(body);
}
function send(message) {
  // The process's CPU time so far, on every frame: the host's watchdog counts a call's CPU from it.
  const usage = process.cpuUsage();
  message.cpuUs = usage.user + usage.system;
  const body = v8.serialize(message);
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32LE(body.length, 0);
  body.copy(frame, 4);
  let written = 0;
  while (written < frame.length) {
    try {
      written += fs.writeSync(1, frame, written, frame.length - written);
    } catch (error) {
      if (error.code === 'EAGAIN') { Atomics.wait(pause, 0, 0, 1); continue; }
      process.exit(0);
    }
  }
}

let plugin = null;
let isolate = null;
let invoke = null;
let inCall = false;

// request() from the isolate: asks the host and blocks until it answers (only during a call).
function hostRequest(input) {
  if (!inCall) throw new Error('request() outside a hook call');
  send({ t: 'request', input });
  for (;;) {
    const frame = receive();
    if (frame.t !== 'answer') continue;
    if (frame.ok) return frame.value;
    throw new Error(frame.message);
  }
}

function classify(error) {
  // A host-side copy made by isolated-vm: reading it runs no plugin code.
  const message = String(error instanceof Error ? error.message : error).slice(0, 2000);
  if (isolate !== null && isolate.isDisposed) return { ok: false, kind: 'memory', message };
  if (message === TIMED_OUT) return { ok: false, kind: 'timeout', message };
  return { ok: false, kind: 'threw', message };
}

function boot() {
  isolate = new ivm.Isolate({ memoryLimit: plugin.maxMemoryMb });
  invoke = null;
  const timeout = Math.max(plugin.maxCpuMs, 500);
  let blocked = null;
  try {
    const context = isolate.createContextSync();
    const bootstrap = context.evalSync(BOOTSTRAP, { reference: true, timeout });
    const request = new ivm.Callback(hostRequest);
    const makeInvoker = bootstrap.applySync(undefined, [request], { result: { reference: true } });
    const module = isolate.compileModuleSync(plugin.source, { filename: plugin.filename });
    module.instantiateSync(context, (specifier) => {
      blocked = String(specifier);
      throw new Error('imports are blocked');
    });
    module.evaluateSync({ timeout });
    invoke = makeInvoker.applySync(undefined, [module.namespace.derefInto()], { result: { reference: true } });
    return null;
  } catch (error) {
    const failure = blocked !== null ? { ok: false, kind: 'blocked', message: blocked } : classify(error);
    if (!isolate.isDisposed) isolate.dispose();
    return failure;
  }
}

function call(name, args) {
  // An isolate killed at its memory limit is replaced (its state is gone, its code is not).
  if (isolate === null || isolate.isDisposed || invoke === null) {
    const failure = boot();
    if (failure !== null) return failure;
  }
  inCall = true;
  try {
    return invoke.applySync(undefined, [name, args], { arguments: { copy: true }, result: { copy: true }, timeout: plugin.maxCpuMs });
  } catch (error) {
    return classify(error);
  } finally {
    inCall = false;
  }
}

send({ t: 'hello' });
for (;;) {
  const frame = receive();
  if (frame.t === 'boot') {
    plugin = frame;
    const failure = boot();
    send({ t: 'result', outcome: failure !== null ? failure : call('', []) });
  } else if (frame.t === 'call') {
    send({ t: 'result', outcome: plugin === null ? { ok: false, kind: 'threw', message: 'not booted' } : call(frame.name, frame.args) });
  }
}
`;
