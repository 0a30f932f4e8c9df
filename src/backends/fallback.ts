/**
 * A fallback chain of backends: each segment is tried on the backends in order until one yields
 * audio. Degradation is reported, never hidden: the result names the backend that served and why
 * each earlier one failed, and a backend that ends without any audio for non-blank text counts as
 * a failure (no silent switch to silence). Cancellation is never fallen back from: an `AbortError`
 * (or an aborted caller signal) ends the whole chain at once. Once a backend has yielded audio the
 * chain is committed to it: a later failure propagates instead of restarting elsewhere (the
 * listener would hear the start twice).
 */
import { z } from 'zod';
import { AbortError, BackendError, VoiceSoundboardError } from '../errors.js';
import type { EngineOutput, SynthesisOptions, SynthesisSegment } from '../graph/engine-output.js';
import { parseInput } from '../validation.js';
import type { BackendCapabilities, BackendHealth, BackendMetrics, SpeechBackend, VoiceInfo, VoiceRequest, VoiceRequestProblem } from './backend.js';

/** One backend of a chain, with the voice to use on it (voice ids differ between backends). */
export interface FallbackEntry {
  backend: SpeechBackend;
  /** Voice on this backend; when absent the caller's voice is passed through unchanged. */
  voice?: string;
  /** Name in reports (default: the backend's name); tells apart two backends of one kind. */
  label?: string;
}

/** Why one backend of the chain did not serve. */
export interface FallbackFailure {
  /** The entry's label. */
  backend: string;
  code: string;
  message: string;
  retryable: boolean;
}

/** Outcome of one segment on the chain, known as soon as the first chunk arrived. */
export interface FallbackResult {
  /** Label of the backend that serves the audio. */
  backend: string;
  /** True when an earlier backend failed and a later one serves. */
  degraded: boolean;
  /** Failures of the backends tried before, in order. */
  failures: FallbackFailure[];
  /** All chunks of the serving backend, starting with the first one already received. */
  chunks: AsyncIterable<EngineOutput>;
}

/** Thrown when every backend of the chain failed; `failures` says why, one per backend. */
export class FallbackExhaustedError extends BackendError {
  readonly failures: FallbackFailure[];

  constructor(failures: FallbackFailure[], errors: unknown[]) {
    const summary = failures.map((failure) => `${failure.backend} (${failure.code}): ${failure.message}`).join('; ');
    super('fallback', 'ALL_BACKENDS_FAILED', `every backend failed: ${summary}`, {
      retryable: failures.some((failure) => failure.retryable),
      cause: new AggregateError(errors, 'every backend failed'),
    });
    this.failures = failures;
  }
}

/** Options of a chain. */
export interface FallbackChainOptions {
  /** Called when a later backend serves because earlier ones failed. */
  onDegraded?: (result: Omit<FallbackResult, 'chunks'>) => void;
}

const backendSchema = z.custom<SpeechBackend>(
  (value) => typeof value === 'object' && value !== null && typeof (value as SpeechBackend).synthesize === 'function' && typeof (value as SpeechBackend).name === 'string',
  { message: 'expected a SpeechBackend (an object with name and synthesize())' },
);
const entrySchema = z.union([backendSchema, z.object({ backend: backendSchema, voice: z.string().min(1).optional(), label: z.string().min(1).optional() }).strict()]);
const entriesSchema = z.array(entrySchema).min(1, 'expected at least one backend');
const optionsSchema = z.object({ onDegraded: z.custom<FallbackChainOptions['onDegraded']>((value) => typeof value === 'function').optional() }).strict();

function isAbort(error: unknown): boolean {
  return error instanceof AbortError || (error instanceof Error && error.name === 'AbortError');
}

function describeFailure(label: string, error: unknown): FallbackFailure {
  if (error instanceof VoiceSoundboardError) return { backend: label, code: error.code, message: error.message, retryable: error.retryable };
  return { backend: label, code: 'BACKEND_FAILED', message: error instanceof Error ? error.message : String(error), retryable: false };
}

/** Tries backends in order for each segment; usable wherever a `SpeechBackend` is. */
export class FallbackChain implements SpeechBackend {
  readonly name = 'fallback';
  readonly capabilities: BackendCapabilities;
  private readonly entries: FallbackEntry[];
  private readonly onDegraded: FallbackChainOptions['onDegraded'];
  private readonly counters: BackendMetrics = { calls: 0, failures: 0, retries: 0, audioMs: 0, lastFirstChunkMs: null };
  private last: Omit<FallbackResult, 'chunks'> | undefined;

  /** Validates the entries (throws `InputError` naming the bad one). */
  constructor(entries: ReadonlyArray<SpeechBackend | FallbackEntry>, options: FallbackChainOptions = {}) {
    const parsed = parseInput(entriesSchema, entries, 'fallback.backends');
    this.onDegraded = parseInput(optionsSchema, options, 'fallback.options').onDegraded;
    this.entries = parsed.map((entry) => (typeof (entry as SpeechBackend).synthesize === 'function' ? { backend: entry as SpeechBackend } : (entry as FallbackEntry)));
    // What the chain promises is what every member can do; it is remote if any member is.
    const all = this.entries.map((entry) => entry.backend.capabilities);
    this.capabilities = {
      streaming: all.every((capabilities) => capabilities.streaming),
      wordTimings: all.every((capabilities) => capabilities.wordTimings),
      phonemes: all.every((capabilities) => capabilities.phonemes),
      remote: all.some((capabilities) => capabilities.remote),
    };
  }

