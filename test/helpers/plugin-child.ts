/**
 * Running hostile plugins in a child process (a fresh engine under tsx), so a regression that
 * hangs or crashes the host fails a test at a generous deadline instead of hanging the suite.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../..');

/** The path of the plugin fixture `name` (test/fixtures/plugins). */
export const pluginFixture = (name: string): string => join(ROOT, 'test/fixtures/plugins', `${name}.mjs`);

/**
 * The opening of a child script that hosts plugins itself: the imports, then
 * `const plugins = new EnginePlugins(...)` on a fresh registrar and backend registry.
 */
export const PLUGIN_HOST_PRELUDE = `
  import { BackendRegistry } from ${JSON.stringify(join(ROOT, 'src/backends/registry.ts'))};
  import { EnginePlugins } from ${JSON.stringify(join(ROOT, 'src/plugins/plugin-set.ts'))};
  import { AudioRegistrar } from ${JSON.stringify(join(ROOT, 'src/registrar/registrar.ts'))};
  const plugins = new EnginePlugins(new AudioRegistrar(), new BackendRegistry());
`;

/** How a child script ended, and the JSON of its last stdout line (null when there was none). */
export interface ScriptRun<T> {
  status: number | null;
  signal: string | null;
  report: T | null;
  stderr: string;
}

/** Runs `script` (an ES module, TypeScript allowed, imports by absolute path) in a child Node process with a heap of `heapMb`. */
export function runChildScript<T>(script: string, heapMb = 256): ScriptRun<T> {
  const child = spawnSync(process.execPath, [`--max-old-space-size=${heapMb}`, '--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 90_000 });
  const line = child.stdout.trim().split('\n').at(-1) ?? '';
  let report: T | null;
  try {
    report = JSON.parse(line) as T;
  } catch {
    report = null;
  }
  return { status: child.status, signal: child.signal, report, stderr: child.stderr.slice(-2000) };
}

/** What a child engine saw: the load error code (or null), the length of the speech after, and the faults. */
export interface ContainedReport {
  load: string | null;
  loadMessage: string | null;
  audio: number;
  faults: Array<{ hook: string; code: string; message: string }>;
}

/** Loads fixture `name` into a fresh engine in a child process (heap capped at `heapMb`, `maxCpuMs` per call), speaks `speaks` times, reports. */
export function inChild(name: string, heapMb = 256, speaks = 1, maxCpuMs = 2000): ScriptRun<ContainedReport> {
  const script = `
    import { VoiceEngine } from ${JSON.stringify(join(ROOT, 'src/engine/voice-engine.ts'))};
    const engine = new VoiceEngine();
    let load = null, loadMessage = null;
    try { await engine.loadPlugin(${JSON.stringify(pluginFixture(name))}, { limits: { maxCpuMs: ${maxCpuMs} }, maxFaults: 100 }); } catch (error) { load = error.code ?? 'raw'; loadMessage = String(error.message).slice(0, 500); }
    let audio = 0;
    for (let round = 0; round < ${speaks}; round++) audio = (await engine.speak('Plugins stay in their box.')).audio.length;
    const faults = engine.plugins().faults.map(({ hook, code, message }) => ({ hook, code, message: message.slice(0, 500) }));
    await engine.close();
    console.log(JSON.stringify({ load, loadMessage, audio, faults }));
  `;
  return runChildScript<ContainedReport>(script, heapMb);
}

/** Asserts the child exited cleanly having spoken after the plugin did its worst; returns its report. */
export function expectContained(run: ScriptRun<ContainedReport>): ContainedReport {
  expect({ status: run.status, signal: run.signal, stderr: run.status === 0 ? '' : run.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
  expect(run.report).not.toBeNull();
  const report = run.report as ContainedReport;
  expect(report.audio).toBeGreaterThan(10_000);
  return report;
}
