/**
 * The sandbox's watchdog (issue 12's containment gap): whatever plugin code does, wherever
 * isolated-vm runs it (inside the call under its CPU limit, or outside it: copying a value thrown
 * at load or a rejection left unhandled, a microtask, a finalizer), the host is never held past the
 * hook's deadline, the plugin is faulted and the engine keeps speaking. The process the watchdog
 * ends is gone (no thread of it keeps spinning), and a fresh one takes the plugin's next calls.
 * Every hostile case runs in a child process with a generous deadline (plugin-child.ts).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BackendRegistry } from '../../src/backends/registry.js';
import { EnginePlugins } from '../../src/plugins/plugin-set.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { expectContained, inChild, PLUGIN_HOST_PRELUDE, pluginFixture, ROOT, runChildScript } from '../helpers/plugin-child.js';
import { cpuTicks, processState, running } from '../helpers/proc-stat.js';
import { processExists, waitUntil } from '../helpers/waiting.js';

describe('plugin code the isolate runs anywhere is contained', () => {
  it.each([
    ['throws-toprimitive', 'PLUGIN_CPU_LIMIT', /killed at the CPU limit \(maxCpuMs 500\)/],
    ['throws-tostring', 'PLUGIN_CPU_LIMIT', /killed at the CPU limit \(maxCpuMs 500\)/],
    ['thenable-getter', 'PLUGIN_CPU_LIMIT', /killed at the CPU limit \(maxCpuMs 500\)/],
    ['thenable-loop', 'PLUGIN_CPU_LIMIT', /killed at the CPU limit \(maxCpuMs 500\)/],
    ['proxy-trap-loop', 'PLUGIN_CPU_LIMIT', /killed at the CPU limit \(maxCpuMs 500\)/],
    ['microtask-loop', 'PLUGIN_CPU_LIMIT', /killed at the CPU limit \(maxCpuMs 500\)/],
    // Outside the isolate's own CPU limit: only the watchdog ends these.
    ['unhandled-proxy', 'PLUGIN_CPU_LIMIT', /no answer within 700 ms, its sandbox process was ended and is restarted/],
    ['unhandled-getter', 'PLUGIN_CPU_LIMIT', /no answer within 700 ms, its sandbox process was ended and is restarted/],
    // The host never converts a result: a value with looping conversions is refused as data.
    ['returns-valueof', 'PLUGIN_OUTPUT_INVALID', /the result holds a function, which is not plain data/],
  ])('%s: faulted as %s, the engine still speaks', (name, code, message) => {
    const report = expectContained(inChild(name, 256, 1, 500));
    expect(report.load).toBeNull();
    expect(report.faults[0]).toMatchObject({ hook: 'transformText', code });
    expect(report.faults[0]?.message).toMatch(message);
  }, 120_000);

  it.each(['load-unhandled', 'load-throws-getter'])('%s: looping while its load is copied out, the load fails PLUGIN_CPU_LIMIT and the engine speaks', (name) => {
    const report = expectContained(inChild(name, 256, 1, 500));
    expect(report.load).toBe('PLUGIN_CPU_LIMIT');
    expect(report.loadMessage).toMatch(/cannot load: killed at the CPU limit \(no answer within 1700 ms; its sandbox process was ended\)/);
    expect(report.faults).toEqual([]);
  }, 120_000);

  it('finalizer-loop: a finalizer that never returns cannot stall the engine (each call answers or is killed)', () => {
    const report = expectContained(inChild('finalizer-loop', 256, 3, 500));
    expect(report.load).toBeNull();
    // isolated-vm 5 did not run the cleanup in our runs; if it does, the watchdog ends it.
    for (const fault of report.faults) expect(fault).toMatchObject({ hook: 'transformText', code: 'PLUGIN_CPU_LIMIT' });
  }, 120_000);
});

/** What the restart script saw. */
interface RestartReport {
  first: unknown;
  during: unknown;
  firstAlive: boolean;
  code: string | null;
  message: string | null;
  skipped: string[];
  after: unknown;
  newProcess: boolean;
  faults: number;
  disabled: boolean;
}

