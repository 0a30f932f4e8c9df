/**
 * The sandbox: each untrusted plugin runs in a V8 isolate (isolated-vm) with no Node APIs (no
 * `process`, `require`, `fetch`, timers or modules), a heap limit (`maxMemoryMb`) and a CPU limit
 * per call (`maxCpuMs`), and that isolate lives in a process of its own (sandbox-child.ts) under a
 * host watchdog (sandbox-process.ts) that the plugin cannot defeat: a call that has not answered
 * `maxCpuMs + WATCHDOG_GRACE_MS` after it was sent ends the process with SIGKILL, whatever plugin
 * code is running (a getter isolated-vm runs while copying a value thrown at load or a rejection
 * left unhandled, a FinalizationRegistry callback...). The hook is then a PLUGIN_CPU_LIMIT fault
 * and a fresh process boots from the same source in the background; calls meanwhile are skipped
 * (PLUGIN_RESTARTING, not counted). Hook calls stay synchronous for the engine.
 *
 * The plugin file is read on the host and compiled as a module in the isolate; it may import
 * nothing (PLUGIN_IMPORT_BLOCKED). Only copies cross: arguments are copied in and deep-frozen
 * there; results are rebuilt as bounded plain data inside the call (sandbox-bootstrap.ts).
 * `request()` works only during a call, MAX_REQUESTS_PER_CALL times. An isolate killed at its
 * memory limit is replaced on the next call, in the same process.
 */
import { PluginError, type PluginErrorCode } from './errors.js';
import type { SandboxLimits } from './manifest.js';
import { messageOf, type PluginExports, type PluginRuntime, type RequestBridge } from './runtime.js';
import { MAX_REQUESTS_PER_CALL } from './sandbox-bootstrap.js';
import type { HostFrame, SandboxOutcome } from './sandbox-child.js';
import { SandboxProcess, type SandboxExchange } from './sandbox-process.js';

export { MAX_REQUEST_CHARS, MAX_REQUESTS_PER_CALL } from './sandbox-bootstrap.js';

/**
 * What the watchdog adds to a hook's `maxCpuMs` before it ends the sandbox process: the trip to
 * the process and back, on a busy machine. A call's deadline (the most it holds the host's event
 * loop, besides the host's own work answering `request()`) is `maxCpuMs + WATCHDOG_GRACE_MS`.
 */
export const WATCHDOG_GRACE_MS = 200;

/**
 * The most resident memory a sandbox process may hold after a call: the Node process itself, the
 * isolate's heap and the copies of a result on its way out, with room to spare. Memory the heap
 * limit does not count (a resizable ArrayBuffer grown, a WebAssembly memory) counts here: past it
 * the process is ended (PLUGIN_MEMORY_LIMIT) and restarted.
 */
export function sandboxMemoryBoundMb(limits: Required<SandboxLimits>): number {
  return 4 * limits.maxMemoryMb + 256;
}
/** A call shorter than this (ms) is checked at most every MEMORY_CHECK_MS: it had little time to touch memory. */
const SHORT_CALL_MS = 5;
const MEMORY_CHECK_MS = 50;

/** The deadline of loading (booting the isolate, evaluating the module, reading its manifest), after the process started. */
function bootDeadlineMs(limits: Required<SandboxLimits>): number {
  return 3 * Math.max(limits.maxCpuMs, 500) + WATCHDOG_GRACE_MS;
}

/** A plugin running in its own V8 isolate, in its own process. Create with `IsolateRuntime.start()`. */
export class IsolateRuntime implements PluginRuntime {
  readonly mode = 'isolate' as const;
  readonly exports: PluginExports;
  readonly #name: () => string;
  readonly #boot: Extract<HostFrame, { t: 'boot' }>;
  readonly #limits: Required<SandboxLimits>;
  readonly #bridge: RequestBridge;
  readonly #sandbox: SandboxProcess;
  /** The host error the bridge threw during the current call (kept so its code survives the isolate). */
  #bridgeError: PluginError | undefined;
  #disposed = false;
  /** Set while a fresh process boots after a kill. */
  #restarting: Promise<void> | undefined;
  /** Why the plugin cannot run any more (its restart failed). */
  #broken: string | undefined;
  #requests = 0;
  /** When the sandbox process's memory was last looked at (performance.now()). */
  #memoryCheckedAt = 0;