  /**
   * Starts the segment on the first backend that yields audio and resolves with who serves and
   * why the others did not. Rejects with `AbortError` on cancellation (without trying further
   * backends) and with `FallbackExhaustedError` when all fail.
   */
  async open(segment: SynthesisSegment, options: SynthesisOptions = {}, signal?: AbortSignal): Promise<FallbackResult> {
    this.counters.calls += 1;
    const started = performance.now();
    const failures: FallbackFailure[] = [];
    const errors: unknown[] = [];
    for (const entry of this.entries) {
      const label = entry.label ?? entry.backend.name;
      if (signal?.aborted) throw new AbortError('synthesis was aborted');
      const entryOptions = entry.voice === undefined ? options : { ...options, voice: entry.voice };
      const iterator = entry.backend.synthesize(segment, entryOptions, signal)[Symbol.asyncIterator]();
      let first: IteratorResult<EngineOutput>;
      try {
        first = await iterator.next();
      } catch (error) {
        if (isAbort(error) || signal?.aborted) throw error instanceof AbortError ? error : new AbortError('synthesis was aborted', { cause: error });
        failures.push(describeFailure(label, error));
        errors.push(error);
        continue;
      }
      if (first.done) {
        if (segment.text.trim() === '') return this.serve(label, failures, iterator, undefined, started);
        const error = new BackendError(label, 'NO_AUDIO', 'finished without producing any audio');
        failures.push(describeFailure(label, error));
        errors.push(error);
        continue;
      }
      return this.serve(label, failures, iterator, first.value, started);
    }
    this.counters.failures += 1;
    throw new FallbackExhaustedError(failures, errors);
  }

  /** Chunks of the first backend that works; degradation goes to `onDegraded` and `lastResult()`. */
  async *synthesize(segment: SynthesisSegment, options: SynthesisOptions = {}, signal?: AbortSignal): AsyncIterable<EngineOutput> {
    const result = await this.open(segment, options, signal);
    yield* result.chunks;
  }

  /** The outcome of the most recent `open`/`synthesize` that found a backend. */
  lastResult(): Omit<FallbackResult, 'chunks'> | undefined {
    return this.last;
  }

  /** Every member's voices (members whose list fails are left out). */
  async voices(): Promise<VoiceInfo[]> {
    const lists = await Promise.allSettled(this.entries.map((entry) => entry.backend.voices()));
    return lists.flatMap((list) => (list.status === 'fulfilled' ? list.value : []));
  }

  /**
   * A request is refused only when every member refuses it (a member without `checkVoice` takes
   * anything, and so does one whose check fails, e.g. not installed); the first member's problem is reported.
   */
  async checkVoice(request: VoiceRequest): Promise<VoiceRequestProblem | undefined> {
    const problems = await Promise.all(this.entries.map((entry) => entry.backend.checkVoice?.(request).catch(() => undefined)));
    return problems.every((problem) => problem !== undefined) ? problems[0] : undefined;
  }

  /** `ok` when the first member is ok, `degraded` when only later ones are, else `unavailable`. */
  async health(): Promise<BackendHealth> {
    const reports = await Promise.all(
      this.entries.map((entry) =>
        entry.backend.health().catch((error: unknown): BackendHealth => ({ backend: entry.backend.name, status: 'unavailable', modelLoaded: false, detail: String(error) })),
      ),
    );
    const firstOk = reports.findIndex((report) => report.status === 'ok');
    const detail = reports.map((report, index) => `${this.entries[index]?.label ?? report.backend}: ${report.status}${report.detail ? ` (${report.detail})` : ''}`).join('; ');
    const status = firstOk === 0 ? 'ok' : firstOk > 0 ? 'degraded' : 'unavailable';
    return { backend: this.name, status, modelLoaded: firstOk >= 0 && (reports[firstOk]?.modelLoaded ?? false), detail };
  }

  /** Calls, exhausted-chain failures, fallbacks taken (as `retries`), audio served. */
  metrics(): BackendMetrics {
    return { ...this.counters };
  }

  /** Closes every member. */
  async close(): Promise<void> {
    await Promise.all(this.entries.map((entry) => entry.backend.close()));
  }

  private serve(
    label: string,
    failures: FallbackFailure[],
    iterator: AsyncIterator<EngineOutput>,
    first: EngineOutput | undefined,
    started: number,
  ): FallbackResult {
    const report = { backend: label, degraded: failures.length > 0, failures };
    this.last = report;
    this.counters.retries += failures.length;
    if (first) this.counters.lastFirstChunkMs = performance.now() - started;
    if (report.degraded) this.onDegraded?.(report);
    const counters = this.counters;
    const countAudio = (chunk: EngineOutput) => {
      counters.audioMs += (chunk.pcm.length / chunk.channels / chunk.sampleRateHz) * 1000;
    };
    async function* chunks(): AsyncGenerator<EngineOutput> {
      try {
        if (first) {
          countAudio(first);
          yield first;
        }
        for (;;) {
          const next = await iterator.next();
          if (next.done) return;
          countAudio(next.value);
          yield next.value;
        }
      } finally {
        // Stops the serving backend when the consumer leaves early.
        await iterator.return?.();
      }
    }
    return { ...report, chunks: chunks() };
  }
}
