/**
 * Plugins (issue 12, the 4.8.9 gate): every malicious fixture in test/fixtures/plugins is blocked
 * with a clear error and the engine still speaks afterwards (asserted on its PCM); each well-behaved
 * example plugin (examples/plugins) changes the audio or graph as intended.
 */
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AudioOutput } from '../../src/audio/output.js';
import { VoiceEngine } from '../../src/engine/voice-engine.js';
import { waitUntil } from '../helpers/waiting.js';
import { BackendRegistry } from '../../src/backends/registry.js';
import { compile } from '../../src/compiler/index.js';
import type { SpeechGraph } from '../../src/graph/speech-graph.js';
import { PluginError } from '../../src/plugins/errors.js';
import { EnginePlugins } from '../../src/plugins/plugin-set.js';
import { AudioRegistrar } from '../../src/registrar/registrar.js';
import { RegistrarRequiredError } from '../../src/registrar/errors.js';

const fixtures = resolve(import.meta.dirname, '../fixtures/plugins');
const examples = resolve(import.meta.dirname, '../../examples/plugins');
const fixture = (name: string) => join(fixtures, `${name}.mjs`);
const example = (name: string) => join(examples, `${name}.mjs`);
const TEXT = 'Plugins stay in their box.';

let baseline: Float32Array;
const engines: VoiceEngine[] = [];
function engine(): VoiceEngine {
  const created = new VoiceEngine();
  engines.push(created);
  return created;
}
afterEach(async () => {
  await Promise.all(engines.splice(0).map((created) => created.close()));
});
beforeAll(async () => {
  const plain = new VoiceEngine();
  baseline = (await plain.speak(TEXT)).audio;
  await plain.close();
  expect(baseline.length).toBeGreaterThan(10_000);
});

function peak(pcm: Float32Array): number {
  let max = 0;
  for (const sample of pcm) max = Math.max(max, Math.abs(sample));
  return max;
}

/** The engine still speaks: the same PCM as an engine without plugins. */
async function stillSpeaks(subject: VoiceEngine): Promise<void> {
  const { audio } = await subject.speak(TEXT);
  expect(audio).toEqual(baseline);
}

describe('malicious plugins are blocked at load, and the engine still speaks', () => {
  it.each([
    ['reads-file', 'PLUGIN_IMPORT_BLOCKED', /imports "node:fs": a sandboxed plugin can import nothing/],
    ['spawns-process', 'PLUGIN_IMPORT_BLOCKED', /imports "node:child_process"/],
    ['future-api', 'PLUGIN_API_VERSION', /manifest.apiVersion is "2", but this engine speaks plugin API 1/],
    ['load-loop', 'PLUGIN_CPU_LIMIT', /cannot load: killed at the CPU limit/],
  ])('%s → %s', async (name, code, message) => {
    const subject = engine();
    const error = await subject.loadPlugin(fixture(name)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PluginError);
    expect(error).toMatchObject({ code });
    expect((error as Error).message).toMatch(message);
    expect(subject.plugins().plugins).toEqual([]);
    await stillSpeaks(subject);
  });

  it('a plugin asking for an effect without a registrar decision → RegistrarRequiredError', async () => {
    const subject = engine();
    const error = await subject.loadPlugin(fixture('bypass-registrar')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RegistrarRequiredError);
    expect((error as Error).message).toMatch(/asks for permission "stream_state", an effect without a registrar decision/);
    await stillSpeaks(subject);
  });

  it('networkAccess can never be turned on', async () => {
    const subject = engine();
    await expect(subject.loadPlugin(example('half-gain'), { limits: { networkAccess: true as false } })).rejects.toThrow(/never has network access/);
  });
});