  private constructor(name: () => string, boot: Extract<HostFrame, { t: 'boot' }>, limits: Required<SandboxLimits>, bridge: RequestBridge, sandbox: SandboxProcess, exports: PluginExports) {
    this.#name = name;
    this.#boot = boot;
    this.#limits = limits;
    this.#bridge = bridge;
    this.#sandbox = sandbox;
    this.exports = exports;
  }

  /** Starts a sandbox process, compiles and evaluates the module in it; rejects with PluginError when it cannot load. */
  static async start(name: () => string, source: string, filename: string, limits: Required<SandboxLimits>, bridge: RequestBridge): Promise<IsolateRuntime> {
    const boot = { t: 'boot' as const, source, filename, maxMemoryMb: limits.maxMemoryMb, maxCpuMs: limits.maxCpuMs };
    const sandbox = new SandboxProcess();
    const exchange = await sandbox.start(boot, bootDeadlineMs(limits));
    if (exchange.t !== 'result' || !exchange.outcome.ok) {
      sandbox.close();
      throw loadError(name(), exchange, limits);
    }
    const overBound = memoryProblem(sandbox, limits);
    if (overBound !== null) {
      sandbox.close();
      throw new PluginError('PLUGIN_MEMORY_LIMIT', name(), `cannot load: ${overBound}`);
    }
    return new IsolateRuntime(name, boot, limits, bridge, sandbox, exchange.outcome.value as PluginExports);
  }

  /** The id of the plugin's sandbox process (the current or last one). */
  get pid(): number | undefined {
    return this.#sandbox.pid;
  }