/** Runs `body` with fresh plugins holding hangs-on-demand (`maxCpuMs` per call) after one answered call, and its sandbox's pid; disposes them after. */
async function withHangsOnDemand(maxCpuMs: number, body: (plugins: EnginePlugins, pid: number) => Promise<void>): Promise<void> {
  const plugins = new EnginePlugins(new AudioRegistrar(), new BackendRegistry());
  try {
    await plugins.load(pluginFixture('hangs-on-demand'), { limits: { maxCpuMs } });
    const pid = plugins.list()[0]?.sandboxPid as number;
    expect(plugins.transformText('one')).toBe('one!');
    await body(plugins, pid);
  } finally {
    plugins.dispose();
  }
}

describe('the watchdog ends the process and the plugin comes back', () => {
  it('hangs-on-demand: killed on "hang", its process is gone, the next calls run in a fresh process (skips while it starts are not counted)', () => {
    const script = `
      import { processExists, waitUntil } from ${JSON.stringify(join(ROOT, 'test/helpers/waiting.ts'))};
      ${PLUGIN_HOST_PRELUDE}
      await plugins.load(${JSON.stringify(pluginFixture('hangs-on-demand'))}, { limits: { maxCpuMs: 1000 }, maxFaults: 2 });
      const pidNow = () => plugins.list()[0].sandboxPid;
      const firstPid = pidNow();
      const first = plugins.transformText('hi');
      const firstAlive = processExists(firstPid);
      plugins.transformText('hang');
      const fault = plugins.faults()[0] ?? null;
      // The fresh process has not started yet (this thread has not yielded): this call is skipped.
      const during = plugins.transformText('during');
      await waitUntil(() => !processExists(firstPid), 'the killed sandbox process to be gone');
      let after = null;
      await waitUntil(() => (after = plugins.transformText('again')) === 'again!', 'the plugin to answer from a fresh process');
      const skipped = [...new Set(plugins.faults().slice(1).map((each) => each.code))];
      const info = plugins.list()[0];
      const newProcess = pidNow() !== firstPid && processExists(pidNow());
      plugins.dispose();
      console.log(JSON.stringify({ first, firstAlive, during, code: fault?.code ?? null, message: fault?.message ?? null, skipped, after, newProcess, faults: info.faults, disabled: info.disabled }));
    `;
    const run = runChildScript<RestartReport>(script);
    expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr }).toEqual({ status: 0, stderr: '' });
    const report = run.report as RestartReport;
    expect(report).toMatchObject({ first: 'hi!', firstAlive: true, during: 'during', code: 'PLUGIN_CPU_LIMIT', after: 'again!', newProcess: true, faults: 1, disabled: false });
    expect(report.message).toMatch(/no answer within 1200 ms, its sandbox process was ended and is restarted/);
    // Calls made while the fresh process started were skipped as PLUGIN_RESTARTING, and not counted (maxFaults is 2).
    expect(report.skipped).toEqual(['PLUGIN_RESTARTING']);
  }, 120_000);

  it('a sandbox process that dies (here: killed from outside) is a PLUGIN_SANDBOX_EXITED fault, then restarted', async () => {
    await withHangsOnDemand(2000, async (plugins, pid) => {
      process.kill(pid, 'SIGKILL');
      await waitUntil(() => !processExists(pid), 'the sandbox process to be gone');
      expect(plugins.transformText('two')).toBe('two');
      expect(plugins.faults()[0]).toMatchObject({ plugin: 'hangs-on-demand', hook: 'transformText', code: 'PLUGIN_SANDBOX_EXITED', outcome: 'skipped' });
      expect(plugins.faults()[0]?.message).toMatch(/its sandbox process exited \(SIGKILL\); it is restarted/);
      await waitUntil(() => plugins.transformText('three') === 'three!', 'the plugin to answer from a fresh process');
    });
  }, 60_000);

  it('a starved sandbox (its process stopped past the deadline, using no CPU) is waited for, not killed; it answers when it runs again', async () => {
    await withHangsOnDemand(50, async (plugins, pid) => {
      // Another process stops the sandbox for 600 ms (its deadline is 250 ms; the hard cap 1,500 ms).
      const stopper = spawn('sh', ['-c', `kill -STOP ${pid}; sleep 0.6; kill -CONT ${pid}`], { stdio: 'ignore' });
      await waitUntil(() => processState(pid) === 'T', 'the sandbox process to be stopped');
      expect(plugins.transformText('two')).toBe('two!');
      expect(plugins.faults()).toEqual([]);
      expect(plugins.list()[0]?.sandboxPid).toBe(pid);
      await new Promise((resolve) => stopper.once('exit', resolve));
    });
  }, 60_000);

  it('the checks see a spinning process: a planted busy loop is alive and gains CPU time, until it is killed', async () => {
    const spinner = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    const pid = spinner.pid as number;
    try {
      expect(processExists(pid)).toBe(true);
      await waitUntil(() => cpuTicks(pid) > 5, 'the planted loop to use CPU');
      expect(running(pid)).toBe(true);
      expect(processState(pid)).toMatch(/^[RS]$/);
    } finally {
      spinner.kill('SIGKILL');
    }
    await waitUntil(() => !processExists(pid), 'the planted loop to be gone');
    // Gone: the /proc readings say so (no state, not running, no CPU time).
    expect({ state: processState(pid), running: running(pid), ticks: cpuTicks(pid) }).toEqual({ state: '', running: false, ticks: 0 });
  }, 60_000);

  it('a sandbox process stuck in plugin code ends itself when its host dies (no orphan keeps spinning)', async () => {
    const script = `
      ${PLUGIN_HOST_PRELUDE}
      await plugins.load(${JSON.stringify(pluginFixture('hangs-on-demand'))}, { limits: { maxCpuMs: 10000 } });
      console.log(plugins.list()[0].sandboxPid);
      plugins.transformText('hang');
    `;
    const host = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    let printed = '';
    host.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    try {
      await waitUntil(() => /^\d+\n/.test(printed), 'the host to print its sandbox pid');
      const pid = Number(printed.trim());
      // Spinning in the looping getter, outside the isolate's CPU limit (the host's watchdog would wait 10.2 s).
      const before = cpuTicks(pid);
      await waitUntil(() => cpuTicks(pid) > before + 5, 'the sandbox process to spin');
      expect(running(pid)).toBe(true);
      host.kill('SIGKILL');
      await waitUntil(() => !running(pid), 'the orphaned sandbox process to end itself');
    } finally {
      host.kill('SIGKILL');
    }
  }, 120_000);

  it('disposing the plugins ends their sandbox processes', async () => {
    const plugins = new EnginePlugins(new AudioRegistrar(), new BackendRegistry());
    await plugins.load(pluginFixture('hangs-on-demand'));
    const pid = plugins.list()[0]?.sandboxPid as number;
    expect(processExists(pid)).toBe(true);
    plugins.dispose();
    await waitUntil(() => !processExists(pid), 'the sandbox process to end');
  }, 60_000);
});

describe('the loader reads regular files only', () => {
  it('a FIFO in place of a plugin file is refused at once (PLUGIN_NOT_FOUND), not waited on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plugin-fifo-'));
    const path = join(dir, 'plugin.mjs');
    execFileSync('mkfifo', [path]);
    const plugins = new EnginePlugins(new AudioRegistrar(), new BackendRegistry());
    try {
      for (const trusted of [false, true]) {
        const error = await plugins.load(path, { trusted }).catch((caught: unknown) => caught);
        expect(error).toMatchObject({ code: 'PLUGIN_NOT_FOUND' });
        expect((error as Error).message).toMatch(/cannot read .*plugin\.mjs: it is a FIFO, not a regular file/);
      }
      // The same path as a regular file loads: the refusal was about the FIFO.
      rmSync(path);
      writeFileSync(path, `export const manifest = { name: 'fifo-then-file', version: '1.0.0', apiVersion: '1', hooks: ['transformText'], permissions: [] };\nexport function transformText(text) { return text; }`);
      await expect(plugins.load(path)).resolves.toMatchObject({ name: 'fifo-then-file', mode: 'isolate' });
    } finally {
      plugins.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
