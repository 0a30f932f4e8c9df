/**
 * The sandbox's edges, attacked (review of issue 12): what a hostile plugin could do with the
 * moments where the host, not the isolate's CPU limit, is in charge (copying results and errors
 * out, the manifest at load, tasks posted after a call), with host memory (huge strings, huge
 * error messages, shared memory) and with `request()` (floods). The hangs and crashes run in a
 * child process with a generous deadline, so a regression fails instead of hanging the suite.
 */
import { describe, expect, it } from 'vitest';
import { BackendRegistry } from '../../src/backends/registry.js';
import { compile } from '../../src/compiler/index.js';
import { EnginePlugins } from '../../src/plugins/plugin-set.js';
import { NativeCore } from '../../src/registrar/native-core.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { expectContained, inChild, pluginFixture as fixture } from '../helpers/plugin-child.js';
import { waitUntil } from '../helpers/waiting.js';

describe('no plugin code runs outside the CPU limit (hangs and crashes of the host)', () => {
  it.each([
    ['getter-result', 'PLUGIN_OUTPUT_INVALID', /getter/],
    ['getter-throw', 'PLUGIN_CPU_LIMIT', /killed at the CPU limit/],
    ['stack-trap', 'PLUGIN_HOOK_THREW', /Cannot assign to read only property 'prepareStackTrace'/],
    ['wait-async', 'PLUGIN_HOOK_THREW', /waitAsync is not a function/],
  ])('%s: the hook is contained as %s and the engine still speaks', (name, code, message) => {
    const report = expectContained(inChild(name));
    expect(report.load).toBeNull();
    expect(report.faults[0]).toMatchObject({ hook: 'transformText', code });
    expect(report.faults[0]?.message).toMatch(message);
  }, 120_000);

  // isolated-vm copies these values outside its CPU limit (running their looping getters): the host
  // watchdog ends the sandbox process.
  it('load-throws-getter: a value thrown at load with a looping message getter fails the load, killed', () => {
    const report = expectContained(inChild('load-throws-getter'));
    expect(report.load).toBe('PLUGIN_CPU_LIMIT');
    expect(report.loadMessage).toMatch(/cannot load: killed at the CPU limit/);
  }, 120_000);

  it('unhandled-getter: a rejection left unhandled with a looping message getter is killed at the deadline', () => {
    const report = expectContained(inChild('unhandled-getter'));
    expect(report.load).toBeNull();
    expect(report.faults[0]).toMatchObject({ hook: 'transformText', code: 'PLUGIN_CPU_LIMIT' });
    expect(report.faults[0]?.message).toMatch(/killed at the CPU limit \(maxCpuMs 2000\): no answer within 2200 ms/);
  }, 120_000);

  it('getter-manifest: a manifest getter is refused at load, not run by the host', () => {
    const report = expectContained(inChild('getter-manifest'));
    expect(report.load).toBe('PLUGIN_MANIFEST_INVALID');
    expect(report.loadMessage).toMatch(/cannot load: .*the manifest has a getter \(name\): return plain data/);
  }, 120_000);
});

