/**
 * The experimental backend a `synthesize` plugin registers (named `plugin-<name>`): each segment is
 * handed to the plugin's hook (a copy: text, voice, language, prosody) and the PCM it returns is
 * validated (a finite Float32Array at a real rate) before it is yielded as EngineOutput.
 */
import { BackendError } from '../errors.js';
import type { BackendCapabilities, BackendHealth, BackendMetrics, SpeechBackend, VoiceInfo } from '../backends/backend.js';
import type { EngineOutput, SynthesisOptions, SynthesisSegment } from '../graph/engine-output.js';
import { PluginError } from './errors.js';
import { pcmProblem, synthesizeOutputSchema } from './hook-io.js';
import type { LoadedPlugin } from './plugin.js';

/** A speech backend whose synthesis is a plugin's `synthesize` hook. */
export class PluginBackend implements SpeechBackend {
  readonly name: string;
  readonly capabilities: BackendCapabilities = { streaming: false, wordTimings: false, phonemes: false, remote: false };
  readonly #plugin: LoadedPlugin;
  readonly #metrics: BackendMetrics = { calls: 0, failures: 0, retries: 0, audioMs: 0, lastFirstChunkMs: null };

  constructor(plugin: LoadedPlugin) {
    this.#plugin = plugin;
    this.name = `plugin-${plugin.manifest.name}`;
  }

  async voices(): Promise<VoiceInfo[]> {
    return [{ id: 'default', backend: this.name, name: `${this.#plugin.manifest.name} (plugin)`, languages: ['en'] }];
  }

  async *synthesize(segment: SynthesisSegment, options: SynthesisOptions = {}, signal?: AbortSignal): AsyncIterable<EngineOutput> {
    this.#metrics.calls += 1;
    if (signal?.aborted) return;
    if (!this.#plugin.runs('synthesize')) throw new BackendError(this.name, 'BACKEND_UNAVAILABLE', `plugin ${this.#plugin.manifest.name} is disabled`);
    const view = { text: segment.text, voice: options.voice ?? segment.voice ?? null, language: segment.language ?? null, prosody: { ...segment.prosody } };
    const result = this.#plugin.invoke('synthesize', view, null);
    if (!result.ok) throw this.#failed(result.fault);
    const parsed = synthesizeOutputSchema.safeParse(result.value);
    const problem = parsed.success ? pcmProblem(parsed.data.pcm, parsed.data.pcm.length) : `${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? 'invalid'}`;
    if (!parsed.success || problem) {
      const fault = this.#plugin.fault(new PluginError('PLUGIN_OUTPUT_INVALID', this.#plugin.manifest.name, `synthesize returned ${problem}`, { hook: 'synthesize' }), null);
      throw this.#failed(fault.ok ? undefined : fault.fault);
    }
    const { pcm, sampleRateHz, metadata } = parsed.data;
    this.#metrics.audioMs += (pcm.length / sampleRateHz) * 1000;
    yield { pcm, sampleRateHz, channels: 1, metadata: metadata?.phonemes ? { phonemes: metadata.phonemes } : {} };
  }

  #failed(fault: PluginError | undefined): BackendError {
    this.#metrics.failures += 1;
    return new BackendError(this.name, fault?.code ?? 'PLUGIN_OUTPUT_INVALID', fault?.message ?? 'the plugin failed', { cause: fault });
  }

  async health(): Promise<BackendHealth> {
    const disabled = !this.#plugin.runs('synthesize');
    return { backend: this.name, status: disabled ? 'unavailable' : 'ok', modelLoaded: true, ...(disabled ? { detail: 'the plugin was disabled after repeated faults' } : {}) };
  }

  metrics(): BackendMetrics {
    return { ...this.#metrics };
  }

  async close(): Promise<void> {
    // The plugin's runtime belongs to the engine's plugin set, which disposes it.
  }
}