  call(name: string, args: readonly unknown[]): unknown {
    if (this.#disposed) throw new PluginError('PLUGIN_DISABLED', this.#name(), 'the plugin was unloaded', { hook: name });
    if (this.#broken !== undefined) throw new PluginError('PLUGIN_DISABLED', this.#name(), `its sandbox cannot restart: ${this.#broken}`, { hook: name });
    if (this.#restarting) throw new PluginError('PLUGIN_RESTARTING', this.#name(), 'its sandbox process is restarting after a fault: the hook is skipped', { hook: name });
    this.#bridgeError = undefined;
    this.#requests = 0;
    const deadlineMs = this.#limits.maxCpuMs + WATCHDOG_GRACE_MS;
    const startedAt = performance.now();
    const exchange = this.#sandbox.call({ t: 'call', name, args: [...args] }, { deadlineMs, cpuBudgetMs: this.#limits.maxCpuMs + WATCHDOG_GRACE_MS / 2 }, (input) => this.#answer(input));
    const bridged = this.#bridgeError as PluginError | undefined;
    this.#bridgeError = undefined;
    if (exchange.t === 'killed') {
      this.#restart();
      return this.#throw('PLUGIN_CPU_LIMIT', `killed at the CPU limit (maxCpuMs ${this.#limits.maxCpuMs}): no answer within ${deadlineMs} ms, its sandbox process was ended and is restarted`, name);
    }
    if (exchange.t === 'exited') {
      this.#restart();
      return this.#throw('PLUGIN_SANDBOX_EXITED', `its sandbox process ${exchange.detail}; it is restarted`, name);
    }
    this.#checkMemory(name, startedAt);
    const outcome = exchange.outcome;
    if (outcome.ok) return outcome.value;
    if (bridged && outcome.kind === 'threw' && outcome.message.includes(bridged.message)) throw bridged.inHook(name);
    return this.#throw(...outcomeFault(outcome, this.#limits), name);
  }

  dispose(): void {
    this.#disposed = true;
    this.#sandbox.close();
  }

  #throw(code: PluginErrorCode, message: string, hook: string): never {
    throw new PluginError(code, this.#name(), message, { hook });
  }

  /** Ends and restarts the sandbox process when it holds more than its bound (looked at after a long call, else at most every MEMORY_CHECK_MS). */
  #checkMemory(hook: string, startedAt: number): void {
    const now = performance.now();
    if (now - startedAt < SHORT_CALL_MS && now - this.#memoryCheckedAt < MEMORY_CHECK_MS) return;
    this.#memoryCheckedAt = now;
    const problem = memoryProblem(this.#sandbox, this.#limits);
    if (problem === null) return;
    this.#sandbox.end('ended past its memory bound');
    this.#restart();
    this.#throw('PLUGIN_MEMORY_LIMIT', `${problem}; it was ended and is restarted`, hook);
  }

  /** The host side of `request()`: at most MAX_REQUESTS_PER_CALL times per call; a refusal goes back as a throw in the isolate. */
  #answer(input: unknown): HostFrame {
    try {
      if (++this.#requests > MAX_REQUESTS_PER_CALL) throw new PluginError('PLUGIN_OUTPUT_INVALID', this.#name(), `request(): more than ${MAX_REQUESTS_PER_CALL} requests in one hook call`);
      return { t: 'answer', ok: true, value: this.#bridge(input) };
    } catch (error) {
      if (error instanceof PluginError) this.#bridgeError = error;
      return { t: 'answer', ok: false, message: messageOf(error) };
    }
  }

  /** Boots a fresh process from the same source, in the background. */
  #restart(): void {
    if (this.#restarting || this.#disposed) return;
    this.#restarting = (async () => {
      const exchange = await this.#sandbox.start(this.#boot, bootDeadlineMs(this.#limits));
      if (this.#disposed) return;
      if (exchange.t !== 'result' || !exchange.outcome.ok) this.#broken = loadError(this.#name(), exchange, this.#limits).detail;
      else {
        const problem = memoryProblem(this.#sandbox, this.#limits);
        if (problem !== null) {
          this.#sandbox.end('ended past its memory bound');
          this.#broken = problem;
        }
      }
    })()
      .catch((error: unknown) => {
        this.#broken = messageOf(error);
      })
      .finally(() => {
        this.#restarting = undefined;
      });
  }
}

/** Why the sandbox process holds too much memory (more than its bound), or null (within it, or where the host cannot tell). */
function memoryProblem(sandbox: SandboxProcess, limits: Required<SandboxLimits>): string | null {
  const residentMb = sandbox.residentMb();
  const boundMb = sandboxMemoryBoundMb(limits);
  if (residentMb === undefined || residentMb <= boundMb) return null;
  return `its sandbox process held ${Math.round(residentMb)} MB, more than the ${boundMb} MB its maxMemoryMb ${limits.maxMemoryMb} allows (memory outside the isolate heap counts too)`;
}

/** The code and message of a failed outcome. */
function outcomeFault(outcome: Extract<SandboxOutcome, { ok: false }>, limits: Required<SandboxLimits>): [PluginErrorCode, string] {
  switch (outcome.kind) {
    case 'timeout':
      return ['PLUGIN_CPU_LIMIT', `killed at the CPU limit (maxCpuMs ${limits.maxCpuMs})`];
    case 'memory':
      return ['PLUGIN_MEMORY_LIMIT', `killed at the memory limit (maxMemoryMb ${limits.maxMemoryMb}); the isolate is replaced`];
    case 'async':
      return ['PLUGIN_HOOK_ASYNC', outcome.message];
    case 'invalid':
      return ['PLUGIN_OUTPUT_INVALID', `cannot copy out of the isolate: ${outcome.message}`];
    case 'blocked':
      return ['PLUGIN_IMPORT_BLOCKED', blockedMessage(outcome.message)];
    default:
      return ['PLUGIN_HOOK_THREW', `threw ${outcome.message}`];
  }
}

function blockedMessage(specifier: string): string {
  return `imports ${JSON.stringify(specifier)}: a sandboxed plugin can import nothing (no node:* modules, no packages); bundle it into one file and get data from the host through hook arguments`;
}

/** Why a plugin could not load (or restart), from its boot's exchange. */
function loadError(name: string, exchange: SandboxExchange, limits: Required<SandboxLimits>): PluginError {
  if (exchange.t === 'killed') return new PluginError('PLUGIN_CPU_LIMIT', name, `cannot load: killed at the CPU limit (no answer within ${bootDeadlineMs(limits)} ms; its sandbox process was ended)`);
  if (exchange.t === 'exited') return new PluginError('PLUGIN_LOAD_FAILED', name, `cannot load: its sandbox process ${exchange.detail}`);
  const outcome = exchange.outcome;
  if (outcome.ok) return new PluginError('PLUGIN_LOAD_FAILED', name, 'cannot load');
  if (outcome.kind === 'blocked') return new PluginError('PLUGIN_IMPORT_BLOCKED', name, blockedMessage(outcome.message));
  // The manifest read failed validation inside the isolate (a getter, too large...).
  if (outcome.kind === 'invalid') return new PluginError('PLUGIN_MANIFEST_INVALID', name, `cannot load: cannot copy out of the isolate: ${outcome.message}`);
  const [code, message] = outcomeFault(outcome, limits);
  return new PluginError(code === 'PLUGIN_HOOK_THREW' ? 'PLUGIN_LOAD_FAILED' : code, name, `cannot load: ${message.replace(/^threw /, '')}`);
}