describe('host memory is not the plugin’s to spend', () => {
  it('huge-string: a 512 MB string is refused inside the isolate, before the host would copy it', () => {
    const report = expectContained(inChild('huge-string'));
    expect(report.faults[0]).toMatchObject({ hook: 'transformText', code: 'PLUGIN_OUTPUT_INVALID' });
    expect(report.faults[0]?.message).toMatch(/the result holds more than 1000000 characters of text/);
  }, 120_000);

  it('huge-error: a 100 MB error message is cut before it reaches the audit', async () => {
    const plugins = new EnginePlugins(new AudioRegistrar(), new BackendRegistry());
    await plugins.load(fixture('huge-error'), { limits: { maxMemoryMb: 512, maxCpuMs: 5000 } });
    expect(plugins.transformText('hello')).toBe('hello');
    const fault = plugins.faults()[0];
    expect(fault).toMatchObject({ plugin: 'huge-error', code: 'PLUGIN_HOOK_THREW' });
    expect(fault?.message.length).toBeLessThan(2000);
    plugins.dispose();
  });

  it('off-heap: memory the isolate heap limit does not count (a resizable ArrayBuffer grown) still ends the sandbox process at its bound (planted: it grew 64 MB a call, for good)', async () => {
    const plugins = new EnginePlugins(new AudioRegistrar(), new BackendRegistry());
    await plugins.load(fixture('off-heap'), { limits: { maxMemoryMb: 8, maxCpuMs: 2000 }, maxFaults: 1000 });
    const firstPid = plugins.list()[0]?.sandboxPid;
    const held: string[] = [];
    for (let call = 0; call < 24 && plugins.faults().length === 0; call++) held.push(plugins.transformText('held'));
    expect(plugins.faults()[0]).toMatchObject({ plugin: 'off-heap', hook: 'transformText', code: 'PLUGIN_MEMORY_LIMIT' });
    expect(plugins.faults()[0]?.message).toMatch(/its sandbox process held \d+ MB, more than the \d+ MB/);
    // Ended at its bound (4 × 8 MB + 256 MB) plus what one call can add, never left to grow.
    expect(Number(held.at(-1)?.split(' ')[1] ?? 0)).toBeLessThanOrEqual(288 + 64);
    await waitUntil(() => plugins.list()[0]?.sandboxPid !== firstPid && plugins.transformText('again') === 'again 64', 'a fresh sandbox process');
    plugins.dispose();
  });

  it('off-heap-load: a plugin holding more than its bound once loaded fails to load (PLUGIN_MEMORY_LIMIT), its process ended', async () => {
    const plugins = new EnginePlugins(new AudioRegistrar(), new BackendRegistry());
    const error = await plugins.load(fixture('off-heap-load'), { limits: { maxMemoryMb: 8, maxCpuMs: 2000 } }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'PLUGIN_MEMORY_LIMIT' });
    expect((error as Error).message).toMatch(/cannot load: its sandbox process held \d+ MB, more than the 288 MB/);
    expect(plugins.list()).toEqual([]);
    plugins.dispose();
  });

  it('shared-pcm: returned PCM is the host’s own copy; the plugin cannot write NaN into it after validation', async () => {
    const plugins = new EnginePlugins(new AudioRegistrar(), new BackendRegistry());
    await plugins.load(fixture('shared-pcm'), { limits: { maxCpuMs: 2000 } });
    const view = { streamId: 'stream-1', index: 0, kind: 'speech' as const, sampleRateHz: 22_050, channels: 1 };
    const first = plugins.onAudio(new Float32Array([0.1, 0.2, 0.3]), view);
    expect(first.buffer).toBeInstanceOf(ArrayBuffer);
    plugins.onAudio(new Float32Array([0.4, 0.5, 0.6]), { ...view, index: 1 });
    expect([...first].every(Number.isFinite)).toBe(true);
    expect(plugins.faults()).toEqual([]);
    plugins.dispose();
  });
});

describe('results are bounded in both runtimes', () => {
  it.each([false, true])('deep-annotation (trusted %s): a result nested past 64 levels is a contained fault, not a raw RangeError', async (trusted) => {
    const plugins = new EnginePlugins(new AudioRegistrar(), new BackendRegistry());
    await plugins.load(fixture('deep-annotation'), { trusted, grant: ['mutate_graph'], limits: { maxCpuMs: 5000 } });
    const graph = compile('Hello there.');
    expect(plugins.onGraph(graph, 'stream-1')).toBe(graph);
    expect(plugins.faults()[0]).toMatchObject({ plugin: 'deep-annotation', hook: 'onGraph', code: 'PLUGIN_OUTPUT_INVALID', outcome: 'skipped' });
    expect(plugins.faults()[0]?.message).toMatch(/nested deeper than 64 levels/);
    plugins.dispose();
  });
});