describe('malicious hooks are contained (skipped, audited) and the engine still speaks', () => {
  it.each([
    ['writes-file', 'transformText', 'PLUGIN_HOOK_THREW', /require is not defined/],
    ['requires-fs', 'transformText', 'PLUGIN_HOOK_THREW', /require is not defined/],
    ['imports-dynamic', 'transformText', 'PLUGIN_HOOK_ASYNC', /returned a Promise: hooks are synchronous/],
    ['reaches-process', 'transformText', 'PLUGIN_HOOK_THREW', /process/],
    ['opens-socket', 'onAudio', 'PLUGIN_HOOK_THREW', /fetch is not defined/],
    ['mutates-state', 'onGraph', 'PLUGIN_HOOK_THREW', /read only|read-only|Cannot assign/],
    ['forges-actor', 'onGraph', 'PLUGIN_FORGED_ACTOR', /request\(\) acts only as plugin:forges-actor; it may not name an actor/],
    ['names-handle', 'onGraph', 'PLUGIN_FORGED_ACTOR', /it may not name an actor/],
    ['infinite-loop', 'onAudio', 'PLUGIN_CPU_LIMIT', /killed at the CPU limit \(maxCpuMs 50\)/],
    ['memory-bomb', 'onAudio', 'PLUGIN_MEMORY_LIMIT', /killed at the memory limit \(maxMemoryMb 32\)/],
    ['returns-nan', 'onAudio', 'PLUGIN_OUTPUT_INVALID', /sample 0 is NaN, not a finite number/],
    ['returns-oversized', 'onAudio', 'PLUGIN_OUTPUT_INVALID', /expected \d+ samples, as many as the input \(received \d+\)/],
    ['never-resolves', 'onAudio', 'PLUGIN_HOOK_ASYNC', /returned a Promise/],
    ['huge-buffer', 'onAudio', 'PLUGIN_HOOK_THREW', /Array buffer allocation failed/],
    ['huge-text', 'transformText', 'PLUGIN_OUTPUT_INVALID', /the result holds more than 1000000 characters of text/],
    ['proxy-result', 'onGraph', 'PLUGIN_HOOK_THREW', /trap/],
  ])('%s (%s) → %s', async (name, hook, code, message) => {
    const subject = engine();
    // Only the infinite loop meets the 50 ms limit: the others get time enough, on a busy machine, to show
    // their own fault (the memory bomb reaches its memory limit first).
    await subject.loadPlugin(fixture(name), { grant: ['mutate_graph'], ...(name === 'infinite-loop' ? {} : { limits: { maxCpuMs: 10_000 } }) });
    await stillSpeaks(subject);
    const fault = subject.plugins().faults.find((candidate) => candidate.hook === hook);
    expect(fault).toMatchObject({ plugin: name, hook, code, outcome: 'skipped' });
    expect(fault?.message).toMatch(message);
    expect(existsSync('/tmp/pwned')).toBe(false);
  });

  it('repeated faults disable the plugin; its hooks then stop running', async () => {
    const subject = engine();
    await subject.loadPlugin(fixture('infinite-loop'), { maxFaults: 2 });
    await stillSpeaks(subject);
    expect(subject.plugins().plugins[0]).toMatchObject({ disabled: false, faults: 1 });
    await stillSpeaks(subject);
    expect(subject.plugins().plugins[0]).toMatchObject({ name: 'infinite-loop', disabled: true, faults: 2 });
    await stillSpeaks(subject);
    expect(subject.plugins().faults).toHaveLength(2);
    expect((await subject.health()).plugins?.[0]).toMatchObject({ disabled: true, mode: 'isolate' });
  });

  it('policy fail: a faulting hook fails the stream, attested with the plugin named', async () => {
    const subject = engine();
    await subject.loadPlugin(fixture('infinite-loop'), { policy: { onAudio: 'fail' }, maxFaults: 1 });
    const error = await subject.speak(TEXT).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'PLUGIN_CPU_LIMIT', plugin: 'infinite-loop', hook: 'onAudio' });
    const last = subject.registrar.attestations(1)[0];
    expect(last).toMatchObject({ action: 'fail', decision: 'allowed' });
    expect(JSON.stringify(last)).toContain('plugin infinite-loop (onAudio): killed at the CPU limit');
    // Disabled after its one allowed fault: the engine speaks again.
    await stillSpeaks(subject);
  });

  it('a graph mutation after commit is denied commit_boundary (attested)', async () => {
    const subject = engine();
    await subject.loadPlugin(fixture('after-commit'), { grant: ['mutate_graph'] });
    await stillSpeaks(subject);
    const denied = subject.registrar.attestations().filter((record) => record.action === 'mutate_graph');
    expect(denied.length).toBeGreaterThan(0);
    expect(denied[0]).toMatchObject({ actor: { id: 'after-commit', kind: 'plugin' }, decision: 'denied', reason: 'commit_boundary' });
    expect(subject.plugins().faults[0]?.message).toMatch(/mutate_graph after commit denied: commit_boundary/);
  });

  it('a granted plugin cannot attest a graph mutation itself: request(mutate_graph) before the commit is refused, the log holds only the graph synthesized', async () => {
    const subject = engine();
    await subject.loadPlugin(fixture('states-mutation'), { grant: ['mutate_graph'] });
    await stillSpeaks(subject);
    const records = subject.registrar.attestations();
    expect(records.filter((record) => record.action === 'mutate_graph')).toEqual([]);
    expect(JSON.stringify(records)).not.toContain('never-applied');
    expect(subject.plugins().faults[0]).toMatchObject({ plugin: 'states-mutation', hook: 'onGraph', code: 'PLUGIN_OUTPUT_INVALID' });
    expect(subject.plugins().faults[0]?.message).toMatch(/request\(\): request\.action: mutate_graph/);
  });

  it('a mutation without the owner grant is denied not_owner (attested) and has no effect', async () => {
    const subject = engine();
    await subject.loadPlugin(fixture('ungranted'));
    await stillSpeaks(subject);
    const records = subject.registrar.attestations().filter((record) => record.action === 'mutate_graph');
    expect(records[0]).toMatchObject({ actor: { id: 'ungranted', kind: 'plugin' }, decision: 'denied', reason: 'not_owner' });
    expect(subject.plugins().faults[0]).toMatchObject({ code: 'REGISTRAR_DENIED:not_owner', outcome: 'denied' });
  });

  it('a plugin cannot change lifecycle state through request(): the registrar refuses, attested', async () => {
    const subject = engine();
    await subject.loadPlugin(fixture('reentrant'));
    await stillSpeaks(subject);
    const stop = subject.registrar.attestations().find((record) => record.action === 'stop' && record.actor?.kind === 'plugin');
    expect(stop).toMatchObject({ decision: 'denied' });
  });

  it('reentrancy: a hook that leads the host back into the same plugin gets PLUGIN_REENTRANT', async () => {
    const registrar = new AudioRegistrar();
    const plugins = new EnginePlugins(registrar, new BackendRegistry());
    await plugins.load(fixture('reenters'), { grant: ['mutate_graph'], trusted: true });
    const owner = registrar.registerActor('agent:owner');
    const started = registrar.request({ action: 'start', actor: owner, metadata: { allowPlugins: plugins.allowPlugins() } });
    const streamId = started.streamId ?? '';
    const graph = compile('Hello.');
    registrar.request({ action: 'compile', actor: owner, target: streamId, metadata: { graphHash: 'sha256:first' } });
    const nested: SpeechGraph[] = [];
    const host = globalThis as { __reentersHost?: () => void };
    host.__reentersHost = () => nested.push(plugins.onGraph(graph, streamId));
    try {
      expect(plugins.onGraph(graph, streamId)).toBe(graph);
    } finally {
      delete host.__reentersHost;
    }
    expect(nested).toEqual([graph]);
    expect(plugins.faults()[0]).toMatchObject({ plugin: 'reenters', code: 'PLUGIN_REENTRANT', outcome: 'skipped' });
    plugins.dispose();
    await registrar.close();
  });

  it('prototype pollution inside the isolate does not reach the host', async () => {
    const subject = engine();
    await subject.loadPlugin(fixture('pollutes'), { grant: ['mutate_graph'] });
    await stillSpeaks(subject);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
    expect([1].push(2)).toBe(2);
  });
});