describe('PCM a plugin returns is sane', () => {
  it('returns-loud: finite samples past ±32 (+30 dBFS) are rejected, the chunk plays unchanged', async () => {
    const plugins = new EnginePlugins(new AudioRegistrar(), new BackendRegistry());
    await plugins.load(fixture('returns-loud'), { limits: { maxCpuMs: 2000 } });
    const input = new Float32Array([0.1, -0.2, 0.3]);
    expect(plugins.onAudio(input, { streamId: 'stream-1', index: 0, kind: 'speech', sampleRateHz: 22_050, channels: 1 })).toBe(input);
    expect(plugins.faults()[0]).toMatchObject({ plugin: 'returns-loud', hook: 'onAudio', code: 'PLUGIN_OUTPUT_INVALID' });
    expect(plugins.faults()[0]?.message).toMatch(/sample 0 is 1\.0\d*e\+30, beyond ±32/);
    plugins.dispose();
  });
});

describe('request() is bounded', () => {
  it('request-flood: one hook call gets at most 16 requests, none with more than 4 kB of metadata', async () => {
    const registrar = new AudioRegistrar();
    const plugins = new EnginePlugins(registrar, new BackendRegistry());
    await plugins.load(fixture('request-flood'), { limits: { maxCpuMs: 5000 } });
    expect(plugins.transformText('hello')).toBe('hello 0 16');
    // The budget is per call: the next call gets its own.
    expect(plugins.transformText('again')).toBe('again 0 16');
    plugins.dispose();
    await registrar.close();
  });

  it('request-binary: a request carrying a Float32Array is refused inside the isolate; the host never copies its 16 MB (it held no text, so the 4 kB bound never counted it)', async () => {
    const registrar = new AudioRegistrar();
    const plugins = new EnginePlugins(registrar, new BackendRegistry());
    await plugins.load(fixture('request-binary'), { limits: { maxCpuMs: 5000, maxMemoryMb: 64 } });
    const answers = plugins.transformText('hello').split('\n');
    expect(answers).toHaveLength(16);
    for (const answer of answers) expect(answer).toMatch(/^the request holds a binary view \(a Float32Array\.\.\.\): it must be JSON data/);
    expect(registrar.attestationStore.query({ actor: 'plugin:request-binary' })).toEqual([]);
    plugins.dispose();
    await registrar.close();
  });

  it("scope-flood: a plugin's requests never name a session, user, override or grant set, which the registrar would keep for good (planted: its denied requests filled the session and user tables, and a user's override was denied capacity_exhausted)", async () => {
    const scopeCapacity = 8;
    const registrar = new AudioRegistrar({ core: new NativeCore({ scopeCapacity }) });
    const alice = registrar.registerActor('user:alice');
    const plugins = new EnginePlugins(registrar, new BackendRegistry());
    await plugins.load(fixture('scope-flood'), { limits: { maxCpuMs: 5000 } });
    // 15 requests naming new scopes per call, refused at the bridge; the graph hash request is taken.
    for (let call = 0; call < 4; call++) expect(plugins.transformText('hi')).toBe('hi 1');
    expect(registrar.attestationStore.query({ actor: 'plugin:scope-flood' }).map((record) => record.action)).toEqual(['mutate_graph', 'mutate_graph', 'mutate_graph', 'mutate_graph']);
    const enable = registrar.request({ action: 'enable_override', actor: alice, metadata: { scope: 'user', scopeId: 'alice', speechRate: 0.8 } });
    expect(enable).toMatchObject({ allowed: true, reason: null });
    expect(registrar.requestAsHost({ action: 'start', actor: 'user:alice', metadata: { sessionId: 'kitchen', userId: 'alice' } }).allowed).toBe(true);
    // The planted violation: the same denied requests, asked of the registrar as a plugin, fill its tables.
    const planted = new AudioRegistrar({ core: new NativeCore({ scopeCapacity }) });
    const plantedAlice = planted.registerActor('user:alice');
    const plugin = planted.registerActor('plugin:scope-flood');
    for (let index = 0; index < scopeCapacity; index++) {
      expect(planted.request({ action: 'stop', actor: plugin, target: 'nothing', metadata: { sessionId: `s${index}`, userId: `u${index}` } }).allowed).toBe(false);
    }
    expect(planted.request({ action: 'enable_override', actor: plantedAlice, metadata: { scope: 'user', scopeId: 'alice', speechRate: 0.8 } }).reason).toBe('capacity_exhausted');
    plugins.dispose();
    await planted.close();
    await registrar.close();
  });
});