describe('well-behaved plugins change the audio or graph as intended', () => {
  it('transformText: custom markup becomes a one-second pause', async () => {
    const subject = engine();
    await subject.loadPlugin(example('beat-markup'));
    const plain = await subject.speak('Hello world.');
    const beat = await subject.speak('Hello <beat> world.');
    expect(beat.durationMs - plain.durationMs).toBeGreaterThan(900);
  });

  it('onGraph: the granted pause is applied through mutate_graph as plugin:breathe (isolate)', async () => {
    const subject = engine();
    await subject.loadPlugin(example('breathe'), { grant: ['mutate_graph'] });
    const result = await subject.speak('Hello there. How are you?');
    const plain = await new VoiceEngine().speak('Hello there. How are you?');
    expect(result.durationMs - plain.durationMs).toBeGreaterThan(600);
    const mutation = subject.registrar.attestations().find((record) => record.action === 'mutate_graph');
    expect(mutation).toMatchObject({ actor: { id: 'breathe', kind: 'plugin' }, decision: 'allowed' });
    expect(JSON.stringify(mutation)).toContain('"pluginMode":"isolate"');
  });

  it('onAudio: every sample is halved (isolate and trusted alike)', async () => {
    for (const trusted of [false, true]) {
      const subject = engine();
      await subject.loadPlugin(example('half-gain'), { trusted });
      const { audio } = await subject.speak(TEXT);
      expect(audio.length).toBe(baseline.length);
      expect(audio).toEqual(baseline.map((sample) => sample * 0.5));
      expect(peak(audio)).toBeCloseTo(peak(baseline) / 2, 6);
      expect((await subject.health()).plugins?.[0]).toMatchObject({ name: 'half-gain', mode: trusted ? 'trusted' : 'isolate' });
    }
  });

  it('synthesize: an experimental backend yields the plugin PCM and metadata', async () => {
    const subject = engine();
    await subject.loadPlugin(example('sine-voice'));
    const result = await subject.speak('abc', { backend: 'plugin-sine-voice' });
    expect(result.backend).toBe('plugin-sine-voice');
    expect(result.sampleRateHz).toBe(16_000);
    expect(result.audio.length).toBeGreaterThan(2000);
    expect(result.audio.length).toBeLessThanOrEqual(2400);
    expect(peak(result.audio)).toBeCloseTo(0.3, 2);
  });

  it('onSchedule: a second play mixes with the first instead of queueing (and queues without the plugin)', async () => {
    for (const withPlugin of [true, false]) {
      const output = new AudioOutput({ backend: 'null', capture: true });
      const subject = new VoiceEngine({ output });
      engines.push(subject);
      if (withPlugin) await subject.loadPlugin(example('always-mix'));
      const first = subject.play('The first play is a long text. It keeps going for a good while, sentence after sentence. It will be cut short when the test has seen what it came for, long before its end.');
      await waitUntil(() => subject.schedule().active.some((entry) => entry.playing), 'the first play plays');
      const second = subject.play('Second.');
      await waitUntil(() => subject.schedule().active.length === 2 || subject.schedule().queued.length === 1, 'the second play is admitted or queued');
      expect(subject.schedule().active.length).toBe(withPlugin ? 2 : 1);
      // Done: the plays are cut short (the first one is long so the second always finds it playing).
      for (const entry of subject.schedule().active) if (entry.streamId) subject.interrupt(entry.streamId);
      const results = await Promise.all([first, second]);
      expect(results[0].durationMs).toBeGreaterThan(0);
      await subject.close();
      output.close();
    }
  });

  it('trusted mode is labelled in attestations', async () => {
    const subject = engine();
    await subject.loadPlugin(example('breathe'), { grant: ['mutate_graph'], trusted: true });
    await subject.speak('Hello there. How are you?');
    const mutation = subject.registrar.attestations().find((record) => record.action === 'mutate_graph');
    expect(JSON.stringify(mutation)).toContain('"pluginMode":"trusted"');
  });

  it('the plugins engine option loads plugins before the first call', async () => {
    const subject = new VoiceEngine({ plugins: [example('half-gain')] });
    engines.push(subject);
    const { audio } = await subject.speak(TEXT);
    expect(peak(audio)).toBeCloseTo(peak(baseline) / 2, 6);
  });
});

afterEach(() => rmSync('/tmp/pwned', { force: true }));
